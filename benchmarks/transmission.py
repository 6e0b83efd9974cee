"""Dossiers transmitted per second by the worker, against a bare httpx loop posting the same payloads, in one run.

    .venv/bin/python -m benchmarks.transmission [--dossiers 2000] [--concurrency 16] [--latency-ms 50]
                                                [--database-url URL | --postgres]

The reference OPCO sandbox runs as its own process (`convergence sandbox`, dossiers in memory) and answers every
call `--latency-ms` late. N submitted dossiers are created through the Dossiers application (no HTTP), then:

- baseline: a bare loop, `--concurrency` threads sharing one httpx client, POSTs the same N payloads to the same
  sandbox (with the same headers and key): no event store, no read model, no lookup, no attempt recorded;
- worker: `container.worker` (in-process threads, `--concurrency` sends at a time) is started and timed until the
  transmissions read model has the N dossiers done (the OPCO has them); the sandbox must have stored each once.

Also printed: the theoretical ceiling, concurrency / latency. Target: worker >= 200 dossiers/s on the reference
machine (2 cores) with 50 ms per call and concurrency 16. It prints figures, it asserts no timing.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psutil

from application.access.access import Principal, Role
from benchmarks.databases import ADMIN_URL, temporary_postgres
from domain.contracts.cerfa_document import parse_cerfa
from domain.opco.opco_auth import DIALECTS, AuthFlavour
from domain.opco.opcos import Opco
from infrastructure.opco.opco_client.identity import ClientIdentity
from infrastructure.opco.opco_wire import dossier_body, encode, wire_variant
from interfaces.bootstrap import Container, bootstrap
from tests.conftest import load_example
from tests.support import settings

BIN = Path(sys.executable).parent
MANDATE_SIGNATORY = {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}
OPCO = Opco.ATLAS  # the complete Cerfa's IDCC (1486) routes there: an API key and a token of the SOR dialect
PROTOCOL = 2  # ATLAS speaks v2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", type=int, default=2000, help="dossiers to transmit (default 2000)")
    parser.add_argument("--concurrency", type=int, default=16, help="sends at a time, both sides (default 16)")
    parser.add_argument("--latency-ms", type=int, default=50, help="added by the sandbox to every call (default 50)")
    parser.add_argument("--sender-poll", type=float, default=None, help="worker: seconds between sender rounds")
    parser.add_argument("--projection-poll", type=float, default=None, help="worker: seconds between projections")
    store = parser.add_mutually_exclusive_group()
    store.add_argument("--database-url", help="the event store (default: a temporary SQLite file)")
    store.add_argument("--postgres", action="store_true", help=f"a temporary database on {_where(ADMIN_URL)}")
    args = parser.parse_args()

    with _database(args.database_url, args.postgres) as url, _sandbox() as (sandbox, pid):
        httpx.put(f"{sandbox}/_sandbox/faults", json={"latencyMs": args.latency_ms}).raise_for_status()
        run(url, sandbox, psutil.Process(pid), args)


class Cpu:
    """CPU seconds (user + system) spent by this process and by the sandbox's during a block."""

    def __init__(self, sandbox: psutil.Process) -> None:
        self._processes = (psutil.Process(), sandbox)
        self.own = self.sandbox = 0.0

    def __enter__(self) -> Cpu:
        self._before = [_cpu(p) for p in self._processes]
        return self

    def __exit__(self, *_: object) -> None:
        self.own, self.sandbox = (_cpu(p) - b for p, b in zip(self._processes, self._before, strict=True))


SANDBOX_TOKEN = secrets.token_urlsafe(24)  # the benchmark's sandbox's /_sandbox/* token, drawn per run


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def run(url: str, sandbox: str, sandbox_process: psutil.Process, args: argparse.Namespace) -> None:
    timing: dict[str, Any] = {"sender_concurrency": args.concurrency}
    if args.sender_poll is not None:
        timing["sender_poll_seconds"] = args.sender_poll
    if args.projection_poll is not None:
        timing["projection_poll_seconds"] = args.projection_poll
    container = bootstrap(
        settings(url, sandbox_url=sandbox, sandbox_admin_token=SANDBOX_TOKEN, log_level="warning", **timing)
    )
    try:
        started = time.perf_counter()
        cerfa = create_submitted(container, args.dossiers)
        created = time.perf_counter() - started
        with Cpu(sandbox_process) as bare_cpu:
            bare = bare_loop(sandbox, cerfa, args.dossiers, args.concurrency)
        with Cpu(sandbox_process) as worker_cpu:
            worker = worker_run(container, args.dossiers)
        config = container.settings
    finally:
        container.close()

    stored: dict[str, int] = httpx.get(f"{sandbox}/_sandbox/stats").json()["stored"]
    by_worker = [count for key, count in stored.items() if key.startswith(f"{OPCO.value}/W-")]
    ceiling = args.concurrency / (args.latency_ms / 1000) if args.latency_ms else float("inf")
    print(f"store: {_where(url)}; sandbox: {sandbox}, {args.latency_ms} ms per call; {args.dossiers} dossiers")
    print(
        f"worker: concurrency {config.sender_concurrency}, sender poll {config.sender_poll_seconds} s,"
        f" projection poll {config.projection_poll_seconds} s"
    )
    print(f"created and submitted (application)  : {args.dossiers / created:8.1f} dossiers/s ({created:.1f} s)")
    print(f"ceiling, concurrency / latency        : {ceiling:8.1f} dossiers/s")
    print(f"baseline, bare httpx loop (no store)  : {bare:8.1f} dossiers/s ({bare / ceiling:.2f} of the ceiling)")
    print(f"worker (convergence)                  : {worker:8.1f} dossiers/s   (target >= 200)")
    print(f"ratio worker / bare loop              : {worker / bare:8.2f}")
    print(f"ratio worker / ceiling                : {worker / ceiling:8.2f}")
    per = 1000 / args.dossiers
    print(
        f"CPU per dossier, client / sandbox     : bare loop {bare_cpu.own * per:.2f} / {bare_cpu.sandbox * per:.2f} ms,"
        f" worker {worker_cpu.own * per:.2f} / {worker_cpu.sandbox * per:.2f} ms ({os.cpu_count()} cores)"
    )
    duplicates = sum(count > 1 for count in by_worker)
    verdict = "ok" if len(by_worker) == args.dossiers and not duplicates else "MISMATCH"
    print(f"sandbox stored by the worker          : {len(by_worker)} of {args.dossiers}, {duplicates} twice: {verdict}")


