"""Two `convergence serve` processes on one PostgreSQL database: a token revoked from the command line (a third
process) is refused promptly by both while it is in steady use, far within their cache time."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.service import Service

SOME_DOSSIER = "/contracts/4b0c1f0e-2f57-4a59-9b55-6a2b1a5b5d11"  # 404 to a valid token, 401 to any other
DEADLINE = 15.0  # generous: a correctness bound, not a speed measurement
ENV = {"CONVERGENCE_WORKER_IN_SERVE": "false", "CONVERGENCE_TOKEN_CACHE_SECONDS": "600"}


@pytest.fixture
def two_services(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Service, Service]]:
    first, second = (Service(postgres_url, tmp_path, env=ENV) for _ in range(2))
    first.start()
    try:
        second.start()
        yield first, second
    finally:
        second.stop()
        first.stop()


@pytest.mark.postgres
def test_a_token_revoked_from_the_command_line_is_refused_by_every_serving_process(
    two_services: tuple[Service, Service], complete_cerfa: dict[str, Any]
) -> None:
    first, second = two_services
    siret = complete_cerfa["organismeFormation"]["siret"]
    issued = json.loads(first.cli("tokens", "create", "--cfa-siret", siret, "--name", "revoked soon"))
    headers = {"Authorization": f"Bearer {issued['token']}"}
    with (
        httpx.Client(base_url=first.url, headers=headers) as a,
        httpx.Client(base_url=second.url, headers=headers) as b,
    ):
        for _ in range(10):  # steady use: both processes have checked the token and trust it
            assert (a.get(SOME_DOSSIER).status_code, b.get(SOME_DOSSIER).status_code) == (404, 404)
            time.sleep(0.05)
        first.cli("tokens", "revoke", issued["id"])
        refused: set[str] = set()
        deadline = time.monotonic() + DEADLINE
        while len(refused) < 2:
            assert time.monotonic() < deadline, f"only {sorted(refused)} refused the token after {DEADLINE} s"
            for name, client in (("first", a), ("second", b)):
                status = client.get(SOME_DOSSIER).status_code
                assert status in {401, 404}
                if status == 401:
                    refused.add(name)
                else:
                    assert name not in refused, f"{name} accepted the token again after refusing it"
            time.sleep(0.05)
