"""The transmissions read model rebuilt from the first event equals the live one, and the live one carries on."""

from __future__ import annotations

from datetime import date
from typing import Any

from application.access.access import WORKER
from application.invoices.invoice_transmissions import INVOICE_TOPICS
from domain.invoicing.invoice import invoice_id
from domain.invoicing.kinds import InvoiceKind
from infrastructure.read_models.transmissions_view import INVOICES, rebuild_transmissions_view
from tests.integration.transmission_support import submitted
from tests.invoicing import CFA, accepted_contract, echeancier, line
from tests.support import container, principal

TODAY = date.today()


def rows(services: Any) -> tuple[dict[str, int], dict[str, str | None]]:
    view = services.transmissions
    return view.counts(), view.opco_states("79852413800012", "ATLAS")


def test_rebuild_then_carry_on(database_url: str, complete_cerfa: dict[str, Any]) -> None:
    services = container(database_url)
    try:
        contracts = [submitted(services, complete_cerfa, f"R-{n}") for n in range(5)]
        for contract in contracts[:2]:
            services.dossiers.change_as_worker(
                contract.id,
                lambda c: c.record_sent(numero_externe="X", etat="TRANSMIS", found_by_lookup=False, actor=WORKER.actor),
            )
        services.dossiers.change_as_worker(contracts[2].id, lambda c: c.park_transmission("test", WORKER.actor))
        services.worker.project_once()
        live = rows(services)
        assert live[0] == {"done": 2, "parked": 1, "pending": 2}

        rebuild_transmissions_view(services.store, services.dossiers)
        assert rows(services) == live

        submitted(services, complete_cerfa, "R-late")  # the live projection goes on from the rebuilt position
        services.worker.project_once()
        assert rows(services)[0] == {"done": 2, "parked": 1, "pending": 3}
    finally:
        services.close()


def test_the_invoices_queue_is_rebuilt_the_same(database_url: str, complete_cerfa: dict[str, Any]) -> None:
    services = container(database_url)
    try:
        who = principal(CFA)
        opens = ("2026-09-01", "2026-10-01")
        contract = accepted_contract(services.dossiers, who, complete_cerfa, echeances=echeancier(opens=opens))
        for numero in ("F-1", "F-2"):
            lines = [line(contract.id, 1 if numero == "F-1" else 2, "10.00", InvoiceKind.PREMIER_EQUIPEMENT)]
            invoice = services.invoices.create(who, numero_interne_facture=numero, invoice_date=TODAY, lines=lines)
            services.invoices.submit(who, invoice.invoice.id)
        services.invoices.change_as_worker(invoice_id(CFA, "F-2"), lambda i: i.park_transmission("test", WORKER.actor))
        services.worker.project_once()
        assert services.worker.invoices is not None
        live = services.worker.invoices.view
        before = (live.counts(), live.opco_states(CFA, "ATLAS"))
        # keyed by the number the OPCO will know each invoice by: the CFA's, from its sequence, until it answers
        assert before == ({"parked": 1, "pending": 1}, {"FAC-2026-00001": None, "FAC-2026-00002": None})

        rebuilt = rebuild_transmissions_view(services.store, services.dossiers, table=INVOICES, topics=INVOICE_TOPICS)
        assert (rebuilt.counts(), rebuilt.opco_states(CFA, "ATLAS")) == before
        assert rows(services)[0] == {"done": 1}  # the contracts' queue is another table: its one contract is done
    finally:
        services.close()
