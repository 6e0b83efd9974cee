"""A revocation reaches every process serving the API: on PostgreSQL through NOTIFY, soon after the commit, even
when a listening connection was lost; on SQLite within the cache time, however steadily the token is used."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient

from application.access.access import OPERATOR
from interfaces.api.app import create_app
from interfaces.bootstrap import Container, bootstrap
from tests.postgres import ADMIN_URL
from tests.support import OPERATOR_TOKEN, settings

OPERATOR_HEADERS = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
SOME_DOSSIER = "/contracts/4b0c1f0e-2f57-4a59-9b55-6a2b1a5b5d11"  # 404 to a valid token, 401 to any other
LONG_CACHE = 600.0  # so that only a notification can explain a refusal within the deadline
DEADLINE = 15.0  # generous: a correctness bound, not a speed measurement
STEADY = 0.05  # seconds between two requests of the token in use


@contextmanager
def serving(url: str, cache_seconds: float = LONG_CACHE) -> Iterator[tuple[Container, TestClient]]:
    """One process's worth of the service: its container and its API."""
    services = bootstrap(settings(url, token_cache_seconds=cache_seconds))
    try:
        with TestClient(create_app(services), raise_server_exceptions=False) as client:
            yield services, client
    finally:
        services.close()


def issue(client: TestClient, cerfa: dict[str, Any]) -> tuple[UUID, dict[str, str]]:
    body = {"cfaSiret": cerfa["organismeFormation"]["siret"], "role": "frontend", "name": "front"}
    response = client.post("/admin/tokens", json=body, headers=OPERATOR_HEADERS)
    assert response.status_code == 201, response.text
    return UUID(response.json()["id"]), {"Authorization": f"Bearer {response.json()['token']}"}


def count_store_reads(services: Container) -> list[str]:
    reads: list[str] = []
    authenticate = services.dossiers.authenticate

    def counted(secret: str) -> Any:
        reads.append(secret)
        return authenticate(secret)

    services.dossiers.authenticate = counted  # type: ignore[method-assign]
    return reads


def use_steadily(client: TestClient, bearer: dict[str, str], seconds: float) -> list[int]:
    statuses = []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        statuses.append(client.get(SOME_DOSSIER, headers=bearer).status_code)
        time.sleep(STEADY)
    return statuses


def refused_in_steady_use(client: TestClient, bearer: dict[str, str]) -> None:
    """Keep using the token until it is refused (failing past the deadline), then check that it stays refused."""
    accepted = 0
    deadline = time.monotonic() + DEADLINE
    while (status := client.get(SOME_DOSSIER, headers=bearer).status_code) == 404:
        accepted += 1
        assert time.monotonic() < deadline, f"still accepted after {DEADLINE} s ({accepted} requests)"
        time.sleep(STEADY)
    assert status == 401
    assert set(use_steadily(client, bearer, 0.5)) == {401}


def wait_until_listening(url: str, listeners: int) -> None:
    deadline = time.monotonic() + DEADLINE
    while len(listening_backends(url)) < listeners:
        assert time.monotonic() < deadline, "the revocation listeners never connected"
        time.sleep(0.05)


def listening_backends(url: str) -> list[int]:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'convergence-revocations'"
            " AND datname = %s AND state = 'idle'",
            (url.rsplit("/", 1)[1].split("?")[0],),
        ).fetchall()
    return [pid for (pid,) in rows]


@pytest.mark.postgres
def test_a_revocation_through_one_process_is_refused_promptly_by_another_in_steady_use(
    postgres_url: str, complete_cerfa: dict[str, Any]
) -> None:
    with serving(postgres_url) as (_, first), serving(postgres_url) as (second_services, second):
        wait_until_listening(postgres_url, 2)
        ident, bearer = issue(first, complete_cerfa)
        reads = count_store_reads(second_services)
        assert set(use_steadily(second, bearer, 1.0)) == {404}
        assert len(reads) == 1, "the second process trusts its cache: one store read for the whole second"
        assert first.post(f"/admin/tokens/{ident}/revocation", headers=OPERATOR_HEADERS).status_code == 200
        assert first.get(SOME_DOSSIER, headers=bearer).status_code == 401  # the revoking process: at once
        refused_in_steady_use(second, bearer)


@pytest.mark.postgres
def test_a_revocation_from_the_command_line_reaches_the_serving_processes(
    postgres_url: str, complete_cerfa: dict[str, Any]
) -> None:
    with serving(postgres_url) as (_, client):
        wait_until_listening(postgres_url, 1)
        ident, bearer = issue(client, complete_cerfa)
        assert set(use_steadily(client, bearer, 0.3)) == {404}
        command_line = bootstrap(settings(postgres_url))  # as `convergence tokens revoke` does
        try:
            command_line.dossiers.revoke_token(OPERATOR, ident)
        finally:
            command_line.close()
        refused_in_steady_use(client, bearer)


@pytest.mark.postgres
def test_a_process_whose_listening_connection_died_still_refuses_a_revoked_token_promptly(
    postgres_url: str, complete_cerfa: dict[str, Any]
) -> None:
    with serving(postgres_url) as (services, client):
        wait_until_listening(postgres_url, 1)
        ident, bearer = issue(client, complete_cerfa)
        assert set(use_steadily(client, bearer, 0.3)) == {404}
        elsewhere = bootstrap(settings(postgres_url))
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            for pid in listening_backends(postgres_url):
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        try:  # revoked while none listens (it listens again after a second): its notification is lost
            elsewhere.dossiers.revoke_token(OPERATOR, ident)
        finally:
            elsewhere.close()
        refused_in_steady_use(client, bearer)
        listener = services.revocations.listener  # type: ignore[attr-defined]
        assert listener.restarts >= 1
        wait_until_listening(postgres_url, 1)  # and it listens again


def test_on_sqlite_another_process_refuses_a_revoked_token_within_its_cache_time_in_steady_use(
    sqlite_url: str, complete_cerfa: dict[str, Any]
) -> None:
    with serving(sqlite_url, cache_seconds=1.0) as (_, first), serving(sqlite_url, 1.0) as (_, second):
        ident, bearer = issue(first, complete_cerfa)
        assert set(use_steadily(second, bearer, 0.3)) == {404}
        assert first.post(f"/admin/tokens/{ident}/revocation", headers=OPERATOR_HEADERS).status_code == 200
        assert first.get(SOME_DOSSIER, headers=bearer).status_code == 401
        refused_in_steady_use(second, bearer)
