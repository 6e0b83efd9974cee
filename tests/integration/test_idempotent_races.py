"""Commands resent while the first one is still running, on SQLite and PostgreSQL: applied once, and every sender
gets the same answer (a client that timed out and retries cannot tell which of its requests went through)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from application.access.access import WORKER
from application.dossiers import Saved
from application.invoices.invoices import SavedInvoice
from domain.contracts.cerfa_document import parse_cerfa
from domain.errors import RulesConflict
from domain.invoicing.invoice import Invoice
from domain.opco.opcos import Opco
from tests.invoicing import CFA, accepted_contract, echeancier, line
from tests.support import container, principal

T = TypeVar("T")
MANDATES = 16
INVOICE_RESENDS = 72
RESENDS = 16
SIGNATORY = {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}


def all_at_once(racers: int, call: Callable[[], T]) -> list[T | Exception]:
    """`racers` threads released together, each making the same call; what each got back, answer or error."""
    start = threading.Barrier(racers)
    outcomes: list[T | Exception] = []

    def race() -> None:
        start.wait()
        try:
            outcomes.append(call())
        except Exception as error:
            outcomes.append(error)

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == racers
    return outcomes


def test_one_mandate_sent_sixteen_times_at_once_is_recorded_once(
    database_url: str, complete_cerfa: dict[str, Any]
) -> None:
    services = container(database_url)
    try:
        who = principal(CFA)
        draft = services.dossiers.create_contract(
            who, cerfa=parse_cerfa(complete_cerfa), numero_interne="M-1", opco=None
        ).contract

        def mandate() -> Saved:
            return services.dossiers.record_mandate(
                who, draft.id, signed_on=date(2026, 6, 15), signatory=SIGNATORY, document_sha256=None
            )

        outcomes = all_at_once(MANDATES, mandate)

        assert [o for o in outcomes if isinstance(o, Exception)] == []
        assert {o.contract.version for o in outcomes if isinstance(o, Saved)} == {2}
        events = [e["type"] for e in services.dossiers.history(who, draft.id)]
        assert events == ["Drafted", "MandateRecorded"]
    finally:
        services.close()


def test_one_mandate_resent_with_its_key_answers_the_same_to_every_sender(
    database_url: str, complete_cerfa: dict[str, Any]
) -> None:
    services = container(database_url)
    try:
        who = principal(CFA)
        draft = services.dossiers.create_contract(
            who, cerfa=parse_cerfa(complete_cerfa), numero_interne="M-2", opco=None
        ).contract

        def mandate() -> Saved:
            return services.dossiers.record_mandate(
                who,
                draft.id,
                signed_on=date(2026, 6, 15),
                signatory=SIGNATORY,
                document_sha256=None,
                idempotency_key="mandate-M-2",
            )

        outcomes = all_at_once(MANDATES, mandate)

        assert [o for o in outcomes if isinstance(o, Exception)] == []
        saved = [o for o in outcomes if isinstance(o, Saved)]
        assert {(s.contract.version, s.contract.state.value) for s in saved} == {(2, "mandate_checked")}
        assert sum(not s.replayed for s in saved) == 1
        events = [e["type"] for e in services.dossiers.history(who, draft.id)]
        assert events == ["Drafted", "MandateRecorded"]
    finally:
        services.close()


def test_one_invoice_resent_with_its_key_gives_every_sender_the_invoice(
    database_url: str, complete_cerfa: dict[str, Any]
) -> None:
    services = container(database_url)
    try:
        who = principal(CFA)
        contract = accepted_contract(
            services.dossiers, who, complete_cerfa, echeances=echeancier(opens=("2026-09-01",))
        )
        lines = [line(contract.id, 1, "3000.00")]  # all that remains: a second booking would break the rules
        body = {"numeroInterneFacture": "F-RESENT", "lines": "the same body, fingerprinted once"}

        def resend() -> SavedInvoice:
            return services.invoices.create(
                who,
                numero_interne_facture="F-RESENT",
                invoice_date=date(2026, 11, 27),
                lines=lines,
                idempotency_key="invoice-F-RESENT",
                request_body=body,
            )

        outcomes = all_at_once(INVOICE_RESENDS, resend)

        errors = [repr(o) for o in outcomes if isinstance(o, Exception)]
        assert errors == []
        saved = [o for o in outcomes if isinstance(o, SavedInvoice)]
        assert {(s.invoice.id, s.invoice.version) for s in saved} == {(saved[0].invoice.id, 1)}
        assert sum(not s.replayed for s in saved) == 1
        ledger = services.dossiers.contract_as_worker(contract.id).invoices
        assert list(ledger) == [str(saved[0].invoice.id)]
    finally:
        services.close()


def test_one_contract_resent_with_its_key_gives_every_sender_the_dossier(
    database_url: str, complete_cerfa: dict[str, Any]
) -> None:
    services = container(database_url)
    try:
        who = principal(CFA)

        def resend() -> Saved:
            return services.dossiers.create_contract(
                who,
                cerfa=parse_cerfa(complete_cerfa),
                numero_interne=None,  # generated: each resend draws another, the key alone makes them one
                opco=None,
                idempotency_key="contract-1",
                request_body={"cerfa": complete_cerfa},
            )

        outcomes = all_at_once(RESENDS, resend)

        assert [repr(o) for o in outcomes if isinstance(o, Exception)] == []
        saved = [o for o in outcomes if isinstance(o, Saved)]
        assert len({(s.contract.id, s.contract.numero_interne, s.contract.version) for s in saved}) == 1
        assert sum(not s.replayed for s in saved) == 1
    finally:
        services.close()


def test_one_transfer_sent_at_once_by_several_clerks_is_recorded_once(
    database_url: str, complete_cerfa: dict[str, Any]
) -> None:
    services = container(database_url)
    try:
        who = principal(CFA)
        contract = accepted_contract(services.dossiers, who, complete_cerfa, opco=Opco.CONSTRUCTYS)  # paid by hand
        invoice = services.invoices.create(
            who, numero_interne_facture="F-PAID", invoice_date=date(2026, 11, 27), lines=[line(contract.id)]
        ).invoice
        services.invoices.submit(who, invoice.id)

        def sent(i: Invoice) -> None:
            i.start_transmission(WORKER.actor)
            i.record_sent(numero_externe="FX-1", etat="TRANSMISE", found_by_lookup=False, actor=WORKER.actor)

        services.invoices.change_as_worker(invoice.id, sent)

        def pay() -> SavedInvoice:
            return services.invoices.record_payment(
                who, invoice.id, amount=Decimal("100.00"), paid_on=date(2026, 11, 20), reference_virement="VIR-9"
            )

        outcomes = all_at_once(RESENDS, pay)

        assert sum(isinstance(o, SavedInvoice) for o in outcomes) == 1
        refused = [o for o in outcomes if isinstance(o, RulesConflict)]
        assert {(p.field, p.code) for r in refused for p in r.problems} == {
            ("referenceVirement", "payment_already_recorded")
        }
        assert len(refused) == RESENDS - 1
        paid = services.invoices.invoice_as_worker(invoice.id)
        assert [(p["amount"], p["referenceVirement"]) for p in paid.payments] == [("100.00", "VIR-9")]
    finally:
        services.close()
