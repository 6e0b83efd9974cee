"""Each request's id, access record and HTTP metrics (interfaces/api/request_observer.py)."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from infrastructure.logs import ContextFilter
from interfaces.api.request_observer import RequestObserver
from interfaces.bootstrap import Container
from tests.support import MANDATE
from tests.unit.test_api import create, token

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The records logged, with the bound fields as the service's handler gives them."""
    caplog.handler.addFilter(ContextFilter())
    caplog.set_level(logging.DEBUG, logger="convergence")
    return caplog


def test_the_request_id_is_taken_from_the_client_when_sane(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:42"}).headers["X-Request-ID"] == "lb-7f3a:42"
    for insane in ("a" * 129, "two words", "<script>", ""):
        answered = client.get("/healthz", headers={"X-Request-ID": insane}).headers["X-Request-ID"]
        assert GENERATED.fullmatch(answered), insane
    first, second = (client.get("/nowhere").headers["X-Request-ID"] for _ in range(2))
    assert GENERATED.fullmatch(first)
    assert first != second


def test_every_record_of_a_request_carries_its_id(
    client: TestClient, records: pytest.LogCaptureFixture, complete_cerfa: dict[str, Any]
) -> None:
    auth = token(client, complete_cerfa["organismeFormation"]["siret"])
    records.clear()
    created = client.post("/contracts", json={"cerfa": complete_cerfa}, headers={**auth, "X-Request-ID": "req-create"})
    assert created.status_code == 201
    ours = [record for record in records.records if record.name.startswith("convergence")]
    assert {getattr(record, "request_id", None) for record in ours} == {"req-create"}
    saved = next(record for record in ours if record.name == "convergence.commands")
    assert (saved.aggregate_id, saved.version) == (created.json()["id"], 1)  # type: ignore[attr-defined]
    assert saved.events == ["Drafted"]  # type: ignore[attr-defined]
    access = next(record for record in ours if record.name == "convergence.access")
    assert access.levelno == logging.INFO
    fields = {name: getattr(access, name) for name in ("method", "route", "path", "status")}
    assert fields == {"method": "POST", "route": "/contracts", "path": "/contracts", "status": 201}
    assert access.duration_ms > 0  # type: ignore[attr-defined]


def test_an_unexpected_failure_is_logged_with_the_request_id(
    client: TestClient, services: Container, records: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("broken")

    monkeypatch.setattr(services.dossiers, "contract", broken)
    auth = token(client, "73282932000074")
    url = "/contracts/4b0c1f0e-2f57-4a59-9b55-6a2b1a5b5d11"
    answer = client.get(url, headers={**auth, "X-Request-ID": "req-500"})
    assert answer.status_code == 500
    assert answer.headers["X-Request-ID"] == "req-500"  # for the client to quote
    failure = next(record for record in records.records if record.name == "convergence.api")
    assert getattr(failure, "request_id", None) == "req-500"
    access = [r for r in records.records if r.name == "convergence.access" and r.path == url]  # type: ignore[attr-defined]
    assert [(r.status, r.request_id) for r in access] == [(500, "req-500")]  # type: ignore[attr-defined]


def mounted_app() -> FastAPI:
    app, sandbox = FastAPI(), FastAPI()

    @app.get("/items/{item_id}")
    def item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    @sandbox.get("/opcos/{code}/v1/dossiers/etats")
    def states(code: str) -> list[str]:
        return []

    app.mount("/sandbox", sandbox)
    app.add_middleware(RequestObserver)
    return app


def test_access_records_name_the_route_template_and_keep_the_sandbox_quiet(records: pytest.LogCaptureFixture) -> None:
    with TestClient(mounted_app()) as client:
        client.get("/items/42")
        client.get("/sandbox/opcos/AKTO/v1/dossiers/etats?numeroPage=1")
        client.get("/items")
    access = [(r.levelno, r.route, r.path, r.status) for r in records.records if r.name == "convergence.access"]  # type: ignore[attr-defined]
    assert access == [
        (logging.INFO, "/items/{item_id}", "/items/42", 200),
        (logging.DEBUG, "/sandbox/opcos/{code}/v1/dossiers/etats", "/sandbox/opcos/AKTO/v1/dossiers/etats", 200),
        (logging.INFO, "unmatched", "/items", 404),
    ]


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = client.get("/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_http_requests_are_counted_and_timed_by_route_template(
    client: TestClient, complete_cerfa: dict[str, Any]
) -> None:
    auth = token(client, complete_cerfa["organismeFormation"]["siret"])
    ident = create(client, auth, complete_cerfa).json()["id"]
    route = (("method", "GET"), ("route", "/contracts/{contract_id}"))
    before = scrape(client)
    client.get(f"/contracts/{ident}", headers=auth)
    client.get(f"/contracts/{ident}", headers=auth)
    client.get("/contracts/4b0c1f0e-2f57-4a59-9b55-6a2b1a5b5d11", headers=auth)
    client.request("PROPFIND", f"/contracts/{ident}", headers=auth)
    after = scrape(client)

    def grew(name: str, labels: tuple[tuple[str, str], ...]) -> float:
        return after[(name, labels)] - before.get((name, labels), 0.0)

    assert grew("convergence_http_requests_total", (*route, ("status", "200"))) == 2
    assert grew("convergence_http_requests_total", (*route, ("status", "404"))) == 1
    assert grew("convergence_http_request_duration_seconds_count", route) == 3
    assert grew("convergence_http_request_duration_seconds_bucket", (("le", "+Inf"), *route)) == 3
    assert grew("convergence_http_request_duration_seconds_sum", route) > 0
    assert not any(ident in dict(labels).get("route", "") for _, labels in after)  # never the raw path
    other = (("method", "OTHER"), ("route", "/contracts/{contract_id}"), ("status", "405"))
    assert grew("convergence_http_requests_total", other) == 1  # a method of the client's own: no label of its own
    assert not any(dict(labels).get("method") == "PROPFIND" for _, labels in after)


def test_each_opcos_queue_depth_and_parked_count(
    client: TestClient, services: Container, complete_cerfa: dict[str, Any]
) -> None:
    auth = token(client, complete_cerfa["organismeFormation"]["siret"])
    ident = create(client, auth, complete_cerfa).json()["id"]
    client.post(f"/contracts/{ident}/mandate", json=MANDATE, headers=auth)
    assert client.post(f"/contracts/{ident}/submission", headers=auth).status_code == 202
    services.worker.project_once()
    queue = (("kind", "dossier"), ("opco", "ATLAS"))
    assert scrape(client)[("convergence_opco_queue", (*queue, ("status", "pending")))] == 1

    services.dossiers.change_as_worker(ident, lambda contract: contract.park_transmission("tests", "worker"))
    services.worker.project_once()
    figures = scrape(client)
    assert figures[("convergence_opco_queue", (*queue, ("status", "parked")))] == 1
    assert ("convergence_opco_queue", (*queue, ("status", "pending"))) not in figures


def test_the_access_record_keeps_the_query_without_the_values_of_personal_parameters(
    records: pytest.LogCaptureFixture,
) -> None:
    with TestClient(mounted_app()) as client:
        client.get("/items", params=[("state", "sent"), ("apprentice", "Dupont Léa"), ("limit", "20")])
        client.get("/items", params={"employerSiret": "12345678901234", "cursor": "abc", "L%C3%A9a": "Dupont"})
        client.get("/items/42")
    queries = [getattr(r, "query", None) for r in records.records if r.name == "convergence.access"]
    assert queries == ["state=sent&apprentice=*&limit=20", "employerSiret=*&cursor=*&*=*", None]
    logged = "\n".join(str(vars(r)) for r in records.records)
    for personal in ("Dupont", "Léa", "L%C3%A9a", "12345678901234"):
        assert personal not in logged
