"""The employer's IDCC through the API: its OPCO, and the problems an unknown or abrogated IDCC raises."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support import MANDATE, OPERATOR_TOKEN, with_changes


def cfa_token(client: TestClient) -> dict[str, str]:
    response = client.post(
        "/admin/tokens",
        json={"cfaSiret": "79852413800012", "role": "frontend", "name": "idcc"},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    return {"Authorization": f"Bearer {response.json()['token']}"}


def dossier_with(client: TestClient, auth: dict[str, str], cerfa: dict[str, Any], idcc: str) -> dict[str, Any]:
    created = client.post("/contracts", json={"cerfa": with_changes(cerfa, employeur={"codeIdcc": idcc})}, headers=auth)
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def test_the_metallurgy_agreement_routes_to_opco_2i(client: TestClient, complete_cerfa: dict[str, Any]) -> None:
    dossier = dossier_with(client, cfa_token(client), complete_cerfa, "3248")
    assert (dossier["opco"], dossier["opcoSource"]) == ("OPCO2I", "idcc")
    assert [p["code"] for p in dossier["problems"]] == ["mandate_missing"]


def test_an_unknown_idcc_blocks_the_submission_with_its_own_problem(
    client: TestClient, complete_cerfa: dict[str, Any]
) -> None:
    auth = cfa_token(client)
    dossier = dossier_with(client, auth, complete_cerfa, "9997")
    [problem] = [p for p in dossier["problems"] if p["field"] == "cerfa.employeur.codeIdcc"]
    assert problem["code"] == "idcc_unknown"
    assert problem["message"].startswith("IDCC 9997 is not a known convention collective")
    assert dossier["opco"] is None
    url = f"/contracts/{dossier['id']}"
    assert client.post(f"{url}/mandate", json=MANDATE, headers=auth).status_code == 200
    assert client.put(f"{url}/opco", json={"opco": "AKTO"}, headers=auth).status_code == 200
    refused = client.post(f"{url}/submission", headers=auth)
    assert refused.status_code == 409
    assert "idcc_unknown" in refused.text


def test_an_abrogated_idcc_names_the_agreement_that_replaces_it(
    client: TestClient, complete_cerfa: dict[str, Any]
) -> None:
    dossier = dossier_with(client, cfa_token(client), complete_cerfa, "650")
    [problem] = [p for p in dossier["problems"] if p["field"] == "cerfa.employeur.codeIdcc"]
    assert problem["code"] == "idcc_abrogated"
    assert "was abrogated on 2024-01-01; the agreement 3248 (Métallurgie) replaces it" in problem["message"]
