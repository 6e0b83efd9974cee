"""Personal data: erasure of a dossier's (docs/privacy.md)."""
