"""A synthetic year of apprenticeship at a fraction of national scale, phase by phase, on one machine.

    python3 dev.py run python -m benchmarks.national_year [--scale 0.1] [--cfas 500] [--postgres]
                                                           [--rupture-rate 0.12] [--invoices 3] [--latency-ms 20]

France concludes about 850,000 apprenticeship contracts a year, each invoiced about three times. `--scale 0.1` is
a tenth of that: 85,000 contracts over `--cfas` CFAs and the 10 OPCOs that take contracts over the API (Santé takes
them on its own site; Cohésion sociale takes no invoices over it, so its contracts are not invoiced here)
(benchmarks/synthetic.py), then:

1. ingest     — each contract drafted, its mandate recorded, its submission requested (application commands);
2. transmit   — the worker sends every dossier to the reference sandbox (its own process, `--latency-ms` a call);
3. accept     — the sandbox decides at once; the worker's state sync brings back ENGAGE, funding and échéances;
4. ruptures   — `--rupture-rate` of the contracts terminated (declared, then sent where the OPCO takes them);
   amendments — `--amendment-rate` of the others amended (a new maître d'apprentissage, type 36), sent as avenants;
5. invoices   — `--invoices` échéances of each contract not terminated invoiced (billing profiles first) and sent,
                each with its PDF;
6. payments   — the sandbox pays at once; the worker's invoice sync brings the payments back;
7. rebuild    — every read model rebuilt from the first event, as `convergence projections rebuild` does;
8. verify     — the store verified as `convergence audit verify` does (replay with invariants, the integrity chain
                and its checkpoints, the status read models rebuilt aside and compared).

Before the year, each CFA's key at each OPCO is set (`keys`, as an operator does once; not counted). The commands
run in this process, through the application as the API's routes call it; the worker runs in its own processes
(`convergence worker`), as in production, from the transmit phase on: with `--worker-processes 2` (the default) one
runs the read models (`--only projections --only prune`), the other the sends and syncs, each with its own
interpreter lock. The worker's memory column is the sum of its processes' peaks.

Each phase prints its rate, its duration, the peak resident memory of this process (the commands), of the
worker's and of the sandbox's during the phase, and the disk used after it; then the same figures extrapolated to
a national year (linear in the number of contracts, which is what the per-phase rates measure). The contracts start a
year before today, so that a year of échéances is open. It prints figures, it asserts no timing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import httpx
import psutil

from application.access.access import OPERATOR, Principal, Role
from benchmarks.synthetic import cfa_siret, dossier, invoiced_over_api, opco_of, payments_over_api, rupture_over_api
from benchmarks.transmission import SANDBOX_TOKEN, _database, _sandbox, _where
from benchmarks.worker_process import WorkerProcess
from domain.amendments.amendment_types import AmendmentRequest
from domain.contracts.cerfa_document import parse_cerfa
from domain.invoicing.billing_profile import BillingDetails
from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.lines import LineRequest
from domain.ruptures.rupture import RuptureRequest
from infrastructure.audit.read_model_check import compare_read_models
from infrastructure.audit.verify import verify_history
from infrastructure.opco.sandbox_keys import SandboxKeys
from infrastructure.read_models.transmissions_view import INVOICES, SqlTransmissionsView
from interfaces.bootstrap import Container, bootstrap
from interfaces.cli import REBUILDS
from tests.integration.transmission_support import MANDATE_SIGNATORY
from tests.invoicing import PROFILE, years_earlier
from tests.support import settings

NATIONAL_CONTRACTS = 850_000
MANDATE_SIGNED = date(2025, 6, 15)
# the worker's task groups per process (`convergence worker --only`): with two, the read models in one, the sends
# and syncs in the other, each with its own interpreter lock
WORKER_SPLITS: dict[int, list[tuple[str, ...]]] = {
    1: [()],
    2: [("projections", "prune"), ("sender", "state-sync")],
}
INSTANT = ("--instruction-delay", "0", "--decision-delay", "0")  # the sandbox decides at once


@dataclass
class Phase:
    name: str
    items: int
    unit: str
    seconds: float = 0.0
    rss: dict[str, int] = field(default_factory=dict)
    disk: int = 0
    note: str = ""
    setup: bool = False  # done once before the year (the accounts' keys): not in the year's total

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


class PeakRss:
    """The peak resident memory of each named process, sampled every 50 ms; `reset` starts a new phase."""

    def __init__(self, processes: dict[str, psutil.Process]) -> None:
        self._processes = processes
        self.peaks = dict.fromkeys(processes, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def reset(self) -> dict[str, int]:
        peaks, self.peaks = self.peaks, dict.fromkeys(self._processes, 0)
        return peaks

    def watch(self, name: str, process: psutil.Process) -> None:
        self._processes = {**self._processes, name: process}
        self.peaks = {**self.peaks, name: 0}

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            for name, process in self._processes.items():
                try:
                    self.peaks[name] = max(self.peaks.get(name, 0), process.memory_info().rss)
                except psutil.NoSuchProcess:
                    continue
            self._stop.wait(0.05)


class Year:
    def __init__(
        self,
        container: Container,
        args: argparse.Namespace,
        rss: PeakRss,
        workers: list[WorkerProcess],
        database_url: str,
    ) -> None:
        self.container, self.args, self.rss, self.url = container, args, rss, database_url
        self.workers = workers
        self.contracts = round(NATIONAL_CONTRACTS * args.scale)
        self.ids: list[UUID] = []
        self.phases: list[Phase] = []

    @contextmanager
    def phase(self, name: str, items: int, unit: str) -> Iterator[Phase]:
        self.rss.reset()
        current = Phase(name, items, unit)
        started = time.perf_counter()
        yield current
        current.seconds = time.perf_counter() - started
        current.rss, current.disk = self.rss.reset(), disk_used(self.url)
        self.phases.append(current)
        print(f"  {name:<10} {current.rate:10.1f} {unit}/s  {current.seconds:8.1f} s  {current.note}", flush=True)

    # -- the phases -------------------------------------------------------------------------------------------

    def keys(self, sandbox_url: str) -> None:
        """Before the year: each CFA's key at each of its OPCOs (with the OAuth client and DPoP key the OPCO's
        dialect needs), as an operator sets them once; the worker would otherwise fetch each on its first send."""
        keys = SandboxKeys(sandbox_url, self.container.accounts, SANDBOX_TOKEN)
        accounts = sorted({(cfa_siret(n, self.args.cfas), opco_of(n)) for n in range(self.contracts)})
        with self.phase("keys", len(accounts), "accounts") as current, ThreadPoolExecutor(self.args.threads) as pool:
            current.setup, current.note = True, "set up once, not counted in the year"
            list(pool.map(lambda account: keys.ensure(*account), accounts))

    def ingest(self) -> None:
        app = self.container.dossiers
        cfas = self.args.cfas

        def one(n: int) -> UUID:
            document = years_earlier(dossier(n, cfas), 1)
            who = Principal(actor="token:bench", role=Role.FRONTEND, cfa_siret=cfa_siret(n, cfas))
            made = app.create_contract(who, cerfa=parse_cerfa(document), numero_interne=f"Y-{n}", opco=None)
            ident = made.contract.id
            app.record_mandate(who, ident, signed_on=MANDATE_SIGNED, signatory=MANDATE_SIGNATORY, document_sha256=None)
            app.submit(who, ident)
            return ident

        with self.phase("ingest", self.contracts, "contracts"), ThreadPoolExecutor(self.args.threads) as pool:
            self.ids = list(pool.map(one, range(self.contracts), chunksize=64))

    def transmit(self) -> None:
        with self.phase("transmit", self.contracts, "contracts"):
            for n, worker in enumerate(self.workers):
                self.rss.watch(f"worker{n}", psutil.Process(worker.start()))
            counts = self.container.transmissions.counts
            wait_until(lambda: counts().get("done", 0) >= self.contracts, "transmit", counts, stall=60)

    def accept(self) -> None:
        def by_state() -> dict[str, int]:
            counts = self.container.status_view.dashboard(None).counts
            return {state: sum(by_opco.values()) for state, by_opco in counts.items()}

        def decided() -> bool:
            return bool(by_state().get("accepted", 0) + by_state().get("refused", 0) >= self.contracts)

        with self.phase("accept", self.contracts, "contracts"):
            wait_until(decided, "accept", by_state)

    def ruptures(self) -> list[UUID]:
        every = max(1, round(1 / self.args.rupture_rate)) if self.args.rupture_rate else 0
        chosen = self.ids[::every] if every else []
        terminations = self.container.terminations

        def one(n_ident: tuple[int, UUID]) -> None:
            n, ident = n_ident
            who = Principal(actor="token:bench", role=Role.FRONTEND, cfa_siret=cfa_siret(n * every, self.args.cfas))
            request = RuptureRequest(
                date_effet=date(2026, 3, 31),
                motif="commun_accord",
                initiative="commun",
                date_signalement=date(2026, 4, 2),
            )
            terminations.declare(who, ident, request)

        with self.phase("ruptures", len(chosen), "ruptures"), ThreadPoolExecutor(self.args.threads) as pool:
            list(pool.map(one, enumerate(chosen), chunksize=64))
            over_api = sum(rupture_over_api(opco_of(n * every)) for n in range(len(chosen)))
            counts = self.container.rupture_transmissions.counts
            wait_until(lambda: counts().get("done", 0) >= over_api, "ruptures", counts)
        return chosen

    def amendments(self, terminated: list[UUID]) -> None:
        """`--amendment-rate` of the contracts not terminated change their maître d'apprentissage (type 36), with
        the employer's mandate, and the avenant goes to the OPCO."""
        every = max(1, round(1 / self.args.amendment_rate)) if self.args.amendment_rate else 0
        skip = set(terminated)
        chosen = [(n, i) for n, i in enumerate(self.ids) if every and n % every == every // 2 and i not in skip]
        amendments = self.container.amendments

        def one(n_ident: tuple[int, UUID]) -> None:
            n, ident = n_ident
            who = Principal(actor="token:bench", role=Role.FRONTEND, cfa_siret=cfa_siret(n, self.args.cfas))
            change = {"maitre1": {"nom": "Bernard", "prenom": "Luc"}}
            request = AmendmentRequest(type_code=36, effect_date=date(2027, 1, 4), changes=change)
            _, amendment = amendments.request(who, ident, request, (MANDATE_SIGNED, MANDATE_SIGNATORY))
            amendments.submit(who, ident, amendment.number)

        with self.phase("amendments", len(chosen), "amendments"), ThreadPoolExecutor(self.args.threads) as pool:
            list(pool.map(one, chosen, chunksize=64))
            counts = self.container.amendment_transmissions.counts
            wait_until(lambda: counts().get("done", 0) >= len(chosen), "amendments", counts)

    def invoices(self, terminated: list[UUID]) -> list[tuple[int, UUID, Decimal]]:
        invoices = self.container.invoices
        for n in range(min(self.args.cfas, self.contracts)):
            details = {**PROFILE, "invoicePrefix": f"F{n}-"}
            invoices.billing.set(OPERATOR, cfa_siret(n, self.args.cfas), BillingDetails(**details))
        skip = set(terminated)
        todo = [(n, ident) for n, ident in enumerate(self.ids) if ident not in skip and invoiced_over_api(opco_of(n))]
        app = self.container.dossiers

        def one(n_ident: tuple[int, UUID]) -> list[tuple[int, UUID, Decimal]]:
            n, ident = n_ident
            who = Principal(actor="token:bench", role=Role.FRONTEND, cfa_siret=cfa_siret(n, self.args.cfas))
            contract = app.contract(who, ident)
            if contract.state.value != "accepted":
                return []
            made = []
            for echeance in contract.echeances[: self.args.invoices]:
                line = LineRequest(ident, echeance["numero"], InvoiceKind.PEDAGOGIE, Decimal(echeance["montantTotal"]))
                saved = invoices.create(
                    who, numero_interne_facture=f"Y-{n}-{echeance['numero']}", invoice_date=date.today(), lines=[line]
                )
                invoices.submit(who, saved.invoice.id)
                made.append((n, saved.invoice.id, line.amount))
            return made

        expected = len(todo) * self.args.invoices
        with self.phase("invoices", expected, "invoices") as current, ThreadPoolExecutor(self.args.threads) as pool:
            started = time.perf_counter()
            made = [each for some in pool.map(one, todo, chunksize=32) for each in some]
            current.items = len(made)
            current.note = f"commands done in {time.perf_counter() - started:.0f} s, then the sends"
            queue = SqlTransmissionsView(self.container.store, INVOICES)
            wait_until(lambda: queue.counts().get("done", 0) >= len(made), "invoices", queue.counts)
        return made

    def payments(self, made: list[tuple[int, UUID, Decimal]]) -> None:
        """Until every invoice is paid or refused: reported by the OPCOs that report payments over the API, recorded
        by the CFA (from its bank statement) for the others."""
        view = self.container.invoice_status_view
        invoices = self.container.invoices
        assert view is not None

        def by_state() -> dict[str, int]:
            figures = view.dashboard(None, date.today(), date.today()).by_state
            return {state: int(f.count) for state, f in figures.items()}

        def by_hand(item: tuple[int, UUID, Decimal]) -> None:
            n, ident, amount = item
            who = Principal(actor="token:bench", role=Role.FRONTEND, cfa_siret=cfa_siret(n, self.args.cfas))
            invoices.record_payment(who, ident, amount=amount, paid_on=date.today(), reference_virement=f"VIR-{n}")

        manual = [item for item in made if not payments_over_api(opco_of(item[0]))]
        with self.phase("payments", len(made), "invoices") as current, ThreadPoolExecutor(self.args.threads) as pool:
            list(pool.map(by_hand, manual, chunksize=32))
            wait_until(
                lambda: sum(by_state().get(s, 0) for s in ("paid", "refused")) >= len(made), "payments", by_state
            )
            current.note = f"{len(manual)} recorded by hand; refused by the OPCO: {by_state().get('refused', 0)}"

    def verify(self) -> None:
        """`convergence audit verify`'s work: every aggregate replayed with its invariants, every digest and
        checkpoint checked, the status read models rebuilt into scratch tables and compared."""
        store, app = self.container.store, self.container.dossiers
        events = app.recorder.max_notification_id() or 0
        with self.phase("verify", events, "events") as current:
            done = verify_history(store, app, lambda _: None)
            done.discrepancies.extend(compare_read_models(store, app))
            current.note = f"{len(done.discrepancies)} discrepancies"

    def rebuild(self) -> None:
        for worker in self.workers:
            worker.stop()
        events = self.container.dossiers.recorder.max_notification_id() or 0
        with self.phase("rebuild", events, "events"):
            for rebuild in REBUILDS.values():
                rebuild(self.container)


def wait_until(
    done: Callable[[], bool], what: str, shown: Callable[[], object] | None = None, stall: float = 300
) -> None:
    """Until `done`; fails when `shown` (what progress looks like) has not changed for `stall` seconds."""
    last, since = None, time.monotonic()
    while not done():
        now = shown() if shown is not None else None
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since > stall:
            raise RuntimeError(f"{what}: no progress for {stall:.0f} s: {now}")
        time.sleep(0.25)


def disk_used(url: str) -> int:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0


def report(year: Year, args: argparse.Namespace) -> None:
    factor = NATIONAL_CONTRACTS / year.contracts
    mib = 2**20
    print(
        f"\n{year.contracts} contracts over {args.cfas} CFAs and 10 OPCOs; store {_where(year.url)};"
        f" sandbox {args.latency_ms} ms a call; {os.cpu_count()} cores"
    )
    header = (
        f"{'phase':<10} {'rate':>14} {'time':>9} {'commands':>9} {'worker':>8} {'sandbox':>8} {'disk':>9}"
        f" {'year at x':>10}"
    )
    print(header)
    for p in year.phases:
        workers = sum(peak for name, peak in p.rss.items() if name.startswith("worker"))
        print(
            f"{p.name:<10} {p.rate:>9.1f} {p.unit[:4]}/s {p.seconds:>8.1f}s {p.rss.get('service', 0) / mib:>5.0f} MiB"
            f" {workers / mib:>4.0f} MiB {p.rss.get('sandbox', 0) / mib:>4.0f} MiB"
            f" {p.disk / mib:>5.0f} MiB {'(once)' if p.setup else f'{p.seconds * factor / 60:>6.0f} min':>10}"
        )
    total = sum(p.seconds for p in year.phases if not p.setup)
    disk = year.phases[-1].disk if year.phases else 0
    print(f"total: {total / 60:.1f} min for {year.contracts} contracts (target < 60 min for 85,000 on PostgreSQL)")
    print(
        f"a national year ({NATIONAL_CONTRACTS:,} contracts) at these rates: {total * factor / 3600:.1f} h,"
        f" {disk * factor / 2**30:.1f} GiB of store"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.1, help="fraction of a national year (default 0.1)")
    parser.add_argument("--cfas", type=int, default=500)
    parser.add_argument("--rupture-rate", type=float, default=0.12, help="share of contracts terminated")
    parser.add_argument("--amendment-rate", type=float, default=0.08, help="share of contracts amended")
    parser.add_argument("--invoices", type=int, default=3, help="échéances invoiced per contract")
    parser.add_argument("--latency-ms", type=int, default=20, help="added by the sandbox to every call")
    parser.add_argument("--threads", type=int, default=4, help="client threads issuing the commands")
    parser.add_argument("--concurrency", type=int, default=16, help="the worker's sends at a time")
    parser.add_argument(
        "--sync-interval",
        type=float,
        default=15.0,
        help="seconds between the state syncs' rounds (180 in production; each reads every dossier and invoice an"
        " account holds at its OPCO, so a short interval spends the worker's and the sandbox's CPU on it)",
    )
    parser.add_argument(
        "--worker-processes", type=int, choices=sorted(WORKER_SPLITS), default=2, help="the worker's processes"
    )
    store = parser.add_mutually_exclusive_group()
    store.add_argument("--database-url")
    store.add_argument("--postgres", action="store_true")
    args = parser.parse_args()

    delays = {"CONVERGENCE_SANDBOX_INVOICE_DELAY": "0"}
    with _database(args.database_url, args.postgres) as url, _sandbox(delays, *INSTANT) as (sandbox, pid):
        operator = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
        httpx.put(
            f"{sandbox}/_sandbox/faults", json={"latencyMs": args.latency_ms}, headers=operator
        ).raise_for_status()
        configured = settings(
            url,
            sandbox_url=sandbox,
            sandbox_admin_token=SANDBOX_TOKEN,
            log_level="warning",
            sync_interval_seconds=args.sync_interval,
            sender_concurrency=args.concurrency,
        )
        container = bootstrap(configured)
        rss = PeakRss({"service": psutil.Process(), "sandbox": psutil.Process(pid)})
        log = tempfile.NamedTemporaryFile(prefix="convergence-worker-", suffix=".log", delete=False)  # noqa: SIM115
        workers = [WorkerProcess(configured, log, groups) for groups in WORKER_SPLITS[args.worker_processes]]
        year = Year(container, args, rss, workers, url)
        try:
            print(f"a year at scale {args.scale}: {year.contracts} contracts", flush=True)
            year.keys(sandbox)
            run(year)
        finally:
            for worker in workers:
                worker.stop()
            rss.close()
            container.close()
            print(f"the worker's log: {log.name}")
        report(year, args)


def run(year: Year) -> None:
    year.ingest()
    year.transmit()
    year.accept()
    terminated = year.ruptures()
    year.amendments(terminated)
    made = year.invoices(terminated)
    year.payments(made)
    year.rebuild()
    year.verify()


if __name__ == "__main__":
    main()
