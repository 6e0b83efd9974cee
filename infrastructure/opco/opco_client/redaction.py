"""Keeps the CFA's API key, the software's client secret and the bearer tokens out of messages and logs."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
_MIN_LENGTH = 4  # masking a 1-3 character "secret" would shred every message; such a secret protects nothing anyway


class Redactor:
    def __init__(self, secrets: Iterable[str | None]) -> None:
        forms = {form for secret in secrets if secret and len(secret) >= _MIN_LENGTH for form in _forms(secret)}
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, MASK)
        return text


def _forms(secret: str) -> set[str]:
    """The secret as is and as it appears once URL-encoded (e.g. echoed back in a URL)."""
    return {secret, quote(secret, safe=""), quote_plus(secret, safe="")}
