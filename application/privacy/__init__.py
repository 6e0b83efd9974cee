"""Personal data: sealed per dossier in the events, erased by destroying the dossier's key (docs/privacy.md)."""
