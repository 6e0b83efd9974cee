"""A revoked token stops working within the documented bound, however steadily it is used (API in-process)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from application.access.access import ApiToken, Principal, Role, token_hash, token_id
from infrastructure.access.token_revocations import revocation_channel
from interfaces.api.access import auth
from interfaces.api.access.auth import TokenCache
from interfaces.api.app import create_app
from interfaces.bootstrap import Container
from tests.support import OPERATOR_TOKEN

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
SOME_DOSSIER = "/contracts/4b0c1f0e-2f57-4a59-9b55-6a2b1a5b5d11"  # 404 to a valid token, 401 to any other


class Monotonic:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Monotonic:
    """The token cache's clock, for the app started after this fixture."""
    fake = Monotonic()
    monkeypatch.setattr(auth, "time", SimpleNamespace(monotonic=fake))
    return fake


@pytest.fixture
def client(services: Container, clock: Monotonic) -> Iterator[TestClient]:
    with TestClient(create_app(services), raise_server_exceptions=False) as test_client:
        yield test_client


def issue(client: TestClient, cerfa: dict[str, Any]) -> tuple[str, dict[str, str]]:
    body = {"cfaSiret": cerfa["organismeFormation"]["siret"], "role": "frontend", "name": "front"}
    response = client.post("/admin/tokens", json=body, headers=OPERATOR)
    assert response.status_code == 201, response.text
    issued = response.json()
    return issued["id"], {"Authorization": f"Bearer {issued['token']}"}


def revoke_elsewhere(services: Container, ident: str) -> None:
    """Store the revocation as another process would: the event is recorded, this process is told nothing."""
    token: ApiToken = services.dossiers.repository.get(UUID(ident))
    token.revoke("operator")
    services.dossiers.save(token)


def test_a_token_in_steady_use_is_refused_once_the_cache_time_after_its_revocation_has_passed(
    client: TestClient, services: Container, clock: Monotonic, complete_cerfa: dict[str, Any]
) -> None:
    ttl = services.settings.token_cache_seconds
    ident, bearer = issue(client, complete_cerfa)
    assert client.get(SOME_DOSSIER, headers=bearer).status_code == 404  # checked, and now cached
    clock.now += 1
    revoke_elsewhere(services, ident)
    revoked_at = clock.now
    answers: list[tuple[float, int]] = []
    while clock.now < revoked_at + 3 * ttl:  # a request every half second, for three cache times
        clock.now += 0.5
        answers.append((clock.now - revoked_at, client.get(SOME_DOSSIER, headers=bearer).status_code))
    late = [status for elapsed, status in answers if elapsed >= ttl]
    assert late
    assert set(late) == {401}, f"accepted {late.count(404)} times more than {ttl} s after its revocation"


def test_a_revocation_through_the_api_is_refused_on_the_next_request(
    client: TestClient, complete_cerfa: dict[str, Any]
) -> None:
    ident, bearer = issue(client, complete_cerfa)
    assert client.get(SOME_DOSSIER, headers=bearer).status_code == 404  # checked, and now cached
    assert client.post(f"/admin/tokens/{ident}/revocation", headers=OPERATOR).json()["revoked"] is True
    assert client.get(SOME_DOSSIER, headers=bearer).status_code == 401


def test_a_cache_hit_reads_nothing_from_the_store(
    client: TestClient, services: Container, clock: Monotonic, complete_cerfa: dict[str, Any]
) -> None:
    reads: list[str] = []
    authenticate = services.dossiers.authenticate

    def counted(secret: str) -> Any:
        reads.append(secret)
        return authenticate(secret)

    _, bearer = issue(client, complete_cerfa)
    services.dossiers.authenticate = counted  # type: ignore[method-assign]
    for _ in range(20):
        clock.now += 0.5
        assert client.get(SOME_DOSSIER, headers=bearer).status_code == 404
    assert len(reads) == 1
    clock.now += services.settings.token_cache_seconds
    assert client.get(SOME_DOSSIER, headers=bearer).status_code == 404
    assert len(reads) == 2, "an entry past its time is checked again"


def test_revocations_are_heard_only_while_the_api_runs(services: Container, complete_cerfa: dict[str, Any]) -> None:
    heard: list[UUID | None] = []
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        cache = client.app.state.token_cache  # type: ignore[attr-defined]
        ident, _ = issue(client, complete_cerfa)
        services.revocations.subscribe(heard.append)
        assert client.post(f"/admin/tokens/{ident}/revocation", headers=OPERATOR).status_code == 200
        assert client.post(f"/admin/tokens/{ident}/revocation", headers=OPERATOR).status_code == 200
    assert heard == [UUID(ident), UUID(ident)], "each revocation is announced, a repeated one too"
    forgets = cache.ticket().forgets
    services.revocations.announce(UUID(ident))
    assert cache.ticket().forgets == forgets, "a stopped API's cache is no longer told"


# -- the cache itself ------------------------------------------------------------------------------------------

ALICE = Principal(actor="token:alice", role=Role.FRONTEND, cfa_siret="84213657400022")


def test_an_entry_is_trusted_from_the_start_of_the_read_that_made_it() -> None:
    clock = Monotonic()
    cache = TokenCache(30, clock)
    ticket = cache.ticket()
    clock.now += 5  # a slow store read
    cache.put("secret", ALICE, ticket)
    clock.now += 24.9
    assert cache.get("secret") == ALICE
    clock.now += 0.1
    assert cache.get("secret") is None


def test_a_read_begun_before_a_revocation_is_not_kept() -> None:
    cache = TokenCache(30, Monotonic())
    ticket = cache.ticket()
    cache.forget(token_id(token_hash("secret")))  # told of the revocation while the read was under way
    cache.put("secret", ALICE, ticket)
    assert cache.get("secret") is None
    cache.put("secret", ALICE, cache.ticket())  # a read begun after it saw the revocation's outcome
    assert cache.get("secret") == ALICE


def test_forgetting_drops_the_revoked_token_or_every_token() -> None:
    cache = TokenCache(30, Monotonic())
    for secret in ("one", "two", "three"):
        cache.put(secret, ALICE, cache.ticket())
    cache.forget(token_id(token_hash("two")))
    assert [cache.get(s) is not None for s in ("one", "two", "three")] == [True, False, True]
    cache.forget(None)  # e.g. the listening connection was lost: revocations may have been missed
    assert [cache.get(s) for s in ("one", "three")] == [None, None]


def test_a_cache_time_of_zero_trusts_nothing() -> None:
    cache = TokenCache(0, Monotonic())
    cache.put("secret", ALICE, cache.ticket())
    assert cache.get("secret") is None


def test_a_revocation_channel_is_a_valid_postgresql_name_per_schema() -> None:
    base = "postgresql://postgres@127.0.0.1:5432/convergence"
    assert revocation_channel(base) == "convergence_revoked_public"
    assert revocation_channel(f"{base}?schema=tenant_a") == "convergence_revoked_tenant_a"
    long_a, long_b = (revocation_channel(f"{base}?schema={'s' * 60}{n}") for n in "ab")
    assert long_a != long_b
    assert len(long_a.encode()) <= 63
