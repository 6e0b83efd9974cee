"""The replay-and-chain part of `convergence audit verify`: events/s and peak memory at two sizes of store.

A store is filled with dossiers of `--per-dossier` events each (a real accepted contract's events, then small
changes of its NPEC forecast: one large Cerfa-carrying event and many small ones, as dossiers are), written fast
through the chained recorder itself (digests and checkpoints as in production, many dossiers per transaction).
Each measurement runs in a fresh process over that store: reading the rows alone (the baseline), reading and
checking the chain, and reading, chaining and replaying every aggregate with its invariants (what verify does
before its checkpoints and read models). Memory: tracemalloc's peak and the process's peak RSS.

    python -m benchmarks.audit_verify --events 1000000        # SQLite, 1,000,000 and 250,000 events
    python -m benchmarks.audit_verify --database-url postgresql://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

from eventsourcing.persistence import StoredEvent

from application.audit.history_check import HistoryCheck
from benchmarks.peaks import in_fresh_process, rss_peak_mb
from infrastructure.audit.chain_store import stored_pages
from infrastructure.audit.verify import tables_of
from infrastructure.read_models.status_view import _fast_mapper
from infrastructure.store.sql_store import open_sql_store
from tests.conftest import load_example
from tests.invoicing import accepted_contract
from tests.support import dossiers, principal

TARGET = 50_000  # events/s, issue 15
BATCH = 2000  # events per transaction when filling


def template(per_dossier: int) -> list[StoredEvent]:
    app = dossiers()
    who = principal("79852413800012")
    contract = accepted_contract(app, who, load_example("cerfa-complete.json"))
    n = 0
    while len(app.recorder.select_events(contract.id)) < per_dossier:
        n += 1
        app.forecast_npec(who, contract.id, Decimal(8000 + n))
    return list(app.recorder.select_events(contract.id))[:per_dossier]


def fill(url: str, events: int, per_dossier: int) -> float:
    events_of = template(per_dossier)
    app = dossiers(url)
    started, written, batch = time.perf_counter(), 0, []
    while written < events:
        ident = uuid4()
        for e in events_of[: min(per_dossier, events - written)]:
            batch.append(StoredEvent(ident, e.originator_version, e.topic, e.state))
        written += min(per_dossier, events - written)
        if len(batch) >= BATCH or written >= events:
            app.recorder.insert_events(batch)
            batch = []
    app.close()
    return written / (time.perf_counter() - started)


def measure(url: str, mode: str) -> dict[str, float]:
    """One pass over the store: `raw` reads, `chain` reads and chains, `replay` also replays; `-traced` under
    tracemalloc (which slows the pass: its rate is not reported)."""
    traced = mode.endswith("-traced")
    mode = mode.removesuffix("-traced")
    app = dossiers(url)
    store = open_sql_store(url, 2)
    tables = tables_of(store, app)
    with store.reading() as tx:
        head = int(tx.query(f"SELECT MAX({tables.position}) FROM {tables.events}")[0][0] or 0)
    if traced:
        tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    check = HistoryCheck(_fast_mapper(app.mapper), replay=mode == "replay")  # as verify_history makes it
    count = 0
    for rows in stored_pages(store.reading, tables, head):
        if mode != "raw":
            check.feed(rows)
        count += len(rows)
    found = check.finish()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    store.close()
    app.close()
    return {
        "events": count,
        "rate": count / seconds,
        "cpu_rate": count / cpu,  # per second of this process's CPU: what a core of its own gives (SQLite: reads too)
        "traced_peak_mb": peak / 2**20,
        "rss_peak_mb": rss_peak_mb(),
        "discrepancies": len(found),
    }


def measure_apart(url: str, mode: str) -> dict[str, float]:
    return in_fresh_process("benchmarks.audit_verify", "--measure", mode, "--database-url", url)


def run_size(url: str, events: int, per_dossier: int) -> dict[str, dict[str, float]]:
    rate = fill(url, events, per_dossier)
    print(f"\n{events:,} events written through the chained recorder at {rate:,.0f} events/s")
    results = {mode: measure_apart(url, mode) for mode in ("raw", "chain", "replay", "replay-traced")}
    base, cpu_base = results["raw"]["rate"], results["raw"]["cpu_rate"]
    for mode in ("raw", "chain", "replay"):
        r = results[mode]
        print(
            f"  {mode:<7} {r['rate']:>9,.0f} events/s wall ({r['rate'] / base:.2f}× raw reading),"
            f" {r['cpu_rate']:>9,.0f} per CPU-second ({r['cpu_rate'] / cpu_base:.2f}× raw)"
            f"  peak RSS {r['rss_peak_mb']:6.1f} MB  discrepancies {r['discrepancies']:.0f}"
        )
    print(f"  replay under tracemalloc: peak {results['replay-traced']['traced_peak_mb']:.1f} MB traced")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400_000, help="the larger store's events")
    parser.add_argument("--per-dossier", type=int, default=50)
    parser.add_argument("--database-url", default=None, help="PostgreSQL (an empty database) instead of SQLite")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.database_url, args.measure)))
        return
    sizes = (args.events // 4, args.events)
    results = {}
    for n, size in enumerate(sizes):
        if args.database_url:
            url = _fresh_postgres_schema(args.database_url, n)
        else:
            path = Path("var") / f"bench-audit-{size}.db"
            for stale in path.parent.glob(f"{path.name}*"):
                stale.unlink()
            path.parent.mkdir(exist_ok=True)
            url = f"sqlite:///{path}"
        results[size] = run_size(url, size, args.per_dossier)
    small, large = (results[s]["replay"] for s in sizes)
    traced = [results[s]["replay-traced"]["traced_peak_mb"] for s in sizes]
    print(
        f"\nreplay-and-chain at {sizes[1]:,} events: {large['rate']:,.0f} events/s wall"
        f" ({large['rate'] / TARGET:.2f}× the {TARGET:,}/s target), {large['cpu_rate']:,.0f} per CPU-second"
        f" ({large['cpu_rate'] / TARGET:.2f}× the target); memory from {sizes[0]:,} to {sizes[1]:,} events"
        f" (×{sizes[1] / sizes[0]:.0f}): tracemalloc peak ×{traced[1] / traced[0]:.2f},"
        f" peak RSS ×{large['rss_peak_mb'] / small['rss_peak_mb']:.2f}"
    )


def _fresh_postgres_schema(url: str, n: int) -> str:
    import psycopg

    schema = f"bench_audit_{n}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{url}?schema={schema}"


if __name__ == "__main__":
    main()
