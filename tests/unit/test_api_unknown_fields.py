"""Unknown JSON fields are refused, everywhere in the API: 422 naming the field (`unknown_field`), nothing stored.
A misspelt field silently dropped would lose what the client meant to send (a NIR, a date of rupture)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from interfaces.bootstrap import Container
from tests.support import MANDATE, OPERATOR_TOKEN

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def _object_schemas(node: Any, document: dict[str, Any], seen: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, list):
        for item in node:
            yield from _object_schemas(item, document, seen)
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            schema = document["components"]["schemas"][name]
            yield name, schema
            yield from _object_schemas(schema, document, seen)
        return
    for value in node.values():
        yield from _object_schemas(value, document, seen)


def test_every_json_body_the_api_takes_refuses_fields_it_does_not_define(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    bodies = [
        (f"{method.upper()} {path}", content["schema"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for media, content in operation.get("requestBody", {}).get("content", {}).items()
        if media == "application/json" and "$ref" in str(content["schema"])
    ]
    assert len(bodies) >= 15
    for operation, schema in bodies:
        for name, found in _object_schemas(schema, document, set()):
            if found.get("type") == "object" and "properties" in found:
                assert found.get("additionalProperties") is False, f"{operation}: {name} accepts unknown fields"


def refused_field(answer: Any) -> list[tuple[str, str]]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    return [(e["field"], e["code"]) for e in answer.json()["errors"]]


def test_an_unknown_field_is_named_in_the_422_and_nothing_is_stored(
    client: TestClient, services: Container, complete_cerfa: dict[str, Any]
) -> None:
    cerfa = {**complete_cerfa, "apprenti": {**complete_cerfa["apprenti"], "nirr": "1"}}
    assert refused_field(client.post("/contracts", json={"cerfa": cerfa}, headers=OPERATOR)) == [
        ("cerfa.apprenti.nirr", "unknown_field")
    ]
    assert refused_field(
        client.post("/contracts", json={"cerfa": complete_cerfa, "opcoo": "AKTO"}, headers=OPERATOR)
    ) == [("opcoo", "unknown_field")]
    assert services.dossiers.recorder.max_notification_id() in (None, 0)

    ident = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=OPERATOR).json()["id"]
    mandate = {**MANDATE, "signatory": {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante", "fonction": "x"}}
    assert refused_field(client.post(f"/contracts/{ident}/mandate", json=mandate, headers=OPERATOR)) == [
        ("signatory.fonction", "unknown_field")
    ]
    patch = client.patch(
        f"/contracts/{ident}/cerfa",
        json={"apprenti": {"prenon": "Léa"}},
        headers={**OPERATOR, "If-Match": '"1"', "Content-Type": "application/merge-patch+json"},
    )
    assert refused_field(patch) == [("cerfa.apprenti.prenon", "unknown_field")]
    token = {"cfaSiret": complete_cerfa["organismeFormation"]["siret"], "role": "frontend", "name": "t", "ttl": 3}
    assert refused_field(client.post("/admin/tokens", json=token, headers=OPERATOR)) == [("ttl", "unknown_field")]
    imports = client.post("/cfas/79852413800012/opcos/AKTO/imports", json={"dryrun": True}, headers=OPERATOR)
    assert refused_field(imports) == [("dryrun", "unknown_field")]
