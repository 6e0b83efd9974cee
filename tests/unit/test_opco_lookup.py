"""The optional lookup of the employer's OPCO by SIRET, against a fake CFA Dock (httpx.MockTransport)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi.testclient import TestClient

from application.access.access import OPERATOR
from application.opco.opco_lookup import OpcoLookup
from application.read_models.status_projection import project
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import Contract
from domain.opco.opco_lookup import LookupOutcome
from domain.opco.opcos import Opco
from infrastructure.opco.cfadock import CfaDockDirectory
from infrastructure.opco.opco_lookup_cache import SqlLookupCache
from infrastructure.reference_data import idcc_routing
from infrastructure.store.sql_store import SqlStore, open_sql_store
from interfaces.api.app import create_app
from interfaces.bootstrap import Container
from tests.support import MANDATE, OPERATOR_TOKEN, container, settings, with_changes

ROUTING = idcc_routing()
EMPLOYER = "84213657400022"  # the complete example's employer; its IDCC 1486 routes to ATLAS
OTHER_EMPLOYER = "73282932000074"
Reply = Callable[[httpx.Request], httpx.Response]


class FakeCfaDock:
    """Answers GET /api/opcos?siret= as CFA Dock does; counts the calls; `reply` replaces the answer."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.opcos: dict[str, tuple[str, str, int | None]] = {}  # SIRET → (searchStatus, opcoName, idcc)
        self.reply: Reply | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/opcos"
        siret = request.url.params["siret"]
        self.calls.append(siret)
        if self.reply is not None:
            return self.reply(request)
        status, name, idcc = self.opcos.get(siret, ("NOT_FOUND", "", None))
        body = {"searchStatus": status, "opcoName": name, "idcc": idcc, "opcoSiren": "851296632", "url": None}
        return httpx.Response(200, json={**body, "filters": {"siret": siret}})


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 27, 9, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def today(self) -> date:
        return self.at.date()


def lookup(store: SqlStore, dock: FakeCfaDock, clock: Any, ttl: timedelta = timedelta(days=30)) -> OpcoLookup:
    client = httpx.Client(transport=httpx.MockTransport(dock))
    directory = CfaDockDirectory("https://cfadock.test/api/", clock, timeout=1.0, client=client)
    return OpcoLookup(directory, SqlLookupCache(store), clock, ttl)


def down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.fixture
def dock() -> FakeCfaDock:
    return FakeCfaDock()


@pytest.fixture
def store() -> Iterator[SqlStore]:
    opened = open_sql_store("memory://")
    yield opened
    opened.close()


# -- the service and its cache ----------------------------------------------------------------------------------


def test_the_lookup_is_off_by_default_and_then_nothing_is_asked(complete_cerfa: dict[str, Any]) -> None:
    assert settings().opco_lookup_enabled is False
    built = container()
    try:
        assert built.opco_directory is None
        assert built.dossiers.opco_lookup is None
        with TestClient(create_app(built), raise_server_exceptions=False) as client:
            created = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=cfa_token(client))
        assert created.json()["opcoLookup"] is None
        assert created.json()["opcoSource"] == "idcc"
        assert [e["type"] for e in client_history(built, created.json()["id"])] == ["Drafted"]
    finally:
        built.close()


def test_an_answer_is_asked_once_then_read_from_the_store_until_its_lifetime_ends(
    store: SqlStore, dock: FakeCfaDock
) -> None:
    dock.opcos[EMPLOYER] = ("OK", "OPCO ATLAS", 1486)
    clock = Clock()
    first = lookup(store, dock, clock).answer_for(EMPLOYER)
    assert (first.outcome, first.opco, first.idcc) == (LookupOutcome.FOUND, Opco.ATLAS, "1486")
    assert lookup(store, dock, clock).answer_for(EMPLOYER) == first  # a restarted process: the store answers
    assert dock.calls == [EMPLOYER]
    clock.at += timedelta(days=30)
    lookup(store, dock, clock).answer_for(EMPLOYER)
    assert dock.calls == [EMPLOYER, EMPLOYER]


