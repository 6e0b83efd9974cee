"""The software's identity, sent on every call as the EDITEUR / LOGICIEL / VERSION headers."""

from __future__ import annotations

from dataclasses import dataclass

import httpx


def is_header_safe(value: str) -> bool:
    """True when `value` can be sent as an HTTP header value as is (printable ASCII, no surrounding blanks)."""
    return bool(value) and value.isascii() and value.isprintable() and value == value.strip()


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    """Who calls: the software vendor (EDITEUR), the software (LOGICIEL) and its version (VERSION).

    The values travel as HTTP headers, so they must be printable ASCII: write "Societe" rather than "Société"."""

    editeur: str
    logiciel: str
    version: str

    def __post_init__(self) -> None:
        for name in ("editeur", "logiciel", "version"):
            if not is_header_safe(getattr(self, name)):
                raise ValueError(f"ClientIdentity.{name} must be non-empty printable ASCII (it is sent as a header)")

    @property
    def user_agent(self) -> str:
        return f"{self.logiciel}/{self.version} ({self.editeur}) python-httpx/{httpx.__version__}"

    def common_headers(self) -> dict[str, str]:
        """Sent on every request, the OAuth token requests included."""
        return {"Accept": "application/json", "User-Agent": self.user_agent}

    def api_headers(self) -> dict[str, str]:
        """Sent on the API Convergence calls only (with X-API-KEY), not to a third-party token endpoint."""
        return {"EDITEUR": self.editeur, "LOGICIEL": self.logiciel, "VERSION": self.version}
