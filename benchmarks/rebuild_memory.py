"""A read-model rebuild's rate and peak memory at two sizes of the store: flat memory, and the rate against reading
the same events raw (decoded, nothing projected), measured in the same run.

    python3 dev.py run python -m benchmarks.rebuild_memory [--sizes 5000,20000] [--models status,invoice_status]
                                                             [--interleaved] [--page 5000]

For each size: a temporary PostgreSQL database, a log of that many dossiers (benchmarks/status_log.py: each its
own apprentice, a realistic share of each journey; with --interleaved, every dossier's events spread over the
whole log, in four phases, so that a rebuild meets each dossier again long after it left its memo cache), then,
each in a fresh process so that its peak is its own: the raw read (the model's topics, read and decoded a page at
a time: what any rebuild must do), and the rebuild of each model as `convergence projections rebuild` makes it
(into the scratch tables, indexes, ANALYZE and swap included), once for its rate and resident peak (RSS, from
getrusage), once under tracemalloc for its peak of Python allocations (tracemalloc slows it: not timed).

Targets: the peaks flat as the store grows (ratio of the larger size's to the smaller's ~1, where a rebuild holding
every memo grows with the dossiers), and a full rebuild >= 20,000 events/s.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import tracemalloc
from datetime import date
from typing import Any

from application.dossiers import Dossiers
from application.read_models.invoice_status_projection import TOPICS as INVOICE_TOPICS
from application.read_models.status_projection import TOPICS as STATUS_TOPICS
from benchmarks.databases import temporary_postgres
from benchmarks.peaks import in_fresh_process, rss_peak_mb
from benchmarks.status_log import ACTOR, PER_SAVE, SIGNATORY, WORKER, apprentice, fill_log
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import Contract
from infrastructure.read_models import invoice_status_view, status_view
from infrastructure.read_models.log_pages import fast_mapper, read_page
from infrastructure.reference_data import idcc_routing
from infrastructure.store.event_store import eventsourcing_env
from infrastructure.store.sql_store import PostgresStore
from tests.conftest import load_example
from tests.support import FixedClock, settings, with_changes

TOPICS = {"status": STATUS_TOPICS, "invoice_status": INVOICE_TOPICS}
RATE_TARGET = 20_000
TODAY = date(2026, 11, 27)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="5000,20000", help="dossiers in each store (default 5000,20000)")
    parser.add_argument("--models", default="status,invoice_status", help="read models rebuilt (default both)")
    parser.add_argument("--interleaved", action="store_true", help="every dossier's events spread over the log")
    parser.add_argument("--page", type=int, default=status_view.BULK_BATCH, help="events (and memos) per page")
    parser.add_argument("--child", nargs=4, metavar=("WHAT", "URL", "PAGE", "TRACE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        what, url, page, trace = args.child
        print(json.dumps(child(what, url, int(page), trace == "1")))
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    models = args.models.split(",")
    results: dict[int, dict[str, dict[str, Any]]] = {}
    for size in sizes:
        with temporary_postgres() as url:
            results[size] = measure(url, size, models, args.page, args.interleaved)
    summary(results, sizes, models)


def measure(url: str, dossiers: int, models: list[str], page: int, interleaved: bool) -> dict[str, dict[str, Any]]:
    app = Dossiers(eventsourcing_env(settings(url)), routing=idcc_routing(), clock=FixedClock())
    started = time.perf_counter()
    events = fill_interleaved(app, dossiers) if interleaved else fill_log(app, dossiers)
    app.close()
    shape = "interleaved" if interleaved else "each dossier's events together"
    print(f"\n== {dossiers:,} dossiers ({shape}): {events:,} events saved in {time.perf_counter() - started:.0f} s")
    found: dict[str, dict[str, Any]] = {}
    for model in models:
        raw = run_child(f"raw:{model}", url, page, trace=False)
        built = run_child(model, url, page, trace=False)
        traced = run_child(model, url, page, trace=True)
        built["traced_mb"] = traced["traced_mb"]
        found[model] = {"raw": raw, "rebuild": built}
        for name, figures in (("raw read", raw), ("rebuild", built)):
            traced_part = f", traced peak {figures['traced_mb']:.1f} MB" if name == "rebuild" else ""
            print(
                f"  {model:<15} {name:<9} {figures['events']:>9,} events in {figures['seconds']:5.1f} s"
                f" = {figures['rate']:>8,.0f} events/s, RSS peak {figures['rss_mb']:6.1f} MB{traced_part}"
            )
    return found


def run_child(what: str, url: str, page: int, trace: bool) -> dict[str, Any]:
    return in_fresh_process("benchmarks.rebuild_memory", "--child", what, url, str(page), str(int(trace)))


def child(what: str, url: str, page: int, trace: bool) -> dict[str, Any]:
    """In a fresh process: read raw, or rebuild and swap one model; its time, events and peaks."""
    app = Dossiers(eventsourcing_env(settings(url)), routing=idcc_routing(), clock=FixedClock())
    store = PostgresStore(url)
    model = what.removeprefix("raw:")
    events = count(app, TOPICS[model])
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    if what.startswith("raw:"):
        raw_read(app, TOPICS[model], page)
    elif model == "status":
        status_view.build_next(store, idcc_routing(), app, page)
        status_view.swap_in(store, idcc_routing())
    else:
        invoice_status_view.build_next(store, app, page)
        invoice_status_view.swap_in(store)
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else 0.0
    rss = rss_peak_mb()
    store.close()
    app.close()
    return {"events": events, "seconds": seconds, "rate": events / seconds, "rss_mb": rss, "traced_mb": traced}


def raw_read(app: Dossiers, topics: tuple[str, ...], page: int) -> int:
    """The model's events read and decoded a page at a time, as a rebuild reads them, and dropped."""
    mapper, position, events = fast_mapper(app.mapper), 0, 0
    while True:
        found, position, complete = read_page(app, mapper, topics, page, position)
        events += len(found)
        if complete:
            return events


