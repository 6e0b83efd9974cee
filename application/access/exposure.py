"""What personal data a caller's role shows: the one rule, for every representation that shows events or dossiers.

The NIR (social security number) is shown whole to admins and auditors; to a front-end token, only its last two
digits. Applies to any value: every `nir` key, at any depth, is masked."""

from __future__ import annotations

from typing import Any

from application.access.access import Role

IDENTIFIER_KEYS = frozenset({"nir"})
SEES_IDENTIFIERS = frozenset({Role.ADMIN, Role.AUDITOR})
SHOWN_DIGITS = 2


def exposed(value: Any, role: Role) -> Any:
    """`value` (plain JSON) as `role` may see it."""
    if role in SEES_IDENTIFIERS:
        return value
    return _masked(value)


def mask(identifier: str) -> str:
    return "*" * max(0, len(identifier) - SHOWN_DIGITS) + identifier[-SHOWN_DIGITS:]


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: mask(item) if key in IDENTIFIER_KEYS and isinstance(item, str) else _masked(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value
