"""Tamper evidence of the event store: the chain of each aggregate, checkpoints, verification."""
