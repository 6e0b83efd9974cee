"""Retention and backup, the long operations not measured elsewhere: their rate and peak memory at two sizes of store,
so that each is seen flat as the store grows (issue 18; the rebuild: benchmarks/rebuild_memory.py, verify:
benchmarks/audit_verify.py, import: benchmarks/import_dossiers.py).

    python3 dev.py run python -m benchmarks.long_operations [--sizes 5000,20000] [--postgres] [--today 2040-01-01]
                                                              [--aggregate-cache 2000] [--no-tracemalloc]

For each size: a new store (a SQLite file, or with --postgres a temporary PostgreSQL database) filled through the
service's own container (bootstrap: layout, chained recorder, each dossier's personal data sealed under its own
key) with that many dossiers (benchmarks/status_log.py: each its own apprentice, a realistic share of each
journey), all past their retention on `--today`. Then, each in a fresh process so that its peak is its own, as the
CLI runs them: bootstrap alone (the baseline every peak includes), `convergence retention apply --dry-run` (the
due list, counted and dropped), `convergence backup` (take_backup into a temporary directory; on PostgreSQL the
peak of its pg_dump child too, its VmHWM polled), `convergence retention apply` (erases every dossier due: last,
it changes the store). Each once for its time and resident peak (RSS, getrusage), and once more under tracemalloc
for its peak of Python allocations (slowed by it: not timed; the traced apply erases a copy of the store made
before the first).

Targets: every peak flat as the store grows (the ratio of the larger size's to the smaller's ~1). The caches the
service bounds (the aggregates: CONVERGENCE_AGGREGATE_CACHE_SIZE, 2,000 dossiers, which `--aggregate-cache` sets for
the measured processes; the assessments: 4,096; the data keys: 10,000) fill up to their bound first: below some
thousands of dossiers a peak still grows with them, and is flat past them. It prints figures, it asserts no timing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from benchmarks.databases import ADMIN_URL, temporary_postgres
from benchmarks.peaks import children_peak, in_fresh_process, rss_peak_mb
from benchmarks.status_log import fill_log
from infrastructure.settings import Settings
from infrastructure.store.backup.archive import take_backup
from infrastructure.store.event_store import sqlite_path
from interfaces.bootstrap import bootstrap
from tests.support import settings

OPERATIONS = ("bootstrap", "dry-run", "backup", "apply")
UNITS = {"bootstrap": "-", "dry-run": "dossiers", "backup": "events", "apply": "dossiers"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="5000,20000", help="dossiers in each store (default 5000,20000)")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL (a temporary database) instead of SQLite")
    parser.add_argument("--today", default="2040-01-01", help="the day retention judges by (default 2040-01-01)")
    parser.add_argument("--aggregate-cache", type=int, default=None, help="dossiers cached (default: the service's)")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the traced runs")
    parser.add_argument("--child", nargs=4, metavar=("WHAT", "URL", "TODAY", "TRACE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    cache = {} if args.aggregate_cache is None else {"aggregate_cache_size": args.aggregate_cache}
    if args.child:
        what, url, today, trace = args.child
        print(json.dumps(child(what, settings(url, **cache), date.fromisoformat(today), trace == "1")))
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    results: dict[int, dict[str, dict[str, Any]]] = {}
    for size in sizes:
        with new_store(args.postgres) as url:
            results[size] = measure(url, size, args.today, not args.no_tracemalloc, args.postgres, cache)
    summary(results, sizes)


def measure(
    url: str, dossiers: int, today: str, traced: bool, postgres: bool, cache: dict[str, int]
) -> dict[str, dict[str, Any]]:
    container = bootstrap(settings(url))
    started = time.perf_counter()
    events = fill_log(container.dossiers, dossiers)
    container.close()
    print(f"\n== {dossiers:,} dossiers: {events:,} events saved in {time.perf_counter() - started:.0f} s")
    found: dict[str, dict[str, Any]] = {}
    for what in OPERATIONS:
        if what == "apply" and traced:
            with copy_of(url, postgres) as copy:
                traced_mb = run(what, copy, today, True, cache)["traced_mb"]
        elif traced:
            traced_mb = run(what, url, today, True, cache)["traced_mb"]
        found[what] = {**run(what, url, today, False, cache), "traced_mb": traced_mb if traced else None}
        report(what, found[what])
    if found["apply"]["items"] != found["dry-run"]["items"]:
        listed, erased = found["dry-run"]["items"], found["apply"]["items"]
        print(f"  !! the dry run listed {listed:,} dossiers, the apply erased {erased:,}")
    return found


def run(what: str, url: str, today: str, trace: bool, cache: dict[str, int]) -> dict[str, Any]:
    options = [f"--aggregate-cache={cache['aggregate_cache_size']}"] if cache else []
    return in_fresh_process("benchmarks.long_operations", *options, "--child", what, url, today, str(int(trace)))


def child(what: str, options: Settings, today: date, trace: bool) -> dict[str, Any]:
    """In a fresh process: one operation as the CLI runs it (after the container's bootstrap); its figures."""
    container = bootstrap(options)
    extra: dict[str, Any] = {}
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    if what == "dry-run":
        items = sum(1 for _ in container.retention.due(today))
    elif what == "apply":
        items = sum(1 for _ in container.retention.apply(today))
    elif what == "backup":
        items = container.dossiers.recorder.max_notification_id() or 0
        with tempfile.TemporaryDirectory(prefix="bench-backup-") as folder, children_peak() as dump_peak:
            archive, _ = take_backup(options, Path(folder))
            extra["archive_mb"] = archive.stat().st_size / 2**20
        extra["children_rss_mb"] = dump_peak[0]
    else:
        items = 0
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else 0.0
    container.close()
    return {
        "items": items,
        "seconds": seconds,
        "rss_mb": rss_peak_mb(),
        "traced_mb": traced,
        "children_rss_mb": 0.0,
        **extra,
    }


def report(what: str, figures: dict[str, Any]) -> None:
    rate = f"{figures['items'] / figures['seconds']:>8,.0f} {UNITS[what]}/s" if figures["items"] else " " * 17
    traced = f", traced peak {figures['traced_mb']:6.1f} MiB" if figures["traced_mb"] is not None else ""
    extra = f", pg_dump RSS peak {figures['children_rss_mb']:.1f} MiB" if figures["children_rss_mb"] else ""
    archive = f", archive {figures['archive_mb']:.1f} MiB" if "archive_mb" in figures else ""
    print(
        f"  {what:<9} {figures['items']:>9,} {UNITS[what]:<8} in {figures['seconds']:6.1f} s = {rate},"
        f" RSS peak {figures['rss_mb']:6.1f} MiB{traced}{extra}{archive}"
    )


def summary(results: dict[int, dict[str, dict[str, Any]]], sizes: list[int]) -> None:
    small, large = min(sizes), max(sizes)
    print(f"\n== summary: {large:,} vs {small:,} dossiers ({large / small:.1f} x the store); ratios larger/smaller")
    for what in OPERATIONS:
        at_small, at_large = results[small][what], results[large][what]
        parts = [
            f"RSS peak {at_small['rss_mb']:.1f} -> {at_large['rss_mb']:.1f} MiB ({ratio(at_large, at_small, 'rss_mb')})"
        ]
        if at_small["traced_mb"] is not None:
            parts.append(
                f"traced peak {at_small['traced_mb']:.1f} -> {at_large['traced_mb']:.1f} MiB"
                f" ({ratio(at_large, at_small, 'traced_mb')})"
            )
        if at_small["children_rss_mb"]:
            parts.append(
                f"pg_dump RSS peak {at_small['children_rss_mb']:.1f} -> {at_large['children_rss_mb']:.1f} MiB"
                f" ({ratio(at_large, at_small, 'children_rss_mb')})"
            )
        if at_large["items"]:
            parts.append(f"rate {at_large['items'] / at_large['seconds']:,.0f} {UNITS[what]}/s")
        print(f"  {what:<9} " + "; ".join(parts))


def ratio(large: dict[str, Any], small: dict[str, Any], key: str) -> str:
    return f"x{large[key] / small[key]:.2f}" if small[key] else "-"


@contextmanager
def new_store(postgres: bool) -> Iterator[str]:
    if postgres:
        with temporary_postgres() as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="bench-long-") as folder:
        yield f"sqlite:///{folder}/store.db"


@contextmanager
def copy_of(url: str, postgres: bool) -> Iterator[str]:
    """A copy of the store (no process has it open): the database as a template, or the SQLite file and its WAL."""
    if not postgres:
        with tempfile.TemporaryDirectory(prefix="bench-long-copy-") as folder:
            source = Path(sqlite_path(url))
            for part in source.parent.glob(f"{source.name}*"):
                shutil.copy(part, Path(folder) / part.name.replace(source.name, "store.db"))
            yield f"sqlite:///{folder}/store.db"
        return
    name = f"convergence_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        template = sql.Identifier(url.rsplit("/", 1)[1])
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), template))
        try:
            yield url.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
