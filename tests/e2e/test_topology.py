"""The production topology on one PostgreSQL: two `convergence serve` processes (API only) and two `convergence
worker` processes, under load from clients spread over both APIs. Every dossier reaches the OPCO once, and every
list, from either API, agrees with the dossiers themselves."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from infrastructure.opco.opco_sandbox import Faults, SandboxConfig
from tests.e2e.service import BIN, Service, service_env
from tests.integration.sandbox_server import ADMIN_TOKEN, SANDBOX_OPERATOR, running_sandbox
from tests.support import MANDATE

DOSSIERS = 40
FAST = {
    "CONVERGENCE_WORKER_IN_SERVE": "false",
    "CONVERGENCE_SANDBOX_ADMIN_TOKEN": ADMIN_TOKEN,
    "CONVERGENCE_SYNC_INTERVAL_SECONDS": "0.5",
    "CONVERGENCE_SENDER_POLL_SECONDS": "0.1",
    "CONVERGENCE_PROJECTION_POLL_SECONDS": "0.1",
    "CONVERGENCE_LEASE_SECONDS": "3",
    "CONVERGENCE_LOG_LEVEL": "warning",
}


@pytest.fixture
def sandbox() -> Iterator[str]:
    config = SandboxConfig(instruction_delay=0.3, decision_delay=0.3, faults=Faults(latency_ms=20, seed=11))
    with running_sandbox(config) as url:
        yield url


@pytest.fixture
def topology(postgres_url: str, sandbox: str, tmp_path: Path) -> Iterator[list[Service]]:
    env = {**FAST, "CONVERGENCE_SANDBOX_URL": sandbox}
    apis = [Service(postgres_url, tmp_path, env=env) for _ in range(2)]
    workers = [
        subprocess.Popen([str(BIN / "convergence"), "worker"], cwd=tmp_path, env=service_env(postgres_url, env))
        for _ in range(2)
    ]
    try:
        for api in apis:
            api.start()
        yield apis
        assert all(worker.poll() is None for worker in workers), "a worker process died"
    finally:
        for api in apis:
            api.stop()
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=20)


def test_two_apis_and_two_workers_send_each_dossier_once_and_agree(
    topology: list[Service], sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    cfa = complete_cerfa["organismeFormation"]["siret"]
    token = json.loads(topology[0].cli("tokens", "create", "--cfa-siret", cfa, "--role", "admin"))["token"]
    clients = [
        httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) for api in topology
    ]

    def create_and_submit(n: int) -> str:
        http = clients[n % 2]  # each dossier's commands through one API, the next one's through the other
        created = http.post("/contracts", json={"numeroInterne": f"TOPO-{n}", "cerfa": complete_cerfa})
        assert created.status_code == 201, created.text
        ident = str(created.json()["id"])
        assert http.post(f"/contracts/{ident}/mandate", json=MANDATE).status_code in (200, 201)
        submitted = clients[(n + 1) % 2].post(f"/contracts/{ident}/submission", headers={"Idempotency-Key": f"s-{n}"})
        assert submitted.status_code == 202, submitted.text
        return ident

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(create_and_submit, range(DOSSIERS)))

    states = _until(lambda: {i: clients[0].get(f"/contracts/{i}").json()["state"] for i in ids}, DECIDED)
    assert set(states.values()) <= DECIDED, states
    stored = httpx.get(f"{sandbox}/_sandbox/stats", headers=SANDBOX_OPERATOR).json()["stored"]
    assert stored == {f"ATLAS/TOPO-{n}": 1 for n in range(DOSSIERS)}

    for http in clients:  # the decisions are final: each API's list catches up with the dossiers, and stays there
        listed = _until(lambda http=http: _listed(http), DECIDED)  # type: ignore[misc]
        assert listed == states
        counts = http.get("/dashboard").json()["counts"]
        assert sum(n for by_opco in counts.values() for n in by_opco.values()) == len(ids)


DECIDED = {"accepted", "refused"}  # the sandbox's decisions: nothing moves after them


def _until(read: Callable[[], dict[str, str]], wanted: set[str], seconds: float = 120) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    while True:
        found = read()
        if (set(found.values()) <= wanted and len(found) == DOSSIERS) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _listed(http: httpx.Client) -> dict[str, str]:
    listed: dict[str, str] = {}
    cursor: str | None = None
    while True:
        page = http.get("/contracts", params={"limit": 25, **({"cursor": cursor} if cursor else {})}).json()
        listed.update({item["id"]: item["state"] for item in page["items"]})
        cursor = page["nextCursor"]
        if cursor is None:
            return listed