def test_a_lookup_that_cannot_be_made_is_not_kept(store: SqlStore, dock: FakeCfaDock) -> None:
    dock.reply = down
    service = lookup(store, dock, Clock())
    assert service.answer_for(EMPLOYER).outcome is LookupOutcome.UNAVAILABLE
    dock.reply = None
    dock.opcos[EMPLOYER] = ("OK", "OPCO ATLAS", 1486)
    assert service.answer_for(EMPLOYER).outcome is LookupOutcome.FOUND
    assert dock.calls == [EMPLOYER, EMPLOYER]


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        (lambda r: httpx.Response(503, text="maintenance"), LookupOutcome.UNAVAILABLE),
        (lambda r: httpx.Response(200, text="<html>not json</html>"), LookupOutcome.UNAVAILABLE),
        (lambda r: httpx.Response(200, json={"searchStatus": "SOMETHING_ELSE"}), LookupOutcome.UNAVAILABLE),
        (
            lambda r: httpx.Response(200, json={"searchStatus": "OK", "opcoName": "Opco inconnu"}),
            LookupOutcome.UNAVAILABLE,
        ),
        (
            lambda r: httpx.Response(200, json={"searchStatus": "MULTIPLE_OPCO", "opcoName": None}),
            LookupOutcome.MULTIPLE,
        ),
        (lambda r: httpx.Response(200, json={"searchStatus": "NOT_FOUND"}), LookupOutcome.NOT_FOUND),
        (down, LookupOutcome.UNAVAILABLE),
    ],
)
def test_every_failure_is_an_unavailable_answer(
    store: SqlStore, dock: FakeCfaDock, reply: Reply, outcome: LookupOutcome
) -> None:
    dock.reply = reply
    answer = lookup(store, dock, Clock()).answer_for(EMPLOYER)
    assert (answer.outcome, answer.opco) == (outcome, None)


# -- on the dossier ---------------------------------------------------------------------------------------------


@pytest.fixture
def services(dock: FakeCfaDock) -> Iterator[Container]:
    built = container()
    built.dossiers.opco_lookup = lookup(built.store, dock, built.dossiers.clock)
    yield built
    built.close()


@pytest.fixture
def client(services: Container) -> Iterator[TestClient]:
    with TestClient(create_app(services), raise_server_exceptions=False) as test_client:
        yield test_client


def cfa_token(client: TestClient) -> dict[str, str]:
    response = client.post(
        "/admin/tokens",
        json={"cfaSiret": "79852413800012", "role": "frontend", "name": "lookup"},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    return {"Authorization": f"Bearer {response.json()['token']}"}


def client_history(services: Container, ident: str) -> list[dict[str, Any]]:
    return services.dossiers.history(OPERATOR, UUID(ident))


def test_a_disagreeing_lookup_decides_the_opco_and_says_so(
    client: TestClient, dock: FakeCfaDock, complete_cerfa: dict[str, Any]
) -> None:
    dock.opcos[EMPLOYER] = ("OK", "Opco entreprises de proximité", 1486)
    auth = cfa_token(client)
    dossier = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=auth).json()
    assert (dossier["opco"], dossier["opcoSource"]) == ("OPCOEP", "lookup")
    assert dossier["opcoLookup"] | {"checkedAt": None} == {
        "siret": EMPLOYER,
        "outcome": "found",
        "opco": "OPCOEP",
        "opcoName": "Opco entreprises de proximité",
        "idcc": "1486",
        "source": "cfadock",
        "checkedAt": None,
        "appliesToCerfa": True,
        "tableOpco": "ATLAS",
        "agreesWithTable": False,
        "note": "the lookup by SIRET gives OPCOEP where the IDCC table gives ATLAS: the lookup decides",
    }
    url = f"/contracts/{dossier['id']}"
    assert client.post(f"{url}/mandate", json=MANDATE, headers=auth).status_code == 200
    submitted = client.post(f"{url}/submission", headers=auth)
    assert submitted.status_code == 202, submitted.text
    assert submitted.json()["opco"] == "OPCOEP"


def test_a_confirming_lookup_is_shown_as_such(
    client: TestClient, dock: FakeCfaDock, complete_cerfa: dict[str, Any]
) -> None:
    dock.opcos[EMPLOYER] = ("OK", "OPCO ATLAS", 1486)
    dossier = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=cfa_token(client)).json()
    assert (dossier["opco"], dossier["opcoSource"]) == ("ATLAS", "lookup")
    assert dossier["opcoLookup"]["agreesWithTable"] is True
    assert dossier["opcoLookup"]["note"] == "the lookup by SIRET confirms the IDCC table: ATLAS"


