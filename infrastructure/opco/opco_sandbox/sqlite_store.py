"""The sandbox's storage in a SQLite file (WAL): survives restarts, shared by the processes of one host."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

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
from infrastructure.store.event_store import private_database

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (api_key TEXT PRIMARY KEY, opco TEXT NOT NULL, siren TEXT NOT NULL,
    expires_on TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, opco TEXT NOT NULL, expires_at TEXT NOT NULL,
    jkt TEXT);
CREATE TABLE IF NOT EXISTS dossiers (id INTEGER PRIMARY KEY AUTOINCREMENT, opco TEXT NOT NULL,
    siren TEXT NOT NULL, numero_interne TEXT NOT NULL, numero_externe TEXT NOT NULL, sequence INTEGER NOT NULL,
    submitted_at TEXT NOT NULL, cerfa TEXT NOT NULL, UNIQUE (opco, siren, numero_interne));
CREATE INDEX IF NOT EXISTS dossiers_by_externe ON dossiers (opco, siren, numero_externe);
CREATE TABLE IF NOT EXISTS factures (id INTEGER PRIMARY KEY AUTOINCREMENT, opco TEXT NOT NULL,
    siren TEXT NOT NULL, siret TEXT NOT NULL, numero TEXT NOT NULL, numero_interne_facture TEXT NOT NULL,
    numero_interne_document TEXT NOT NULL, sequence INTEGER NOT NULL, submitted_at TEXT NOT NULL,
    partial INTEGER NOT NULL, fichier_sha256 TEXT NOT NULL, fichier_taille INTEGER NOT NULL, fichier_nom TEXT,
    facture TEXT NOT NULL, UNIQUE (opco, siret, numero), UNIQUE (opco, numero_interne_facture));
CREATE INDEX IF NOT EXISTS factures_by_numero ON factures (opco, siren, numero);
CREATE TABLE IF NOT EXISTS oauth_clients (client_id TEXT PRIMARY KEY, secret TEXT NOT NULL);
"""
DOSSIER_COLUMNS = "opco, siren, numero_interne, numero_externe, sequence, submitted_at, cerfa"
# The invoices of the JSON wire before issue 12 stay in a table `invoices` of older files, unread: a new table
# rather than a migration, since they cannot be read as the multipart invoices they never were.
INVOICE_COLUMNS = (
    "opco, siren, siret, numero, numero_interne_facture, numero_interne_document, sequence, submitted_at, partial, "
    "fichier_sha256, fichier_taille, fichier_nom, facture"
)
INVOICE_FIELDS: dict[InvoiceLookup, str] = {"numeroInterneFacture": "numero_interne_facture", "numero": "numero"}
SELECTED = "(:opco IS NULL OR opco = :opco) AND (:siren IS NULL OR siren = :siren)"


