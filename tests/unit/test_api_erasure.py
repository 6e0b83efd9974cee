"""POST /contracts/{id}/erasure: an admin erases a dossier's personal data; the dossier stays, reads them as
erased, refuses them again, and the lists lose the name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from interfaces.api.app import create_app
from interfaces.bootstrap import Container
from tests.support import MANDATE, OPERATOR_TOKEN, container
from tests.unit.test_api import assert_problem, create, token


@pytest.fixture
def services() -> Iterator[Container]:
    made = container()
    yield made
    made.close()


@pytest.fixture
def client(services: Container) -> Iterator[TestClient]:
    with TestClient(create_app(services), raise_server_exceptions=False) as test_client:
        yield test_client


def drafted(client: TestClient, auth: dict[str, str], cerfa: dict[str, Any]) -> str:
    answer = create(client, auth, cerfa)
    assert answer.status_code == 201, answer.text
    ident: str = answer.json()["id"]
    assert client.post(f"/contracts/{ident}/mandate", json=MANDATE, headers=auth).status_code in (200, 201)
    return ident


def test_an_admin_erases_a_dossiers_personal_data_once(
    client: TestClient, services: Container, complete_cerfa: dict[str, Any]
) -> None:
    cfa = complete_cerfa["organismeFormation"]["siret"]
    writer, admin = token(client, cfa), token(client, cfa, "admin")
    ident = drafted(client, writer, complete_cerfa)

    assert_problem(client.post(f"/contracts/{ident}/erasure", headers=writer), 403)
    keyed = {**admin, "Idempotency-Key": "erase-1"}
    answer = client.post(f"/contracts/{ident}/erasure", headers=keyed)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["alreadyErased"], body["dataKey"]) == (False, "destroyed")
    assert "cerfa.apprenti.nir" in body["fields"]
    assert "mandate.signatory.nom" in body["fields"]
    dossier = client.get(f"/contracts/{ident}", headers=writer).json()
    assert "nir" not in dossier["cerfa"]["apprenti"]
    assert "nom" not in dossier["cerfa"]["maitre1"]
    assert dossier["cerfa"]["employeur"]["siret"] == complete_cerfa["employeur"]["siret"]
    events = client.get(f"/contracts/{ident}/events", headers=writer).json()
    assert events[0]["data"]["personal_data"] == "erased"
    assert events[-1]["type"] == "PersonalDataErased"
    assert complete_cerfa["apprenti"]["nir"] not in client.get(f"/contracts/{ident}/events", headers=writer).text

    replayed = client.post(f"/contracts/{ident}/erasure", headers=keyed)
    assert (replayed.status_code, replayed.headers.get("Idempotent-Replayed")) == (200, "true")
    again = client.post(f"/contracts/{ident}/erasure", headers=admin)
    assert again.json()["alreadyErased"] is True
    assert len(client.get(f"/contracts/{ident}/events", headers=writer).json()) == len(events)

    patch = {"apprenti": {"nom": complete_cerfa["apprenti"]["nom"]}}
    headers = {**writer, "If-Match": again.headers["ETag"]}
    refused = client.patch(f"/contracts/{ident}/cerfa", json=patch, headers=headers)
    assert assert_problem(refused, 409)["type"].endswith("state-conflict")


def test_the_lists_lose_the_name_of_an_erased_dossier(
    client: TestClient, services: Container, complete_cerfa: dict[str, Any]
) -> None:
    cfa = complete_cerfa["organismeFormation"]["siret"]
    writer, admin = token(client, cfa), token(client, cfa, "admin")
    ident = drafted(client, writer, complete_cerfa)
    name = complete_cerfa["apprenti"]["nom"]
    services.worker.project_once()
    found = client.get("/contracts", params={"apprentice": name}, headers=writer).json()["items"]
    assert [item["id"] for item in found] == [ident]

    client.post(f"/contracts/{ident}/erasure", headers=admin)
    services.worker.project_once()

    listed = client.get("/contracts", headers=writer).json()["items"]
    assert [(item["id"], item["apprenticeName"]) for item in listed] == [(ident, None)]
    assert client.get("/contracts", params={"apprentice": name}, headers=writer).json()["items"] == []


def test_the_operator_erases_any_cfas_dossier_and_another_cfa_sees_nothing(
    client: TestClient, complete_cerfa: dict[str, Any]
) -> None:
    writer = token(client, complete_cerfa["organismeFormation"]["siret"])
    ident = drafted(client, writer, complete_cerfa)
    assert_problem(client.post(f"/contracts/{ident}/erasure", headers=token(client, "73282932000074", "admin")), 404)
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    assert client.post(f"/contracts/{ident}/erasure", headers=operator).status_code == 200


def test_personal_data_written_after_the_key_was_destroyed_are_refused_not_stored(
    client: TestClient, services: Container, complete_cerfa: dict[str, Any]
) -> None:
    """A write racing an erasure: the key is gone, the event not yet recorded; the mapper refuses the new data."""
    writer = token(client, complete_cerfa["organismeFormation"]["siret"])
    ident = drafted(client, writer, complete_cerfa)
    etag = client.get(f"/contracts/{ident}", headers=writer).headers["ETag"]
    assert services.dossiers.data_keys is not None
    services.dossiers.data_keys.destroy(UUID(ident))

    answer = client.patch(
        f"/contracts/{ident}/cerfa", json={"apprenti": {"nomUsage": "Durand"}}, headers={**writer, "If-Match": etag}
    )

    assert assert_problem(answer, 409)["type"].endswith("personal-data-erased")
    assert client.get(f"/contracts/{ident}", headers=writer).headers["ETag"] == etag  # nothing stored
