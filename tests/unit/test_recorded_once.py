"""What is recorded once however often it is sent, without an Idempotency-Key: the employer's mandate (replaced only
under If-Match) and a payment's transfer (one referenceVirement, one payment, whoever reports it)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from application.access.access import WORKER
from application.dossiers import Dossiers, Saved
from application.errors import PreconditionRequired, VersionMismatch
from application.invoices.billing_profiles import BillingProfiles
from application.invoices.invoices import Invoices
from domain.contracts.cerfa_document import parse_cerfa
from domain.errors import RulesConflict
from domain.invoicing.invoice import Invoice
from domain.invoicing.states import InvoiceState
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from tests.invoicing import CFA, accepted_contract, line
from tests.support import dossiers, principal
from tests.unit.fakes import PlainBox

TODAY = date(2026, 11, 27)
WHO = principal(CFA)
SIGNATORY = {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}


@pytest.fixture
def app() -> Dossiers:
    return dossiers(today=TODAY)


@pytest.fixture
def invoices(app: Dossiers) -> Invoices:
    return Invoices(app, CATALOGUE, app.clock, BillingProfiles(app, PlainBox()))


def events(app: Dossiers, ident: UUID) -> list[str]:
    return [e["type"] for e in app.history(WORKER, ident)]


def mandate(app: Dossiers, ident: UUID, signed_on: date = date(2026, 6, 15), **kwargs: Any) -> Saved:
    return app.record_mandate(WHO, ident, signed_on=signed_on, signatory=SIGNATORY, document_sha256=None, **kwargs)


@pytest.fixture
def draft(app: Dossiers, complete_cerfa: dict[str, Any]) -> UUID:
    return app.create_contract(WHO, cerfa=parse_cerfa(complete_cerfa), numero_interne="M-1", opco=None).contract.id


def test_the_same_mandate_again_changes_nothing(app: Dossiers, draft: UUID) -> None:
    first = mandate(app, draft)
    again = mandate(app, draft)
    assert (again.contract.version, again.position, again.contract.mandate) == (2, None, first.contract.mandate)
    assert events(app, draft) == ["Drafted", "MandateRecorded"]


def test_the_same_mandate_again_after_the_submission_changes_nothing(app: Dossiers, draft: UUID) -> None:
    mandate(app, draft)
    app.submit(WHO, draft)
    assert mandate(app, draft).contract.state.value == "submitted"
    assert events(app, draft) == ["Drafted", "MandateRecorded", "SubmissionRequested"]


def test_another_mandate_replaces_it_only_under_if_match(app: Dossiers, draft: UUID) -> None:
    mandate(app, draft)
    with pytest.raises(PreconditionRequired):
        mandate(app, draft, date(2026, 6, 16))
    with pytest.raises(VersionMismatch):
        mandate(app, draft, date(2026, 6, 16), expected_version=1)
    replaced = mandate(app, draft, date(2026, 6, 16), expected_version=2)
    assert replaced.contract.mandate is not None
    assert (replaced.contract.version, replaced.contract.mandate["signedOn"]) == (3, date(2026, 6, 16))
    assert events(app, draft) == ["Drafted", "MandateRecorded", "MandateRecorded"]


def test_the_first_mandate_needs_no_if_match(app: Dossiers, draft: UUID) -> None:
    assert mandate(app, draft, date(2026, 6, 16)).contract.version == 2


def sent_invoice(app: Dossiers, invoices: Invoices, cerfa: dict[str, Any], opco: Opco) -> UUID:
    contract = accepted_contract(app, WHO, cerfa, opco=opco)
    ident = invoices.create(WHO, numero_interne_facture="F-1", invoice_date=TODAY, lines=[line(contract.id)]).invoice.id
    invoices.submit(WHO, ident)

    def sent(i: Invoice) -> None:
        i.start_transmission(WORKER.actor)
        i.record_sent(numero_externe="FX-1", etat="TRANSMISE", found_by_lookup=False, actor=WORKER.actor)

    invoices.change_as_worker(ident, sent)
    return ident


@pytest.fixture
def paid_by_hand(app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]) -> UUID:
    """A sent invoice of 1000 € at an OPCO that does not report its payments: the CFA records them."""
    return sent_invoice(app, invoices, complete_cerfa, Opco.CONSTRUCTYS)


def pay(invoices: Invoices, ident: UUID, amount: str, reference: str | None) -> Invoice:
    return invoices.record_payment(
        WHO, ident, amount=Decimal(amount), paid_on=TODAY, reference_virement=reference
    ).invoice


def payments(invoices: Invoices, ident: UUID) -> list[tuple[str, str | None]]:
    return [(p["amount"], p["referenceVirement"]) for p in invoices.invoice_as_worker(ident).payments]


@pytest.mark.parametrize("again", ["VIR-1", " vir-1 "])
def test_a_transfer_already_recorded_is_refused(invoices: Invoices, paid_by_hand: UUID, again: str) -> None:
    pay(invoices, paid_by_hand, "400.00", "VIR-1")
    with pytest.raises(RulesConflict) as refused:
        pay(invoices, paid_by_hand, "400.00", again)
    [problem] = refused.value.problems
    assert (problem.field, problem.code) == ("referenceVirement", "payment_already_recorded")
    assert "VIR-1" in problem.message
    assert payments(invoices, paid_by_hand) == [("400.00", "VIR-1")]


def test_a_transfer_is_refused_again_once_the_invoice_is_paid(invoices: Invoices, paid_by_hand: UUID) -> None:
    assert pay(invoices, paid_by_hand, "1000.00", "VIR-1").state is InvoiceState.PAID
    with pytest.raises(RulesConflict) as refused:
        pay(invoices, paid_by_hand, "1000.00", "VIR-1")
    assert refused.value.problems[0].code == "payment_already_recorded"  # not "paid": the repeat is named


def test_other_transfers_are_other_payments(invoices: Invoices, paid_by_hand: UUID) -> None:
    pay(invoices, paid_by_hand, "400.00", "VIR-1")
    pay(invoices, paid_by_hand, "300.00", "VIR-2")
    pay(invoices, paid_by_hand, "100.00", None)  # without a reference, only an Idempotency-Key tells a repeat
    pay(invoices, paid_by_hand, "100.00", None)
    assert payments(invoices, paid_by_hand) == [
        ("400.00", "VIR-1"),
        ("300.00", "VIR-2"),
        ("100.00", None),
        ("100.00", None),
    ]


def opco_reports(invoices: Invoices, ident: UUID, total: str, etat: str, reference: str) -> Invoice:
    """What the invoice sync records of one line of factures/etats (application.invoices.invoice_sync)."""

    def apply(i: Invoice) -> None:
        i.record_opco_payment(
            paid_total=Decimal(total), paid_on=TODAY, reference_virement=reference, actor=WORKER.actor
        )
        i.record_opco_state(etat=etat, commentaire=None, numero_externe=None, actor=WORKER.actor)

    return invoices.change_as_worker(ident, apply).invoice


def test_a_payment_the_opco_reports_is_recorded_once_however_often_it_is_read(
    app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]
) -> None:
    ident = sent_invoice(app, invoices, complete_cerfa, Opco.ATLAS)  # ATLAS reports its payments
    opco_reports(invoices, ident, "400.00", "REGLE_PARTIEL", "VIR-1")
    opco_reports(invoices, ident, "400.00", "REGLE_PARTIEL", "VIR-1")  # read again at the next round
    opco_reports(invoices, ident, "1000.00", "REGLE", "VIR-2")
    opco_reports(invoices, ident, "1000.00", "REGLE", "VIR-2")
    assert payments(invoices, ident) == [("400.00", "VIR-1"), ("600.00", "VIR-2")]


def test_a_transfer_recorded_by_hand_is_not_recorded_again_when_the_opco_reports_it(
    invoices: Invoices, paid_by_hand: UUID
) -> None:
    pay(invoices, paid_by_hand, "400.00", "VIR-1")
    # the OPCO reports what it paid in all: the 400 € already recorded are not recorded again
    assert opco_reports(invoices, paid_by_hand, "400.00", "REGLE_PARTIEL", "VIR-1").paid == Decimal("400.00")
    assert payments(invoices, paid_by_hand) == [("400.00", "VIR-1")]


def test_a_blank_reference_names_no_transfer(invoices: Invoices, paid_by_hand: UUID) -> None:
    pay(invoices, paid_by_hand, "100.00", None)
    assert invoices.invoice_as_worker(paid_by_hand).payment_by_reference("  ") is None
