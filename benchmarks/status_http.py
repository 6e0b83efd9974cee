"""The HTTP side of the status benchmark: `convergence serve` (1 worker, its background worker off) reading the
bulk-filled read model, against a bare FastAPI endpoint served by uvicorn with the same options, in the same run.

Started by `benchmarks.status`; run alone, it is the baseline server:

    .venv/bin/python -m benchmarks.status_http --port 8123     # GET /bare: a fixed page of 50 items, as JSON

The client is stdlib `http.client`, one keep-alive connection per thread over loopback, so that it costs little
CPU (client, servers and PostgreSQL share the machine's cores).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psutil
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from tests.e2e.service import Service, free_port

ROOT = Path(__file__).resolve().parent.parent
PAGE_P99_TARGET_MS = 15.0
RATIO_TARGET = 0.5


# -- the baseline server ----------------------------------------------------------------------------------------


def bare_item(n: int) -> dict[str, Any]:
    """An item shaped as GET /contracts answers it (interfaces/api/read_models/listing.py), with values of the same
    size."""
    return {
        "id": str(uuid.UUID(int=n + 1, version=4)),
        "numeroInterne": f"2026-{n:07d}",
        "cfaSiret": "79852413800012",
        "state": "accepted",
        "opco": "ATLAS",
        "apprenticeName": "MARTIN Léa",
        "employerName": f"Entreprise {n}",
        "employerSiret": "84210935400011",
        "formationRncp": "RNCP35001",
        "formationTitle": "BTS Services informatiques aux organisations",
        "startDate": "2025-09-01",
        "endDate": "2027-08-31",
        "numeroExterne": f"EXT-{n}",
        "numeroDeca": f"DECA-{n}",
        "opcoState": "ENGAGE",
        "problemCount": 0,
        "hasMandate": True,
        "parked": False,
        "commitment": "12345.67",
        "createdAt": "2025-06-01T08:00:00+00:00",
        "updatedAt": "2025-07-01T08:00:00+00:00",
        "submittedAt": "2025-06-30T08:00:00+00:00",
        "sentAt": "2025-06-30T09:00:00+00:00",
    }


def bare_app() -> FastAPI:
    """GET /bare: a fixed page of 50 items, encoded on each request as ours is (JSONResponse), from a sync route
    (run in the threadpool, the hop our routes make with run_in_threadpool)."""
    app = FastAPI()
    body = {"items": [bare_item(n) for n in range(50)], "nextCursor": None}

    @app.get("/bare")
    def bare() -> JSONResponse:
        return JSONResponse(body)

    return app


def serve_bare(port: int) -> None:
    # the options `convergence serve` gives uvicorn (interfaces/cli.py), log level as the benchmark's service has it
    uvicorn.run(
        "benchmarks.status_http:bare_app", factory=True, host="127.0.0.1", port=port, workers=1, log_level="warning"
    )


class BareServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> BareServer:
        command = [sys.executable, "-m", "benchmarks.status_http", "--port", str(self.port)]
        self.process = subprocess.Popen(command, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the bare server exited with {self.process.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/bare")
                if conn.getresponse().status == 200:
                    conn.close()
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the bare server did not answer in 30 s")

    def __exit__(self, *_: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


# -- the client ------------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


@dataclass(frozen=True)
class RouteFigures:
    name: str
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    server_cpu_ms: float  # CPU of the serving process per request (user + system)
    page: bool  # a page of 50 (the p99 target applies)


def get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> bytes:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
    return body


def measure(
    name: str, port: int, pid: int, paths: Sequence[str], headers: dict[str, str], requests: int, threads: int
) -> RouteFigures:
    """`requests` GETs of `paths` (in turn) from `threads` threads, one keep-alive connection each."""
    latencies: list[float] = []
    lock = threading.Lock()
    ready = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for n in range(3):  # warm-up: the connection, the server's caches
                get(conn, paths[(offset + n) % len(paths)], headers)
            ready.wait()
            mine = []
            for n in range(offset, offset + requests // threads):
                began = time.perf_counter()
                get(conn, paths[n % len(paths)], headers)
                mine.append(time.perf_counter() - began)
            with lock:
                latencies.extend(mine)
        except BaseException as error:
            errors.append(error)
            ready.abort()
        finally:
            conn.close()

    workers = [threading.Thread(target=work, args=(k * 7919,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    server = psutil.Process(pid)
    with contextlib.suppress(threading.BrokenBarrierError):  # a client failed in its warm-up: raised below
        ready.wait()
    cpu_before, started = server.cpu_times(), time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed, cpu_after = time.perf_counter() - started, server.cpu_times()
    if errors:
        raise errors[0]
    cpu = (cpu_after.user + cpu_after.system - cpu_before.user - cpu_before.system) / len(latencies)
    return RouteFigures(
        name,
        len(latencies),
        len(latencies) / elapsed,
        percentile(latencies, 0.5) * 1000,
        percentile(latencies, 0.99) * 1000,
        cpu * 1000,
        page=name.startswith("GET /contracts"),
    )


def next_cursors(port: int, headers: dict[str, str], count: int) -> list[str]:
    """The nextCursor of the first `count` pages of an unfiltered walk: the second page and further ones."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    cursors: list[str] = []
    path = "/contracts?limit=50"
    while len(cursors) < count:
        cursor = json.loads(get(conn, path, headers))["nextCursor"]
        if cursor is None:
            break
        cursors.append(cursor)
        path = "/contracts?" + urlencode({"limit": 50, "cursor": cursor})
    conn.close()
    if not cursors:
        raise RuntimeError("the CFA has a single page: no second page to measure")
    return cursors


