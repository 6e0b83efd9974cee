"""Each OPCO's queue depth and parked count, read from the transmissions read model on both stores."""

from __future__ import annotations

from typing import Any

from domain.opco.opcos import Opco
from interfaces.bootstrap import bootstrap
from tests.integration.transmission_support import submitted
from tests.support import settings


def test_the_queue_is_counted_by_opco_and_status(database_url: str, complete_cerfa: dict[str, Any]) -> None:
    container = bootstrap(settings(database_url))
    try:
        first = submitted(container, complete_cerfa, "Q-1")
        submitted(container, complete_cerfa, "Q-2")
        submitted(container, complete_cerfa, "Q-3", opco=Opco.AKTO)
        container.dossiers.change_as_worker(first.id, lambda contract: contract.park_transmission("tests", "worker"))
        container.worker.project_once()
        assert container.transmissions.counts_by_opco() == {
            ("ATLAS", "pending"): 1,
            ("ATLAS", "parked"): 1,
            ("AKTO", "pending"): 1,
        }
    finally:
        container.close()
