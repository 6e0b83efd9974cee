"""Dossiers imported per second from one OPCO, and the memory the import takes, in one run.

    .venv/bin/python -m benchmarks.import_dossiers [--dossiers 5000] [--latency-ms 50] [--postgres] [--no-tracemalloc]

The reference OPCO sandbox runs in this process over loopback (uvicorn in a thread), holds `--dossiers` dossiers
deposited elsewhere for one CFA at ATLAS (a third without numeroInterne) and answers every call `--latency-ms` late.
The import reads the OPCO's list (every page) and each dossier (`importer.READERS` at a time), creates each one,
and records its progress. Printed: the rate (dossiers/s), the time per dossier against the sandbox's latency, the
peak of Python allocations during the import (tracemalloc) and the process's peak resident memory; then a second
import, which finds nothing new. It prints figures, it asserts no timing.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx

from application.access.access import OPERATOR
from application.contracts.imports.importer import READERS
from benchmarks.databases import temporary_postgres
from domain.contracts.cerfa_document import parse_cerfa
from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox import SandboxConfig
from infrastructure.opco.opco_wire import dossier_body, encode, wire_variant
from tests.conftest import load_example
from tests.integration.sandbox_server import SANDBOX_OPERATOR, running_sandbox
from tests.integration.transmission_support import wired

CFA = "79852413800012"  # the CFA of docs/examples/cerfa-complete.json
OPCO = Opco.ATLAS
SEED_BATCH = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", type=int, default=5000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--postgres", action="store_true", help="a temporary PostgreSQL database (else SQLite)")
    parser.add_argument("--no-tracemalloc", action="store_true", help="leave out the allocation peak (faster)")
    args = parser.parse_args()
    config = SandboxConfig(instruction_delay=0, decision_delay=0, page_size=100)
    with running_sandbox(config) as sandbox:
        seed(sandbox, args.dossiers)
        faults = {"latencyMs": args.latency_ms}
        httpx.put(f"{sandbox}/_sandbox/faults", json=faults, headers=SANDBOX_OPERATOR).raise_for_status()
        if args.postgres:
            with temporary_postgres() as url:
                measure(url, sandbox, args)
        else:
            with tempfile.TemporaryDirectory() as folder:
                measure(f"sqlite:///{Path(folder) / 'bench.db'}", sandbox, args)


def seed(sandbox: str, count: int) -> None:
    body = json.loads(encode(dossier_body("x", parse_cerfa(load_example("cerfa-complete.json")), wire_variant(OPCO))))
    for start in range(0, count, SEED_BATCH):
        items = [
            {"dossier": body, "numeroInterne": None if n % 3 == 0 else f"PORTAIL-{n}"}
            for n in range(start, min(count, start + SEED_BATCH))
        ]
        answer = httpx.post(
            f"{sandbox}/_sandbox/dossiers/elsewhere",
            json={"opco": OPCO.value, "siret": CFA, "dossiers": items},
            headers=SANDBOX_OPERATOR,
            timeout=120,
        )
        answer.raise_for_status()


def measure(database_url: str, sandbox: str, args: argparse.Namespace) -> None:
    container = wired(database_url, sandbox, opco_timeout_seconds=30.0)
    try:
        first, elapsed, peak = timed(container, not args.no_tracemalloc)
        second, again, _ = timed(container, False)
    finally:
        container.close()
    rate = first["counts"]["created"] / elapsed
    store = "PostgreSQL" if args.postgres else "SQLite"
    print(f"import of {args.dossiers} dossiers from {OPCO} ({store}, sandbox {args.latency_ms} ms per call):")
    print(f"  counts {first['counts']} in {elapsed:.1f} s: {rate:.1f} dossiers/s")
    per_call = args.latency_ms / 1000
    print(f"  {elapsed / max(1, args.dossiers) * 1000:.1f} ms per dossier; ceiling {READERS / per_call:.0f}/s")
    if peak is not None:
        print(f"  peak of Python allocations during the import: {peak / 2**20:.1f} MiB (tracemalloc)")
    print(f"  peak resident memory of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"  second import: counts {second['counts']} in {again:.1f} s (nothing new: no dossier read)")


def timed(container: Any, trace: bool) -> tuple[dict[str, Any], float, int | None]:
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    run = container.importer.start(OPERATOR, CFA, OPCO, dry_run=False)
    status = container.importer.execute(run, OPERATOR.actor)
    elapsed = time.perf_counter() - started
    peak = None
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert status["status"] == "finished", status
    return status, elapsed, peak


if __name__ == "__main__":
    main()
