"""The running service over HTTP: a client guessing tokens is slowed down (429 with Retry-After), a token past its
rate too; every answer carries the security headers; CORS answers the configured origin only; a token expires and
is renewed by the operator's command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.service import Service

FRONT = "https://app.cfa.example"
CFA = "79852413800012"
LIMITS = {
    "CONVERGENCE_WORKER_IN_SERVE": "false",
    "CONVERGENCE_AUTH_FAILURES_BURST": "3",
    "CONVERGENCE_AUTH_FAILURES_PER_MINUTE": "1",
    "CONVERGENCE_RATE_LIMIT_BURST": "5",
    "CONVERGENCE_RATE_LIMIT_PER_SECOND": "0.5",
    "CONVERGENCE_CORS_ALLOW_ORIGINS": json.dumps([FRONT]),
}


@pytest.fixture
def limited(sqlite_url: str, tmp_path: Path) -> Iterator[Service]:
    running = Service(sqlite_url, tmp_path, env=LIMITS)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_guesses_and_floods_are_answered_429_and_every_answer_is_secured(limited: Service) -> None:
    issued = json.loads(limited.cli("tokens", "create", "--cfa-siret", CFA, "--days", "1"))
    assert issued["status"] == "active"
    mine = {"Authorization": f"Bearer {issued['token']}"}
    with httpx.Client(base_url=limited.url, timeout=10) as http:
        assert http.get("/contracts", headers=mine).status_code == 200  # checked once: cached from now on
        guesses = [http.get("/contracts", headers={"Authorization": f"Bearer cvg_guess{n}"}) for n in range(4)]
        assert [g.status_code for g in guesses] == [401, 401, 401, 429]
        assert guesses[-1].headers["content-type"] == "application/problem+json"
        assert int(guesses[-1].headers["retry-after"]) >= 1
        flood = [http.get("/contracts", headers=mine).status_code for _ in range(8)]
        assert flood[:4] == [200] * 4
        assert flood[-1] == 429
        for answer in (guesses[0], guesses[-1], http.get("/healthz")):
            assert answer.headers["cache-control"] == "no-store"
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["x-frame-options"] == "DENY"
        preflight = http.options("/contracts", headers={"Origin": FRONT, "Access-Control-Request-Method": "GET"})
        assert preflight.headers["access-control-allow-origin"] == FRONT
        other = http.options(
            "/contracts", headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"}
        )
        assert "access-control-allow-origin" not in other.headers

    renewed = json.loads(limited.cli("tokens", "renew", issued["id"], "--days", "30"))
    assert renewed["expiresAt"] > issued["expiresAt"]
    listed = json.loads(limited.cli("tokens", "list", "--json"))
    assert [(t["id"], t["status"]) for t in listed] == [(issued["id"], "active")]
