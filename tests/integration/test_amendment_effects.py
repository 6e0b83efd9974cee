"""What an avenant flags, on SQLite and PostgreSQL through the sandbox: a prolongation (33) recomputes the funding
schedule and lists the échéances to re-check, an employer change (31) routed to another OPCO is flagged; both wait on
/attention (the avenants read model) until a person reviews them; the contract list filters by avenant and rupture."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from application.access.access import Principal, Role
from application.contracts.funding import funding
from application.read_models.status import ContractFilter
from domain.amendments.amendment import AmendmentState
from domain.amendments.amendment_types import AmendmentRequest
from domain.contracts.contract import Contract
from domain.errors import InvalidValues, NotAllowedInState
from domain.ruptures.rupture import RuptureRequest
from infrastructure.opco.opco_sandbox import SandboxConfig
from interfaces.bootstrap import Container
from tests.integration.sandbox_server import running_sandbox
from tests.integration.test_amendment_transmission import MANDATE, accepted
from tests.integration.transmission_support import reload, round_trip, wired

THIRD_YEAR = {
    "dateDebut": "2028-09-01",
    "dateFin": "2029-08-31",
    "taux": "78",
    "tauxMinimal": "78",
    "typeSalaire": "SMC",
    "salaireBrut": "1439.10",
    "ordre": "3.1",
}


@pytest.fixture
def sandbox() -> Iterator[str]:
    with running_sandbox(SandboxConfig(instruction_delay=0, decision_delay=0)) as url:
        yield url


def who(contract: Contract) -> Principal:
    return Principal(actor="token:test", role=Role.FRONTEND, cfa_siret=contract.cfa_siret)


def prolongation(cerfa: dict[str, Any]) -> dict[str, Any]:
    periods = [*cerfa["contrat"]["remunerationsAnnuelles"], THIRD_YEAR]
    return {
        "contrat": {"dateFinContrat": "2029-08-31", "remunerationsAnnuelles": periods},
        "formation": {"dateFinFormation": "2029-06-30"},
    }


def test_flags_wait_on_attention_until_reviewed_and_the_list_filters(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container: Container = wired(database_url, sandbox)
    try:
        longer = accepted(container, complete_cerfa, "FX-1")
        container.dossiers.forecast_npec(who(longer), longer.id, Decimal("8000"))
        request = AmendmentRequest(33, date(2028, 6, 1), prolongation(complete_cerfa))
        saved, extended = container.amendments.request(who(longer), longer.id, request, MANDATE)
        funding = extended.effects["funding"]
        assert (funding["before"]["total"], funding["after"]["total"]) == ("16000.00", "24000.00")
        assert funding["echeancesToRecheck"] == [8, 9, 10, 11, 12]
        assert container.amendments.cerfa_problems(extended) == []
        with pytest.raises(NotAllowedInState):  # one avenant pending at a time
            container.amendments.request(who(longer), longer.id, request, MANDATE)

        moved = accepted(container, complete_cerfa, "FX-2")
        employer = {"employeur": {"codeIdcc": "1596"}}
        with pytest.raises(InvalidValues):  # after the contract's end: refused whole, nothing stored
            container.amendments.request(who(moved), moved.id, AmendmentRequest(37, date(2030, 1, 1), employer))
        assert reload(container, moved).amendments_requested == 0
        _, changed = container.amendments.request(
            who(moved), moved.id, AmendmentRequest(31, date(2027, 1, 4), employer)
        )
        assert changed.effects["opcoChange"] == {"from": "ATLAS", "to": "CONSTRUCTYS"}

        broken = accepted(container, complete_cerfa, "FX-3")
        container.terminations.declare(
            who(broken),
            broken.id,
            RuptureRequest(date(2026, 11, 20), "commun_accord", "commun", date(2026, 11, 21), None),
        )
        container.worker.project_once()

        reasons = {(i["contractId"], tuple(i["reasons"])) for i in container.amendment_status.attention(who(longer))}
        assert reasons == {
            (str(longer.id), ("amendment_echeances_to_recheck",)),
            (str(moved.id), ("amendment_opco_change",)),
        }
        assert container.amendment_status.counts(who(longer))["opcoChanges"] == 1
        container.amendments.mark_reviewed(who(moved), moved.id, changed.number)
        container.worker.project_once()
        assert [i["contractId"] for i in container.amendment_status.attention(who(longer))] == [str(longer.id)]

        def listed(**where: Any) -> list[str]:
            page = container.status.page(who(longer), ContractFilter(**where), 50, None)
            return sorted(row.numero_interne for row in page.items)

        assert listed(amendment="drafted") == ["FX-1", "FX-2"]
        assert listed(amendment="waiting") == ["FX-1"]
        assert listed(amendment="none") == ["FX-3"]
        assert listed(rupture=True) == ["FX-3"]
        assert listed(rupture=False) == ["FX-1", "FX-2"]
        assert reload(container, longer).amendments_requested == 1
        assert saved.contract.version == reload(container, longer).version
    finally:
        container.close()


def test_an_accepted_reduction_is_the_funding_schedule_from_then_on(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    """8,000 € a year, 1 Sep 2026 – 31 Aug 2028, shortened to 30 Jun 2028: year 2 runs 304 days of 366 (2028 is a leap
    year), 8,000 × 304 / 366 = 6,644.808… → 6,644.81; total 14,644.81 instead of 16,000.00."""
    container: Container = wired(database_url, sandbox)
    try:
        contract = accepted(container, complete_cerfa, "FX-4")
        container.dossiers.forecast_npec(who(contract), contract.id, Decimal("8000"))
        periods = [dict(p) for p in complete_cerfa["contrat"]["remunerationsAnnuelles"]]
        periods[-1]["dateFin"] = "2028-06-30"
        shorter = {
            "contrat": {"dateFinContrat": "2028-06-30", "remunerationsAnnuelles": periods},
            "formation": {"dateFinFormation": "2028-06-15"},
        }
        _, amendment = container.amendments.request(
            who(contract), contract.id, AmendmentRequest(36, date(2026, 10, 5), shorter), MANDATE
        )
        assert amendment.effects["funding"]["echeancesToRecheck"] == [5, 6, 7, 8]
        assert funding(reload(container, contract))["schedule"]["total"] == "16000.00"
        container.amendments.submit(who(contract), contract.id, amendment.number)
        round_trip(container)
        container.worker.sync_once()
        assert container.amendments.amendment_as_worker(amendment.id).state is AmendmentState.ACCEPTED
        current = reload(container, contract)
        schedule = funding(current, container.amendments.current_cerfa(current))["schedule"]
        assert (schedule["total"], schedule["years"][1]["amount"]) == ("14644.81", "6644.81")
    finally:
        container.close()
