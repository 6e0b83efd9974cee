"""Invoices racing for one échéance, on SQLite and PostgreSQL: the contract's version decides, exactly one wins."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

from application.errors import ConcurrentChange
from domain.errors import RulesConflict
from tests.invoicing import CFA, accepted_contract, echeancier, line
from tests.support import container, principal

RACERS = 8


def test_one_invoice_per_echeance_whatever_the_race(database_url: str, complete_cerfa: dict[str, Any]) -> None:
    services = container(database_url)
    try:
        who = principal(CFA)
        contract = accepted_contract(
            services.dossiers, who, complete_cerfa, echeances=echeancier(opens=("2026-09-01",))
        )
        start = threading.Barrier(RACERS)
        outcomes: list[str] = []

        def race(n: int) -> None:
            start.wait()
            try:
                services.invoices.create(
                    who,
                    numero_interne_facture=f"RACE-{n}",
                    invoice_date=date(2026, 11, 27),
                    lines=[line(contract.id, 1, "1000.00")],
                )
                outcomes.append("created")
            except RulesConflict as refused:
                outcomes.append(refused.problems[0].code)
            except ConcurrentChange:
                outcomes.append("concurrent")

        threads = [threading.Thread(target=race, args=(n,)) for n in range(RACERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert outcomes.count("created") == 1, outcomes
        assert set(outcomes) - {"created"} <= {"invoice_pending", "concurrent"}
        ledger = services.dossiers.contract_as_worker(contract.id).invoices
        assert len(ledger) == 1  # one invoice booked on the contract, the losers left nothing behind
    finally:
        services.close()
