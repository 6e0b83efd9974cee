"""Storage of the sandbox, in memory (`memory_store`) or in a SQLite file (`sqlite_store`): one interface.

A SQLite file lets `convergence serve` keep its sandbox dossiers, invoices, keys and tokens across restarts (and share
them between workers). Statistics and fault settings are not stored: they belong to one process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox.invoice_records import Invoice, ReceivedFile, StoredInvoice
from infrastructure.opco.opco_sandbox.records import AccessToken, ApiKey, StoredDossier

LookupField = Literal["numeroInterne", "numeroExterne"]
InvoiceLookup = Literal["numeroInterneFacture", "numero"]  # the OPCO's number of an invoice, or the CFA's
# Judges an invoice against the CFA's invoices already stored at this OPCO (under the store's lock, in its
# transaction): raises to refuse it, and nothing is stored.
Admit = Callable[[Sequence[StoredInvoice]], None]


class SandboxStore(Protocol):
    """Thread-safe."""

    def oauth_client(self) -> tuple[str, str]:
        """The installation's OAuth client (id, secret): drawn at random the first time, the same ever after (for
        every process sharing the store); `clear` keeps it."""
        ...

    def add_key(self, key: ApiKey) -> None: ...
    def find_key(self, api_key: str) -> ApiKey | None: ...
    def revoke_key(self, api_key: str) -> bool: ...
    def add_token(self, token: AccessToken) -> None: ...
    def find_token(self, token: str) -> AccessToken | None: ...

    def add_dossier(
        self, opco: Opco, siren: str, numero_interne: str, cerfa: dict[str, Any], submitted_at: datetime
    ) -> StoredDossier | None:
        """Stores a dossier and numbers it; None when this CFA already sent this numeroInterne to this OPCO."""
        ...

    def find_dossier(self, opco: Opco, siren: str, field: LookupField, value: str) -> StoredDossier | None: ...

    def dossiers(
        self, opco: Opco | None = None, siren: str | None = None, offset: int = 0, limit: int | None = None
    ) -> list[StoredDossier]:
        """In order of submission."""
        ...

    def count(self, opco: Opco, siren: str) -> int: ...

    def add_invoice(
        self,
        opco: Opco,
        siren: str,
        invoice: Invoice,
        document: ReceivedFile,
        submitted_at: datetime,
        partial: bool,
        admit: Admit,
    ) -> tuple[StoredInvoice, bool]:
        """(the invoice, True) once `admit` let it through, stored and given the OPCO's numbers; (the invoice stored
        first, False) when this SIRET already sent an invoice of this `numero` to this OPCO (checked first: `admit`
        is not called)."""
        ...

    def find_invoice(self, opco: Opco, siren: str, field: InvoiceLookup, value: str) -> StoredInvoice | None:
        """Of the CFA (`siren`): by the OPCO's number, or by the CFA's (the first received, should two of its
        establishments have used the same)."""
        ...

    def invoices(
        self, opco: Opco | None = None, siren: str | None = None, offset: int = 0, limit: int | None = None
    ) -> list[StoredInvoice]:
        """In order of receipt."""
        ...

    def count_invoices(self, opco: Opco, siren: str) -> int: ...
    def clear_invoices(self) -> None: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...
