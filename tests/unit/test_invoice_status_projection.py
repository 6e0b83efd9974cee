"""The invoices' read model projection, pure: what each invoice and contract event changes in the rows, checked
against the aggregates themselves (events made by the real commands on the in-memory store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.access.access import WORKER
from application.dossiers import Dossiers
from application.invoices.billing_profiles import BillingProfiles
from application.invoices.invoices import Invoices
from application.read_models.invoice_status import EcheanceRow, InvoiceRow
from application.read_models.invoice_status_projection import (
    PARIS,
    TOPICS,
    Memo,
    Projected,
    UnknownAggregate,
    cents,
    from_cents,
    project,
)
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import Contract
from domain.invoicing.invoice import Invoice
from domain.invoicing.kinds import InvoiceKind
from domain.opco.opco_catalogue import CATALOGUE
from tests.invoicing import CFA, accepted_contract, echeancier, line
from tests.support import dossiers, principal
from tests.unit.fakes import PlainBox

TODAY = date(2026, 11, 27)
WHO = principal(CFA)


@dataclass
class Projector:
    """Follows the log as the read model does, keeping each aggregate's memo and its latest rows."""

    app: Dossiers
    position: int = 0
    memos: dict[UUID, Memo] = field(default_factory=dict)
    invoices: dict[UUID, InvoiceRow] = field(default_factory=dict)
    echeances: dict[UUID, list[EcheanceRow]] = field(default_factory=dict)
    changes: list[tuple[str, Projected]] = field(default_factory=list)

    def catch_up(self) -> list[tuple[str, Projected]]:
        notifications = self.app.recorder.select_notifications(self.position + 1, 1000, topics=TOPICS)
        new = []
        for notification in notifications:
            event = self.app.mapper.to_domain_event(notification)
            projected = project(event, self.memos.get(event.originator_id), notification.id)
            if projected.memo is not None:
                self.memos[event.originator_id] = projected.memo
            if projected.invoice is not None:
                self.invoices[event.originator_id] = projected.invoice
            if projected.echeances is not None:
                self.echeances[event.originator_id] = projected.echeances
            new.append((type(event).__qualname__, projected))
            self.position = notification.id
        self.changes.extend(new)
        return new


@pytest.fixture
def app() -> Dossiers:
    return dossiers(today=TODAY)


@pytest.fixture
def invoices(app: Dossiers) -> Invoices:
    return Invoices(app, CATALOGUE, app.clock, BillingProfiles(app, PlainBox()))


@pytest.fixture
def contract(app: Dossiers, complete_cerfa: dict[str, Any]) -> Contract:
    return accepted_contract(app, WHO, complete_cerfa, echeances=echeancier(settled="500.00"))


@pytest.fixture
def projector(app: Dossiers) -> Projector:
    return Projector(app)


def create(invoices: Invoices, *lines: Any, numero: str = "F-1") -> Invoice:
    return invoices.create(WHO, numero_interne_facture=numero, invoice_date=TODAY, lines=list(lines)).invoice


def sent(invoices: Invoices, invoice: Invoice, etat: str = "TRANSMISE") -> Invoice:
    invoices.submit(WHO, invoice.id)

    def send(i: Invoice) -> None:
        i.start_transmission(WORKER.actor)
        i.record_sent(numero_externe="FX-1", etat=etat, found_by_lookup=False, actor=WORKER.actor)

    return invoices.change_as_worker(invoice.id, send).invoice


def opco_paid(invoices: Invoices, invoice: Invoice, total: str, etat: str) -> Invoice:
    def pay(i: Invoice) -> None:
        i.record_opco_payment(paid_total=Decimal(total), paid_on=TODAY, reference_virement="V", actor=WORKER.actor)
        i.record_opco_state(etat=etat, commentaire=None, numero_externe=None, actor=WORKER.actor)

    return invoices.change_as_worker(invoice.id, pay).invoice


def assert_as_the_aggregate(row: InvoiceRow, invoice: Invoice) -> None:
    assert (row.state, row.amount, row.paid, row.unpaid) == (
        invoice.state.value,
        invoice.amount,
        invoice.paid,
        invoice.amount - invoice.paid,
    )
    assert (row.numero_externe, row.opco_state, row.opco) == (invoice.numero_externe, invoice.opco_state, invoice.opco)
    assert (row.cfa_siret, row.numero_interne_facture, row.invoice_date) == (CFA, invoice.numero_interne_facture, TODAY)
    assert row.contract_ids == tuple(invoice.contract_ids)
    assert row.updated_at == invoice.modified_on
    assert row.created_at == invoice.created_on


