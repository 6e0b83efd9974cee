"""The rupture routes in-process (FastAPI TestClient, in-memory store): declare, read, withdraw, mark declared,
traineeship; 422 naming the field and the rule, 409 in the wrong state, Idempotency-Key replays."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.opco.opcos import Opco
from interfaces.bootstrap import Container
from tests.invoicing import CFA, accepted_contract
from tests.support import principal
from tests.unit.test_api import assert_problem, token

BODY = {
    "dateEffetRupture": "2026-10-15",
    "motif": "periode_probatoire",
    "initiative": "apprenti",
    "dateSignalement": "2026-10-16",
    "commentaire": "l'apprenti a choisi une autre voie",
}


@pytest.fixture
def cfa(client: TestClient) -> dict[str, str]:
    return token(client, CFA)


def accepted(services: Container, cerfa: dict[str, Any], numero: str = "C-1", **kwargs: Any) -> str:
    return str(accepted_contract(services.dossiers, principal(CFA), cerfa, numero, **kwargs).id)


def test_a_rupture_declared_shows_on_the_contract_with_its_transmission(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    ident = accepted(services, complete_cerfa)
    answer = client.post(f"/contracts/{ident}/rupture", json=BODY, headers={**cfa, "Idempotency-Key": "r-1"})
    assert answer.status_code == 202, answer.text
    rupture = answer.json()["rupture"]
    assert rupture["motif"] == "periode_probatoire"
    assert rupture["periodeProbatoire"] == {"debut": "2026-09-01", "fin": "2026-10-15", "source": "computed"}
    assert rupture["pendantPeriodeProbatoire"] is True
    assert rupture["lastInvoiceBy"] == "2027-02-15"
    assert rupture["transmission"]["route"] == "api"  # ATLAS takes ruptures over the API
    assert rupture["transmission"]["state"] == "submitted"
    assert rupture["transmission"]["withdrawable"] is True

    again = client.post(f"/contracts/{ident}/rupture", json=BODY, headers={**cfa, "Idempotency-Key": "r-1"})
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (202, "true")
    second = client.post(f"/contracts/{ident}/rupture", json=BODY, headers=cfa)
    assert_problem(second, 409)

    shown = client.get(f"/contracts/{ident}", headers=cfa).json()
    assert shown["rupture"]["dateEffetRupture"] == "2026-10-15"
    detail = client.get(f"/contracts/{ident}/rupture", headers=cfa).json()
    assert [e["type"] for e in detail["events"]] == ["Declared", "SubmissionRequested"]
    assert all(e["actor"].startswith("token:") for e in detail["events"])  # the CFA's token, by its id


def test_bad_values_are_422_naming_each_field_and_rule(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    ident = accepted(services, complete_cerfa)
    body = {**BODY, "dateEffetRupture": "2029-01-01", "motif": "fin_de_chantier"}
    answer = client.post(f"/contracts/{ident}/rupture", json=body, headers=cfa)
    problem = assert_problem(answer, 422)
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {
        ("dateEffetRupture", "outside_contract"),
        ("motif", "unknown_motif"),
    }
    unknown_key = client.post(f"/contracts/{ident}/rupture", json={**BODY, "cause": "x"}, headers=cfa)
    assert_problem(unknown_key, 422)


def test_a_draft_cannot_be_terminated(client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]) -> None:
    created = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=cfa).json()
    assert_problem(client.post(f"/contracts/{created['id']}/rupture", json=BODY, headers=cfa), 409)
    assert_problem(client.get(f"/contracts/{created['id']}/rupture", headers=cfa), 404)


def test_withdraw_then_declare_again(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    ident = accepted(services, complete_cerfa)
    client.post(f"/contracts/{ident}/rupture", json=BODY, headers=cfa)
    withdrawn = client.post(f"/contracts/{ident}/rupture/withdrawal", json={"reason": "erreur"}, headers=cfa)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["rupture"] is None
    again = client.post(f"/contracts/{ident}/rupture", json={**BODY, "motif": "demission"}, headers=cfa)
    assert again.status_code == 202, again.text
    events = client.get(f"/contracts/{ident}/rupture", headers=cfa).json()["events"]
    assert [(e["rupture"], e["type"]) for e in events] == [
        (1, "Declared"),
        (1, "SubmissionRequested"),
        (1, "Cancelled"),
        (2, "Declared"),
        (2, "SubmissionRequested"),
    ]


def test_a_declaration_at_an_opco_without_the_route_is_marked_done(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    ident = accepted(services, complete_cerfa, opco=Opco.AFDAS)
    declared = client.post(f"/contracts/{ident}/rupture", json=BODY, headers=cfa).json()
    assert declared["rupture"]["transmission"]["route"] == "declaration"
    assert declared["rupture"]["transmission"]["waitingFor"] == "to_declare"
    done = client.post(f"/contracts/{ident}/rupture/declaration", headers={**cfa, "Idempotency-Key": "d-1"})
    assert done.status_code == 200, done.text
    assert done.json()["rupture"]["transmission"]["state"] == "declared"
    assert done.json()["rupture"]["transmission"]["waitingFor"] is None


def test_the_traineeship_is_recorded_and_bounded(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    ident = accepted(services, complete_cerfa)
    client.post(f"/contracts/{ident}/rupture", json=BODY, headers=cfa)
    late = client.post(
        f"/contracts/{ident}/rupture/traineeship", json={"debut": "2026-10-16", "fin": "2027-05-01"}, headers=cfa
    )
    assert [(e["field"], e["code"]) for e in assert_problem(late, 422)["errors"]] == [("fin", "over_six_months")]
    ok = client.post(
        f"/contracts/{ident}/rupture/traineeship", json={"debut": "2026-10-16", "fin": "2027-04-15"}, headers=cfa
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["rupture"]["traineeship"] == {"debut": "2026-10-16", "fin": "2027-04-15"}
    funding = client.get(f"/contracts/{ident}/funding", headers=cfa).json()
    assert funding["traineeship"] == {"debut": "2026-10-16", "fin": "2027-04-15"}
    services.worker.project_once()
    assert client.get("/ruptures", headers=cfa).json()[0]["traineeshipUntil"] == "2027-04-15"
    metrics = client.get("/metrics").text
    assert 'convergence_rupture_transmissions{status="pending"} 1.0' in metrics


def test_ruptures_are_listed_counted_and_waiting_ones_are_on_attention(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    at_atlas = accepted(services, complete_cerfa, "C-1")
    at_afdas = accepted(services, complete_cerfa, "C-2", opco=Opco.AFDAS)
    client.post(f"/contracts/{at_atlas}/rupture", json=BODY, headers=cfa)
    agreed = {**BODY, "dateEffetRupture": "2026-11-30", "motif": "commun_accord", "initiative": "commun"}
    assert client.post(f"/contracts/{at_afdas}/rupture", json=agreed, headers=cfa).status_code == 202
    services.worker.project_once()

    listed = client.get("/ruptures", headers=cfa).json()
    assert [(r["numeroInterne"], r["route"], r["state"], r["waitingFor"]) for r in listed] == [
        ("C-2", "declaration", "to_declare", "to_declare"),
        ("C-1", "api", "submitted", None),
    ]
    assert [r["numeroInterne"] for r in client.get("/ruptures?waiting=true", headers=cfa).json()] == ["C-2"]
    assert [r["numeroInterne"] for r in client.get("/ruptures?state=submitted", headers=cfa).json()] == ["C-1"]

    board = client.get("/dashboard", headers=cfa).json()["ruptures"]
    assert (board["total"], board["byState"], board["waiting"]) == (2, {"to_declare": 1, "submitted": 1}, 1)

    waiting = [i for i in client.get("/attention", headers=cfa).json() if i.get("kind") == "rupture"]
    assert [(i["numeroInterne"], i["reasons"][0]) for i in waiting] == [("C-2", "rupture_to_declare")]

    client.post(f"/contracts/{at_afdas}/rupture/declaration", headers=cfa)
    client.post(f"/contracts/{at_atlas}/rupture/withdrawal", headers=cfa)
    services.worker.project_once()
    assert [(r["numeroInterne"], r["state"]) for r in client.get("/ruptures", headers=cfa).json()] == [
        ("C-2", "declared")
    ]
    assert not [i for i in client.get("/attention", headers=cfa).json() if i.get("kind") == "rupture"]
