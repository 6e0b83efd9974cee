"""Rate limits: a token past its rate, an address past its authentication failures, are answered 429 with
Retry-After and a problem+json; the others are not affected."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from interfaces.api.access.rate_limits import Buckets, Rate, RateLimited, RateLimits
from interfaces.api.app import create_app
from interfaces.bootstrap import bootstrap
from tests.support import OPERATOR_TOKEN, settings

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
CFA = "79852413800012"
SOME_DOSSIER = "/contracts/4b0c1f0e-2f57-4a59-9b55-6a2b1a5b5d11"  # 404 to a valid token, 401 to any other


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_gives_its_burst_then_its_rate() -> None:
    clock = Clock()
    buckets = Buckets(Rate(per_second=2, burst=3), clock)
    assert [buckets.spend("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.spend("a") == pytest.approx(0.5)
    assert buckets.spend("b") == 0, "each key has its own bucket"
    clock.now += 0.5
    assert buckets.spend("a") == 0
    assert buckets.spend("a") > 0
    clock.now += 60
    assert [buckets.spend("a") for _ in range(4)][:3] == [0, 0, 0], "refilled up to the burst, never beyond"


def test_an_address_is_refused_once_its_failures_are_spent_and_told_when_to_come_back() -> None:
    clock = Clock()
    limits = RateLimits(Rate(0, 1), Rate(per_second=0.1, burst=2), clock)
    limits.check_address("10.0.0.1")
    limits.failed("10.0.0.1")
    limits.failed("10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        limits.check_address("10.0.0.1")
    assert refused.value.retry_after == 10
    limits.check_address("10.0.0.2")
    clock.now += 10
    limits.check_address("10.0.0.1")


@pytest.fixture
def limited() -> Iterator[TestClient]:
    services = bootstrap(
        settings(rate_limit_per_second=1, rate_limit_burst=3, auth_failures_per_minute=1, auth_failures_burst=2)
    )
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        yield client
    services.close()


def issue(client: TestClient) -> dict[str, str]:
    body = {"cfaSiret": CFA, "role": "frontend", "name": "front"}
    response = client.post("/admin/tokens", json=body, headers=OPERATOR)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_a_token_past_its_rate_is_answered_429_and_another_token_is_not(limited: TestClient) -> None:
    first, second = issue(limited), issue(limited)
    answers = [limited.get(SOME_DOSSIER, headers=first).status_code for _ in range(4)]
    assert answers == [404, 404, 404, 429]
    refused = limited.get(SOME_DOSSIER, headers=first)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:convergence:problem:rate-limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert limited.get(SOME_DOSSIER, headers=second).status_code == 404


def test_authentication_failures_are_limited_per_address_before_any_token_is_looked_up(limited: TestClient) -> None:
    valid = issue(limited)
    assert limited.get(SOME_DOSSIER, headers=valid).status_code == 404  # checked: in the cache
    wrong = {"Authorization": "Bearer cvg_guessed"}
    assert [limited.get(SOME_DOSSIER, headers=wrong).status_code for _ in range(2)] == [401, 401]
    assert limited.get(SOME_DOSSIER).status_code == 429, "no token at all counts as well"
    refused = limited.get(SOME_DOSSIER, headers=wrong)
    assert refused.status_code == 429
    assert refused.json()["type"] == "urn:convergence:problem:rate-limited"
    assert int(refused.headers["Retry-After"]) >= 30
    unchecked = issue(limited)
    assert limited.get(SOME_DOSSIER, headers=unchecked).status_code == 429, "not even looked up"
    assert limited.get(SOME_DOSSIER, headers=valid).status_code == 404, "a token already checked still passes"


def test_unlimited_when_the_settings_say_zero(client: TestClient) -> None:
    wrong = {"Authorization": "Bearer cvg_guessed"}
    assert {client.get(SOME_DOSSIER, headers=wrong).status_code for _ in range(50)} == {401}
    assert {client.get(SOME_DOSSIER, headers=OPERATOR).status_code for _ in range(300)} == {404}
