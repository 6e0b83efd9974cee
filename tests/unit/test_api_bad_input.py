"""Bad input gets a 422 or a listed problem, never a 500; and an answer that is an error stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.cerfa import rules
from interfaces.bootstrap import Container
from tests.support import OPERATOR_TOKEN, with_changes


@pytest.fixture
def cfa(client: TestClient, complete_cerfa: dict[str, Any]) -> dict[str, str]:
    issued = client.post(
        "/admin/tokens",
        json={"cfaSiret": complete_cerfa["organismeFormation"]["siret"], "role": "admin", "name": "bad input"},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    return {"Authorization": f"Bearer {issued.json()['token']}"}


def listed_numeros(client: TestClient, services: Container, auth: dict[str, str]) -> list[str]:
    services.worker.project_once()
    page = client.get("/contracts", headers=auth)
    assert page.status_code == 200, page.text
    return [item["numeroInterne"] for item in page.json()["items"]]


def codes_at(dossier: dict[str, Any], field: str) -> set[str]:
    return {p["code"] for p in dossier["problems"] if p["field"] == field}


def test_an_apprentice_born_after_the_start_is_a_listed_problem(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    unborn = with_changes(complete_cerfa, apprenti={"dateNaissance": "2030-01-01"})
    created = client.post("/contracts", json={"numeroInterne": "UNBORN-1", "cerfa": unborn}, headers=cfa)

    assert created.status_code == 201, created.text
    assert "birth_not_before_start" in codes_at(created.json(), "cerfa.apprenti.dateNaissance")
    assert client.get(created.headers["Location"], headers=cfa).status_code == 200
    assert listed_numeros(client, services, cfa) == ["UNBORN-1"]


def test_a_pay_period_ending_before_the_birth_is_judged_in_the_youngest_bracket(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    periods = complete_cerfa["contrat"]["remunerationsAnnuelles"]
    early = [{**periods[0], "dateFin": "2026-12-31", "taux": "20"}]
    document = with_changes(
        complete_cerfa, apprenti={"dateNaissance": "2027-06-01"}, contrat={"remunerationsAnnuelles": early}
    )
    created = client.post("/contracts", json={"numeroInterne": "UNBORN-2", "cerfa": document}, headers=cfa)

    assert created.status_code == 201, created.text
    below = codes_at(created.json(), "cerfa.contrat.remunerationsAnnuelles.0.taux")
    assert below == {"remuneration_below_minimum"}


@pytest.mark.parametrize(
    ("block", "fields"),
    [
        ("contrat", {"dateDebutContrat": "9999-12-31", "dateFinContrat": "9999-12-31"}),
        ("contrat", {"dateDebutContrat": "0001-01-01", "dateConclusion": "0001-01-01"}),
        ("formation", {"dateFinFormation": "9999-12-31"}),
        ("apprenti", {"dateNaissance": "9999-12-31"}),
        ("contrat", {"dateDebutFormationPratique": "9999-12-31", "dateDebutContrat": "9999-11-01"}),
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_listed_problems_not_failures(
    client: TestClient,
    services: Container,
    cfa: dict[str, str],
    complete_cerfa: dict[str, Any],
    block: str,
    fields: dict[str, str],
) -> None:
    document = with_changes(complete_cerfa, **{block: fields})
    created = client.post("/contracts", json={"cerfa": document}, headers=cfa)

    assert created.status_code == 201, created.text
    assert created.json()["problems"]
    services.worker.project_once()
    assert client.get("/attention", headers=cfa).status_code == 200  # its deposit deadline, past 9999-12-31


@pytest.mark.parametrize("amount", ["1" * 30, "1" * 27 + ".5", "1000000000000"])
def test_an_amount_too_large_for_any_cerfa_is_refused_whole(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any], amount: str
) -> None:
    document = with_changes(complete_cerfa, contrat={"salaireEmbauche": amount, "smc": amount})
    refused = client.post("/contracts", json={"cerfa": document}, headers=cfa)

    assert refused.status_code == 422, refused.text
    assert {(e["field"], e["code"]) for e in refused.json()["errors"]} == {
        ("cerfa.contrat.salaireEmbauche", "decimal_too_large"),
        ("cerfa.contrat.smc", "decimal_too_large"),
    }


def test_a_failure_computing_the_problems_stores_nothing(
    client: TestClient,
    services: Container,
    cfa: dict[str, str],
    complete_cerfa: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(_: Any) -> Any:
        raise RuntimeError("a rule that fails")

    body = {"numeroInterne": "FAILS-1", "cerfa": complete_cerfa}
    monkeypatch.setattr(rules, "RULES", (*rules.RULES, broken))
    assert client.post("/contracts", json=body, headers=cfa).status_code == 500
    monkeypatch.undo()

    assert listed_numeros(client, services, cfa) == []
    again = client.post("/contracts", json=body, headers=cfa)
    assert again.status_code == 201, again.text
    assert again.headers["ETag"] == '"1"'


def test_a_failure_computing_the_problems_of_a_change_stores_nothing(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    created = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=cfa)
    url = created.headers["Location"]

    def broken(_: Any) -> Any:
        raise RuntimeError("a rule that fails")

    monkeypatch.setattr(rules, "RULES", (*rules.RULES, broken))
    patch = {"apprenti": {"nomUsage": "Durand"}}
    assert client.patch(f"{url}/cerfa", json=patch, headers={**cfa, "If-Match": '"1"'}).status_code == 500
    changed = with_changes(complete_cerfa, apprenti={"nomUsage": "Durand"})
    assert client.put(f"{url}/cerfa", json=changed, headers={**cfa, "If-Match": '"1"'}).status_code == 500
    monkeypatch.undo()

    assert client.get(url, headers=cfa).headers["ETag"] == '"1"'
    assert [e["type"] for e in client.get(f"{url}/events", headers=cfa).json()] == ["Drafted"]


@pytest.mark.parametrize(
    ("dates", "code"),
    [
        ({"dateDebutContrat": "2026-09-01", "dateFinContrat": "9999-12-31"}, "end_out_of_range"),
        ({"dateDebutContrat": "9999-01-01", "dateFinContrat": "9999-12-31"}, "end_out_of_range"),
        ({"dateDebutContrat": "2026-09-01", "dateFinContrat": "2030-09-01"}, "contract_too_long"),
    ],
)
def test_a_funding_schedule_past_the_law_or_the_calendar_is_missing_with_its_reason(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any], dates: dict[str, str], code: str
) -> None:
    document = with_changes(complete_cerfa, contrat=dates)
    created = client.post("/contracts", json={"cerfa": document, "npec": "8000.00"}, headers=cfa)
    funding = client.get(f"{created.headers['Location']}/funding", headers=cfa)

    assert funding.status_code == 200, funding.text
    assert funding.json()["schedule"] is None
    assert [m["code"] for m in funding.json()["scheduleMissing"]] == [code]
