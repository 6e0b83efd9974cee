"""A store with dossiers and an invoice, for the audit tests, and raw SQL on its tables (tampering)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID

from application.access.access import OPERATOR, Role
from infrastructure.audit.chain_store import LogTables
from infrastructure.audit.verify import tables_of
from interfaces.bootstrap import Container
from tests.invoicing import accepted_contract, echeancier, line
from tests.support import container, principal

CFA = "79852413800012"


@contextmanager
def populated(database_url: str, document: dict[str, Any]) -> Iterator[tuple[Container, list[UUID]]]:
    """Two accepted contracts, an invoice on the first, a token; the live read models caught up."""
    built = container(database_url)
    try:
        app = built.dossiers
        who = principal(CFA)
        first = accepted_contract(app, who, document, "C-1", echeances=echeancier(total="1000.00")).id
        second = accepted_contract(app, who, document, "C-2", with_billing_profile=False).id
        built.invoices.create(
            who, numero_interne_facture="FAC-1", invoice_date=date(2026, 11, 27), lines=[line(first, 1, "400.00")]
        )
        app.issue_token(OPERATOR, cfa_siret=CFA, role=Role.AUDITOR, name="audit")
        catch_up(built)
        yield built, [first, second]
    finally:
        built.close()


def catch_up(built: Container) -> None:
    for runner in built.worker.read_models.values():
        runner.catch_up()


def tables(built: Container) -> LogTables:
    return tables_of(built.store, built.dossiers)


def raw(built: Container, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """SQL as an intruder runs it, straight on the store."""
    with built.store.transaction() as tx:
        if sql.lstrip().upper().startswith("SELECT"):
            return tx.query(sql, params)
        tx.execute(sql, params)
        return []


def db_id(built: Container, ident: UUID) -> Any:
    return tables(built).db_id(ident)


def forged(built: Container, state: bytes) -> bytes:
    """A stored state rewritten as an operator holding the keys would: opened, its actor changed, sealed again under
    the same keyring (the bytes differ, the event still decodes)."""
    mapper = built.dossiers.mapper
    cipher = mapper.cipher
    plain = cipher.decrypt(state) if cipher is not None else state
    decoded = mapper.transcoder.decode(plain)
    decoded["actor"] = "token:forged"
    encoded = mapper.transcoder.encode(decoded)
    return cipher.encrypt(encoded) if cipher is not None else encoded
