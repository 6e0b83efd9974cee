"""Invoices sent and followed with the contracts' sender and a sync of their own, on the in-memory store against a
fake OPCO: each invoice reaches the OPCO once, and its payments reach the contracts' échéances."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from application.access.access import OPERATOR
from application.dossiers import Dossiers
from application.invoices.billing_profiles import BillingProfiles
from application.invoices.invoice_documents import InvoiceDocuments
from application.invoices.invoice_sync import InvoiceSync
from application.invoices.invoice_transmissions import INVOICE_TOPICS
from application.invoices.invoices import Invoices
from application.opco.channels import InvoiceChannel
from application.opco.opco_accounts import OpcoAccounts
from application.opco.opco_gateway import OpcoEndpoint, RefusedByOpco, TransientOpcoError
from application.opco.sender import Sender, SenderPolicy
from application.opco.transmissions import QueuedTransmission
from domain.contracts.contract import Contract
from domain.invoicing.invoice import Invoice
from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.states import InvoiceState
from domain.invoicing.transfers import Transfer
from domain.opco.opco_auth import AuthFlavour
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from tests.invoicing import CFA, PROFILE, accepted_contract, echeancier, line
from tests.support import dossiers, principal
from tests.unit.fakes import (
    FIND_INVOICE,
    SEND_INVOICE,
    AnswerLost,
    FakeGateway,
    MemoryContactLog,
    MemoryDocumentStore,
    MemoryTransmissionsView,
    MovableClock,
    PlainBox,
    render_plain_pdf,
)

WHO = principal(CFA)
NUMBER = "FAC-2026-00001"  # the first of the CFA's sequence (tests.invoicing.PROFILE)
POLICY = SenderPolicy(max_failures=2, backoff_base=timedelta(seconds=2), backoff_cap=timedelta(minutes=1))
LATER = timedelta(minutes=5)


@dataclass
class Rig:
    app: Dossiers
    invoices: Invoices
    gateway: FakeGateway
    clock: MovableClock
    sender: Sender
    view: MemoryTransmissionsView
    sync: InvoiceSync
    accounts: OpcoAccounts

    def endpoint(self) -> OpcoEndpoint:
        endpoint = self.accounts.endpoint(CFA, Opco.ATLAS)
        assert endpoint is not None
        return endpoint

    def send(self, invoice: Invoice) -> Invoice:
        item = QueuedTransmission(invoice.id, CFA, "ATLAS", invoice.numero_interne_facture, self.clock.now())
        self.sender.send(item, self.endpoint())
        return self.invoices.invoice_as_worker(invoice.id)

    def synced(self, invoice: Invoice) -> Invoice:
        self.view.catch_up(self.app)
        self.sync.run_once()
        return self.invoices.invoice_as_worker(invoice.id)

    def contract(self, contract: Contract) -> Contract:
        return self.app.contract_as_worker(contract.id)


@pytest.fixture
def rig() -> Iterator[Rig]:
    app = dossiers()
    profiles = {  # key only: the sending is under test here, not the OPCOs' authentication dialects
        opco: replace(profile, base_url="http://opco.test", auth=AuthFlavour.KEY_ONLY)
        for opco, profile in CATALOGUE.items()
    }
    accounts = OpcoAccounts(app, PlainBox(), profiles, MemoryContactLog())
    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key="atlas-key-0001")
    invoices = Invoices(app, profiles, app.clock, BillingProfiles(app, PlainBox()))
    gateway, clock = FakeGateway(), MovableClock()
    view = MemoryTransmissionsView(INVOICE_TOPICS)
    documents = InvoiceDocuments(invoices, app, MemoryDocumentStore(), render_plain_pdf, invoices.billing.issuer)
    sender = Sender(InvoiceChannel(invoices, gateway, documents), accounts, clock, POLICY)
    sync = InvoiceSync(invoices, accounts, gateway, view, clock, profiles)
    yield Rig(app, invoices, gateway, clock, sender, view, sync, accounts)
    assert all(gateway.invoices_created(numero) <= 1 for _, numero in gateway.invoices)
    app.close()


@pytest.fixture
def contract(rig: Rig, complete_cerfa: dict[str, Any]) -> Contract:
    return accepted_contract(rig.app, WHO, complete_cerfa)


def submitted(rig: Rig, contract: Contract, amount: str = "1000.00", numero: str = NUMBER) -> Invoice:
    lines = [line(contract.id, 1, amount), line(contract.id, 1, "30.00", InvoiceKind.RESTAURATION, 10)]
    invoice = rig.invoices.create(WHO, numero_interne_facture=numero, invoice_date=date(2026, 11, 27), lines=lines)
    return rig.invoices.submit(WHO, invoice.invoice.id).invoice


def test_an_invoice_is_sent_with_its_number_lines_iban_and_pdf(rig: Rig, contract: Contract) -> None:
    sent = rig.send(submitted(rig, contract))
    assert (sent.state, sent.numero, sent.opco_numero_interne) == (InvoiceState.SENT, NUMBER, "F-ATLAS-000001")
    assert sent.numero_interne_document == "D-ATLAS-000001"
    [call] = rig.gateway.calls_of(SEND_INVOICE)
    outgoing = call.invoice
    assert outgoing is not None
    assert (outgoing.numero, outgoing.issued_on, outgoing.issuer_siret) == (NUMBER, date(2026, 11, 27), CFA)
    assert outgoing.iban == PROFILE["iban"].replace(" ", "")
    assert [(x.numero_echeance, x.kind, x.amount) for x in outgoing.lines] == [
        (1, InvoiceKind.PEDAGOGIE, Decimal("1000.00")),
        (1, InvoiceKind.RESTAURATION, Decimal("30.00")),
    ]
    assert outgoing.numeros_deca == {contract.id: rig.contract(contract).numero_deca}
    assert sent.document is not None
    assert sent.document["source"] == "convergence"
    assert hashlib.sha256(outgoing.pdf).hexdigest() == sent.document["digest"]
    assert f"invoice {NUMBER} total 1030.00".encode() in outgoing.pdf


def test_every_attempt_sends_the_pdf_issued_before_the_first(rig: Rig, contract: Contract) -> None:
    invoice = submitted(rig, contract)
    rig.gateway.script(SEND_INVOICE, TransientOpcoError("503"))
    rig.send(invoice)
    rig.clock.advance(LATER)
    rig.gateway.script(FIND_INVOICE, None)
    sent = rig.send(invoice)
    first, second = (c.invoice for c in rig.gateway.calls_of(SEND_INVOICE))
    assert first is not None
    assert second is not None
    assert first.pdf == second.pdf
    issued = [e for e in rig.invoices.history(WHO, invoice.id) if e["type"] == "DocumentIssued"]
    assert len(issued) == 1
    assert sent.state is InvoiceState.SENT


def test_a_lost_answer_is_looked_up_not_sent_again(rig: Rig, contract: Contract) -> None:
    invoice = submitted(rig, contract)
    rig.gateway.script(SEND_INVOICE, AnswerLost(TransientOpcoError("read timeout", may_have_reached=True)))
    failed = rig.send(invoice)
    assert (failed.state, failed.transmission["failures"]) == (InvoiceState.SUBMITTED, 1)
    rig.clock.advance(LATER)
    found = rig.send(invoice)
    assert (found.state, found.transmission["history"][-1]["outcome"]) == (InvoiceState.SENT, "found")
    assert (len(rig.gateway.calls_of(SEND_INVOICE)), rig.gateway.invoices_created(NUMBER)) == (1, 1)
    assert len(rig.gateway.calls_of(FIND_INVOICE)) == 1


def test_a_refusal_frees_the_echeances_of_its_contract(rig: Rig, contract: Contract) -> None:
    invoice = submitted(rig, contract)
    rig.gateway.script(SEND_INVOICE, RefusedByOpco(422, ["Échéance non ouverte"]))
    refused = rig.send(invoice)
    assert (refused.state, refused.opco_comment) == (InvoiceState.REFUSED, "Échéance non ouverte")
    assert rig.contract(contract).invoices[str(invoice.id)]["released"] == "refused"
    assert rig.gateway.calls_of(FIND_INVOICE)  # looked up first: a refusal may be a lost answer's duplicate


def test_failures_park_the_invoice_until_retried(rig: Rig, contract: Contract) -> None:
    invoice = submitted(rig, contract)
    for _ in range(POLICY.max_failures):
        rig.gateway.script(SEND_INVOICE, TransientOpcoError("503"))
        rig.send(invoice)
        rig.clock.advance(LATER)
        rig.gateway.script(FIND_INVOICE, None)
    parked = rig.invoices.invoice_as_worker(invoice.id)
    assert parked.transmission["parked"] is True
    assert rig.send(parked).state is InvoiceState.SUBMITTED  # parked: not sent
    rig.invoices.resume_transmission(WHO, invoice.id)
    assert rig.send(invoice).state is InvoiceState.SENT


def test_the_opco_pays_in_two_steps_and_the_contract_knows(rig: Rig, contract: Contract) -> None:
    invoice = rig.send(submitted(rig, contract))
    rig.gateway.settle_invoice(Opco.ATLAS, NUMBER, "VALIDEE")
    assert rig.synced(invoice).state is InvoiceState.ACCEPTED
    rig.gateway.settle_invoice(
        Opco.ATLAS,
        NUMBER,
        "REGLE_PARTIEL",
        montant_regle=Decimal("515.00"),
        reference_virement="VIR-1",
        date_reglement=date(2026, 11, 20),
    )
    partly = rig.synced(invoice)
    assert (partly.state, partly.paid) == (InvoiceState.PARTIALLY_PAID, Decimal("515.00"))
    assert rig.contract(contract).invoices[str(invoice.id)]["paid"] == ["515.00", "0.00"]
    rig.gateway.settle_invoice(
        Opco.ATLAS, NUMBER, "REGLE", montant_regle=Decimal("1030.00"), reference_virement="VIR-2"
    )
    paid = rig.synced(invoice)
    assert (paid.state, paid.paid) == (InvoiceState.PAID, Decimal("1030.00"))
    assert [(p["amount"], p["referenceVirement"], p["source"]) for p in paid.payments] == [
        ("515.00", "VIR-1", "opco"),
        ("515.00", "VIR-2", "opco"),
    ]
    assert rig.contract(contract).invoices[str(invoice.id)]["paid"] == ["1000.00", "30.00"]
    version = paid.version
    assert rig.synced(invoice).version == version  # read again: nothing new recorded


def test_a_refusal_after_sending_frees_the_echeance_and_unknown_states_are_kept(rig: Rig, contract: Contract) -> None:
    invoice = rig.send(submitted(rig, contract))
    rig.gateway.settle_invoice(Opco.ATLAS, NUMBER, "A_COMPLETER", commentaire="pièce manquante")
    odd = rig.synced(invoice)
    assert (odd.state, odd.opco_state, odd.opco_comment) == (InvoiceState.SENT, "A_COMPLETER", "pièce manquante")
    rig.gateway.settle_invoice(Opco.ATLAS, NUMBER, "REFUSEE", commentaire="montant erroné")
    assert rig.synced(invoice).state is InvoiceState.REFUSED
    assert rig.contract(contract).invoices[str(invoice.id)]["released"] == "refused"


def test_an_invoice_found_paid_after_a_lost_answer_has_ended_its_transmission(rig: Rig, contract: Contract) -> None:
    invoice = submitted(rig, contract)
    rig.gateway.script(SEND_INVOICE, AnswerLost(TransientOpcoError("read timeout", may_have_reached=True)))
    failed = rig.send(invoice)
    assert (failed.transmission["lastError"], failed.transmission["nextAttemptAt"] is None) == ("read timeout", False)
    rig.gateway.settle_invoice(Opco.ATLAS, NUMBER, "REGLE", montant_regle=Decimal("1030.00"), reference_virement="V")
    rig.clock.advance(LATER)
    found = rig.send(invoice)
    tx = found.transmission
    assert (found.state, tx["history"][-1]["outcome"]) == (InvoiceState.PAID, "found")
    assert (tx["lastError"], tx["nextAttemptAt"], tx["inFlightSince"]) == (None, None, None)


def test_the_sync_finding_an_invoice_left_after_a_failure_ends_its_transmission(rig: Rig, contract: Contract) -> None:
    invoice = submitted(rig, contract)
    rig.gateway.script(SEND_INVOICE, AnswerLost(TransientOpcoError("read timeout", may_have_reached=True)))
    rig.send(invoice)
    rig.gateway.settle_invoice(Opco.ATLAS, NUMBER, "REGLE", montant_regle=Decimal("1030.00"), reference_virement="V")
    paid = rig.synced(invoice)
    tx = paid.transmission
    assert (paid.state, paid.paid, tx["history"][-1]["outcome"]) == (InvoiceState.PAID, Decimal("1030.00"), "found")
    assert (tx["lastError"], tx["nextAttemptAt"]) == (None, None)


def test_a_lookup_records_no_payment_where_the_cfa_records_them_by_hand(
    rig: Rig, complete_cerfa: dict[str, Any]
) -> None:
    assert not CATALOGUE[Opco.OPCOEP].invoice_states  # OPCO EP: payments are recorded by hand
    at_ep = accepted_contract(rig.app, WHO, complete_cerfa, opco=Opco.OPCOEP)
    rig.accounts.set_credentials(OPERATOR, CFA, Opco.OPCOEP, api_key="opcoep-key-0001")
    endpoint = rig.accounts.endpoint(CFA, Opco.OPCOEP)
    assert endpoint is not None
    invoice = submitted(rig, at_ep)
    item = QueuedTransmission(invoice.id, CFA, "OPCOEP", NUMBER, rig.clock.now())
    rig.gateway.script(SEND_INVOICE, AnswerLost(TransientOpcoError("read timeout", may_have_reached=True)))
    rig.sender.send(item, endpoint)
    rig.gateway.settle_invoice(Opco.OPCOEP, NUMBER, "REGLE", montant_regle=Decimal("1030.00"), reference_virement="V")
    rig.clock.advance(LATER)
    rig.sender.send(item, endpoint)
    found = rig.invoices.invoice_as_worker(invoice.id)
    assert (found.transmission["history"][-1]["outcome"], found.payments) == ("found", [])
    assert (found.state, found.opco_state) == (InvoiceState.ACCEPTED, "REGLE")
    rig.invoices.record_payment(
        WHO, invoice.id, amount=Decimal("1030.00"), paid_on=date(2026, 11, 27), reference_virement="V"
    )
    assert rig.invoices.invoice_as_worker(invoice.id).state is InvoiceState.PAID


def test_two_transfers_read_in_one_sync_are_two_payments_each_with_its_reference(rig: Rig, contract: Contract) -> None:
    invoice = rig.send(submitted(rig, contract))
    first = Transfer(Decimal("515.00"), date(2026, 11, 20), "VIR-1")
    second = Transfer(Decimal("515.00"), date(2026, 11, 27), "VIR-2")
    rig.gateway.settle_invoice(  # paid in two transfers between two syncs
        Opco.ATLAS,
        NUMBER,
        "REGLE",
        montant_regle=Decimal("1030.00"),
        reference_virement="VIR-2",
        transfers=(first, second),
    )
    paid = rig.synced(invoice)
    assert (paid.state, paid.paid) == (InvoiceState.PAID, Decimal("1030.00"))
    assert [(p["amount"], p["paidOn"], p["referenceVirement"], p["source"]) for p in paid.payments] == [
        ("515.00", date(2026, 11, 20), "VIR-1", "opco"),
        ("515.00", date(2026, 11, 27), "VIR-2", "opco"),
    ]
    assert rig.synced(invoice).version == paid.version  # read again: nothing new recorded


def test_a_transfer_already_recorded_is_not_recorded_again_from_the_opcos_list(rig: Rig, contract: Contract) -> None:
    invoice = rig.send(submitted(rig, contract))
    first = Transfer(Decimal("515.00"), date(2026, 11, 20), "VIR-1")
    rig.gateway.settle_invoice(Opco.ATLAS, NUMBER, "REGLE_PARTIEL", montant_regle=Decimal("515.00"), transfers=(first,))
    assert rig.synced(invoice).paid == Decimal("515.00")
    both = (replace(first, reference=" vir-1"), Transfer(Decimal("515.00"), None, "VIR-2"))
    rig.gateway.settle_invoice(Opco.ATLAS, NUMBER, "REGLE", montant_regle=Decimal("1030.00"), transfers=both)
    paid = rig.synced(invoice)
    assert [(p["amount"], p["referenceVirement"]) for p in paid.payments] == [("515.00", "VIR-1"), ("515.00", "VIR-2")]
    assert paid.state is InvoiceState.PAID


def test_a_cumulative_payment_never_takes_a_reference_already_recorded(rig: Rig, contract: Contract) -> None:
    invoice = rig.send(submitted(rig, contract))
    rig.gateway.settle_invoice(
        Opco.ATLAS, NUMBER, "REGLE_PARTIEL", montant_regle=Decimal("515.00"), reference_virement="VIR-1"
    )
    rig.synced(invoice)
    rig.gateway.settle_invoice(
        Opco.ATLAS, NUMBER, "REGLE", montant_regle=Decimal("1030.00"), reference_virement="VIR-1"
    )
    paid = rig.synced(invoice)
    assert [(p["amount"], p["referenceVirement"]) for p in paid.payments] == [("515.00", "VIR-1"), ("515.00", None)]


def test_one_invoice_covers_several_echeances_of_several_contracts(
    rig: Rig, contract: Contract, complete_cerfa: dict[str, Any]
) -> None:
    two_open = echeancier(opens=("2026-09-01", "2026-10-01"))
    other = accepted_contract(rig.app, WHO, complete_cerfa, "C-2", echeances=two_open)
    lines = [line(contract.id, 1, "1000.00"), line(other.id, 1, "700.00"), line(other.id, 2, "300.00")]
    invoice = rig.invoices.create(WHO, numero_interne_facture="F-9", invoice_date=date(2026, 11, 27), lines=lines)
    sent = rig.send(rig.invoices.submit(WHO, invoice.invoice.id).invoice)
    [call] = rig.gateway.calls_of(SEND_INVOICE)
    assert call.invoice is not None
    assert [(x.numero_interne, x.numero_echeance, x.amount) for x in call.invoice.lines] == [
        ("C-1", 1, Decimal("1000.00")),
        ("C-2", 1, Decimal("700.00")),
        ("C-2", 2, Decimal("300.00")),
    ]
    assert set(call.invoice.numeros_deca) == {contract.id, other.id}
    assert sent.state is InvoiceState.SENT