def test_an_invoice_from_draft_to_paid_in_two_steps(
    invoices: Invoices, contract: Contract, projector: Projector
) -> None:
    invoice = create(
        invoices,
        line(contract.id, 1, "1200.00"),
        line(contract.id, 1, "30.00", InvoiceKind.RESTAURATION, quantity=10),
    )
    projector.catch_up()
    drafted = projector.invoices[invoice.id]
    assert (drafted.state, drafted.amount, drafted.paid, drafted.line_count) == (
        "drafted",
        Decimal("1230.00"),
        Decimal("0.00"),
        2,
    )
    assert drafted.contract_ids == (contract.id,)
    assert (drafted.sent_at, drafted.sent_on, drafted.parked) == (None, None, False)
    assert_as_the_aggregate(drafted, invoice)

    invoice = sent(invoices, invoice)
    projector.catch_up()
    row = projector.invoices[invoice.id]
    assert_as_the_aggregate(row, invoice)
    assert (row.state, row.numero_externe, row.opco_state) == ("sent", "FX-1", "TRANSMISE")
    sent_event = next(e for e in invoices.history(WHO, invoice.id) if e["type"] == "Sent")
    assert row.sent_at == sent_event["at"]
    assert row.sent_on == row.sent_at.astimezone(PARIS).date()

    invoice = opco_paid(invoices, invoice, "1000.00", "REGLE_PARTIEL")
    projector.catch_up()
    row = projector.invoices[invoice.id]
    assert (row.state, row.paid, row.unpaid) == ("partially_paid", Decimal("1000.00"), Decimal("230.00"))
    assert_as_the_aggregate(row, invoice)

    invoice = opco_paid(invoices, invoice, "1230.00", "REGLE")
    projector.catch_up()
    row = projector.invoices[invoice.id]
    assert (row.state, row.paid, row.unpaid) == ("paid", Decimal("1230.00"), Decimal("0.00"))
    assert_as_the_aggregate(row, invoice)
    assert row.position == projector.position - 1  # the contract's ledger follows in the same transaction
    assert row.sent_at == projector.invoices[invoice.id].sent_at  # a payment does not move the sending


def test_the_echeances_follow_the_commitment_and_the_ledger(
    invoices: Invoices, contract: Contract, projector: Projector
) -> None:
    projector.catch_up()
    rows = projector.echeances[contract.id]
    assert [(r.numero, r.codification, r.total, r.settled_at_commitment, r.remaining) for r in rows] == [
        (1, "E1", Decimal("3000.00"), Decimal("500.00"), Decimal("2500.00")),
        (2, "E2", Decimal("3000.00"), Decimal("0.00"), Decimal("3000.00")),
        (3, "E3", Decimal("3000.00"), Decimal("0.00"), Decimal("3000.00")),
    ]
    assert [r.opens_on for r in rows] == [date(2026, 9, 1), date(2027, 3, 1), date(2027, 6, 1)]
    first = rows[0]
    assert (first.cfa_siret, first.opco, first.numero_interne, first.numero_externe) == (CFA, "ATLAS", "C-1", "EXT-C-1")
    assert (first.apprentice_name, first.employer_name) == ("MARTIN Léa", "Nébula Conseil")
    assert first.invoiceable
    assert first.awaiting_invoice
    assert (first.invoiced, first.paid, first.pending_invoice) == (Decimal("0.00"), Decimal("0.00"), None)

    invoice = create(invoices, line(contract.id, 1, "2000.00"))
    projector.catch_up()
    first = projector.echeances[contract.id][0]
    assert (first.invoiced, first.remaining, first.pending_invoice) == (Decimal("2000.00"), Decimal("500.00"), "F-1")
    assert not first.awaiting_invoice
    assert projector.echeances[contract.id][1].awaiting_invoice  # the others are untouched

    opco_paid(invoices, sent(invoices, invoice), "2000.00", "REGLE")
    projector.catch_up()
    first = projector.echeances[contract.id][0]
    assert (first.invoiced, first.paid, first.pending_invoice) == (Decimal("2000.00"), Decimal("2000.00"), None)
    paid_at = [p for name, p in projector.changes if name == "Contract.InvoicePaid"]
    assert len(paid_at) == 1
    assert paid_at[0].echeances is not None
    assert paid_at[0].memo is not None
    assert first.position == paid_at[0].echeances[0].position == paid_at[0].memo["stamp"]["position"]


