"""The status read model on PostgreSQL: list pages and dashboard through the REST API on a large table, against a
bare FastAPI endpoint; the projection lag under a write load; a rebuild's rate.

    .venv/bin/python -m benchmarks.status [--rows 1000000] [--quick] [--cfas 200] [--threads 4] [--requests 2000]
                                          [--http-threads 4] [--http-requests 3000] [--rate 100] [--seconds 30]
                                          [--dossiers 20000] [--database-url postgresql://…] [--rebuild-only]

1. Fill: `--rows` dossiers written in bulk (COPY, not through the projection) into `status_versions`, spread over
   `--cfas` CFAs (valid SIRETs, the API checks them) of skewed sizes with a realistic mix of states and OPCOs; one
   dossier in five also has an older, closed version. Indexes are built after the COPY, then ANALYZE. The status
   read model's position is set past the filled versions (it is the `as_of` of every page, so the rows are
   visible to the API) and the event log's sequence is moved there too, so that new events come after it.
2. Reads, direct: `SqlStatusView.page()` (first pages with and without filters, a next page), `.dashboard()` and
   `.attention_candidates()` called from `--threads` threads, CFAs drawn by size: p50/p99 latency and requests/s.
3. Reads, HTTP (benchmarks/status_http.py): `convergence serve` (1 worker, CONVERGENCE_WORKER_IN_SERVE=false)
   with a token of the largest CFA, and a bare FastAPI app (GET /bare, a fixed page of 50 items) under the same
   uvicorn options, measured before and after the routes in the same run; `--http-threads` keep-alive stdlib
   clients over loopback: req/s, p50/p99 and the ratio to the bare endpoint's req/s of GET /contracts (no
   filter; state, problems, OPCO, apprentice name; next pages through nextCursor), /dashboard and /attention.
4. Lag (benchmarks/status_lag.py): `convergence serve` with its worker; `--rate` commands/s for `--seconds` s
   through the Dossiers application; commit to visible in the status view: p50/p95/p99/max.
5. Rebuild, in a second database: `--dossiers` dossiers (about six events each) saved in bulk through the
   Dossiers application (domain commands, many aggregates per save), then a rebuild and swap from position 0:
   events/s, and how many drafts it counted. Each dossier is its own apprentice (benchmarks/status_log.py), as in
   a real log: no memo of counts by Cerfa content can flatter it. `--rebuild-only`: this part alone.

Targets: p99 <= 15 ms for a page of 50 and req/s >= 0.5 x the bare endpoint's; lag p99 <= 250 ms; a rebuild
>= 20,000 events/s. It prints figures, it asserts no timing. `--quick`: a smoke run (20,000 rows, 10 s of writes,
fewer requests). Without --database-url it works in temporary databases on the local server; with it (an empty
database), every part runs in that one.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import psycopg
from stdnum import luhn

from application.dossiers import Dossiers
from application.read_models.status import STORED_FIELDS, ContractFilter, list_item, row_from_stored
from application.read_models.status_projection import search_column
from benchmarks import status_http, status_lag
from benchmarks.databases import temporary_postgres
from benchmarks.status_log import fill_log
from infrastructure.read_models.status_schema import ROW_COLUMNS, VERSION_COLUMNS
from infrastructure.read_models.status_view import SqlStatusView, build_next, swap_in
from infrastructure.reference_data import idcc_routing
from infrastructure.store.event_store import eventsourcing_env
from infrastructure.store.sql_store import PostgresStore
from tests.support import FixedClock, settings

STATES = {
    "drafted": 10,
    "mandate_checked": 5,
    "submitted": 3,
    "sent": 7,
    "in_review": 10,
    "accepted": 50,
    "refused": 3,
    "cancelled": 5,
    "terminated": 4,
    "closed": 3,
}
OPCOS = {
    "ATLAS": 20,
    "OPCOMMERCE": 15,
    "AKTO": 12,
    "OPCOEP": 12,
    "CONSTRUCTYS": 10,
    "OPCO2I": 8,
    "SANTE": 6,
    "MOBILITES": 6,
    "COHESION_SOCIALE": 5,
    "OCAPIAT": 4,
    "AFDAS": 2,
}
NOMS: tuple[str, ...] = (
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
)
NOMS += ("Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel")
PRENOMS = ("Léa", "Hugo", "Chloé", "Lucas", "Inès", "Louis", "Zoé", "Jules", "Éloïse", "Gabriel", "Manon", "Noé")
RNCPS = tuple(f"RNCP{35000 + n}" for n in range(300))


REBUILD_TARGET = 20_000  # events/s
FULL = {"rows": 1_000_000, "requests": 2000, "http_requests": 3000, "seconds": 30.0, "dossiers": 20_000}
QUICK = {"rows": 20_000, "requests": 400, "http_requests": 1000, "seconds": 10.0, "dossiers": 2000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, help="dossiers in the read model (default 1000000, quick 20000)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: the smaller defaults")
    parser.add_argument("--cfas", type=int, default=200, help="CFAs they belong to (default 200)")
    parser.add_argument("--threads", type=int, default=4, help="reading threads, direct calls (default 4)")
    parser.add_argument("--requests", type=int, help="requests per kind, direct calls (default 2000, quick 400)")
    parser.add_argument("--http-threads", type=int, default=4, help="HTTP client threads (default 4)")
    parser.add_argument("--http-requests", type=int, help="HTTP requests per route (default 3000, quick 1000)")
    parser.add_argument("--rate", type=float, default=100.0, help="commands/s of the lag part (default 100)")
    parser.add_argument("--seconds", type=float, help="duration of the write load (default 30, quick 10)")
    parser.add_argument("--dossiers", type=int, help="dossiers in the rebuilt log (default 20000, quick 2000)")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: temporary ones)")
    parser.add_argument("--rebuild-only", action="store_true", help="only the rebuild part (5.)")
    args = parser.parse_args()
    for name, value in (QUICK if args.quick else FULL).items():  # an option given wins
        if getattr(args, name) is None:
            setattr(args, name, value)
    summary: list[str] = []
    if args.rebuild_only:
        with _database(args.database_url) as url:
            summary += rebuild(url, args.dossiers)
        print("\n== summary: rebuild only, PostgreSQL ==")
        print("\n".join(summary))
        return
    with _database(args.database_url) as url:
        fill(url, args.rows, args.cfas)
        reads(url, args)
        largest = cfa_sirets(args.cfas)[0][0]
        http = status_http.run(url, largest, args.http_requests, args.http_threads)
        summary += status_http.report(http, args.http_threads)
        lag = status_lag.run(url, args.rate, args.seconds)
        summary += status_lag.report(lag, args.rate)
    with _database(args.database_url) as url:
        summary += rebuild(url, args.dossiers)
    print(f"\n== summary: {args.rows:,} dossiers over {args.cfas} CFAs (largest {largest}), PostgreSQL ==")
    print("\n".join(summary))


# -- 1. fill ----------------------------------------------------------------------------------------------------


def cfa_sirets(count: int) -> tuple[list[str], list[float]]:
    """Valid SIRETs (a token's is checked), largest first, and skewed sizes: the largest CFA ~15x the median."""
    return [siret(n) for n in range(count)], [1 / (rank + 1) ** 0.6 for rank in range(count)]


def siret(n: int) -> str:
    """A valid SIRET: its SIREN (9 digits) and the whole 14 digits pass the Luhn check."""
    siren = f"9{n:07d}"
    siren += luhn.calc_check_digit(siren)
    establishment = f"{siren}0001"
    return establishment + luhn.calc_check_digit(establishment)


def version_rows(rows: int, cfas: int, seed: int = 7) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    sirets, weights = cfa_sirets(cfas)
    states, state_weights = list(STATES), list(STATES.values())
    opcos, opco_weights = list(OPCOS), list(OPCOS.values())
    start = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    for n in range(rows):
        cfa = rng.choices(sirets, weights)[0]
        state = rng.choices(states, state_weights)[0]
        current = {
            "n": n,
            "cfa": cfa,
            "state": state,
            "opco": rng.choices(opcos, opco_weights)[0] if rng.random() > 0.02 else None,
            "name": f"{rng.choice(NOMS).upper()} {rng.choice(PRENOMS)}",
            "updated": start + n * 60 + rng.random() * 50,
            "rng": rng,
        }
        if n % 5 == 0:  # an older version, closed by the current one
            yield _version(current, position=2 * n + 1, valid_to=2 * n + 2, state="drafted")
        yield _version(current, position=2 * n + 2, valid_to=None, state=state)


def _version(d: dict[str, Any], position: int, valid_to: int | None, state: str) -> tuple[Any, ...]:
    rng: random.Random = d["rng"]
    draft = state in ("drafted", "mandate_checked")
    begin = date(2025, 9, 1) + timedelta(days=rng.randrange(400))
    accepted = state in ("accepted", "terminated", "closed")
    values = {
        "contract_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "valid_from": position,
        "cfa_siret": d["cfa"],
        "numero_interne": f"2026-{d['n']:07d}",
        "state": state,
        "opco": d["opco"],
        "apprentice_name": d["name"],
        "apprentice_search": search_column(d["name"]),
        "employer_name": f"Entreprise {rng.randrange(50000)}",
        "employer_siret": f"8{rng.randrange(10**12):013d}",
        "formation_rncp": rng.choice(RNCPS),
        "formation_title": "BTS Services informatiques aux organisations",
        "start_date": begin.isoformat(),
        "end_date": (begin + timedelta(days=730)).isoformat(),
        "numero_externe": None if draft else f"EXT-{d['n']}",
        "numero_deca": f"DECA-{d['n']}" if accepted else None,
        "opco_state": "ENGAGE" if accepted else None,
        "problem_count": rng.choice((0, 0, 1, 2, 5)) if draft else 0,
        "has_mandate": int(state != "drafted"),
        "parked": int(state == "submitted" and rng.random() < 0.2),
        "commitment": f"{rng.randrange(500000, 2500000) / 100:.2f}" if accepted else None,
        "created_at": d["updated"] - 86400 * 30,
        "updated_at": d["updated"] if valid_to is None else d["updated"] - 3600,
        "submitted_at": None if draft else d["updated"] - 86400,
        "sent_at": None if draft or state == "submitted" else d["updated"] - 80000,
        "workplace_departement": rng.choice(("75", "69", "57", "974")),
    }
    ids = d.setdefault("id", values["contract_id"])
    values["contract_id"] = ids
    stored = tuple(values["valid_from" if field == "position" else field] for field in STORED_FIELDS)
    item = orjson.dumps(list_item(row_from_stored(stored))).decode()  # as the view stores it
    return (*(values[c] for c in ROW_COLUMNS), item, valid_to)


def fill(url: str, rows: int, cfas: int) -> None:
    """COPY the versions into bare tables, set the positions, then let the view build what it derives from them
    (its indexes, and whatever else it keeps beside the versions) as a process starting on them would."""
    store = PostgresStore(url)
    SqlStatusView(store, idcc_routing(), create_indexes=False)
    head = 2 * rows + 2  # the position of the last filled version
    app = Dossiers(eventsourcing_env(settings(url)), routing=idcc_routing(), clock=FixedClock())  # creates the log
    events = f"{app.recorder.datastore.schema}.{app.recorder.events_table_name}"  # type: ignore[attr-defined]
    app.close()
    started = time.perf_counter()
    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY status_versions ({', '.join(VERSION_COLUMNS)}) FROM STDIN") as copy,
        ):
            for record in version_rows(rows, cfas):
                copy.write_row(record)
        # the view's position (the as_of of the API's pages): every filled version is visible at it
        conn.execute(
            "INSERT INTO projection_tracking (projection, application_name, position)"
            " VALUES ('status', 'Dossiers', %s)",
            (head,),
        )
        # new events come after it, or the read model would take them for already projected
        conn.execute("SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s)", (events, head))
    copied = time.perf_counter()
    SqlStatusView(store, idcc_routing())
    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        conn.execute("ANALYZE")
    store.close()
    print(
        f"fill: {rows:,} dossiers ({rows + (rows + 4) // 5:,} versions) over {cfas} CFAs:"
        f" COPY {copied - started:.1f} s, indexes + ANALYZE {time.perf_counter() - copied:.1f} s"
    )