class SqliteStore:
    """One connection guarded by a lock in this process; BEGIN IMMEDIATE orders the writers of other processes."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        if str(path) != ":memory:":
            private_database(Path(path))  # it keeps every dossier it receives, NIRs included: its user's only
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        if "jkt" not in {row[1] for row in self._db.execute("PRAGMA table_info(tokens)")}:  # a file of before DPoP
            self._db.execute("ALTER TABLE tokens ADD COLUMN jkt TEXT")

    def oauth_client(self) -> tuple[str, str]:
        def first() -> tuple[str, str]:
            row = self._db.execute("SELECT client_id, secret FROM oauth_clients ORDER BY rowid LIMIT 1").fetchone()
            if row is None:
                row = new_oauth_client()
                self._db.execute("INSERT INTO oauth_clients VALUES (?, ?)", row)
            return str(row[0]), str(row[1])

        return self._in_transaction(first)  # BEGIN IMMEDIATE: two processes starting together draw one client

    def add_key(self, key: ApiKey) -> None:
        row = (key.api_key, key.opco.value, key.siren, key.expires_on.isoformat())
        self._write("INSERT OR REPLACE INTO keys VALUES (?, ?, ?, ?)", row)

    def find_key(self, api_key: str) -> ApiKey | None:
        row = self._one("SELECT api_key, opco, siren, expires_on FROM keys WHERE api_key = ?", (api_key,))
        return None if row is None else ApiKey(row[0], Opco(row[1]), row[2], date.fromisoformat(row[3]))

    def revoke_key(self, api_key: str) -> bool:
        return self._write("DELETE FROM keys WHERE api_key = ?", (api_key,)) > 0

    def add_token(self, token: AccessToken) -> None:
        row = (token.token, token.opco.value, token.expires_at.isoformat(), token.jkt)
        self._write("INSERT OR REPLACE INTO tokens (token, opco, expires_at, jkt) VALUES (?, ?, ?, ?)", row)

    def find_token(self, token: str) -> AccessToken | None:
        row = self._one("SELECT token, opco, expires_at, jkt FROM tokens WHERE token = ?", (token,))
        return None if row is None else AccessToken(row[0], Opco(row[1]), datetime.fromisoformat(row[2]), row[3])

    # --- dossiers ---------------------------------------------------------------------------------------------

    def add_dossier(
        self, opco: Opco, siren: str, numero_interne: str, cerfa: dict[str, Any], submitted_at: datetime
    ) -> StoredDossier | None:
        return self._in_transaction(lambda: self._insert(opco, siren, numero_interne, blocks_of(cerfa), submitted_at))

    def _insert(
        self, opco: Opco, siren: str, numero_interne: str, cerfa: dict[str, Any], submitted_at: datetime
    ) -> StoredDossier | None:
        taken = "SELECT 1 FROM dossiers WHERE opco = ? AND siren = ? AND numero_interne = ?"
        if self._db.execute(taken, (opco.value, siren, numero_interne)).fetchone():
            return None
        sequence = self._next_sequence("dossiers", opco)
        dossier = StoredDossier(
            opco, siren, numero_interne, numero_externe(opco, submitted_at, sequence), sequence, submitted_at, cerfa
        )
        self._db.execute(f"INSERT INTO dossiers ({DOSSIER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", _row(dossier))
        return dossier

    def find_dossier(self, opco: Opco, siren: str, field: LookupField, value: str) -> StoredDossier | None:
        column = "numero_interne" if field == "numeroInterne" else "numero_externe"
        query = f"SELECT {DOSSIER_COLUMNS} FROM dossiers WHERE opco = ? AND siren = ? AND {column} = ?"
        row = self._one(query, (opco.value, siren, value))
        return None if row is None else _dossier(row)

    def dossiers(
        self, opco: Opco | None = None, siren: str | None = None, offset: int = 0, limit: int | None = None
    ) -> list[StoredDossier]:
        query = f"SELECT {DOSSIER_COLUMNS} FROM dossiers WHERE {SELECTED} ORDER BY id LIMIT :limit OFFSET :offset"
        return [_dossier(row) for row in self._all(query, _selection(opco, siren, offset, limit))]

    def count(self, opco: Opco, siren: str) -> int:
        row = self._one("SELECT COUNT(*) FROM dossiers WHERE opco = ? AND siren = ?", (opco.value, siren))
        return int(row[0]) if row else 0

    # --- invoices ---------------------------------------------------------------------------------------------

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
        def insert() -> tuple[StoredInvoice, bool]:
            return self._insert_invoice(opco, siren, invoice, document, submitted_at, partial, admit)

        return self._in_transaction(insert)

    def _insert_invoice(
        self,
        opco: Opco,
        siren: str,
        invoice: Invoice,
        document: ReceivedFile,
        submitted_at: datetime,
        partial: bool,
        admit: Admit,
    ) -> tuple[StoredInvoice, bool]:
        taken = f"SELECT {INVOICE_COLUMNS} FROM factures WHERE opco = ? AND siret = ? AND numero = ?"
        first = self._db.execute(taken, (opco.value, invoice.siret, invoice.numero)).fetchone()
        if first is not None:
            return _invoice(first), False
        query = f"SELECT {INVOICE_COLUMNS} FROM factures WHERE opco = ? AND siren = ? ORDER BY id"
        admit([_invoice(row) for row in self._db.execute(query, (opco.value, siren)).fetchall()])
        sequence = self._next_sequence("factures", opco)
        facture, document_number = opco_numbers(opco, submitted_at, sequence)
        stored = StoredInvoice(
            opco, siren, facture, document_number, sequence, submitted_at, partial, invoice, document
        )
        marks = ", ".join("?" * len(INVOICE_COLUMNS.split(",")))
        self._db.execute(f"INSERT INTO factures ({INVOICE_COLUMNS}) VALUES ({marks})", _invoice_row(stored))
        return stored, True

    def find_invoice(self, opco: Opco, siren: str, field: InvoiceLookup, value: str) -> StoredInvoice | None:
        column = INVOICE_FIELDS[field]
        query = f"SELECT {INVOICE_COLUMNS} FROM factures WHERE opco = ? AND siren = ? AND {column} = ? ORDER BY id"
        row = self._one(query, (opco.value, siren, value))
        return None if row is None else _invoice(row)

    def invoices(
        self, opco: Opco | None = None, siren: str | None = None, offset: int = 0, limit: int | None = None
    ) -> list[StoredInvoice]:
        query = f"SELECT {INVOICE_COLUMNS} FROM factures WHERE {SELECTED} ORDER BY id LIMIT :limit OFFSET :offset"
        return [_invoice(row) for row in self._all(query, _selection(opco, siren, offset, limit))]

    def count_invoices(self, opco: Opco, siren: str) -> int:
        row = self._one("SELECT COUNT(*) FROM factures WHERE opco = ? AND siren = ?", (opco.value, siren))
        return int(row[0]) if row else 0

    def clear_invoices(self) -> None:
        self._write("DELETE FROM factures", ())

    # --- the rest ---------------------------------------------------------------------------------------------

    def clear(self) -> None:
        script = "BEGIN; DELETE FROM keys; DELETE FROM tokens; DELETE FROM dossiers; DELETE FROM factures; COMMIT;"
        with self._lock:
            self._db.executescript(script)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _in_transaction(self, work: Callable[[], T]) -> T:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = work()
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return result

    def _next_sequence(self, table: str, opco: Opco) -> int:
        """Within a transaction."""
        last = self._db.execute(f"SELECT MAX(sequence) FROM {table} WHERE opco = ?", (opco.value,)).fetchone()[0]
        return int(last or 0) + 1

    def _write(self, query: str, params: tuple[Any, ...]) -> int:
        with self._lock:
            return self._db.execute(query, params).rowcount

    def _one(self, query: str, params: tuple[Any, ...]) -> Any:
        with self._lock:
            return self._db.execute(query, params).fetchone()

    def _all(self, query: str, params: dict[str, Any]) -> list[Any]:
        with self._lock:
            return self._db.execute(query, params).fetchall()


def _selection(opco: Opco | None, siren: str | None, offset: int, limit: int | None) -> dict[str, Any]:
    return {
        "opco": opco.value if opco else None,
        "siren": siren,
        "limit": -1 if limit is None else limit,
        "offset": offset,
    }


def _row(dossier: StoredDossier) -> tuple[Any, ...]:
    cerfa = json.dumps(dossier.cerfa, ensure_ascii=False)
    return (
        dossier.opco.value,
        dossier.siren,
        dossier.numero_interne,
        dossier.numero_externe,
        dossier.sequence,
        dossier.submitted_at.isoformat(),
        cerfa,
    )


def _dossier(row: tuple[Any, ...]) -> StoredDossier:
    opco, siren, interne, externe, sequence, submitted_at, cerfa = row
    return StoredDossier(
        Opco(opco), siren, interne, externe, sequence, datetime.fromisoformat(submitted_at), json.loads(cerfa)
    )


def _invoice_row(stored: StoredInvoice) -> tuple[Any, ...]:
    invoice, document = stored.invoice, stored.document
    return (
        stored.opco.value,
        stored.siren,
        invoice.siret,
        invoice.numero,
        stored.numero_interne_facture,
        stored.numero_interne_document,
        stored.sequence,
        stored.submitted_at.isoformat(),
        int(stored.partial),
        document.sha256,
        document.size,
        document.name,
        json.dumps(invoice.to_record(), ensure_ascii=False),
    )


def _invoice(row: tuple[Any, ...]) -> StoredInvoice:
    opco, siren, _, _, facture, document_number, sequence, at, partial, sha256, size, name, content = row
    return StoredInvoice(
        Opco(opco),
        siren,
        facture,
        document_number,
        sequence,
        datetime.fromisoformat(at),
        bool(partial),
        Invoice.from_record(json.loads(content)),
        ReceivedFile(sha256, size, name),
    )
