"""A rupture declared on a contract through the application: its checks, its route to the OPCO, its withdrawal, the
traineeship after it, and what it does to the funding view and to invoicing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from application.contracts.funding import funding
from application.dossiers import Dossiers
from application.invoices.billing_profiles import BillingProfiles
from application.invoices.invoices import Invoices
from application.ruptures.terminations import Terminations
from domain.contracts.contract import Contract
from domain.errors import InvalidValues, NotAllowedInState, RulesConflict
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from domain.ruptures.rupture import RuptureRequest
from domain.ruptures.termination import Route, TerminationState
from tests.invoicing import CFA, accepted_contract, echeancier, line
from tests.support import dossiers, principal
from tests.unit.fakes import PlainBox

WHO = principal(CFA)
TODAY = date(2026, 11, 27)
ON_DAY_45 = RuptureRequest(
    date_effet=date(2026, 10, 15),
    motif="periode_probatoire",
    initiative="employeur",
    date_signalement=date(2026, 10, 16),
    commentaire="fin de la période d'essai",
)


@pytest.fixture
def app() -> Dossiers:
    return dossiers()  # today: 2026-11-27


@pytest.fixture
def terminations(app: Dossiers) -> Terminations:
    return Terminations(app, CATALOGUE)


@pytest.fixture
def contract(app: Dossiers, complete_cerfa: dict[str, Any]) -> Contract:
    return accepted_contract(app, WHO, complete_cerfa)  # at ATLAS (v2: takes ruptures), 1 Sep 2026 – 31 Aug 2028


def test_a_rupture_is_recorded_on_the_contract_and_queued_for_the_opco(
    app: Dossiers, terminations: Terminations, contract: Contract
) -> None:
    saved = terminations.declare(WHO, contract.id, ON_DAY_45)

    rupture = saved.contract.rupture
    assert rupture is not None
    assert rupture["dateEffetRupture"] == "2026-10-15"
    assert rupture["article"] == "L6222-18 al.1, R6222-21"
    assert rupture["periodeProbatoire"] == {"debut": "2026-09-01", "fin": "2026-10-15", "source": "computed"}
    assert rupture["pendantPeriodeProbatoire"] is True
    termination = terminations.of_contract(saved.contract)
    assert termination is not None
    assert (termination.route, termination.state) == (Route.API, TerminationState.SUBMITTED)
    assert termination.dossier == {"numeroInterne": "C-1", "numeroExterne": "EXT-C-1", "numeroDeca": None}
    history = terminations.history(WHO, contract.id)
    assert [(e["type"], e["actor"]) for e in history] == [
        ("Declared", "token:test"),
        ("SubmissionRequested", "token:test"),
    ]
    assert app.history(WHO, contract.id)[-1]["type"] == "RuptureDeclared"


def test_an_opco_without_the_route_gets_a_declaration_the_cfa_marks_done(
    app: Dossiers, terminations: Terminations, complete_cerfa: dict[str, Any]
) -> None:
    at_afdas = accepted_contract(app, WHO, complete_cerfa, "C-2", opco=Opco.AFDAS)
    assert not CATALOGUE[Opco.AFDAS].ruptures

    saved = terminations.declare(WHO, at_afdas.id, ON_DAY_45)
    termination = terminations.of_contract(saved.contract)
    assert termination is not None
    assert (termination.route, termination.state, termination.waiting_for_person) == (
        Route.DECLARATION,
        TerminationState.TO_DECLARE,
        "to_declare",
    )

    declared = terminations.mark_declared(WHO, at_afdas.id, idempotency_key="k-1")
    assert (declared.state, declared.waiting_for_person) == (TerminationState.DECLARED, None)
    assert terminations.mark_declared(WHO, at_afdas.id, idempotency_key="k-1").version == declared.version
    with pytest.raises(NotAllowedInState):
        terminations.withdraw(WHO, at_afdas.id, "erreur")  # filed: the OPCO has it


def test_only_a_dossier_the_opco_has_can_be_terminated(
    app: Dossiers, terminations: Terminations, complete_cerfa: dict[str, Any]
) -> None:
    from domain.contracts.cerfa_document import parse_cerfa

    draft = app.create_contract(WHO, cerfa=parse_cerfa(complete_cerfa), numero_interne="D-1", opco=None).contract
    with pytest.raises(NotAllowedInState, match="terminate"):
        terminations.declare(WHO, draft.id, ON_DAY_45)


def test_bad_values_are_refused_naming_each_field(terminations: Terminations, contract: Contract) -> None:
    bad = RuptureRequest(date_effet=date(2028, 9, 1), motif="demission", initiative="employeur", date_signalement=None)
    with pytest.raises(InvalidValues) as refused:
        terminations.declare(WHO, contract.id, bad)
    assert [(p.field, p.code) for p in refused.value.problems] == [
        ("dateEffetRupture", "outside_contract"),
        ("initiative", "initiative_not_for_motif"),
    ]


def test_one_rupture_at_a_time_and_a_withdrawn_one_can_be_declared_again(
    terminations: Terminations, contract: Contract
) -> None:
    first = terminations.declare(WHO, contract.id, ON_DAY_45, idempotency_key="r-1")
    again = terminations.declare(WHO, contract.id, ON_DAY_45, idempotency_key="r-1")
    assert again.replayed
    assert again.contract.ruptures_declared == 1
    with pytest.raises(NotAllowedInState):
        terminations.declare(WHO, contract.id, ON_DAY_45)

    withdrawn = terminations.withdraw(WHO, contract.id, "saisie en double")
    assert withdrawn.contract.rupture is None
    old = terminations.history(WHO, contract.id)
    assert old[-1]["type"] == "Cancelled"  # the queue's word: it leaves unsent

    later = RuptureRequest(date(2026, 11, 20), "commun_accord", "commun", None)
    second = terminations.declare(WHO, contract.id, later)
    assert second.contract.ruptures_declared == 2
    assert second.contract.rupture is not None
    assert second.contract.rupture["terminationId"] != first.contract.rupture["terminationId"]  # type: ignore[index]


def test_a_rupture_in_flight_cannot_be_withdrawn(terminations: Terminations, contract: Contract) -> None:
    saved = terminations.declare(WHO, contract.id, ON_DAY_45)
    termination = terminations.of_contract(saved.contract)
    assert termination is not None
    terminations.change_as_worker(termination.id, lambda t: t.start_transmission("worker"))
    with pytest.raises(NotAllowedInState, match="withdraw"):
        terminations.withdraw(WHO, contract.id, None)


def test_the_traineeship_after_the_rupture_shows_in_the_funding_view(
    app: Dossiers, terminations: Terminations, contract: Contract
) -> None:
    app.forecast_npec(WHO, contract.id, Decimal("8000"))
    terminations.declare(WHO, contract.id, ON_DAY_45)
    with pytest.raises(InvalidValues) as too_long:
        terminations.record_traineeship(WHO, contract.id, date(2026, 10, 16), date(2027, 4, 16))
    assert [(p.field, p.code) for p in too_long.value.problems] == [("fin", "over_six_months")]
    saved = terminations.record_traineeship(WHO, contract.id, date(2026, 10, 16), date(2027, 4, 15))

    view = funding(saved.contract)
    assert view["traineeship"] == {"debut": "2026-10-16", "fin": "2027-04-15"}
    # level 5 (BTS): no participation; 8 000 × 45 / 365 = 986.30, the last invoice by 15 Feb 2027
    assert view["rupture"]["proratedTotal"] == "986.30"
    assert view["rupture"]["payable"] == "986.30"
    assert view["rupture"]["lastInvoiceBy"] == "2027-02-15"


def test_invoicing_stops_at_the_rupture(
    app: Dossiers, terminations: Terminations, complete_cerfa: dict[str, Any]
) -> None:
    contract = accepted_contract(app, WHO, complete_cerfa, echeances=echeancier(opens=("2026-09-01", "2026-11-01")))
    invoices = Invoices(app, CATALOGUE, app.clock, BillingProfiles(app, PlainBox()))
    app.forecast_npec(WHO, contract.id, Decimal("8000"))
    terminations.declare(WHO, contract.id, ON_DAY_45)

    with pytest.raises(RulesConflict) as closed:
        invoices.create(WHO, numero_interne_facture="F-1", invoice_date=TODAY, lines=[line(contract.id, 2, "100.00")])
    assert [(p.field, p.code) for p in closed.value.problems] == [("lines.0.numeroEcheance", "echeance_after_rupture")]

    beyond = [line(contract.id, 1, "986.31")]
    with pytest.raises(InvalidValues) as refused:
        invoices.create(WHO, numero_interne_facture="F-1", invoice_date=date(2026, 11, 27), lines=beyond)
    assert [(p.field, p.code) for p in refused.value.problems] == [("lines.0.amount", "beyond_prorated_funding")]

    within = invoices.create(
        WHO, numero_interne_facture="F-1", invoice_date=date(2026, 11, 27), lines=[line(contract.id, 1, "986.30")]
    )
    assert within.invoice.amount == Decimal("986.30")


def test_a_contract_the_opco_already_shows_broken_is_recorded_not_sent(
    app: Dossiers, terminations: Terminations, complete_cerfa: dict[str, Any]
) -> None:
    broken = accepted_contract(app, WHO, complete_cerfa, "C-3", etat="RUPTU")  # the employer told the OPCO
    saved = terminations.declare(WHO, broken.id, ON_DAY_45)
    termination = terminations.of_contract(saved.contract)
    assert termination is not None
    assert (termination.route, termination.state, termination.waiting_for_person) == (
        Route.DECLARATION,
        TerminationState.DECLARED,
        None,
    )
    assert [e["type"] for e in terminations.history(WHO, broken.id)] == ["Declared", "MarkedDeclared"]
