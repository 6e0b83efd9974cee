"""A database that cannot be reached, or is too busy, answers 503 with Retry-After: the request may be sent again;
any other failure stays a 500."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
import pytest
from eventsourcing import persistence
from fastapi.testclient import TestClient
from psycopg_pool import PoolTimeout

from interfaces.bootstrap import Container
from tests.support import OPERATOR_TOKEN

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused"),
        PoolTimeout("couldn't get a connection after 30.00 sec"),
        persistence.OperationalError("server closed the connection unexpectedly"),
        sqlite3.OperationalError("database is locked"),
    ],
)
def test_an_unreachable_or_busy_database_is_a_503_to_retry(
    client: TestClient, services: Container, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    async def failing(*_: Any) -> Any:
        raise error

    monkeypatch.setattr(services.status, "item_page", failing)
    answer = client.get("/contracts", headers=OPERATOR)
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "5"
    assert answer.json()["type"] == "urn:convergence:problem:store-unavailable"


def test_a_command_whose_store_fails_is_a_503_and_a_fault_of_ours_a_500(
    client: TestClient, services: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*_: Any, **__: Any) -> Any:
        raise persistence.OperationalError("could not connect to server")

    monkeypatch.setattr(services.dossiers, "create_contract", unreachable)
    created = client.post("/contracts", json={"numeroInterne": "X-1", "cerfa": {}}, headers=OPERATOR)
    assert created.status_code == 503, created.text
    monkeypatch.setattr(services.dossiers, "history", unreachable)
    assert client.get(f"/contracts/{'0' * 8}-0000-4000-8000-{'0' * 12}/events", headers=OPERATOR).status_code == 503

    async def broken(*_: Any) -> Any:
        raise sqlite3.OperationalError("no such table: status_versions")

    monkeypatch.setattr(services.status, "item_page", broken)
    answer = client.get("/contracts", headers=OPERATOR)
    assert answer.status_code == 500
    assert answer.json()["type"] == "urn:convergence:problem:internal"