def _conninfo(url: str) -> str:
    return url.split("?", 1)[0]


# -- 2. reads ---------------------------------------------------------------------------------------------------


@dataclass
class Figures:
    latencies: list[float]
    elapsed: float

    def line(self, name: str) -> str:
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"{name:<34} {len(ordered) / self.elapsed:>8,.0f} req/s   p50 {statistics.median(ordered) * 1000:6.2f} ms"
            f"   p99 {p99 * 1000:6.2f} ms"
        )


def measure(call: Callable[[random.Random], object], requests: int, threads: int) -> Figures:
    latencies: list[float] = []
    lock = threading.Lock()

    def work(seed: int) -> None:
        rng = random.Random(seed)
        mine = []
        for _ in range(requests // threads):
            began = time.perf_counter()
            call(rng)
            mine.append(time.perf_counter() - began)
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=work, args=(seed,)) for seed in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return Figures(latencies, time.perf_counter() - started)


def reads(url: str, args: argparse.Namespace) -> None:
    store = PostgresStore(url, pool_size=args.threads)
    view = SqlStatusView(store, idcc_routing())
    sirets, weights = cfa_sirets(args.cfas)

    def cfa(rng: random.Random) -> str:
        return rng.choices(sirets, weights)[0]

    def second_page(rng: random.Random) -> object:
        siret = cfa(rng)
        first = view.page(siret, ContractFilter(), 50, None)
        return view.page(siret, ContractFilter(), 50, first.next_cursor) if first.next_cursor else first

    kinds: dict[str, Callable[[random.Random], object]] = {
        "page 50, no filter": lambda rng: view.page(cfa(rng), ContractFilter(), 50, None),
        "page 50, state=drafted": lambda rng: view.page(cfa(rng), ContractFilter(states=("drafted",)), 50, None),
        "page 50, states in_review+sent, opco": lambda rng: view.page(
            cfa(rng), ContractFilter(states=("in_review", "sent"), opco="ATLAS"), 50, None
        ),
        "page 50, apprentice 'mar le'": lambda rng: view.page(cfa(rng), ContractFilter(apprentice="mar le"), 50, None),
        "page 50, problems": lambda rng: view.page(cfa(rng), ContractFilter(problems=True), 50, None),
        "page 50, rncp (rare)": lambda rng: view.page(
            cfa(rng), ContractFilter(formation_rncp=rng.choice(RNCPS)), 50, None
        ),
        "first + second page (2 calls)": second_page,
        "dashboard (one CFA)": lambda rng: view.dashboard(cfa(rng)),
        "attention candidates 20": lambda rng: view.attention_candidates(cfa(rng), 20),
        "page 50, operator, state=refused": lambda rng: view.page(None, ContractFilter(states=("refused",)), 50, None),
    }
    print(f"reads: {args.threads} threads, {args.requests} requests per kind, direct SqlStatusView calls")
    for name, call in kinds.items():
        call(random.Random(0))  # warm the pool and the plan
        print("  " + measure(call, args.requests, args.threads).line(name))
    started = time.perf_counter()
    view.dashboard(None)
    print(f"  {'dashboard (operator, every CFA)':<34} one call {(time.perf_counter() - started) * 1000:,.0f} ms")
    store.close()


