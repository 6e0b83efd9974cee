"""The transmissions read model rebuilt from the first event equals the live one, and the live one carries on."""

from __future__ import annotations

from typing import Any

from application.access import WORKER
from infrastructure.transmissions_view import rebuild_transmissions_view
from tests.integration.transmission_support import submitted
from tests.support import container


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
