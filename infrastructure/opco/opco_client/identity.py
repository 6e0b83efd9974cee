"""The software's identity, sent on every call as the EDITEUR / LOGICIEL / VERSION headers.

Non-ASCII values (`EDITEUR: Intégrale Academy`, sent by a real client) travel as ISO-8859-1 bytes: that is what the
real client's library (requests, through http.client) puts on the wire, and the only non-ASCII encoding HTTP ever
gave header values (RFC 9110 §5.5, obs-text). httpx would refuse such a `str` (it encodes header strings as ASCII),
so the values are handed to it as bytes. A character outside ISO-8859-1 (`Œ`, `€`) has no such form: it is refused
when the identity is configured, never replaced silently. docs/wire.md ("Authentication") records the decision.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

HEADER_ENCODING = "iso-8859-1"


def is_header_safe(value: str) -> bool:
    """True when `value` can be sent as an HTTP header value as is (printable ASCII, no surrounding blanks)."""
    return bool(value) and value.isascii() and value.isprintable() and value == value.strip()


def header_bytes(value: str) -> bytes | None:
    """`value` as an ISO-8859-1 header value; None when it cannot be one (empty, a control character, surrounding
    blanks, or a character outside ISO-8859-1)."""
    if not value or not value.isprintable() or value != value.strip():
        return None
    try:
        return value.encode(HEADER_ENCODING)
    except UnicodeEncodeError:
        return None


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    """Who calls: the software vendor (EDITEUR), the software (LOGICIEL) and its version (VERSION)."""

    editeur: str
    logiciel: str
    version: str

    def __post_init__(self) -> None:
        for name in ("editeur", "logiciel", "version"):
            value = getattr(self, name)
            if header_bytes(value) is None:
                raise ValueError(
                    f"ClientIdentity.{name} ({value!r}) must be non-empty printable ISO-8859-1 text without"
                    " surrounding blanks: it is sent as an HTTP header"
                )

    @property
    def user_agent(self) -> str:
        return f"{self.logiciel}/{self.version} ({self.editeur}) python-httpx/{httpx.__version__}"

    def common_headers(self) -> dict[bytes, bytes]:
        """Sent on every request, the OAuth token requests included."""
        return {b"Accept": b"application/json", b"User-Agent": self.user_agent.encode(HEADER_ENCODING)}

    def api_headers(self) -> dict[bytes, bytes]:
        """Sent on the API Convergence calls only (with X-API-KEY), not to a third-party token endpoint."""
        return {
            b"EDITEUR": self.editeur.encode(HEADER_ENCODING),
            b"LOGICIEL": self.logiciel.encode(HEADER_ENCODING),
            b"VERSION": self.version.encode(HEADER_ENCODING),
        }
