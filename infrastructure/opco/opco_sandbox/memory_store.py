"""The sandbox's storage in this process's memory: lists under one lock."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox.invoice_records import Invoice, ReceivedFile, StoredInvoice, opco_numbers
from infrastructure.opco.opco_sandbox.records import (
    AccessToken,
    ApiKey,
    StoredDossier,
    blocks_of,
    new_oauth_client,
    numero_externe,
)
from infrastructure.opco.opco_sandbox.state import Admit, InvoiceLookup, LookupField


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, ApiKey] = {}
        self._tokens: dict[str, AccessToken] = {}
        self._dossiers: list[StoredDossier] = []
        self._sequences: dict[Opco, int] = {}
        self._invoices: list[StoredInvoice] = []
        self._invoice_sequences: dict[Opco, int] = {}
        self._oauth_client = new_oauth_client()

    def oauth_client(self) -> tuple[str, str]:
        return self._oauth_client

    def add_key(self, key: ApiKey) -> None:
        with self._lock:
            self._keys[key.api_key] = key

    def find_key(self, api_key: str) -> ApiKey | None:
        with self._lock:
            return self._keys.get(api_key)

    def revoke_key(self, api_key: str) -> bool:
        with self._lock:
            return self._keys.pop(api_key, None) is not None

    def add_token(self, token: AccessToken) -> None:
        with self._lock:
            self._tokens[token.token] = token

    def find_token(self, token: str) -> AccessToken | None:
        with self._lock:
            return self._tokens.get(token)

    def add_dossier(
        self, opco: Opco, siren: str, numero_interne: str, cerfa: dict[str, Any], submitted_at: datetime
    ) -> StoredDossier | None:
        with self._lock:
            if any(_same(d, opco, siren) and d.numero_interne == numero_interne for d in self._dossiers):
                return None
            sequence = self._sequences.get(opco, 0) + 1
            self._sequences[opco] = sequence
            external = numero_externe(opco, submitted_at, sequence)
            dossier = StoredDossier(opco, siren, numero_interne, external, sequence, submitted_at, blocks_of(cerfa))
            self._dossiers.append(dossier)
            return dossier

    def find_dossier(self, opco: Opco, siren: str, field: LookupField, value: str) -> StoredDossier | None:
        def wanted(dossier: StoredDossier) -> bool:
            own = dossier.numero_interne if field == "numeroInterne" else dossier.numero_externe
            return _same(dossier, opco, siren) and own == value

        with self._lock:
            return next((dossier for dossier in self._dossiers if wanted(dossier)), None)

    def dossiers(
        self, opco: Opco | None = None, siren: str | None = None, offset: int = 0, limit: int | None = None
    ) -> list[StoredDossier]:
        with self._lock:
            selected = [d for d in self._dossiers if _selected(d, opco, siren)]
        return selected[offset:] if limit is None else selected[offset : offset + limit]

    def count(self, opco: Opco, siren: str) -> int:
        with self._lock:
            return sum(1 for dossier in self._dossiers if _same(dossier, opco, siren))

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
        with self._lock:
            mine = [stored for stored in self._invoices if _same(stored, opco, siren)]
            first = next((stored for stored in mine if _same_numero(stored, invoice)), None)
            if first is not None:
                return first, False
            admit(mine)
            sequence = self._invoice_sequences.get(opco, 0) + 1
            self._invoice_sequences[opco] = sequence
            facture, document_number = opco_numbers(opco, submitted_at, sequence)
            stored = StoredInvoice(
                opco, siren, facture, document_number, sequence, submitted_at, partial, invoice, document
            )
            self._invoices.append(stored)
            return stored, True

    def find_invoice(self, opco: Opco, siren: str, field: InvoiceLookup, value: str) -> StoredInvoice | None:
        def wanted(stored: StoredInvoice) -> bool:
            own = stored.numero_interne_facture if field == "numeroInterneFacture" else stored.numero
            return _same(stored, opco, siren) and own == value

        with self._lock:
            return next((stored for stored in self._invoices if wanted(stored)), None)

    def invoices(
        self, opco: Opco | None = None, siren: str | None = None, offset: int = 0, limit: int | None = None
    ) -> list[StoredInvoice]:
        with self._lock:
            selected = [invoice for invoice in self._invoices if _selected(invoice, opco, siren)]
        return selected[offset:] if limit is None else selected[offset : offset + limit]

    def count_invoices(self, opco: Opco, siren: str) -> int:
        with self._lock:
            return sum(1 for invoice in self._invoices if _same(invoice, opco, siren))

    def clear_invoices(self) -> None:
        with self._lock:
            self._invoices.clear()
            self._invoice_sequences.clear()

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
            self._tokens.clear()
            self._dossiers.clear()
            self._sequences.clear()
            self._invoices.clear()
            self._invoice_sequences.clear()

    def close(self) -> None:
        return None


def _same(record: StoredDossier | StoredInvoice, opco: Opco, siren: str) -> bool:
    return record.opco == opco and record.siren == siren


def _same_numero(stored: StoredInvoice, invoice: Invoice) -> bool:
    """The same invoice number from the same establishment (SIRET)."""
    return stored.numero == invoice.numero and stored.invoice.siret == invoice.siret


def _selected(record: StoredDossier | StoredInvoice, opco: Opco | None, siren: str | None) -> bool:
    return (opco is None or record.opco == opco) and (siren is None or record.siren == siren)
