"""Realistic dossiers of two people, and the scans of every byte a store holds (tests/integration/test_privacy_*)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from application.access.access import OPERATOR
from application.opco.opco_documents import DocumentUpload
from domain.invoicing.billing_profile import BillingDetails
from domain.opco.opco_documents.kinds import DocumentKind
from domain.opco.opcos import Opco
from infrastructure.store.event_store import sqlite_path
from interfaces.bootstrap import Container
from tests.invoicing import CFA, PROFILE, accepted_contract, line
from tests.support import principal, with_changes

EXAMPLE = Path(__file__).parent.parent.parent / "docs" / "examples" / "cerfa-complete.json"
IBAN = PROFILE["iban"].replace(" ", "")
API_KEY = "akto-live-key-7f3a9c2e"
CLIENT_SECRET = "atlas-client-secret-51d0"


@dataclass(frozen=True)
class Person:
    nom: str
    prenom: str
    nir: str
    courriel: str
    telephone: str
    maitre_nom: str
    maitre_nir: str
    maitre_courriel: str

    def cerfa(self) -> dict[str, Any]:
        document = with_changes(json.loads(EXAMPLE.read_text()), organismeFormation={"siret": CFA})
        document["apprenti"].update(
            nom=self.nom, prenom=self.prenom, nir=self.nir, courriel=self.courriel, telephone=self.telephone
        )
        document["maitre1"].update(nom=self.maitre_nom, nir=self.maitre_nir, courriel=self.maitre_courriel)
        return document

    def values(self) -> list[str]:
        """What must never be stored in clear (the names: outside the lists' name columns)."""
        return [self.nir, self.courriel, self.telephone, self.maitre_nir, self.maitre_courriel]

    def names(self) -> list[str]:
        return [self.nom, self.prenom, self.maitre_nom]


ZEBULON = Person(
    "Quintavalle", "Zebulon", "207036926610140", "zebulon.quintavalle@example.org", "0611223344",
    "Brancaleone", "186057511204586", "ysolde.brancaleone@example.org",
)  # fmt: skip
OPHELIE = Person(
    "Vandermeersch", "Ophelie", "207036926610239", "ophelie.vandermeersch@example.org", "0655667788",
    "Archambeaud", "186057511204685", "gaspard.archambeaud@example.org",
)  # fmt: skip
SECRETS = [IBAN, API_KEY, CLIENT_SECRET]


@dataclass(frozen=True)
class Written:
    contracts: dict[str, UUID]  # by the apprentice's nom
    invoice: UUID


def write_dossiers(container: Container) -> Written:
    """Two accepted dossiers, a convention and an invoice PDF naming their apprentice, the CFA's IBAN, an OPCO's
    API key and OAuth client secret; the read models caught up."""
    app, who = container.dossiers, principal(CFA)
    container.invoices.billing.set(OPERATOR, CFA, BillingDetails(**PROFILE))
    contracts = {}
    for n, person in enumerate((ZEBULON, OPHELIE), start=1):
        contract = accepted_contract(app, who, person.cerfa(), f"P-{n}", with_billing_profile=False)
        pdf = f"%PDF-1.7\n% convention de {person.prenom} {person.nom}\n%%EOF\n".encode()
        container.contract_documents.keep(who, contract.id, DocumentUpload(DocumentKind.CONVENTION_FORMATION, pdf))
        contracts[person.nom] = contract.id
    invoice = container.invoices.create(
        who, numero_interne_facture="F-1", invoice_date=date(2026, 11, 27), lines=[line(contracts[ZEBULON.nom], 1)]
    ).invoice
    pdf = f"%PDF-1.7\n% facture: apprenti {ZEBULON.prenom} {ZEBULON.nom}\n%%EOF\n".encode()
    container.invoice_documents.attach(who, invoice.id, pdf)
    container.accounts.set_credentials(OPERATOR, CFA, Opco.AKTO, api_key=API_KEY)
    container.accounts.set_oauth_client(
        OPERATOR, CFA, Opco.ATLAS, client_id="atlas-client", client_secret=CLIENT_SECRET
    )
    catch_up(container)
    return Written(contracts, invoice.id)


def catch_up(container: Container) -> None:
    for runner in container.worker.read_models.values():
        runner.catch_up()


def table_cells(container: Container) -> dict[str, list[bytes]]:
    """Every value of every table of the store, as bytes, by `table.column`."""
    store = container.store
    with store.reading() as tx:
        if store.dialect == "postgresql":
            tables = [t for (t,) in tx.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
        else:
            tables = [t for (t,) in tx.query("SELECT name FROM sqlite_master WHERE type = 'table'")]
        cells: dict[str, list[bytes]] = {}
        for table in tables:
            columns = [c for (c,) in _columns(tx, store.dialect, table)]
            for row in tx.query(f"SELECT * FROM {table}"):
                for column, value in zip(columns, row, strict=True):
                    cells.setdefault(f"{table}.{column}", []).append(_bytes(value))
    assert any(name.endswith("events.state") for name in cells), sorted(cells)
    return cells


def _columns(tx: Any, dialect: str, table: str) -> list[tuple[str]]:
    if dialect == "postgresql":
        return tx.query(  # type: ignore[no-any-return]
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
    return [(str(row[1]),) for row in tx.query(f"PRAGMA table_info({table})")]


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def found_in(cells: dict[str, list[bytes]], values: list[str]) -> dict[str, list[str]]:
    """Where each value appears in clear: {value: [table.column, ...]} for those found."""
    where: dict[str, list[str]] = {}
    for value in values:
        for place, contents in cells.items():
            if any(value.encode() in content or value.lower().encode() in content.lower() for content in contents):
                where.setdefault(value, []).append(place)
    return where


def sqlite_files(container: Container) -> bytes:
    """Every byte of the SQLite database: the file, its -wal and -shm."""
    database = Path(sqlite_path(container.settings.database_url))
    return b"".join(path.read_bytes() for path in database.parent.glob(f"{database.name}*"))
