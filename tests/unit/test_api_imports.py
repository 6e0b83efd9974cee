"""POST /cfas/{siret}/opcos/{opco}/imports and GET …/imports/{id}, on the in-memory store with a fake OPCO."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from application.access.access import OPERATOR
from application.contracts.imports.importer import OpcoImporter
from application.opco.opco_accounts import OpcoAccounts
from application.opco.opco_gateway import OpcoDossier
from domain.opco.opco_auth import AuthFlavour
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from interfaces.bootstrap import Container
from tests.support import OPERATOR_TOKEN
from tests.unit.fakes import LIST, FakeGateway, MemoryContactLog, MemoryTransmissionsView, MovableClock, PlainBox

CFA = "79852413800012"
ROUTE = f"/cfas/{CFA}/opcos/ATLAS/imports"


@pytest.fixture
def gateway(services: Container) -> FakeGateway:
    """The container's importer, talking to a fake ATLAS that holds two dossiers deposited elsewhere."""
    profiles = {
        opco: replace(profile, base_url="http://opco.test", auth=AuthFlavour.KEY_ONLY)
        for opco, profile in CATALOGUE.items()
    }
    accounts = OpcoAccounts(services.dossiers, PlainBox(), profiles, MemoryContactLog())
    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key="atlas-key-0001")
    fake, view = FakeGateway(), MemoryTransmissionsView()
    for n in (1, 2):
        fake.dossiers[(Opco.ATLAS, f"x{n}")] = OpcoDossier(
            numero_interne="",
            numero_externe=f"ATLAS-{n}",
            numero_deca=None,
            etat="ENGAGE",
            commentaire_etat=None,
            engagement=Decimal("9000.00"),
            cerfa={"apprenti": {"nom": "Durand", "prenom": "Léa"}},
        )
    services.importer = OpcoImporter(
        services.dossiers, accounts, fake, view, MovableClock(), catch_up=lambda: view.catch_up(services.dossiers)
    )
    return fake


def token(client: TestClient, role: str) -> dict[str, str]:
    issued = client.post(
        "/admin/tokens",
        json={"cfaSiret": CFA, "role": role, "name": role},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    ).json()
    return {"Authorization": f"Bearer {issued['token']}"}


def test_a_dry_run_then_the_import_over_rest(client: TestClient, gateway: FakeGateway) -> None:
    admin = token(client, "admin")
    answer = client.post(f"{ROUTE}?dryRun=true", headers=admin)
    assert answer.status_code == 202
    assert answer.headers["Location"] == f"{ROUTE}/1"
    assert (answer.json()["dryRun"], answer.json()["status"]) == (True, "running")  # carried out after the answer
    dry: dict[str, Any] = client.get(f"{ROUTE}/1", headers=admin).json()
    assert (dry["status"], dry["counts"]) == ("finished", {"created": 2, "matched": 0, "conflicts": 0})

    answer = client.post(ROUTE, json={"dryRun": False}, headers={**admin, "Idempotency-Key": "import-1"})
    assert answer.status_code == 202
    real = client.get(answer.headers["Location"], headers=admin).json()
    assert (real["id"], real["dryRun"], real["counts"]) == (2, False, dry["counts"])
    again = client.post(ROUTE, json={"dryRun": False}, headers={**admin, "Idempotency-Key": "import-1"})
    assert (again.status_code, again.headers["Idempotent-Replayed"], again.json()["id"]) == (202, "true", 2)
    assert len(gateway.calls_of(LIST)) == 2  # the repeated request ran nothing


def test_only_an_admin_imports(client: TestClient, gateway: FakeGateway) -> None:
    answer = client.post(ROUTE, headers=token(client, "frontend"))
    assert answer.status_code == 403
    assert gateway.calls_of(LIST) == []


def test_an_unknown_run_is_404_and_a_bad_opco_422(client: TestClient, gateway: FakeGateway) -> None:
    admin = token(client, "admin")
    assert client.get(f"{ROUTE}/7", headers=admin).status_code == 404
    answer = client.post(f"/cfas/{CFA}/opcos/NOPE/imports", headers=admin)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_imported_dossiers_are_listed_with_their_origin(
    client: TestClient, services: Container, gateway: FakeGateway
) -> None:
    admin = token(client, "admin")
    client.post(ROUTE, headers=admin)
    services.worker.project_once()
    imported = client.get("/contracts?origin=imported", headers=admin).json()["items"]
    assert sorted(item["numeroExterne"] for item in imported) == ["ATLAS-1", "ATLAS-2"]
    assert {(item["origin"], item["state"], item["opco"], item["apprenticeName"]) for item in imported} == {
        ("imported", "accepted", "ATLAS", "DURAND Léa")
    }
    assert client.get("/contracts?origin=sent", headers=admin).json()["items"] == []
    dossier = client.get(f"/contracts/{imported[0]['id']}", headers=admin).json()
    assert (dossier["origin"], dossier["opcoSource"], dossier["mandate"], dossier["problems"]) == (
        "imported",
        "submission",
        None,
        [],
    )
    assert client.get("/contracts?origin=elsewhere", headers=admin).status_code == 422
    board = client.get("/dashboard", headers=admin).json()
    assert board["counts"]["accepted"] == {"ATLAS": 2}