def test_a_refused_invoice_frees_its_echeance(invoices: Invoices, contract: Contract, projector: Projector) -> None:
    invoice = create(invoices, line(contract.id, 1, "2500.00"))
    invoices.submit(WHO, invoice.id)

    def refuse(i: Invoice) -> None:
        i.start_transmission(WORKER.actor)
        i.record_refusal(["échéance non ouverte"], WORKER.actor)

    invoice = invoices.change_as_worker(invoice.id, refuse).invoice
    projector.catch_up()
    row = projector.invoices[invoice.id]
    assert (row.state, row.sent_at) == ("refused", None)
    assert_as_the_aggregate(row, invoice)
    first = projector.echeances[contract.id][0]
    assert (first.invoiced, first.remaining, first.pending_invoice) == (Decimal("0.00"), Decimal("2500.00"), None)
    assert first.awaiting_invoice


def test_a_cancelled_draft_frees_its_echeance(invoices: Invoices, contract: Contract, projector: Projector) -> None:
    invoice = create(invoices, line(contract.id, 1, "100.00"))
    projector.catch_up()
    assert projector.echeances[contract.id][0].pending_invoice == "F-1"
    invoices.cancel(WHO, invoice.id, "typo")
    projector.catch_up()
    assert projector.invoices[invoice.id].state == "cancelled"
    assert projector.echeances[contract.id][0].pending_invoice is None
    assert projector.echeances[contract.id][0].invoiced == Decimal("0.00")


def test_parked_shows_while_submitted_only(invoices: Invoices, contract: Contract, projector: Projector) -> None:
    invoice = create(invoices, line(contract.id, 1, "100.00"))
    invoices.submit(WHO, invoice.id)

    def park(i: Invoice) -> None:
        i.start_transmission(WORKER.actor)
        i.record_transmission_failure(error="timeout", transient=True, retry_at=None, actor=WORKER.actor)
        i.park_transmission("too many failures", WORKER.actor)

    invoices.change_as_worker(invoice.id, park)
    new = projector.catch_up()
    assert projector.invoices[invoice.id].parked is True
    # TransmissionStarted and TransmissionFailed are not even read
    assert "Invoice.TransmissionStarted" not in [name for name, _ in new]
    invoices.resume_transmission(WHO, invoice.id)
    projector.catch_up()
    assert projector.invoices[invoice.id].parked is False
    invoices.change_as_worker(invoice.id, park)

    def found(i: Invoice) -> None:  # the OPCO's states list it: it was sent after all
        i.record_opco_state(etat="EN_COURS_INSTRUCTION", commentaire=None, numero_externe="FX-2", actor=WORKER.actor)

    invoice = invoices.change_as_worker(invoice.id, found).invoice
    projector.catch_up()
    row = projector.invoices[invoice.id]
    assert invoice.transmission["parked"] is True  # the aggregate keeps the flag,
    assert (row.parked, row.state, row.numero_externe) == (False, "sent", "FX-2")  # the list shows it sent
    assert row.sent_at == invoice.modified_on  # a lost sending outcome: sent when the OPCO was seen to have it


def test_opco_states_move_the_invoice_as_the_aggregate_does(
    invoices: Invoices, contract: Contract, projector: Projector
) -> None:
    invoice = sent(invoices, create(invoices, line(contract.id, 1, "100.00")), etat="TRANSMISE")
    steps = [("VALIDEE", "accepted"), ("SOMETHING_NEW", "accepted"), ("REGLE", "accepted"), ("REFUSEE", "refused")]
    for etat, expected in steps:

        def move(i: Invoice, etat: str = etat) -> None:
            i.record_opco_state(etat=etat, commentaire=None, numero_externe=None, actor=WORKER.actor)

        invoice = invoices.change_as_worker(invoice.id, move).invoice
        projector.catch_up()
        assert projector.invoices[invoice.id].state == expected == invoice.state.value
        assert projector.invoices[invoice.id].opco_state == etat
        assert_as_the_aggregate(projector.invoices[invoice.id], invoice)