def create_submitted(container: Container, count: int) -> dict[str, Any]:
    """N submitted dossiers W-0…W-(N-1), through the application; the normalised Cerfa they carry."""
    document = load_example("cerfa-complete.json")
    who = Principal(actor="token:bench", role=Role.FRONTEND, cfa_siret=document["organismeFormation"]["siret"])
    app, cerfa = container.dossiers, parse_cerfa(document)
    for n in range(count):
        ident = app.create_contract(who, cerfa=cerfa, numero_interne=f"W-{n}", opco=None).contract.id
        app.record_mandate(who, ident, signed_on=date(2026, 6, 15), signatory=MANDATE_SIGNATORY, document_sha256=None)
        app.submit(who, ident)
    normalised: dict[str, Any] = app.contract_as_worker(ident).cerfa
    return normalised


def bare_loop(sandbox: str, cerfa: dict[str, Any], count: int, concurrency: int) -> float:
    """Dossiers per second POSTed by `concurrency` threads with one httpx client, as the gateway would."""
    siret = cerfa["organismeFormation"]["siret"]
    operator = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    keys = httpx.post(f"{sandbox}/_sandbox/keys", json={"opco": OPCO.value, "siret": siret}, headers=operator)
    key = keys.json()["apiKey"]
    identity = ClientIdentity("Convergence", "Convergence", "0.1.0")
    [client] = httpx.get(f"{sandbox}/_sandbox/oauth-clients", headers=operator).json()
    client_id, secret = client["clientId"], client["clientSecret"]
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    token_url = f"{sandbox}/opcos/{OPCO.value}{DIALECTS[AuthFlavour.SOR].token_path}"
    token = httpx.post(token_url, data={**form, "scope": "api.read api.write"}).json()["access_token"]
    headers = {**identity.common_headers(), **identity.api_headers(), b"X-API-KEY": key.encode()}
    headers[b"Authorization"] = f"Bearer {token}".encode()
    url = f"{sandbox}/opcos/{OPCO.value}/v{PROTOCOL}/dossiers"
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
    model, variant = parse_cerfa(cerfa), wire_variant(OPCO)
    with httpx.Client(headers=headers, limits=limits, timeout=30) as client:

        def post(n: int) -> None:
            body = encode(dossier_body(f"B-{n}", model, variant))
            answer = client.post(url, content=body, headers={"Content-Type": "application/json"})
            if answer.status_code != 200:
                raise RuntimeError(f"bare loop: POST B-{n}: {answer.status_code} {answer.text[:200]}")

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(post, range(-concurrency, 0)))  # warm-up: connections
            started = time.perf_counter()
            list(pool.map(post, range(count)))
            return count / (time.perf_counter() - started)


def worker_run(container: Container, count: int) -> float:
    """Dossiers per second from the worker's start until the read model has all `count` done."""
    started = time.perf_counter()
    container.worker.start()
    deadline = started + max(120.0, count / 5)
    while container.transmissions.counts().get("done", 0) < count:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"worker: not done after {deadline - started:.0f} s: {container.transmissions.counts()}")
        time.sleep(0.02)
    return count / (time.perf_counter() - started)


@contextmanager
def _sandbox(env: dict[str, str] | None = None, *options: str) -> Iterator[tuple[str, int]]:
    """`convergence sandbox` on a free loopback port, its dossiers in memory (`env` and `options` added)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [str(BIN / "convergence"), "sandbox", "--port", str(port), "--state", ":memory:", *options]
    process = subprocess.Popen(
        command,
        env={
            **os.environ,
            "CONVERGENCE_LOG_LEVEL": "warning",
            "CONVERGENCE_SANDBOX_ADMIN_TOKEN": SANDBOX_TOKEN,
            **(env or {}),
        },
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not start")
            try:
                operator = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
                if httpx.get(f"{url}/_sandbox/stats", headers=operator, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=15)


@contextmanager
def _database(url: str | None, postgres: bool) -> Iterator[str]:
    if url:
        yield url
    elif postgres:
        with temporary_postgres() as temporary:
            yield temporary
    else:
        with tempfile.TemporaryDirectory(prefix="convergence-bench-") as directory:
            yield f"sqlite:///{directory}/convergence.db"


def _where(url: str) -> str:
    return url.rsplit("@", 1)[-1] if url.startswith("postgres") else url


if __name__ == "__main__":
    main()
