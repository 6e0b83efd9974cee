"""Importing the dossiers an OPCO already holds for a CFA (deposited elsewhere), and pairing those it knows."""
