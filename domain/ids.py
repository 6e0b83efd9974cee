"""Ids derived from natural keys: the same key always gives the same id, so a second creation collides in the store."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5


def named_id(*path: str) -> UUID:
    """uuid5 of the path "/part/part/…"; never change the path of a kind that has stored events."""
    return uuid5(NAMESPACE_URL, "/" + "/".join(path))
