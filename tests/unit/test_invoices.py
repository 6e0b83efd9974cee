"""Invoices in the application, on the in-memory store: each rule on both sides of its boundary."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from application.access.access import WORKER
from application.dossiers import Dossiers
from application.errors import DuplicateInvoiceNumber, IdempotencyKeyReused, NotFound
from application.invoices.billing_profiles import BillingProfiles
from application.invoices.invoices import Invoices
from domain.contracts.contract import Contract
from domain.errors import InvalidValue, InvalidValues, NotAllowedInState, RulesConflict
from domain.invoicing.invoice import Invoice
from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.states import InvoiceState
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from tests.invoicing import CFA, accepted_contract, echeancier, line
from tests.support import dossiers, principal
from tests.unit.fakes import PlainBox

TODAY = date(2026, 11, 27)
WHO = principal(CFA)


@pytest.fixture
def app() -> Dossiers:
    return dossiers(today=TODAY)


@pytest.fixture
def invoices(app: Dossiers) -> Invoices:
    return Invoices(app, CATALOGUE, app.clock, BillingProfiles(app, PlainBox()))


@pytest.fixture
def contract(app: Dossiers, complete_cerfa: dict[str, Any]) -> Contract:
    return accepted_contract(app, WHO, complete_cerfa)


def create(invoices: Invoices, *lines: Any, numero: str = "F-1", on: date = TODAY, **kwargs: Any) -> Invoice:
    return invoices.create(WHO, numero_interne_facture=numero, invoice_date=on, lines=list(lines), **kwargs).invoice


def codes(error: InvalidValues | RulesConflict) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in error.problems]


def test_an_invoice_books_its_lines_on_the_contract_in_the_same_transaction(
    app: Dossiers, invoices: Invoices, contract: Contract
) -> None:
    saved = invoices.create(
        WHO, numero_interne_facture="F-1", invoice_date=TODAY, lines=[line(contract.id, 1, "1200.00")]
    )
    invoice = saved.invoice
    assert (invoice.state, invoice.amount, invoice.opco) == (InvoiceState.DRAFTED, Decimal("1200.00"), "ATLAS")
    assert invoice.invoice_lines[0].codification == "E1"
    assert invoice.invoice_lines[0].numero_externe == "EXT-C-1"
    booked = app.contract(WHO, contract.id).invoices[str(invoice.id)]
    assert booked["numeroInterneFacture"] == "F-1"
    assert [(ln["numeroEcheance"], ln["amount"]) for ln in booked["lines"]] == [(1, "1200.00")]
    assert saved.position is not None


def test_only_a_contract_the_opco_committed_to_can_be_invoiced(
    app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]
) -> None:
    in_review = accepted_contract(app, WHO, complete_cerfa, "C-2", etat="EN_COURS_INSTRUCTION")
    with pytest.raises(RulesConflict) as refused:
        create(invoices, line(in_review.id))
    assert codes(refused.value) == [("lines.0.contractId", "not_committed")]


def test_an_echeance_is_invoiced_from_its_opening_day(
    app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]
) -> None:
    opens_today = accepted_contract(app, WHO, complete_cerfa, "C-T", echeances=echeancier(opens=("2026-11-27",)))
    opens_tomorrow = accepted_contract(app, WHO, complete_cerfa, "C-M", echeances=echeancier(opens=("2026-11-28",)))
    assert create(invoices, line(opens_today.id), numero="F-T").state is InvoiceState.DRAFTED
    with pytest.raises(RulesConflict) as refused:
        create(invoices, line(opens_tomorrow.id), numero="F-M")
    assert codes(refused.value) == [("lines.0.numeroEcheance", "echeance_not_open")]


def test_an_unknown_echeance_is_named(invoices: Invoices, contract: Contract) -> None:
    with pytest.raises(InvalidValues) as refused:
        create(invoices, line(contract.id, 4))
    assert codes(refused.value) == [("lines.0.numeroEcheance", "unknown_echeance")]
    assert "it has: 1, 2" in refused.value.problems[0].message


def test_a_line_may_take_what_remains_on_its_echeance_and_not_a_cent_more(
    app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]
) -> None:
    # échéance 1: 3000.00 in all, 500.00 already settled at the OPCO when it committed: 2500.00 remain
    first = accepted_contract(app, WHO, complete_cerfa, "C-A", echeances=echeancier(settled="500.00"))
    second = accepted_contract(app, WHO, complete_cerfa, "C-B", echeances=echeancier(settled="500.00"))
    assert create(invoices, line(first.id, 1, "2500.00"), numero="F-A").amount == Decimal("2500.00")
    with pytest.raises(InvalidValues) as refused:
        create(invoices, line(second.id, 1, "2500.01"), numero="F-B")
    assert codes(refused.value) == [("lines.0.amount", "amount_exceeds_remaining")]
    assert "2500.00 € remain" in refused.value.problems[0].message


def test_a_pending_invoice_holds_its_echeance_until_it_is_cancelled(invoices: Invoices, contract: Contract) -> None:
    first = create(invoices, line(contract.id, 1, "1000.00"), numero="F-1")
    with pytest.raises(RulesConflict) as refused:
        create(invoices, line(contract.id, 1, "1000.00"), numero="F-2")
    assert codes(refused.value) == [("lines.0.numeroEcheance", "invoice_pending")]
    assert "F-1" in refused.value.problems[0].message
    invoices.cancel(WHO, first.id, "wrong amount")
    assert create(invoices, line(contract.id, 1, "3000.00"), numero="F-2").amount == Decimal("3000.00")


@pytest.mark.parametrize(
    ("kind", "quantity", "allowed", "refused"),
    [
        (InvoiceKind.HEBERGEMENT, 10, "60.00", "60.01"),
        (InvoiceKind.RESTAURATION, 20, "60.00", "60.01"),
    ],
)
def test_nights_and_meals_stay_within_their_unit_ceilings(
    invoices: Invoices, contract: Contract, kind: InvoiceKind, quantity: int, allowed: str, refused: str
) -> None:
    with pytest.raises(InvalidValues) as too_much:
        create(invoices, line(contract.id, 1, refused, kind, quantity), numero="F-X")
    assert codes(too_much.value) == [("lines.0.amount", "ceiling_exceeded")]
    assert create(invoices, line(contract.id, 1, allowed, kind, quantity)).amount == Decimal(allowed)


def test_nights_and_meals_give_their_number(invoices: Invoices, contract: Contract) -> None:
    with pytest.raises(InvalidValues) as refused:
        create(invoices, line(contract.id, 1, "30.00", InvoiceKind.RESTAURATION))
    assert codes(refused.value) == [("lines.0.quantity", "required")]


def test_first_equipment_stays_within_500_euros_over_the_whole_contract(
    app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]
) -> None:
    open_now = echeancier(opens=("2026-09-01", "2026-10-01"))
    contract = accepted_contract(app, WHO, complete_cerfa, echeances=open_now)
    # the first invoice stays pending on échéance 1, so the second goes on échéance 2
    create(invoices, line(contract.id, 1, "300.00", InvoiceKind.PREMIER_EQUIPEMENT), numero="F-1")
    with pytest.raises(InvalidValues) as refused:
        create(invoices, line(contract.id, 2, "200.01", InvoiceKind.PREMIER_EQUIPEMENT), numero="F-2")
    assert codes(refused.value) == [("lines.0.amount", "ceiling_exceeded")]
    assert "300.00 € already invoiced" in refused.value.problems[0].message
    assert create(invoices, line(contract.id, 2, "200.00", InvoiceKind.PREMIER_EQUIPEMENT), numero="F-2")


def test_every_broken_rule_is_listed(invoices: Invoices, contract: Contract) -> None:
    with pytest.raises(InvalidValues) as refused:
        create(
            invoices,
            line(contract.id, 1, "3000.01"),
            line(contract.id, 9),
            line(contract.id, 2, "10.00", InvoiceKind.HEBERGEMENT),
            on=date(2026, 11, 28),
        )
    assert codes(refused.value) == [
        ("date", "in_future"),
        ("lines.1.numeroEcheance", "unknown_echeance"),
        ("lines.2.quantity", "required"),
        ("lines.0.amount", "amount_exceeds_remaining"),
    ]


def test_one_line_per_contract_echeance_and_kind(invoices: Invoices, contract: Contract) -> None:
    with pytest.raises(InvalidValues) as refused:
        create(invoices, line(contract.id, 1, "10.00"), line(contract.id, 1, "10.00"))
    assert codes(refused.value) == [("lines.1", "duplicate_line")]


def test_another_cfas_contract_is_unknown(app: Dossiers, invoices: Invoices, contract: Contract) -> None:
    other = principal("13002526500013")
    with pytest.raises(InvalidValues) as refused:
        invoices.create(other, numero_interne_facture="F-1", invoice_date=TODAY, lines=[line(contract.id)])
    assert codes(refused.value) == [("lines.0.contractId", "unknown_contract")]
    invoice = create(invoices, line(contract.id))
    with pytest.raises(NotFound):
        invoices.invoice(other, invoice.id)


def test_an_invoice_goes_to_one_opco(app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]) -> None:
    atlas = accepted_contract(app, WHO, complete_cerfa, "C-1")
    akto = accepted_contract(app, WHO, complete_cerfa, "C-2", opco=Opco.AKTO)
    with pytest.raises(InvalidValues) as refused:
        create(invoices, line(atlas.id), line(akto.id))
    assert codes(refused.value) == [("lines", "several_opcos")]


def test_an_opco_without_invoices_is_refused(app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]) -> None:
    cohesion = accepted_contract(app, WHO, complete_cerfa, "C-1", opco=Opco.COHESION_SOCIALE)
    with pytest.raises(RulesConflict) as refused:
        create(invoices, line(cohesion.id))
    assert codes(refused.value) == [("lines", "opco_takes_no_invoices")]


def test_invoice_numbers_are_unique_per_cfa(
    app: Dossiers, invoices: Invoices, contract: Contract, complete_cerfa: dict[str, Any]
) -> None:
    other = accepted_contract(app, WHO, complete_cerfa, "C-2")
    create(invoices, line(contract.id, 1, "10.00"), numero="F-1")
    with pytest.raises(DuplicateInvoiceNumber):
        create(invoices, line(other.id, 1, "10.00"), numero="F-1")
    assert app.contract(WHO, other.id).invoices == {}  # nothing half-written


def test_an_idempotency_key_replays_the_first_invoice(invoices: Invoices, contract: Contract) -> None:
    body = {"numero": "F-1"}
    first = invoices.create(
        WHO,
        numero_interne_facture="F-1",
        invoice_date=TODAY,
        lines=[line(contract.id)],
        idempotency_key="k",
        request_body=body,
    )
    again = invoices.create(
        WHO,
        numero_interne_facture="F-1",
        invoice_date=TODAY,
        lines=[line(contract.id)],
        idempotency_key="k",
        request_body=body,
    )
    assert (again.invoice.id, again.replayed, first.replayed) == (first.invoice.id, True, False)
    with pytest.raises(IdempotencyKeyReused):
        invoices.create(
            WHO,
            numero_interne_facture="F-2",
            invoice_date=TODAY,
            lines=[line(contract.id)],
            idempotency_key="k",
            request_body={"numero": "F-2"},
        )


def test_an_invoice_cannot_be_cancelled_once_it_may_have_reached_the_opco(
    invoices: Invoices, contract: Contract
) -> None:
    invoice = create(invoices, line(contract.id))
    invoices.submit(WHO, invoice.id)
    invoices.change_as_worker(invoice.id, lambda i: i.start_transmission(WORKER.actor))
    with pytest.raises(NotAllowedInState):
        invoices.cancel(WHO, invoice.id, None)


def sent_invoice(invoices: Invoices, contract: Contract, amount: str = "1000.00") -> Invoice:
    invoice = create(invoices, line(contract.id, 1, amount))
    invoices.submit(WHO, invoice.id)

    def send(i: Invoice) -> None:
        i.start_transmission(WORKER.actor)
        i.record_sent(numero_externe="FX-1", etat="TRANSMISE", found_by_lookup=False, actor=WORKER.actor)

    return invoices.change_as_worker(invoice.id, send).invoice


def test_payments_by_hand_go_to_paid_and_are_spread_on_the_contract(
    app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]
) -> None:
    contract = accepted_contract(app, WHO, complete_cerfa, opco=Opco.CONSTRUCTYS)  # no invoice states there
    invoice = sent_invoice(invoices, contract)
    partly = invoices.record_payment(
        WHO, invoice.id, amount=Decimal("400.00"), paid_on=TODAY, reference_virement="VIR-1"
    ).invoice
    assert (partly.state, partly.paid) == (InvoiceState.PARTIALLY_PAID, Decimal("400.00"))
    with pytest.raises(InvalidValue) as too_much:
        invoices.record_payment(WHO, invoice.id, amount=Decimal("600.01"), paid_on=TODAY, reference_virement=None)
    assert too_much.value.problem.code == "exceeds_invoice"
    paid = invoices.record_payment(
        WHO, invoice.id, amount=Decimal("600.00"), paid_on=TODAY, reference_virement="VIR-2"
    ).invoice
    assert (paid.state, [p["source"] for p in paid.payments]) == (InvoiceState.PAID, ["cfa", "cfa"])
    assert app.contract(WHO, contract.id).invoices[str(invoice.id)]["paid"] == ["1000.00"]


def test_a_payment_in_the_future_is_refused(app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]) -> None:
    contract = accepted_contract(app, WHO, complete_cerfa, opco=Opco.CONSTRUCTYS)
    invoice = sent_invoice(invoices, contract)
    with pytest.raises(InvalidValue) as refused:
        invoices.record_payment(
            WHO, invoice.id, amount=Decimal("1.00"), paid_on=date(2026, 11, 28), reference_virement=None
        )
    assert refused.value.problem.field == "paidOn"


def test_payments_reported_by_the_opco_are_not_recorded_by_hand(invoices: Invoices, contract: Contract) -> None:
    invoice = sent_invoice(invoices, contract)  # ATLAS reports its payments (factures/etats)
    with pytest.raises(RulesConflict) as refused:
        invoices.record_payment(WHO, invoice.id, amount=Decimal("1.00"), paid_on=TODAY, reference_virement=None)
    assert codes(refused.value) == [("amount", "payments_from_opco")]


def test_an_opco_payment_in_two_steps_then_the_echeance_is_free_again(
    app: Dossiers, invoices: Invoices, contract: Contract
) -> None:
    invoice = sent_invoice(invoices, contract, "1000.00")

    def pays(total: str, etat: str) -> Any:
        def apply(i: Invoice) -> None:
            i.record_opco_payment(paid_total=Decimal(total), paid_on=TODAY, reference_virement="V", actor=WORKER.actor)
            i.record_opco_state(etat=etat, commentaire=None, numero_externe=None, actor=WORKER.actor)

        return invoices.change_as_worker(invoice.id, apply).invoice

    assert pays("500.00", "REGLE_PARTIEL").state is InvoiceState.PARTIALLY_PAID
    with pytest.raises(RulesConflict):
        create(invoices, line(contract.id, 1, "100.00"), numero="F-2")
    assert pays("1000.00", "REGLE").state is InvoiceState.PAID
    assert pays("1000.00", "REGLE").version == invoices.invoice(WHO, invoice.id).version  # nothing new: no event
    assert create(invoices, line(contract.id, 1, "2000.00"), numero="F-2").amount == Decimal("2000.00")
    with pytest.raises(InvalidValues):
        create(invoices, line(contract.id, 1, "0.01"), numero="F-3")


def test_a_refusal_frees_the_echeance(invoices: Invoices, contract: Contract) -> None:
    invoice = create(invoices, line(contract.id, 1, "3000.00"))
    invoices.submit(WHO, invoice.id)

    def refuse(i: Invoice) -> None:
        i.start_transmission(WORKER.actor)
        i.record_refusal(["échéance non ouverte"], WORKER.actor)

    assert invoices.change_as_worker(invoice.id, refuse).invoice.state is InvoiceState.REFUSED
    assert create(invoices, line(contract.id, 1, "3000.00"), numero="F-2").amount == Decimal("3000.00")


def test_the_history_says_who_did_what(invoices: Invoices, contract: Contract) -> None:
    invoice = create(invoices, line(contract.id))
    invoices.submit(WHO, invoice.id)
    history = invoices.history(WHO, invoice.id)
    assert [(h["type"], h["actor"]) for h in history] == [
        ("Drafted", "token:test"),
        ("SubmissionRequested", "token:test"),
        ("Numbered", "token:test"),
    ]


def test_first_equipment_within_the_opcos_lower_ceiling(
    app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]
) -> None:
    contract = accepted_contract(app, WHO, complete_cerfa, equipment_ceiling="300.00")
    with pytest.raises(InvalidValues) as refused:
        create(invoices, line(contract.id, 1, "300.01", InvoiceKind.PREMIER_EQUIPEMENT), numero="F-1")
    assert "at most 300.00 €" in refused.value.problems[0].message
    assert create(invoices, line(contract.id, 1, "300.00", InvoiceKind.PREMIER_EQUIPEMENT)).amount == Decimal("300")