# -- 3. rebuild -------------------------------------------------------------------------------------------------


def rebuild(url: str, dossiers: int) -> list[str]:
    """The rebuild's rate on a log of distinct dossiers (each its own apprentice, as in a real log), from position
    0, indexes, ANALYZE and swap included; how many drafts it counted."""
    app = Dossiers(eventsourcing_env(settings(url)), routing=idcc_routing(), clock=FixedClock())
    started = time.perf_counter()
    events = fill_log(app, dossiers)
    print(f"log: {dossiers:,} dossiers, {events:,} events saved in {time.perf_counter() - started:.1f} s")
    store = PostgresStore(url)
    started = time.perf_counter()
    built = build_next(store, idcc_routing(), app)
    view = swap_in(store, idcc_routing())
    elapsed = time.perf_counter() - started
    with store.transaction() as tx:
        versions = tx.query("SELECT COUNT(*) FROM status_versions")[0][0]
    mark = "ok" if events / elapsed >= REBUILD_TARGET else "NO"
    line = (
        f"rebuild: {events:,} events ({versions:,} versions, {built.counted:,} drafts counted) in {elapsed:.1f} s"
        f" = {events / elapsed:,.0f} events/s (target >= {REBUILD_TARGET:,}: {mark}; position"
        f" {view.position(app.name):,})"
    )
    print(line)
    store.close()
    app.close()
    return [line]


@contextmanager
def _database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    with temporary_postgres() as temporary:
        yield temporary


if __name__ == "__main__":
    main()