def run(url: str, cfa_siret: str, requests: int, threads: int) -> list[RouteFigures]:
    """The bare endpoint (before and after), then each route of the status API, on the filled database."""
    service = Service(
        url,
        ROOT,
        workers=1,
        env={
            "CONVERGENCE_WORKER_IN_SERVE": "false",
            "CONVERGENCE_SANDBOX": "off",
            "CONVERGENCE_RATE_LIMIT_PER_SECOND": "0",
        },
    )
    service.start()
    try:
        issued = json.loads(service.cli("tokens", "create", "--cfa-siret", cfa_siret, "--name", "bench"))
        headers = {"Authorization": f"Bearer {issued['token']}"}
        assert service.process is not None
        api = service.process.pid
        cursors = next_cursors(service.port, headers, 20)
        routes: dict[str, list[str]] = {
            "GET /contracts?limit=50": ["/contracts?limit=50"],
            "GET /contracts state=drafted": ["/contracts?limit=50&state=drafted"],
            "GET /contracts problems=true": ["/contracts?limit=50&problems=true"],
            "GET /contracts opco=ATLAS": ["/contracts?limit=50&opco=ATLAS"],
            "GET /contracts apprentice=mar": ["/contracts?limit=50&apprentice=mar"],
            "GET /contracts cursor=next (pages 2-21)": [
                "/contracts?" + urlencode({"limit": 50, "cursor": c}) for c in cursors
            ],
            "GET /dashboard": ["/dashboard"],
            "GET /attention": ["/attention"],
        }
        conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
        for name, paths in routes.items():  # each answers 200 with what it should
            body = json.loads(get(conn, paths[0], headers))
            shown = len(body["items"]) if isinstance(body, dict) and "items" in body else len(body)
            if name.startswith("GET /contracts") and shown != 50:
                print(f"note: {name} answers {shown} items, not a full page of 50 (a small fill)")
            if name == "GET /dashboard":  # the filled dossiers are counted there too
                counted = sum(n for by_opco in body["counts"].values() for n in by_opco.values())
                print(f"dashboard of {cfa_siret}: {counted:,} dossiers")
                if not counted:
                    raise RuntimeError("the dashboard counts none of the filled dossiers")
        conn.close()
        figures = []
        with BareServer() as bare:
            assert bare.process is not None
            pid = bare.process.pid
            figures.append(measure("bare FastAPI (before)", bare.port, pid, ["/bare"], {}, requests, threads))
            for name, paths in routes.items():
                figures.append(measure(name, service.port, api, paths, headers, requests, threads))
            figures.append(measure("bare FastAPI (after)", bare.port, pid, ["/bare"], {}, requests, threads))
        return figures
    finally:
        service.stop()


def report(figures: list[RouteFigures], threads: int) -> list[str]:
    bare = [f.per_second for f in figures if f.name.startswith("bare")]
    baseline = sum(bare) / len(bare)
    lines = [
        f"HTTP over loopback, {threads} client threads (keep-alive), 1 uvicorn worker each;"
        f" baseline = mean of the bare runs, {baseline:,.0f} req/s",
        f"  {'route':<40} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'(target)':>9} {'ratio':>6} {'(target)':>9}"
        f" {'srv CPU/req':>11}",
    ]
    for f in figures:
        ratio = f.per_second / baseline
        p99_target = f"<= {PAGE_P99_TARGET_MS:.0f} {_mark(f.p99_ms <= PAGE_P99_TARGET_MS)}" if f.page else "-"
        targeted = f.page or f.name == "GET /dashboard"  # /attention answers up to 500 dossiers, not a page of 50
        ratio_target = f">= {RATIO_TARGET} {_mark(ratio >= RATIO_TARGET)}" if targeted else "-"
        lines.append(
            f"  {f.name:<40} {f.per_second:>7,.0f} {f.p50_ms:>7.2f} {f.p99_ms:>7.2f} {p99_target:>9}"
            f" {ratio:>6.2f} {ratio_target:>9} {f.server_cpu_ms:>8.2f} ms"
        )
    return lines


def _mark(met: bool) -> str:
    return "ok" if met else "NO"


def main() -> None:
    parser = argparse.ArgumentParser(description="the bare baseline server of benchmarks.status")
    parser.add_argument("--port", type=int, required=True)
    serve_bare(parser.parse_args().port)


if __name__ == "__main__":
    main()