def test_when_the_service_is_down_the_table_decides_and_the_dossier_says_the_lookup_failed(
    client: TestClient, dock: FakeCfaDock, complete_cerfa: dict[str, Any]
) -> None:
    dock.reply = down
    auth = cfa_token(client)
    created = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=auth)
    assert created.status_code == 201, created.text
    dossier = created.json()
    assert (dossier["opco"], dossier["opcoSource"]) == ("ATLAS", "idcc")
    assert dossier["opcoLookup"]["outcome"] == "unavailable"
    assert dossier["opcoLookup"]["note"] == "the OPCO lookup by SIRET could not be made: the IDCC table's answer stands"
    assert [p["code"] for p in dossier["problems"]] == ["mandate_missing"]

    dock.reply = None  # back up: the next change of the Cerfa asks again
    dock.opcos[EMPLOYER] = ("OK", "OPCO 2i", 3248)
    patched = client.patch(
        f"/contracts/{dossier['id']}/cerfa",
        json={"apprenti": {"nomUsage": "Durand"}},
        headers={**auth, "If-Match": created.headers["ETag"], "Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["opco"], patched.json()["opcoLookup"]["outcome"]) == ("OPCO2I", "found")
    assert dock.calls == [EMPLOYER, EMPLOYER]


def test_a_lookup_is_made_once_per_siret_and_again_when_the_employer_changes(
    client: TestClient, dock: FakeCfaDock, complete_cerfa: dict[str, Any]
) -> None:
    dock.opcos[OTHER_EMPLOYER] = ("OK", "AKTO / Opco entreprises et salariés des services à forte intensité", 1979)
    auth = cfa_token(client)
    created = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=auth)
    assert created.json()["opcoLookup"]["outcome"] == "not_found"
    headers = {**auth, "Content-Type": "application/merge-patch+json"}
    url = f"/contracts/{created.json()['id']}/cerfa"
    same = client.patch(url, json={"apprenti": {"nomUsage": "Durand"}}, headers={**headers, "If-Match": '"2"'})
    assert dock.calls == [EMPLOYER]  # the dossier holds the answer for this SIRET
    moved = client.patch(
        url, json={"employeur": {"siret": OTHER_EMPLOYER}}, headers={**headers, "If-Match": same.headers["ETag"]}
    )
    assert (moved.json()["opco"], moved.json()["opcoLookup"]["siret"]) == ("AKTO", OTHER_EMPLOYER)
    assert dock.calls == [EMPLOYER, OTHER_EMPLOYER]


def test_an_explicit_choice_still_wins_over_the_lookup(
    client: TestClient, dock: FakeCfaDock, complete_cerfa: dict[str, Any]
) -> None:
    dock.opcos[EMPLOYER] = ("OK", "OPCO EP", 1486)
    dossier = client.post(
        "/contracts", json={"cerfa": complete_cerfa, "opco": "AFDAS"}, headers=cfa_token(client)
    ).json()
    assert (dossier["opco"], dossier["opcoSource"]) == ("AFDAS", "chosen")
    assert dossier["opcoLookup"]["opco"] == "OPCOEP"


def test_a_lookup_answers_where_the_table_routes_nowhere(
    client: TestClient, dock: FakeCfaDock, complete_cerfa: dict[str, Any]
) -> None:
    dock.opcos[EMPLOYER] = ("OK", "OPCO EP", None)
    no_agreement = with_changes(complete_cerfa, employeur={"codeIdcc": "9999"})
    dossier = client.post("/contracts", json={"cerfa": no_agreement}, headers=cfa_token(client)).json()
    assert (dossier["opco"], dossier["opcoSource"]) == ("OPCOEP", "lookup")
    assert "opco_required" not in {p["code"] for p in dossier["problems"]}
    assert dossier["opcoLookup"]["note"] == "the lookup by SIRET gives OPCOEP; the IDCC table names no OPCO"


def test_the_status_row_shows_and_counts_what_the_dossier_shows(
    store: SqlStore, dock: FakeCfaDock, complete_cerfa: dict[str, Any]
) -> None:
    dock.opcos[EMPLOYER] = ("OK", "OPCO EP", None)
    document = with_changes(complete_cerfa, employeur={"codeIdcc": "9999"})
    contract = Contract.draft(
        cfa_siret="79852413800012", numero_interne="L-1", cerfa=parse_cerfa(document), opco=None, actor="a"
    )
    lookup(store, dock, Clock()).update(contract, "a")
    memo, row = None, None
    for position, event in enumerate(contract.collect_events(), start=1):
        memo, row = project(event, memo, position, ROUTING)
    assert row is not None
    assert row.opco == "OPCOEP"
    assert row.problem_count == len(contract.problems(ROUTING)) == 1  # the mandate only