def count(app: Dossiers, topics: tuple[str, ...]) -> int:
    """The events of these topics in the log (what a rebuild reads), not decoded."""
    events, start = 0, 1
    while found := app.recorder.select_notifications(start, 2000, topics=topics):
        events += len(found)
        start = found[-1].id + 1
    return events


def summary(results: dict[int, dict[str, dict[str, Any]]], sizes: list[int], models: list[str]) -> None:
    small, large = min(sizes), max(sizes)
    print(f"\n== summary: {large:,} vs {small:,} dossiers ({large / small:.1f} x the store)")
    for model in models:
        at_small, at_large = results[small][model]["rebuild"], results[large][model]["rebuild"]
        raw = results[large][model]["raw"]
        mark = "ok" if at_large["rate"] >= RATE_TARGET else "NO"
        print(
            f"  {model}: RSS peak {at_small['rss_mb']:.0f} -> {at_large['rss_mb']:.0f} MB"
            f" (ratio {at_large['rss_mb'] / at_small['rss_mb']:.2f}; raw read {raw['rss_mb']:.0f} MB),"
            f" traced peak {at_small['traced_mb']:.1f} -> {at_large['traced_mb']:.1f} MB"
            f" (ratio {at_large['traced_mb'] / at_small['traced_mb']:.2f});"
            f" rate {at_large['rate']:,.0f} events/s = {at_large['rate'] / raw['rate']:.2f} x the raw read"
            f" (target >= {RATE_TARGET:,}: {mark})"
        )


# -- a log whose dossiers' events are spread over all of it -------------------------------------------------------


def fill_interleaved(app: Dossiers, dossiers: int, seed: int = 11) -> int:
    """The journeys of benchmarks/status_log.py in four phases, each over every dossier in turn: drafted (and
    patched), mandated (or cancelled), submitted and sent, then the OPCO's states and commitment. The number of
    events saved."""
    rng = random.Random(seed)
    document = load_example("cerfa-complete.json")
    contracts: list[Contract | None] = [None] * dossiers
    events = 0
    for phase in (None, _mandated, _sent, _committed):
        for start in range(0, dossiers, PER_SAVE):
            batch = []
            for n in range(start, min(dossiers, start + PER_SAVE)):
                contract = contracts[n] if phase is not None else _drafted(document, n, rng)
                if contract is None:
                    continue
                goes_on = phase is None or phase(app, n, rng, contract)
                contracts[n] = contract if goes_on else None
                if contract.pending_events:
                    batch.append(contract)
            events += sum(len(contract.pending_events) for contract in batch)
            app.save(*batch)
    return events


def _drafted(document: dict[str, Any], n: int, rng: random.Random) -> Contract:
    nom, prenom = apprentice(n)
    contact = {"telephone": f"06{n:08d}", "courriel": f"apprenti.{n}@example.com"}
    cerfa = parse_cerfa(with_changes(document, apprenti={"nom": nom, "prenom": prenom, **contact}))
    siret = str(cerfa.organismeFormation.siret) if cerfa.organismeFormation else ""
    contract = Contract.draft(cfa_siret=siret, numero_interne=f"B-{n:07d}", cerfa=cerfa, opco=None, actor=ACTOR)
    if rng.random() < 0.3:
        contract.patch_cerfa({"apprenti": {"telephone": f"06{rng.randrange(10**8):08d}"}}, ACTOR)
    return contract


def _mandated(app: Dossiers, n: int, rng: random.Random, contract: Contract) -> bool:
    if rng.random() < 0.05:
        contract.cancel("abandon", ACTOR)
        return False
    if rng.random() < 0.1:
        return False
    contract.record_mandate(
        signed_on=date(2026, 6, 15), signatory=SIGNATORY, document_sha256=None, actor=ACTOR, today=TODAY
    )
    return rng.random() >= 0.15


def _sent(app: Dossiers, n: int, rng: random.Random, contract: Contract) -> bool:
    contract.submit(app.routing, ACTOR)
    contract.start_transmission(WORKER)
    if rng.random() < 0.05:
        contract.record_transmission_failure(error="timeout", transient=True, retry_at=None, actor=WORKER)
        contract.park_transmission("too many failures", WORKER)
        return False
    contract.record_sent(numero_externe=f"EXT-{n}", etat="TRANSMIS", found_by_lookup=False, actor=WORKER)
    return rng.random() >= 0.2


def _committed(app: Dossiers, n: int, rng: random.Random, contract: Contract) -> bool:
    contract.record_opco_state(
        etat="EN_COURS_INSTRUCTION", commentaire=None, numero_externe=None, numero_deca=None, actor=WORKER
    )
    if rng.random() < 0.15:
        return False
    contract.record_opco_state(etat="ENGAGE", commentaire=None, numero_externe=None, numero_deca=f"D-{n}", actor=WORKER)
    echeances = [{"numero": 1, "montant": "1234.56", "date": "2026-10-31"}]
    engagement = f"{rng.randrange(500000, 2500000) / 100:.2f}"
    contract.record_commitment(engagement=engagement, echeances=echeances, actor=WORKER)
    return False


if __name__ == "__main__":
    main()
