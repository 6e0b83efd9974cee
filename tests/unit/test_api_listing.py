"""Lists, dashboard and attention over the REST API, in-process on the in-memory store."""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
from decimal import Decimal
from typing import Any

import orjson
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from application.read_models.status import Dashboard, list_item, row_from_stored
from application.read_models.status_queries import KEY_CACHE_SECONDS, StatusQueries
from domain.opco.opcos import Opco
from infrastructure.read_models.status_view import rebuild_status_view
from interfaces.api.contracts.schemas import ContractPage
from interfaces.api.problem_details import install_problem_handlers
from interfaces.api.read_models import listing
from interfaces.bootstrap import Container
from tests.support import MANDATE, OPERATOR_TOKEN, FixedClock, principal, with_changes

OTHER_CFA = "73282932000074"


def token(client: TestClient, cfa: str) -> dict[str, str]:
    issued = client.post(
        "/admin/tokens",
        json={"cfaSiret": cfa, "role": "admin", "name": "list"},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    ).json()
    return {"Authorization": f"Bearer {issued['token']}"}


@pytest.fixture
def cfa(client: TestClient, complete_cerfa: dict[str, Any]) -> dict[str, str]:
    return token(client, complete_cerfa["organismeFormation"]["siret"])


def create(client: TestClient, auth: dict[str, str], cerfa: dict[str, Any], numero: str) -> dict[str, Any]:
    answer = client.post("/contracts", json={"numeroInterne": numero, "cerfa": cerfa}, headers=auth)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_a_page_lists_the_cfa_dossiers_newest_first_without_the_cerfa(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    for n in range(3):
        create(client, cfa, complete_cerfa, f"L-{n}")
    other_cerfa = with_changes(complete_cerfa, organismeFormation={"siret": OTHER_CFA})
    create(client, token(client, OTHER_CFA), other_cerfa, "OTHER-1")
    services.worker.project_once()

    page = client.get("/contracts", headers=cfa)
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    assert [i["numeroInterne"] for i in items] == ["L-2", "L-1", "L-0"]
    assert items[0]["apprenticeName"]
    assert items[0]["employerSiret"] == complete_cerfa["employeur"]["siret"]
    assert "cerfa" not in items[0]
    assert complete_cerfa["apprenti"]["nir"] not in page.text
    assert page.json()["nextCursor"] is None


def test_pages_follow_the_cursor_and_the_link_header(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    for n in range(5):
        create(client, cfa, complete_cerfa, f"P-{n}")
    services.worker.project_once()
    seen: list[str] = []
    url = "/contracts?limit=2"
    while url:
        answer = client.get(url, headers=cfa)
        seen += [i["numeroInterne"] for i in answer.json()["items"]]
        link = answer.headers.get("link")
        url = link.split(">")[0].lstrip("<").replace("http://testserver", "") if link else ""
        assert (link is None) == (answer.json()["nextCursor"] is None)
    assert seen == ["P-4", "P-3", "P-2", "P-1", "P-0"]


def test_filters(client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]) -> None:
    complete = create(client, cfa, complete_cerfa, "F-1")
    client.post(f"/contracts/{complete['id']}/mandate", json=MANDATE, headers=cfa)
    create(client, cfa, with_changes(complete_cerfa, apprenti={"nom": "Éloïse-Dupré"}), "F-2")
    services.worker.project_once()

    def numeros(query: str) -> list[str]:
        answer = client.get(f"/contracts?{query}", headers=cfa)
        assert answer.status_code == 200, answer.text
        return sorted(i["numeroInterne"] for i in answer.json()["items"])

    assert numeros("state=mandate_checked") == ["F-1"]
    assert numeros("state=drafted&state=mandate_checked") == ["F-1", "F-2"]
    assert numeros("apprentice=eloise") == ["F-2"]
    assert numeros("apprentice=DUPRE") == ["F-2"]
    assert numeros("problems=true") == ["F-2"]
    assert numeros("problems=false") == ["F-1"]
    assert numeros("opco=ATLAS") == ["F-1", "F-2"]
    assert numeros("opco=AKTO") == []
    assert numeros(f"employerSiret={complete_cerfa['employeur']['siret']}") == ["F-1", "F-2"]
    assert client.get("/contracts?state=nowhere", headers=cfa).status_code == 422
    assert client.get("/contracts?cursor=not-a-cursor", headers=cfa).status_code == 422
    assert client.get("/contracts?limit=501", headers=cfa).status_code == 422


def test_read_your_writes(
    client: TestClient,
    services: Container,
    cfa: dict[str, str],
    complete_cerfa: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(listing, "READ_YOUR_WRITES_SECONDS", 0.2)
    created = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=cfa)
    position = created.headers["X-Position"]
    behind = client.get(f"/contracts?minPosition={position}", headers=cfa)
    assert behind.status_code == 503
    assert behind.headers["Retry-After"] == "1"
    services.worker.project_once()
    caught_up = client.get(f"/contracts?minPosition={position}", headers=cfa)
    assert caught_up.status_code == 200
    assert [i["id"] for i in caught_up.json()["items"]] == [created.json()["id"]]


def test_dashboard_and_attention(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    first = create(client, cfa, complete_cerfa, "D-1")
    create(client, cfa, complete_cerfa, "D-2")
    client.post(f"/contracts/{first['id']}/mandate", json=MANDATE, headers=cfa)
    client.post(f"/contracts/{first['id']}/submission", headers=cfa)
    services.worker.project_once()

    board = client.get("/dashboard", headers=cfa).json()
    assert board["counts"] == {"submitted": {"ATLAS": 1}, "drafted": {"ATLAS": 1}}
    assert board["waitingForKey"] == 1  # no key at ATLAS: the submitted one waits
    assert board["parked"] == 0

    attention = {i["numeroInterne"]: i["reasons"] for i in client.get("/attention", headers=cfa).json()}
    # the example contract started on 2026-09-01: its deposit deadline has passed for both, unsent
    assert "deposit_deadline_passed" in attention["D-1"]
    assert "no_mandate" in attention["D-2"]
    assert "no_mandate" not in attention["D-1"]


def test_a_page_of_stored_items_is_the_documented_page_of_the_rows() -> None:
    """The list's hot path (each version's list item as stored, joined into the page) gives the documented
    ContractPage, with the values of the rows: amounts with two places, moments in ISO form, text escaped."""
    base: tuple[Any, ...] = (
        "0b6f3c8e-4d2a-4c41-9a7e-5a4f0b1d2c3e",
        42,
        "79852413800012",
        "A-1",
        "accepted",
        "ATLAS",
        "DUPRÉ-LEFÈVRE Éloïse",
        'Nébula "Conseil"',
        "84213657400022",
        "RNCP35340",
        "BTS Services informatiques aux organisations",
        "2026-09-01",
        "2028-08-31",
        "EXT-1",
        "DECA-1",
        "ENGAGE",
        0,
        1,
        0,
        "12345.6",
        1_767_225_600.0,  # a whole second: no fraction written
        1_767_312_000.123456,
        1_767_300_000.5,
        1_767_301_000.000001,
        "69",
        "imported",
    )
    variants = [
        base,
        (*base[:5], *[None] * 11, 3, 0, 1, None, *base[20:22], None, None, None, "sent"),  # what a draft may lack
        (*base[:11], "20260901", *base[12:19], "1000.005", *base[20:]),  # a date stored in another ISO form
    ]
    rows = [row_from_stored(stored) for stored in variants]
    stored_items = [orjson.dumps(list_item(row)).decode() for row in rows]
    body = listing.page_body(stored_items, "next")
    assert json.loads(body) == {"items": [list_item(row) for row in rows], "nextCursor": "next"}
    page = ContractPage.model_validate_json(body)
    assert [item.id for item in page.items] == [row.contract_id for row in rows]
    first = json.loads(body)["items"][0]
    assert first["employerName"] == 'Nébula "Conseil"'
    assert (first["commitment"], first["createdAt"]) == ("12345.60", "2026-01-01T00:00:00+00:00")
    assert first["updatedAt"] == "2026-01-02T00:00:00.123456+00:00"
    assert json.loads(body)["items"][2]["startDate"] == "2026-09-01"
    assert json.loads(listing.page_body([], None)) == {"items": [], "nextCursor": None}


def test_the_list_query_is_validated_as_fastapi_validates_its_documented_parameters() -> None:
    """GET /contracts validates its query with one model made from the documented signature: the same values and
    the same 422 problems as FastAPI's own validation of that signature."""
    reference = FastAPI()
    install_problem_handlers(reference)
    fast = FastAPI()
    install_problem_handlers(fast)

    def by_fastapi(**values: Any) -> dict[str, Any]:
        return values

    documented = inspect.signature(listing._documented_query, eval_str=True)
    by_fastapi.__signature__ = documented.replace(return_annotation=dict[str, Any])  # type: ignore[attr-defined]
    reference.get("/q")(by_fastapi)

    @fast.get("/q")
    def by_the_model(request: Request) -> dict[str, Any]:
        return dict(listing._list_query(request).model_dump())

    queries = [
        "",
        "limit=10&cursor=abc&minPosition=3",
        "state=drafted&state=sent&opco=AKTO&problems=yes&parked=0",
        "employerSiret=84213657400022&formationRncp=RNCP1&apprentice=le&updatedSince=2026-01-02T03:04:05Z",
        "limit=5&limit=7",
        "state=nowhere&opco=NOPE&limit=0&minPosition=-1&employerSiret=12&apprentice=x&updatedSince=soon",
        "problems=maybe&limit=501&formationRncp=" + "R" * 21,
        "unknown=1",
    ]
    with TestClient(reference) as by_fastapi_client, TestClient(fast) as fast_client:
        for query in queries:
            expected, got = by_fastapi_client.get(f"/q?{query}"), fast_client.get(f"/q?{query}")
            assert (got.status_code, got.json()) == (expected.status_code, expected.json()), query


def test_the_dashboard_reads_each_opco_account_once_in_a_while(services: Container) -> None:
    """waitingForKey asks whether the CFA has a usable key at each OPCO its submitted dossiers go to: the answer is
    kept KEY_CACHE_SECONDS, then read again (a key set meanwhile shows then)."""
    reads: list[tuple[str, Opco]] = []
    usable = {"ATLAS": False}

    class Accounts:
        def usable(self, cfa_siret: str, opco: Opco) -> bool:
            reads.append((cfa_siret, opco))
            return usable.get(opco.value, True)

    now = [100.0]
    queries = StatusQueries(
        services.status_view,
        Accounts(),  # type: ignore[arg-type]
        FixedClock(),
        "Dossiers",
        monotonic=lambda: now[0],
    )
    assert [queries._usable("1", "ATLAS") for _ in range(3)] == [False] * 3
    assert (queries._usable("1", "AKTO"), queries._usable("1", "NOT-AN-OPCO")) == (True, False)
    assert reads == [("1", Opco.ATLAS), ("1", Opco.AKTO)]
    usable["ATLAS"] = True
    now[0] += KEY_CACHE_SECONDS - 0.1
    assert queries._usable("1", "ATLAS") is False
    now[0] += 0.2
    assert queries._usable("1", "ATLAS") is True
    assert len(reads) == 3


def test_a_walk_begun_before_a_rebuild_is_told_to_start_again(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    for n in range(3):
        create(client, cfa, complete_cerfa, f"W-{n}")
    services.worker.project_once()
    first = client.get("/contracts?limit=2", headers=cfa).json()
    create(client, cfa, complete_cerfa, "W-3")  # the rebuilt view ends past the walk's position
    rebuild_status_view(services.store, services.dossiers.routing, services.dossiers)
    expired = client.get(f"/contracts?limit=2&cursor={first['nextCursor']}", headers=cfa)
    assert expired.status_code == 410, expired.text
    assert expired.headers["content-type"] == "application/problem+json"
    assert expired.json()["type"] == "urn:convergence:problem:cursor-expired"
    again = client.get("/contracts?limit=10", headers=cfa).json()
    assert [i["numeroInterne"] for i in again["items"]] == ["W-3", "W-2", "W-1", "W-0"]


def test_the_dashboard_reads_unknown_keys_off_the_event_loop_and_known_ones_from_memory() -> None:
    """StatusQueries.dashboard runs on the event loop: an account not known from the last KEY_CACHE_SECONDS is read
    (from the event store) in a worker thread; while every one is known, nothing is read at all."""
    reads: list[tuple[Opco, str]] = []

    class Accounts:
        def usable(self, cfa_siret: str, opco: Opco) -> bool:
            reads.append((opco, threading.current_thread().name))
            return opco is not Opco.ATLAS

    class View:
        async def adashboard(self, cfa_siret: str | None) -> Dashboard:
            counts = {"submitted": {"ATLAS": 2, "AKTO": 1}, "drafted": {"ATLAS": 5}}
            return Dashboard(counts=counts, committed=Decimal(0), parked=0, oldest_pending={}, as_of=7)

    now = [100.0]
    queries = StatusQueries(View(), Accounts(), FixedClock(), "Dossiers", monotonic=lambda: now[0])  # type: ignore[arg-type]
    who = principal("79852413800012")

    async def twice() -> list[int]:
        loop_thread = threading.current_thread().name
        first = await queries.dashboard(who)
        assert sorted(opco for opco, _ in reads) == [Opco.AKTO, Opco.ATLAS]
        assert all(thread != loop_thread for _, thread in reads)
        second = await queries.dashboard(who)
        assert len(reads) == 2  # both known: nothing read
        now[0] += KEY_CACHE_SECONDS + 1
        third = await queries.dashboard(who)
        assert len(reads) == 4
        return [board.extra["waitingForKey"] for board in (first, second, third)]

    assert asyncio.run(twice()) == [2, 2, 2]  # the two submitted to ATLAS, where the CFA has no usable key
