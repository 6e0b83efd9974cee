"""The REST API in-process (FastAPI TestClient) on the in-memory store: wire format and error paths."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from interfaces.api.app import create_app
from tests.support import MANDATE, OPERATOR_TOKEN, container

OTHER_CFA = "73282932000074"


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(container()), raise_server_exceptions=False) as test_client:
        yield test_client


def token(client: TestClient, cfa: str, role: str = "frontend") -> dict[str, str]:
    response = client.post(
        "/admin/tokens",
        json={"cfaSiret": cfa, "role": role, "name": f"{role} of {cfa}"},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def cfa(client: TestClient, complete_cerfa: dict[str, Any]) -> dict[str, str]:
    return token(client, complete_cerfa["organismeFormation"]["siret"])


def create(client: TestClient, auth: dict[str, str], cerfa: dict[str, Any], **extra: Any) -> Any:
    return client.post("/contracts", json={"cerfa": cerfa, **extra}, headers=auth)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


def test_the_whole_draft_to_submission_path(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    created = create(client, cfa, complete_cerfa, numeroInterne="2026-0001")
    assert created.status_code == 201, created.text
    dossier = created.json()
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"] == f"/contracts/{dossier['id']}"
    assert int(created.headers["X-Position"]) >= 1
    assert (dossier["state"], dossier["opco"], dossier["opcoSource"]) == ("drafted", "ATLAS", "idcc")
    assert [p["code"] for p in dossier["problems"]] == ["mandate_missing"]

    mandated = client.post(f"/contracts/{dossier['id']}/mandate", json=MANDATE, headers=cfa)
    assert mandated.status_code == 200, mandated.text
    assert mandated.json()["state"] == "mandate_checked"
    assert mandated.json()["problems"] == []

    submitted = client.post(f"/contracts/{dossier['id']}/submission", headers=cfa)
    assert submitted.status_code == 202, submitted.text
    assert (submitted.json()["state"], submitted.json()["opcoSource"]) == ("submitted", "submission")

    events = client.get(f"/contracts/{dossier['id']}/events", headers=cfa).json()
    assert [e["type"] for e in events] == ["Drafted", "MandateRecorded", "SubmissionRequested"]


def test_problems_disappear_as_the_draft_is_completed(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    partial = {**complete_cerfa, "maitre1": {}}
    dossier = create(client, cfa, partial).json()
    assert any(p["field"].startswith("cerfa.maitre1.") for p in dossier["problems"])
    patched = client.patch(
        f"/contracts/{dossier['id']}/cerfa",
        json={"maitre1": complete_cerfa["maitre1"]},
        headers={**cfa, "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    assert [p["code"] for p in patched.json()["problems"]] == ["mandate_missing"]
    assert patched.headers["ETag"] == '"2"'


def test_format_errors_are_refused_whole_naming_each_field(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    bad = {
        **complete_cerfa,
        "employeur": {**complete_cerfa["employeur"], "siret": "12345678901234"},
        "apprenti": {**complete_cerfa["apprenti"], "nir": "1234"},
    }
    body = assert_problem(create(client, cfa, bad, numeroInterne="BAD-1"), 422)
    assert {e["field"] for e in body["errors"]} == {"cerfa.employeur.siret", "cerfa.apprenti.nir"}
    assert all(e["code"] and e["message"] for e in body["errors"])
    # nothing was stored: the same numeroInterne is still free
    assert create(client, cfa, complete_cerfa, numeroInterne="BAD-1").status_code == 201


def test_unknown_fields_are_refused(client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]) -> None:
    bad = {**complete_cerfa, "apprenti": {**complete_cerfa["apprenti"], "prénom": "Zoé"}}
    body = assert_problem(create(client, cfa, bad), 422)
    assert body["errors"] == [
        {"field": "cerfa.apprenti.prénom", "code": "unknown_field", "message": body["errors"][0]["message"]}
    ]


def test_duplicate_numero_interne_is_409(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    assert create(client, cfa, complete_cerfa, numeroInterne="D-1").status_code == 201
    assert_problem(create(client, cfa, complete_cerfa, numeroInterne="D-1"), 409)


def test_idempotency_key(client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]) -> None:
    headers = {**cfa, "Idempotency-Key": "req-42"}
    first = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=headers)
    again = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/contracts", json={"cerfa": complete_cerfa, "numeroInterne": "Z"}, headers=headers)
    assert_problem(other, 422)


def test_changes_need_the_current_version(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    dossier = create(client, cfa, complete_cerfa).json()
    url = f"/contracts/{dossier['id']}/cerfa"
    assert_problem(client.put(url, json=complete_cerfa, headers=cfa), 428)
    assert_problem(client.put(url, json=complete_cerfa, headers={**cfa, "If-Match": '"7"'}), 412)
    assert_problem(client.put(url, json=complete_cerfa, headers={**cfa, "If-Match": "yesterday"}), 412)
    replaced = client.put(url, json={**complete_cerfa, "maitre2": None}, headers={**cfa, "If-Match": '"1"'})
    assert replaced.status_code == 200, replaced.text
    assert_problem(client.patch(url, json={}, headers=cfa), 428)


def test_merge_patch_media_types(client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]) -> None:
    dossier = create(client, cfa, complete_cerfa).json()
    url = f"/contracts/{dossier['id']}/cerfa"
    ok = client.patch(
        url,
        content=b'{"apprenti": {"nomUsage": "Durand"}}',
        headers={**cfa, "If-Match": '"1"', "Content-Type": "application/merge-patch+json"},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["cerfa"]["apprenti"]["nomUsage"] == "Durand"
    wrong = client.patch(
        url, content=b"nomUsage=Durand", headers={**cfa, "If-Match": '"2"', "Content-Type": "text/plain"}
    )
    assert_problem(wrong, 415)
    broken = client.patch(url, content=b"{", headers={**cfa, "If-Match": '"2"', "Content-Type": "application/json"})
    assert assert_problem(broken, 422)["errors"][0]["code"] == "json_invalid"


def test_submission_with_problems_is_409_listing_them(
    client: TestClient, cfa: dict[str, str], draft_cerfa: dict[str, Any]
) -> None:
    dossier = create(client, cfa, draft_cerfa).json()
    body = assert_problem(client.post(f"/contracts/{dossier['id']}/submission", headers=cfa), 409)
    assert {e["code"] for e in body["errors"]} >= {"required", "mandate_missing"}


def test_commands_not_allowed_in_the_state_are_409(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    dossier = create(client, cfa, complete_cerfa).json()
    assert client.post(f"/contracts/{dossier['id']}/cancellation", headers=cfa).status_code == 200
    body = assert_problem(client.post(f"/contracts/{dossier['id']}/mandate", json=MANDATE, headers=cfa), 409)
    assert "cancelled" in body["detail"]


def test_tokens_are_needed_and_tenants_are_isolated(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    dossier = create(client, cfa, complete_cerfa).json()
    url = f"/contracts/{dossier['id']}"
    missing = assert_problem(client.get(url), 401)
    assert missing["type"].endswith(":http")
    assert_problem(client.get(url, headers={"Authorization": "Bearer nope"}), 401)
    other = token(client, OTHER_CFA)
    assert_problem(client.get(url, headers=other), 404)
    assert_problem(client.post(f"{url}/cancellation", headers=other), 404)
    assert_problem(create(client, other, complete_cerfa), 422)
    auditor = token(client, complete_cerfa["organismeFormation"]["siret"], "auditor")
    assert client.get(url, headers=auditor).status_code == 200
    assert_problem(client.post(f"{url}/cancellation", headers=auditor), 403)
    assert_problem(
        client.post("/admin/tokens", json={"cfaSiret": OTHER_CFA, "role": "admin", "name": "x"}, headers=cfa),
        403,
    )


def test_opco_choice(client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]) -> None:
    no_agreement = {**complete_cerfa, "employeur": {**complete_cerfa["employeur"], "codeIdcc": "9999"}}
    dossier = create(client, cfa, no_agreement).json()
    assert "opco_required" in {p["code"] for p in dossier["problems"]}
    chosen = client.put(f"/contracts/{dossier['id']}/opco", json={"opco": "AKTO"}, headers=cfa)
    assert (chosen.json()["opco"], chosen.json()["opcoSource"]) == ("AKTO", "chosen")
    assert_problem(client.put(f"/contracts/{dossier['id']}/opco", json={"opco": "UNIFORMATION"}, headers=cfa), 422)


def test_unknown_ids_and_routes(client: TestClient, cfa: dict[str, str]) -> None:
    assert_problem(client.get("/contracts/4b0c1f0e-2f57-4a59-9b55-6a2b1a5b5d11", headers=cfa), 404)
    assert_problem(client.get("/contracts/not-a-uuid", headers=cfa), 422)
    assert_problem(client.get("/nowhere"), 404)


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description") or operation.get("summary"), f"{method} {path} undocumented"
    assert "Cerfa" in spec["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_an_unexpected_failure_is_a_500_problem_without_trace(
    client: TestClient, cfa: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = client.app.state.container  # type: ignore[attr-defined]

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services.dossiers, "contract", broken)
    body = assert_problem(client.get("/contracts/4b0c1f0e-2f57-4a59-9b55-6a2b1a5b5d11", headers=cfa), 500)
    assert "secret internals" not in str(body)
    assert "Traceback" not in str(body)


def test_a_revoked_token_is_refused(client: TestClient, complete_cerfa: dict[str, Any]) -> None:
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    issued = client.post(
        "/admin/tokens",
        json={"cfaSiret": complete_cerfa["organismeFormation"]["siret"], "role": "admin", "name": "x"},
        headers=operator,
    ).json()
    assert client.post(f"/admin/tokens/{issued['id']}/revocation", headers=operator).json()["revoked"] is True
    assert_problem(
        client.get(
            "/contracts/4b0c1f0e-2f57-4a59-9b55-6a2b1a5b5d11", headers={"Authorization": f"Bearer {issued['token']}"}
        ),
        401,
    )


def test_tokens_need_a_valid_siret(client: TestClient) -> None:
    body = assert_problem(
        client.post(
            "/admin/tokens",
            json={"cfaSiret": "12345678901234", "role": "admin", "name": "x"},
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        ),
        422,
    )
    assert body["errors"][0]["field"] == "cfaSiret"
    assert body["errors"][0]["code"] == "siret_checksum"


def test_metrics_for_the_operator(client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]) -> None:
    create(client, cfa, complete_cerfa)
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    lines = answer.text.splitlines()
    head = next(line for line in lines if line.startswith("convergence_log_head "))
    assert float(head.split()[1]) >= 2  # the token and the dossier
    assert any(line.startswith('convergence_read_model_lag{read_model="status"}') for line in lines)
    assert "convergence_status_held_dossiers 0.0" in lines
