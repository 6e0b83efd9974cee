"""`GET /contracts/{id}?version=N` without HTTP: the route's function called in-process, as the API calls it, on
dossiers of 50 events each (a draft and 49 merge patches of its Cerfa), N drawn at random in 1..50.

The baseline is the same route without `version` (the current dossier, from the aggregate cache as deployed); the
figure is the p50 and p99 of each and their ratio. Target: p99 of a past version ≤ 5 ms.

    python3 dev.py run python -m benchmarks.history_replay [--dossiers 100] [--reads 3000] [--postgres]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from uuid import UUID

from application.access.access import Principal, Role
from domain.contracts.cerfa_document import parse_cerfa
from interfaces.api.contracts.contracts import get_contract
from interfaces.bootstrap import Container, bootstrap
from tests.conftest import load_example
from tests.postgres import temporary_database
from tests.support import settings

EVENTS = 50
P99_TARGET_MS = 5.0


def fill(services: Container, dossiers: int) -> tuple[Principal, list[UUID]]:
    cerfa = load_example("cerfa-complete.json")
    who = Principal(actor="token:bench", role=Role.FRONTEND, cfa_siret=cerfa["organismeFormation"]["siret"])
    ids = []
    for n in range(dossiers):
        ident = services.dossiers.create_contract(who, cerfa=parse_cerfa(cerfa), numero_interne=f"B-{n}", opco=None)
        ids.append(ident.contract.id)
        for change in range(1, EVENTS):
            patch = {"apprenti": {"nomUsage": "Durand" if change % 2 else "Martin"}}  # each one a change
            services.dossiers.patch_cerfa(who, ids[-1], patch, None)
    return who, ids


def timed(reads: int, call: Callable[[], object]) -> tuple[list[float], list[float]]:
    """Each call's wall time and CPU time (of this thread), in ms: on a shared machine the wall time's tail is
    mostly other processes' turn on the CPU, which the CPU time leaves out."""
    wall, cpu = [], []
    for _ in range(reads):
        started, started_cpu = time.perf_counter(), time.thread_time()
        call()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    return wall, cpu


def quantiles(took: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(took, n=100)
    return cuts[49], cuts[98]


def run(url: str, args: argparse.Namespace) -> None:
    services = bootstrap(settings(url))
    try:
        started = time.perf_counter()
        who, ids = fill(services, args.dossiers)
        filled = time.perf_counter() - started
        print(f"{url.split('://')[0]}: {args.dossiers} dossiers of {EVENTS} events in {filled:.1f} s")
        rng = random.Random(7)

        def current() -> object:
            return get_contract(rng.choice(ids), who, services)

        def past() -> object:
            return get_contract(rng.choice(ids), who, services, version=rng.randint(1, EVENTS))

        timed(args.dossiers * 2, current)  # warm the aggregate cache and the code paths
        timed(200, past)
        base, replay = timed(args.reads, current), timed(args.reads, past)
        for what, index in (("wall", 0), ("CPU", 1)):
            b, r = quantiles(base[index]), quantiles(replay[index])
            print(f"  {what:4} current version   p50 {b[0]:6.2f} ms   p99 {b[1]:6.2f} ms")
            target = f"(target p99 ≤ {P99_TARGET_MS} ms)"
            print(f"  {what:4} ?version=N        p50 {r[0]:6.2f} ms   p99 {r[1]:6.2f} ms   {target}")
            print(f"  {what:4} ratio ?version=N / current: p50 {r[0] / b[0]:.2f}   p99 {r[1] / b[1]:.2f}")
    finally:
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", type=int, default=100)
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--postgres", action="store_true", help="on a throw-away PostgreSQL database (else SQLite)")
    args = parser.parse_args()
    with ExitStack() as stack:
        if args.postgres:
            url = stack.enter_context(temporary_database())
        else:
            url = f"sqlite:///{Path(stack.enter_context(tempfile.TemporaryDirectory())) / 'bench.db'}"
        run(url, args)


if __name__ == "__main__":
    main()
