"""The audit of a dossier: its self-contained audit file."""
