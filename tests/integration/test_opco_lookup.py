"""The OPCO lookup by SIRET against a fake CFA Dock served by a real HTTP server on loopback, its answers kept in
the real stores (SQLite and PostgreSQL)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from application.opco.opco_lookup import OpcoLookup
from domain.opco.opco_lookup import LookupOutcome
from domain.opco.opcos import Opco
from infrastructure.opco.cfadock import CfaDockDirectory
from infrastructure.opco.opco_lookup_cache import SqlLookupCache
from infrastructure.store.sql_store import SqlStore, open_sql_store
from tests.integration.sandbox_server import running_app

EMPLOYER = "84213657400022"
SLOW = "11111111111111"


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 11, 27, 9, tzinfo=UTC)

    def today(self) -> date:
        return date(2026, 11, 27)


class FakeCfaDock:
    """CFA Dock's `GET /api/opcos?siret=`: OPCO 2i for EMPLOYER, a hang for SLOW, NOT_FOUND for the rest."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.release = threading.Event()
        self.app = Starlette(routes=[Route("/api/opcos", self.opcos)])

    async def opcos(self, request: Request) -> Response:
        siret = request.query_params["siret"]
        self.calls.append(siret)
        if siret == SLOW:
            with anyio.move_on_after(30):
                while not self.release.is_set():
                    await anyio.sleep(0.01)
            return Response(status_code=504)
        if siret == EMPLOYER:
            return JSONResponse(
                {"searchStatus": "OK", "opcoName": "OPCO 2i", "idcc": 3248, "filters": {"siret": siret}}
            )
        return JSONResponse({"searchStatus": "NOT_FOUND", "filters": {"siret": siret}})


@pytest.fixture
def dock() -> Iterator[tuple[FakeCfaDock, str]]:
    fake = FakeCfaDock()
    with running_app(fake.app) as url:
        yield fake, f"{url}/api"
        fake.release.set()


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    opened = open_sql_store(database_url)
    yield opened
    opened.close()


def service(url: str, store: SqlStore, timeout: float = 5.0) -> tuple[OpcoLookup, CfaDockDirectory]:
    directory = CfaDockDirectory(url, FixedClock(), timeout=timeout)
    return OpcoLookup(directory, SqlLookupCache(store), FixedClock(), timedelta(days=30)), directory


def test_an_answer_over_http_is_kept_in_the_store_across_a_restart(
    dock: tuple[FakeCfaDock, str], store: SqlStore, database_url: str
) -> None:
    fake, url = dock
    first, directory = service(url, store)
    answer = first.answer_for(EMPLOYER)
    directory.close()
    assert (answer.outcome, answer.opco, answer.idcc) == (LookupOutcome.FOUND, Opco.OPCO2I, "3248")
    restarted_store = open_sql_store(database_url)  # another process: its own connections
    try:
        again, directory = service(url, restarted_store)
        assert again.answer_for(EMPLOYER) == answer
        directory.close()
    finally:
        restarted_store.close()
    assert fake.calls == [EMPLOYER]


def test_a_service_that_does_not_answer_in_time_gives_an_unavailable_answer(
    dock: tuple[FakeCfaDock, str], store: SqlStore
) -> None:
    fake, url = dock
    lookup, directory = service(url, store, timeout=0.2)
    try:
        assert lookup.answer_for(SLOW).outcome is LookupOutcome.UNAVAILABLE
    finally:
        fake.release.set()
        directory.close()
    assert SqlLookupCache(store).get(SLOW) is None  # not kept: asked again next time


def test_a_service_that_is_not_there_gives_an_unavailable_answer(store: SqlStore) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # a port nobody listens on
    port = sock.getsockname()[1]
    sock.close()
    lookup, directory = service(f"http://127.0.0.1:{port}/api", store, timeout=1.0)
    try:
        assert lookup.answer_for(EMPLOYER).outcome is LookupOutcome.UNAVAILABLE
    finally:
        directory.close()
