"""Least exposure: the NIRs are shown only to the roles that write the Cerfa, never to an auditor, never in a list."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

from application.access.access import Role
from application.access.exposure import PERSONAL_PATHS, RESTRICTED_PATHS, hidden_paths, visible
from domain.cerfa import Cerfa
from interfaces.bootstrap import Container
from tests.support import MANDATE, OPERATOR_TOKEN

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
NIRS = ("apprenti", "maitre1", "maitre2")


def test_an_auditor_sees_the_cerfa_without_its_nirs_and_the_writers_see_it_whole(
    complete_cerfa: dict[str, Any],
) -> None:
    cerfa = copy.deepcopy(complete_cerfa)
    cerfa["maitre2"] = {**cerfa["maitre1"], "nir": "186057511204586"}
    before = copy.deepcopy(cerfa)
    for role in (Role.FRONTEND, Role.ADMIN):
        assert visible(cerfa, role) == cerfa
        assert hidden_paths(cerfa, role) == []
    shown = visible(cerfa, Role.AUDITOR)
    assert hidden_paths(cerfa, Role.AUDITOR) == ["apprenti.nir", "maitre1.nir", "maitre2.nir"]
    assert all("nir" not in shown[person] for person in NIRS)
    assert shown["apprenti"]["nom"] == cerfa["apprenti"]["nom"]
    assert cerfa == before, "the data given is not changed"
    without = {**cerfa, "maitre2": {"nom": "Sans"}}
    assert hidden_paths(without, Role.AUDITOR) == ["apprenti.nir", "maitre1.nir"]


def test_every_path_named_is_a_field_of_the_cerfa() -> None:
    for path in (*PERSONAL_PATHS, *RESTRICTED_PATHS):
        model: Any = Cerfa
        for name in path:
            assert name in model.model_fields, path
            annotation = model.model_fields[name].annotation
            model = next(
                (a for a in getattr(annotation, "__args__", (annotation,)) if hasattr(a, "model_fields")), None
            )
    assert set(RESTRICTED_PATHS) <= set(PERSONAL_PATHS)


def token(client: TestClient, cfa: str, role: str) -> dict[str, str]:
    body = {"cfaSiret": cfa, "role": role, "name": role}
    issued = client.post("/admin/tokens", json=body, headers=OPERATOR).json()
    return {"Authorization": f"Bearer {issued['token']}"}


def test_the_api_shows_the_nir_to_the_writers_only_and_lists_never_show_it(
    client: TestClient, services: Container, complete_cerfa: dict[str, Any]
) -> None:
    cfa = complete_cerfa["organismeFormation"]["siret"]
    nirs = [complete_cerfa[person]["nir"] for person in NIRS if complete_cerfa.get(person, {}).get("nir")]
    assert len(nirs) == 2
    frontend, auditor = token(client, cfa, "frontend"), token(client, cfa, "auditor")
    without_nir = {**complete_cerfa, "apprenti": {k: v for k, v in complete_cerfa["apprenti"].items() if k != "nir"}}
    created = client.post("/contracts", json={"cerfa": without_nir}, headers=frontend)
    assert created.status_code == 201
    ident = created.json()["id"]
    patched = client.patch(
        f"/contracts/{ident}/cerfa",
        json={"apprenti": {"nir": nirs[0]}},
        headers={**frontend, "If-Match": '"1"', "Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["cerfa"]["apprenti"]["nir"] == nirs[0]
    assert patched.json()["hiddenFields"] == []
    client.post(f"/contracts/{ident}/mandate", json=MANDATE, headers=frontend)
    client.post(f"/contracts/{ident}/submission", headers=frontend)
    services.worker.project_once()

    for who in (frontend, OPERATOR):
        assert all(nir in client.get(f"/contracts/{ident}", headers=who).text for nir in nirs)
    audited = client.get(f"/contracts/{ident}", headers=auditor)
    assert audited.status_code == 200
    assert audited.json()["hiddenFields"] == ["cerfa.apprenti.nir", "cerfa.maitre1.nir"]
    assert audited.json()["cerfa"]["apprenti"]["nom"] == complete_cerfa["apprenti"]["nom"]
    assert not any(nir in audited.text for nir in nirs)
    assert not any(nir in client.get(f"/contracts/{ident}/rupture", headers=auditor).text for nir in nirs)
    assert all(nir in client.get(f"/contracts/{ident}/events", headers=frontend).text for nir in nirs)
    history = client.get(f"/contracts/{ident}/events", headers=auditor)
    assert history.status_code == 200
    assert history.json()[0]["data"]["cerfa"]["apprenti"]["nom"] == complete_cerfa["apprenti"]["nom"]
    assert [e["data"]["changes"] for e in history.json() if e["type"] == "CerfaPatched"] == [{"apprenti": {}}]
    assert not any(nir in history.text for nir in nirs)

    lists = ["/contracts", "/attention", "/dashboard", "/invoices", "/ruptures", f"/contracts?apprentice={'Dupont'}"]
    for who in (frontend, auditor, OPERATOR):
        for path in lists:
            answer = client.get(path, headers=who)
            assert answer.status_code == 200, (path, answer.text)
            assert not any(nir in answer.text for nir in nirs), path
