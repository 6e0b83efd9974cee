"""A status view over a Dossiers application on a real store, and dossiers driven to every state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from application.dossiers import Dossiers
from application.read_models.status import ContractFilter, StatusRow
from application.read_models.status_projection import TOPICS
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import Contract
from domain.opco.opcos import Opco
from infrastructure.read_models.projection_runner import ProjectionRunner
from infrastructure.read_models.status_view import SqlStatusView
from infrastructure.reference_data import idcc_routing
from infrastructure.store.sql_store import SqlStore, open_sql_store
from tests.support import dossiers, principal, with_changes

CFA_A = "79852413800012"
CFA_B = "44306184100047"
OTHER_EMPLOYER = "55208131766522"
SIGNATORY = {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}
WORKER = "worker"
EVERYTHING = ContractFilter()


@dataclass
class Setup:
    app: Dossiers
    store: SqlStore
    view: SqlStatusView
    runner: ProjectionRunner

    def catch_up(self) -> int:
        return self.runner.catch_up()

    def rows(self, cfa: str | None = None, where: ContractFilter = EVERYTHING) -> list[StatusRow]:
        """Every row of one walk, by pages of 3 (so that paging is exercised too)."""
        items: list[StatusRow] = []
        page = self.view.page(cfa, where, 3, None)
        items.extend(page.items)
        while page.next_cursor is not None:
            page = self.view.page(cfa, where, 3, page.next_cursor)
            items.extend(page.items)
        return items


@contextmanager
def status_setup(url: str, batch_size: int = 500) -> Iterator[Setup]:
    app = dossiers(url, today=date(2026, 11, 27))
    store = open_sql_store(url)
    view = SqlStatusView(store, idcc_routing())
    runner = ProjectionRunner(app, "status", TOPICS, view.apply, lambda: view.position(app.name), batch_size)
    try:
        yield Setup(app, store, view, runner)
    finally:
        store.close()
        app.close()


def create(
    app: Dossiers,
    document: dict[str, Any],
    cfa: str,
    numero: str,
    *,
    name: tuple[str, str] = ("Martin", "Léa"),
    employer: str | None = None,
    rncp: str | None = None,
    opco: Opco | None = None,
) -> UUID:
    blocks: dict[str, dict[str, Any]] = {
        "organismeFormation": {"siret": cfa},
        "apprenti": {"nom": name[0], "prenom": name[1]},
    }
    if employer is not None:
        blocks["employeur"] = {"siret": employer}
    if rncp is not None:
        blocks["formation"] = {"rncp": rncp}
    cerfa = parse_cerfa(with_changes(document, **blocks))
    saved = app.create_contract(principal(cfa), cerfa=cerfa, numero_interne=numero, opco=opco)
    ident: UUID = saved.contract.id
    return ident


def mandate(app: Dossiers, cfa: str, ident: UUID) -> None:
    app.record_mandate(principal(cfa), ident, signed_on=date(2026, 6, 15), signatory=SIGNATORY, document_sha256=None)


def submit(app: Dossiers, cfa: str, ident: UUID) -> None:
    mandate(app, cfa, ident)
    app.submit(principal(cfa), ident)


def as_worker(app: Dossiers, ident: UUID, *commands: Callable[[Contract], object]) -> None:
    for command in commands:
        app.change_as_worker(ident, command)


def accept(app: Dossiers, cfa: str, ident: UUID, engagement: str) -> None:
    submit(app, cfa, ident)
    as_worker(
        app,
        ident,
        lambda c: c.start_transmission(WORKER),
        lambda c: c.record_sent(
            numero_externe=f"X-{ident.hex[:6]}", etat="TRANSMIS", found_by_lookup=False, actor=WORKER
        ),
        lambda c: c.record_opco_state(
            etat="ENGAGE", commentaire=None, numero_externe=None, numero_deca=f"D-{ident.hex[:6]}", actor=WORKER
        ),
        lambda c: c.record_commitment(engagement=engagement, echeances=[], actor=WORKER),
    )


def park(app: Dossiers, cfa: str, ident: UUID) -> None:
    submit(app, cfa, ident)
    as_worker(
        app,
        ident,
        lambda c: c.start_transmission(WORKER),
        lambda c: c.record_transmission_failure(error="timeout", transient=True, retry_at=None, actor=WORKER),
        lambda c: c.park_transmission("too many failures", WORKER),
    )


@dataclass
class Mix:
    """Named dossiers of two CFAs, in every kind of state."""

    ids: dict[str, UUID]


def realistic_mix(app: Dossiers, complete: dict[str, Any], draft: dict[str, Any]) -> Mix:
    ids = {
        "sent": create(app, complete, CFA_A, "A-sent"),
        "draft": create(app, draft, CFA_A, "A-draft", name=("Petit", "Hugo")),
        "checked": create(
            app, complete, CFA_A, "A-checked", name=("Dupré-Lefèvre", "Éloïse"), employer=OTHER_EMPLOYER, opco=Opco.AKTO
        ),
        "parked": create(app, complete, CFA_A, "A-parked", name=("Lefèvre", "Marc"), rncp="RNCP37680"),
        "accepted": create(app, complete, CFA_A, "A-accepted", name=("Bernard", "Inès")),
        "accepted2": create(app, complete, CFA_A, "A-accepted2", name=("Roux", "Léon")),
        "cancelled": create(app, draft, CFA_A, "A-cancelled", name=("Morel", "Zoé")),
        "b_draft": create(app, complete, CFA_B, "B-draft"),
        "b_accepted": create(app, complete, CFA_B, "B-accepted", name=("Garnier", "Paul")),
    }
    submit(app, CFA_A, ids["sent"])
    as_worker(
        app,
        ids["sent"],
        lambda c: c.start_transmission(WORKER),
        lambda c: c.record_sent(numero_externe="X-SENT", etat=None, found_by_lookup=False, actor=WORKER),
    )
    mandate(app, CFA_A, ids["checked"])
    park(app, CFA_A, ids["parked"])
    accept(app, CFA_A, ids["accepted"], "1000.50")
    accept(app, CFA_A, ids["accepted2"], "250.25")
    app.cancel(principal(CFA_A), ids["cancelled"], "doublon")
    accept(app, CFA_B, ids["b_accepted"], "999.00")
    return Mix(ids)
