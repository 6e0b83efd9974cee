"""Invoices sent to the reference sandbox over loopback, on SQLite and PostgreSQL: a contract accepted by the sandbox
is invoiced échéance by échéance until every one is paid, through faults, with each invoice stored once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from application.access.access import OPERATOR, Principal, Role
from domain.contracts.contract import Contract
from domain.contracts.contract_state import ContractState
from domain.invoicing.billing_profile import BillingDetails
from domain.invoicing.invoice import Invoice
from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.lines import LineRequest
from domain.invoicing.states import InvoiceState
from domain.money import CENT
from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox import SandboxConfig
from interfaces.bootstrap import Container
from tests.integration.sandbox_server import SANDBOX_OPERATOR, ManualClock, running_sandbox
from tests.integration.transmission_support import reload, round_trip, submitted, wired
from tests.invoicing import CFA, PROFILE, years_earlier

WHO = Principal(actor="token:test", role=Role.FRONTEND, cfa_siret=CFA)
INSTANT = SandboxConfig(
    instruction_delay=0,
    decision_delay=0,
    invoice_instruction_delay=0,
    invoice_validation_delay=0,
    invoice_payment_delay=0,
)


@pytest.fixture
def sandbox() -> Iterator[str]:
    with running_sandbox(INSTANT) as url:
        yield url


def accepted(container: Container, cerfa: dict[str, Any], numero: str, opco: Opco | None = None) -> Contract:
    """A contract of two years that ended three months ago (so that all its échéances are open), accepted."""
    contract = submitted(container, years_earlier(cerfa, 2), numero, opco)
    if container.invoices.billing.profile(contract.cfa_siret) is None:  # sealed with the service's own key
        container.invoices.billing.set(OPERATOR, contract.cfa_siret, BillingDetails(**PROFILE))
    round_trip(container)
    container.worker.sync_once()
    accepted = reload(container, contract)
    assert accepted.state is ContractState.ACCEPTED, accepted.opco_comment
    return accepted


def invoice_each(container: Container, contract: Contract, prefix: str) -> list[Invoice]:
    invoices = []
    for echeance in contract.echeances:
        amount = Decimal(echeance["montantTotal"])
        line = LineRequest(contract.id, int(echeance["numero"]), InvoiceKind.PEDAGOGIE, amount)
        saved = container.invoices.create(
            WHO, numero_interne_facture=f"{prefix}-{echeance['numero']}", invoice_date=date.today(), lines=[line]
        )
        invoices.append(container.invoices.submit(WHO, saved.invoice.id).invoice)
    return invoices


def states(container: Container, invoices: list[Invoice]) -> list[InvoiceState]:
    return [container.invoices.invoice_as_worker(i.id).state for i in invoices]


def stats(sandbox: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{sandbox}/_sandbox/stats", headers=SANDBOX_OPERATOR).json()
    return answer


def test_every_echeance_invoiced_until_paid(database_url: str, sandbox: str, complete_cerfa: dict[str, Any]) -> None:
    container = wired(database_url, sandbox)
    try:
        contract = accepted(container, complete_cerfa, "INV-1")
        assert len(contract.echeances) >= 4  # two contract years of instalments
        assert Decimal(contract.premier_equipement_ceiling or "0") == Decimal("500")  # its detailsFacturation
        engaged = {(f["kind"], Decimal(f["quantite"]), Decimal(f["montantTotal"])) for f in contract.frais_annexes}
        assert engaged == {  # its engagementsFraisAnnexe: 1,350 h of training are 193 days
            ("premierEquipement", Decimal(1), Decimal("500")),
            ("restauration", Decimal(193), Decimal("579")),
            ("hebergement", Decimal(193), Decimal("1158")),
        }
        invoices = invoice_each(container, contract, "FAC-1")
        assert round_trip(container) == len(invoices)
        assert set(states(container, invoices)) == {InvoiceState.SENT}
        container.worker.sync_once()
        assert set(states(container, invoices)) == {InvoiceState.PAID}
        paid = container.invoices.invoice_as_worker(invoices[0].id)
        assert [(p["source"], p["amount"]) for p in paid.payments] == [("opco", str(paid.amount))]
        assert paid.payments[0]["referenceVirement"].startswith("VIR-ATLAS-")
        ledger = container.dossiers.contract_as_worker(contract.id).invoices
        assert all(entry["paid"] == [line["amount"] for line in entry["lines"]] for entry in ledger.values())
        stored = stats(sandbox)["invoicesStored"]
        assert sorted(stored.values()) == [1] * len(invoices)
        assert container.worker.sync_once().changes == 0
    finally:
        container.close()


def test_a_refused_invoice_frees_its_echeance_for_the_next(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox)
    try:
        contract = accepted(container, complete_cerfa, "INV-2")
        billing = container.invoices.billing
        refusing = BillingDetails(**{**PROFILE, "invoicePrefix": "FAC-REFUS-"})  # the sandbox refuses its numbers
        billing.set(OPERATOR, contract.cfa_siret, refusing)
        first = contract.echeances[0]
        line = LineRequest(contract.id, int(first["numero"]), InvoiceKind.PEDAGOGIE, Decimal(first["montantTotal"]))
        refused = container.invoices.create(
            WHO, numero_interne_facture="FAC-REFUS-1", invoice_date=date.today(), lines=[line]
        )
        container.invoices.submit(WHO, refused.invoice.id)
        round_trip(container)
        container.worker.sync_once()
        assert container.invoices.invoice_as_worker(refused.invoice.id).state is InvoiceState.REFUSED
        billing.set(OPERATOR, contract.cfa_siret, BillingDetails(**PROFILE))
        again = container.invoices.create(WHO, numero_interne_facture="FAC-2", invoice_date=date.today(), lines=[line])
        container.invoices.submit(WHO, again.invoice.id)
        round_trip(container)
        container.worker.sync_once()
        assert container.invoices.invoice_as_worker(again.invoice.id).state is InvoiceState.PAID
    finally:
        container.close()


def test_an_opco_without_invoice_states_is_paid_by_hand(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox)
    try:
        contract = accepted(container, complete_cerfa, "INV-3", opco=Opco.CONSTRUCTYS)
        [invoice, *_] = invoice_each(container, contract, "FAC-3")
        round_trip(container)
        container.worker.sync_once()
        sent = container.invoices.invoice_as_worker(invoice.id)
        assert sent.state is InvoiceState.SENT  # CONSTRUCTYS reports no invoice states: it stays sent
        paid = container.invoices.record_payment(
            WHO, invoice.id, amount=sent.amount, paid_on=date.today(), reference_virement="VIR-HAND-1"
        ).invoice
        assert (paid.state, paid.payments[0]["source"]) == (InvoiceState.PAID, "cfa")
    finally:
        container.close()


def test_invoices_reach_the_opco_once_through_faults(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    faults = {
        "errorRate": 0.2,
        "rateLimitRate": 0.1,
        "retryAfterSeconds": 0,
        "timeoutRate": 0.1,
        "timeoutSeconds": 3,
        "resetRate": 0.15,
        "afterStoreShare": 0.5,
        "seed": 11,
    }
    no_faults = {"errorRate": 0.0, "rateLimitRate": 0.0, "timeoutRate": 0.0, "resetRate": 0.0}
    container = wired(database_url, sandbox, max_failures=50)
    try:
        contract = accepted(container, complete_cerfa, "INV-4")
        invoices = invoice_each(container, contract, "FAC-4")
        httpx.put(f"{sandbox}/_sandbox/faults", json=faults, headers=SANDBOX_OPERATOR).raise_for_status()
        for _ in range(60):
            round_trip(container)
            if InvoiceState.SUBMITTED not in states(container, invoices):
                break
        faulty = stats(sandbox)
        httpx.put(f"{sandbox}/_sandbox/faults", json=no_faults, headers=SANDBOX_OPERATOR).raise_for_status()
        for _ in range(3):
            container.worker.sync_once()
        assert set(states(container, invoices)) == {InvoiceState.PAID}
        assert sorted(stats(sandbox)["invoicesStored"].values()) == [1] * len(invoices)
        assert (
            sum(faulty["faultsAfterStore"].values()) > 0
        )  # some answers of stored invoices were lost: the lookups caught them
    finally:
        container.close()


def test_a_payment_in_two_steps_is_seen_in_two_steps(database_url: str, complete_cerfa: dict[str, Any]) -> None:
    clock = ManualClock(datetime.now(UTC))
    config = replace(INSTANT, invoice_payment_delay=60, partial_payment=True, clock=clock)
    with running_sandbox(config) as sandbox:
        container = wired(database_url, sandbox)
        try:
            contract = accepted(container, complete_cerfa, "INV-5")
            [invoice, *_] = invoice_each(container, contract, "FAC-5")
            round_trip(container)
            container.worker.sync_once()
            assert container.invoices.invoice_as_worker(invoice.id).state is InvoiceState.ACCEPTED  # VALIDEE
            clock.advance(61)
            container.worker.sync_once()
            partly = container.invoices.invoice_as_worker(invoice.id)
            assert (partly.state, partly.paid) == (InvoiceState.PARTIALLY_PAID, (partly.amount / 2).quantize(CENT))
            clock.advance(61)
            container.worker.sync_once()
            paid = container.invoices.invoice_as_worker(invoice.id)
            assert (paid.state, paid.paid, len(paid.payments)) == (InvoiceState.PAID, paid.amount, 2)
            assert [p["referenceVirement"][-2:] for p in paid.payments] == ["-1", "-2"]
        finally:
            container.close()
