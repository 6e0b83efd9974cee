"""What the contract's Cerfa gives the funding schedule: the level of the diploma, distance learning, RQTH."""

from __future__ import annotations

from typing import Any

import pytest

from application.contracts.funding import funding
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import Contract
from domain.money import euros
from tests.support import with_changes


def contract(document: dict[str, Any], npec: str | None = "8000.00") -> Contract:
    drafted = Contract.draft(
        cfa_siret=document["organismeFormation"]["siret"],
        numero_interne="F-1",
        cerfa=parse_cerfa(document),
        opco=None,
        actor="token:test",
    )
    drafted.forecast_npec(euros(npec) if npec else None, "token:test")
    return drafted


@pytest.mark.parametrize(("diploma", "deduction"), [(58, "0.00"), (62, "750.00"), (71, "750.00"), (80, "750.00")])
def test_the_employer_participation_from_level_6(complete_cerfa: dict[str, Any], diploma: int, deduction: str) -> None:
    # 58: another bac+2 (level 5); 62: licence professionnelle (6); 71: master (7); 80: doctorate (8)
    document = with_changes(complete_cerfa, formation={"typeDiplome": diploma})
    first = funding(contract(document))["schedule"]["instalments"][0]
    assert (first["deduction"], first["amount"]) == (deduction, "3200.00")


@pytest.mark.parametrize(("remote_hours", "npec_applied"), [(1079, "8000.00"), (1080, "6400.00")])
def test_distance_learning_from_80_percent_of_the_hours(
    complete_cerfa: dict[str, Any], remote_hours: int, npec_applied: str
) -> None:
    # 1,080 h of 1,350 is exactly 80 %: 8,000 × 0.8 = 6,400 (above the 4,000 floor)
    document = with_changes(complete_cerfa, formation={"nombreHeuresEnDistanciel": remote_hours})
    assert funding(contract(document))["schedule"]["npecApplied"] == npec_applied


def test_rqth_raises_the_npec(complete_cerfa: dict[str, Any]) -> None:
    document = with_changes(complete_cerfa, apprenti={"handicap": True})
    assert funding(contract(document))["schedule"]["npecApplied"] == "12000.00"  # 8,000 + min(4,000, 4,000)


def test_without_dates_or_npec_the_schedule_says_what_it_needs(complete_cerfa: dict[str, Any]) -> None:
    document = with_changes(complete_cerfa, contrat={"dateFinContrat": None})
    view = funding(contract(document, npec=None))
    assert view["schedule"] is None
    assert [m["field"] for m in view["scheduleMissing"]] == ["cerfa.contrat.dateFinContrat", "npec"]
    assert (view["echeances"], view["differs"]) == ([], False)
