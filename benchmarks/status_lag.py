"""Projection lag of the status read model under a sustained write load, on PostgreSQL (part of benchmarks.status).

`convergence serve` runs with its worker (as deployed: the status read-model task woken by LISTEN/NOTIFY, polling
as the fallback) on the filled database. This process writes commands at a steady rate through the Dossiers
application (half creations of a dossier with a complete Cerfa, half merge patches of a dossier created earlier),
each returning the log position of its last event (`Saved.position`). A poller reads the status view's position
(`SqlStatusView.position`, which is also the `as_of` of the pages the API serves) every `poll` seconds: the lag of
a write is the time from the return of its commit to the first poll that sees the position reached.
"""

from __future__ import annotations

import heapq
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from application.access.access import Principal, Role
from application.dossiers import Dossiers
from domain.contracts.cerfa_document import parse_cerfa
from infrastructure.clock import SystemClock
from infrastructure.read_models.status_view import SqlStatusView
from infrastructure.reference_data import idcc_routing
from infrastructure.store.event_store import eventsourcing_env
from infrastructure.store.sql_store import PostgresStore
from tests.conftest import load_example
from tests.e2e.service import Service
from tests.support import settings

ROOT = Path(__file__).resolve().parent.parent
P99_TARGET_MS = 250.0


@dataclass(frozen=True)
class LagFigures:
    writes: int
    seconds: float
    rate: float  # achieved commands/s
    commit_p50_ms: float
    commit_p99_ms: float
    lags_ms: list[float]
    poll_ms: float

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.lags_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


class Visibility:
    """Positions written and when their commit returned; a poller matches them with the view's position."""

    def __init__(self, view: SqlStatusView, app_name: str, poll: float) -> None:
        self._view = view
        self._app = app_name
        self._poll = poll
        self._lock = threading.Lock()
        self._pending: list[tuple[int, float]] = []
        self.lags: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lag-poller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def committed(self, position: int, at: float) -> None:
        with self._lock:
            heapq.heappush(self._pending, (position, at))

    def outstanding(self) -> int:
        with self._lock:
            return len(self._pending)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            position = self._view.position(self._app)
            seen = time.perf_counter()
            with self._lock:
                while self._pending and self._pending[0][0] <= position:
                    _, committed = heapq.heappop(self._pending)
                    self.lags.append(max(0.0, seen - committed))
            self._stop.wait(self._poll)


def run(url: str, rate: float, seconds: float, threads: int = 2, poll: float = 0.005) -> LagFigures:
    service = Service(url, ROOT, workers=1, env={"CONVERGENCE_WORKER_IN_SERVE": "true", "CONVERGENCE_SANDBOX": "off"})
    service.start()
    app = Dossiers(eventsourcing_env(settings(url)), routing=idcc_routing(), clock=SystemClock())
    store = PostgresStore(url, pool_size=2)
    view = SqlStatusView(store, idcc_routing())
    try:
        return _load(app, view, rate, seconds, threads, poll)
    finally:
        store.close()
        app.close()
        service.stop()


def _load(app: Dossiers, view: SqlStatusView, rate: float, seconds: float, threads: int, poll: float) -> LagFigures:
    cerfa = parse_cerfa(load_example("cerfa-complete.json"))
    siret = str(cerfa.organismeFormation.siret) if cerfa.organismeFormation else ""
    who = Principal(actor="token:bench-lag", role=Role.FRONTEND, cfa_siret=siret)
    total = int(rate * seconds)
    visibility = Visibility(view, app.name, poll)
    commits: list[float] = []
    lock = threading.Lock()

    def write(n: int, mine: list[UUID], rng: random.Random) -> int:
        if n % 2 == 0 or not mine:
            saved = app.create_contract(who, cerfa=cerfa, numero_interne=f"LAG-{n:07d}", opco=None)
            mine.append(saved.contract.id)
        else:  # a dossier this thread created: no two threads change the same one at once
            patch = {"apprenti": {"telephone": f"06{rng.randrange(10**8):08d}"}}
            saved = app.patch_cerfa(who, rng.choice(mine), patch, None)
        assert saved.position is not None
        return saved.position

    # warm-up: the connections, the aggregate cache, the worker's first rounds
    last = max(write(-1 - n, [], random.Random(n)) for n in range(10))
    deadline = time.monotonic() + 30
    while view.position(app.name) < last and time.monotonic() < deadline:
        time.sleep(0.01)
    visibility.start()
    started = time.perf_counter()

    def writer(k: int) -> None:
        rng, mine, durations = random.Random(k), list[UUID](), []
        for n in range(k, total, threads):  # command n is due at started + n / rate
            pause = started + n / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            began = time.perf_counter()
            position = write(n, mine, rng)
            done = time.perf_counter()
            visibility.committed(position, done)
            durations.append(done - began)
        with lock:
            commits.extend(durations)

    workers = [threading.Thread(target=writer, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    deadline = time.monotonic() + 30
    while visibility.outstanding() and time.monotonic() < deadline:
        time.sleep(0.05)
    visibility.stop()
    if visibility.outstanding():
        raise RuntimeError(f"{visibility.outstanding()} writes still not visible 30 s after the load")
    commits.sort()
    return LagFigures(
        writes=total,
        seconds=elapsed,
        rate=total / elapsed,
        commit_p50_ms=commits[len(commits) // 2] * 1000,
        commit_p99_ms=commits[min(len(commits) - 1, int(len(commits) * 0.99))] * 1000,
        lags_ms=[lag * 1000 for lag in visibility.lags],
        poll_ms=poll * 1000,
    )


def report(figures: LagFigures, target_rate: float) -> list[str]:
    p99 = figures.percentile(0.99)
    mark = "ok" if p99 <= P99_TARGET_MS else "NO"
    return [
        f"projection lag: {figures.writes:,} commands in {figures.seconds:.1f} s = {figures.rate:,.0f} commands/s"
        f" (asked {target_rate:,.0f}/s); commit p50 {figures.commit_p50_ms:.1f} ms, p99 {figures.commit_p99_ms:.1f} ms",
        f"  commit -> visible in the status view (poll every {figures.poll_ms:.0f} ms):"
        f" p50 {figures.percentile(0.5):.1f} ms, p95 {figures.percentile(0.95):.1f} ms,"
        f" p99 {p99:.1f} ms (target <= {P99_TARGET_MS:.0f} ms: {mark}), max {max(figures.lags_ms):.1f} ms",
    ]