def test_a_termination_keeps_the_echeances_invoiceable_and_a_closing_does_not(
    app: Dossiers, contract: Contract, projector: Projector
) -> None:
    def opco_says(etat: str) -> None:
        app.change_as_worker(
            contract.id,
            lambda c: c.record_opco_state(
                etat=etat, commentaire=None, numero_externe=None, numero_deca=None, actor=WORKER.actor
            ),
        )

    projector.catch_up()
    opco_says("RUPTURE")
    projector.catch_up()
    assert {r.invoiceable for r in projector.echeances[contract.id]} == {True}
    opco_says("SOLDE")
    projector.catch_up()
    assert {r.invoiceable for r in projector.echeances[contract.id]} == {False}
    assert not any(r.awaiting_invoice for r in projector.echeances[contract.id])


def test_a_contract_event_that_changes_no_echeance_rewrites_none(
    app: Dossiers, contract: Contract, projector: Projector
) -> None:
    projector.catch_up()
    app.change_as_worker(
        contract.id,
        lambda c: c.record_opco_state(
            etat="ENGAGE", commentaire="vu", numero_externe=None, numero_deca=None, actor=WORKER.actor
        ),
    )
    [(name, projected)] = projector.catch_up()
    assert name == "Contract.OpcoStateChanged"
    assert projected.echeances is None
    assert projected.memo is not None


def test_names_follow_the_cerfa_patches_of_their_blocks_only(
    app: Dossiers, complete_cerfa: dict[str, Any], projector: Projector
) -> None:
    saved = app.create_contract(WHO, cerfa=parse_cerfa(complete_cerfa), numero_interne="C-N", opco=None)
    app.patch_cerfa(WHO, saved.contract.id, {"apprenti": {"nom": "Durand"}, "formation": {"rncp": "RNCP37680"}}, 1)
    projector.catch_up()
    memo = projector.memos[saved.contract.id]
    assert memo["names"]["apprenti"] == {"nom": "Durand", "prenom": "Léa"}
    assert memo["names"]["employeur"] == {"denomination": "Nébula Conseil"}
    assert "cerfa" not in memo
    assert "formation" not in memo["names"]
    assert saved.contract.id not in projector.echeances  # no échéance yet: no row
    before = projector.memos[saved.contract.id]
    app.patch_cerfa(WHO, saved.contract.id, {"formation": {"rncp": "RNCP35340"}}, 2)
    [(name, unchanged)] = projector.catch_up()
    assert name == "Contract.CerfaPatched"
    assert unchanged.memo is before  # nothing kept changed: the view writes nothing for it


def test_an_event_of_an_aggregate_never_drafted_is_refused() -> None:
    stray = StrayEvent(uuid4(), datetime(2026, 11, 27, tzinfo=UTC))
    with pytest.raises(UnknownAggregate, match="never drafted"):
        project(stray, None, 7)


def test_the_topics_are_the_events_read() -> None:
    assert "domain.invoicing.invoice:Invoice.PaymentRecorded" in TOPICS
    assert "domain.contracts.contract:Contract.InvoiceAttached" in TOPICS
    assert "domain.invoicing.invoice:Invoice.TransmissionStarted" not in TOPICS
    assert "domain.contracts.contract:Contract.MandateRecorded" not in TOPICS
    assert "domain.contracts.contract:Contract.Imported" in TOPICS  # a contract imported from its OPCO (issue 13)
    assert "domain.invoicing.invoice:Invoice.Numbered" in TOPICS  # the invoice's last change, in its row
    assert "domain.contracts.contract:Contract.PersonalDataErased" in TOPICS  # the name leaves the échéances
    current = {t for t in TOPICS if t.startswith(("domain.invoicing.invoice:", "domain.contracts.contract:"))}
    assert len(current) == 26  # and as many under the modules' former names (application/topics.py)


def test_amounts_are_exact_cents() -> None:
    assert cents("1230.10") == 123010
    assert cents(Decimal("0.01")) == 1
    assert from_cents(123010) == Decimal("1230.10")
    assert str(from_cents(0)) == "0.00"
    assert sum(from_cents(c) for c in (10, 20)) == Decimal("0.30")  # no float anywhere
    with pytest.raises(ValueError, match="more than two decimals"):
        cents("1.001")


@dataclass(frozen=True)
class StrayEvent:
    """An event of an invoice the projection never saw drafted (named as a real event kind)."""

    originator_id: UUID
    timestamp: datetime


StrayEvent.__qualname__ = "Invoice.Sent"
StrayEvent.__name__ = "Sent"
