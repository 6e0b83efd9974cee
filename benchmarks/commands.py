"""Commands per second through the REST API against the bare eventsourcing library, on PostgreSQL.

    .venv/bin/python -m benchmarks.commands [--dossiers 600] [--threads 8]

Both sides do the same work per dossier on the same PostgreSQL server, in one run: create a contract with a
complete Cerfa, record the employer's mandate, request the submission (3 commands, 3 transactions). The
baseline is a plain eventsourcing Application saving an aggregate with the same events and payload; the API
side goes through HTTP, authentication, validation, the rules and the problem list. Also reports the peak
resident memory (RSS) of the service process. Targets: ratio ≥ 0.75, RSS < 250 MB.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from benchmarks.databases import temporary_postgres
from infrastructure.store.event_store import postgres_env
from tests.e2e.service import Service

ROOT = Path(__file__).resolve().parent.parent
CERFA: dict[str, Any] = json.loads((ROOT / "docs/examples/cerfa-complete.json").read_text(encoding="utf-8"))
MANDATE = {"signedOn": "2026-06-15", "signatory": {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}}


class BareContract(Aggregate):
    @event("Drafted")
    def __init__(self, cfa_siret: str, numero_interne: str, cerfa: dict[str, Any], actor: str) -> None:
        self.cerfa = cerfa
        self.state = "drafted"

    @event("MandateRecorded")
    def record_mandate(self, mandate: dict[str, Any], actor: str) -> None:
        self.state = "mandate_checked"

    @event("SubmissionRequested")
    def submit(self, opco: str, actor: str) -> None:
        self.state = "submitted"


def bare_dossier(app: Application[uuid.UUID], n: int) -> None:
    contract = BareContract(CERFA["organismeFormation"]["siret"], f"B-{n}", CERFA, "token:bench")
    app.save(contract)
    contract = app.repository.get(contract.id)
    contract.record_mandate(MANDATE, "token:bench")
    app.save(contract)
    contract = app.repository.get(contract.id)
    contract.submit("ATLAS", "token:bench")
    app.save(contract)


class ApiClient:
    """One keep-alive HTTP connection per thread, stdlib only, so the client costs little CPU."""

    def __init__(self, port: int, token: str) -> None:
        self._local = threading.local()
        self._port = port
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: Any, expected: int) -> dict[str, Any]:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=30)
        conn.request("POST", path, body=json.dumps(body) if body is not None else None, headers=self._headers)
        response = conn.getresponse()
        payload: dict[str, Any] = json.loads(response.read())
        if response.status != expected:
            raise RuntimeError(f"POST {path}: {response.status} {payload}")
        return payload

    def dossier(self, n: int) -> None:
        created = self.post("/contracts", {"numeroInterne": f"A-{n}", "cerfa": CERFA}, 201)
        self.post(f"/contracts/{created['id']}/mandate", MANDATE, 200)
        self.post(f"/contracts/{created['id']}/submission", None, 202)


def timed(work: Callable[[int], None], count: int, threads: int) -> float:
    """Commands per second for `count` dossiers of 3 commands each."""
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))  # warm-up: connections, caches
        started = time.perf_counter()
        list(pool.map(work, range(threads, threads + count)))
        elapsed = time.perf_counter() - started
    return 3 * count / elapsed


def _tree(process: psutil.Process) -> list[psutil.Process]:
    """The service and its worker processes (uvicorn --workers forks them)."""
    return [process, *process.children(recursive=True)]


def _cpu_seconds(process: psutil.Process) -> tuple[float, float]:
    times = [p.cpu_times() for p in _tree(process)]
    return sum(t.user + t.system for t in times), sum(t.system for t in times)


class PeakRss:
    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(p.memory_info().rss for p in _tree(self.process)))
            self._stop.wait(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", type=int, default=600)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="service worker processes")
    args = parser.parse_args()

    with temporary_postgres() as url:
        run(url, args.dossiers, args.threads, args.workers)


def run(url: str, count: int, threads: int, workers: int) -> None:
    env = {**postgres_env(url), "POSTGRES_POOL_SIZE": str(threads), "POSTGRES_MAX_OVERFLOW": "10"}
    bare_app: Application[uuid.UUID] = Application(env=env)
    bare = timed(lambda n: bare_dossier(bare_app, n), count, threads)
    bare_app.close()

    service = Service(
        url,
        ROOT,
        workers=workers,
        env={"CONVERGENCE_WORKER_IN_SERVE": "false", "CONVERGENCE_RATE_LIMIT_PER_SECOND": "0"},
    )
    service.start()
    try:
        issued = json.loads(service.cli("tokens", "create", "--cfa-siret", CERFA["organismeFormation"]["siret"]))
        client = ApiClient(service.port, issued["token"])
        assert service.process is not None
        server = psutil.Process(service.process.pid)
        cpu_before, client_before = _cpu_seconds(server), psutil.Process().cpu_times()
        with PeakRss(service.process.pid) as rss:
            api = timed(client.dossier, count, threads)
        cpu_after, client_after = _cpu_seconds(server), psutil.Process().cpu_times()
    finally:
        service.stop()

    where = url.rsplit("@", 1)[-1]
    print(f"dossiers: {count} x 3 commands, {threads} client threads, {workers} worker(s), PostgreSQL at {where}")
    print(f"bare eventsourcing library : {bare:8.1f} commands/s")
    print(f"REST API (convergence)     : {api:8.1f} commands/s")
    print(f"ratio API / library        : {api / bare:8.2f}   (target >= 0.75)")
    commands = 3 * (count + threads)
    cpu = (cpu_after[0] - cpu_before[0]) / commands
    system = (cpu_after[1] - cpu_before[1]) / commands
    print(f"service CPU per command    : {cpu * 1000:8.2f} ms (of which system {system * 1000:.2f} ms)")
    client_cpu = (client_after.user + client_after.system - client_before.user - client_before.system) / commands
    print(f"HTTP client CPU per command: {client_cpu * 1000:8.2f} ms (same machine, same cores)")
    print(f"service peak RSS           : {rss.peak / 2**20:8.1f} MB (target < 250 MB)")


if __name__ == "__main__":
    main()
