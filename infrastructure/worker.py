"""The worker: keeps the transmissions read model up to date, sends what is due, and syncs the OPCOs' states.

Each task runs in its own thread under a lease, so that with several processes on one database each task runs
in exactly one of them at a time and another takes over when that one dies. An error in a round is logged and the
task goes on at the next round.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from application.amendments.amendment_transmissions import AMENDMENT_TOPICS, AmendmentSync
from application.audit.actor import Actor, acting
from application.dossiers import Dossiers
from application.invoices.invoice_sync import InvoiceSync
from application.invoices.invoice_transmissions import INVOICE_TOPICS
from application.opco.document_release import RELEASE_TOPICS
from application.opco.document_transmissions import DOCUMENT_TOPICS
from application.opco.opco_accounts import OpcoAccounts
from application.opco.opco_gateway import OpcoEndpoint
from application.opco.sender import Sender
from application.opco.state_sync import StateSync
from application.opco.transmissions import TOPICS, QueuedTransmission, row_changes
from application.ports import Clock
from application.read_models.projections import Batch
from application.ruptures.termination_transmissions import TERMINATION_TOPICS
from domain.opco.opco_catalogue import OpcoProfile
from domain.opco.opcos import Opco
from infrastructure.opco.sandbox_keys import SandboxKeys
from infrastructure.read_models.document_release import NAME as RELEASE
from infrastructure.read_models.document_release import DocumentReleaseRunner
from infrastructure.read_models.projection_runner import ProjectionRunner
from infrastructure.read_models.pruning import Pruner
from infrastructure.read_models.transmissions_view import (
    AMENDMENTS,
    DOCUMENTS,
    INVOICES,
    NAME,
    RUPTURES,
    SqlTransmissionsView,
)
from infrastructure.store.leases import Leases
from infrastructure.store.pg_wakeup import LogWakeup

log = logging.getLogger("convergence.worker")
TASK_GROUPS = ("projections", "sender", "state-sync", "prune")  # what `convergence worker --only` chooses from
BUSY_PAUSE = 0.05  # seconds between two rounds of a task that found work
ENDPOINT_SECONDS = 5.0  # how long the sender's rounds reuse an account's endpoint (a key set elsewhere: 5 s late)
FINISHED_MEMORY_SECONDS = 10.0  # how long a finished send is remembered, for the read model to show its outcome


@dataclass(frozen=True, slots=True)
class InvoiceOutbox:
    """Invoices go out like contracts: their own queue (read model), sender and state sync."""

    view: SqlTransmissionsView
    sender: Sender
    sync: InvoiceSync


@dataclass(frozen=True, slots=True)
class DocumentOutbox:
    """Documents (conventions, certificats) go out like invoices, without a state sync: their queue and sender."""

    view: SqlTransmissionsView
    sender: Sender
    release: DocumentReleaseRunner | None = None  # submits the waiting documents of a contract that reached its OPCO


@dataclass(frozen=True, slots=True)
class RuptureOutbox:
    """Ruptures go out like contracts, through their own queue and sender, to the OPCOs that take them over the
    API (the catalogue's `ruptures`); the contracts' state sync reads what follows (RUPTU, RUPTURE)."""

    view: SqlTransmissionsView
    sender: Sender


@dataclass(frozen=True, slots=True)
class AmendmentOutbox:
    """Avenants go out like contracts (`POST /dossiers`, type 31–38), through their own queue and sender, and their
    own state sync follows the dossier that carries each (application.amendments.amendment_transmissions)."""

    view: SqlTransmissionsView
    sender: Sender
    sync: AmendmentSync


@dataclass(frozen=True, slots=True)
class WorkerTiming:
    projection_poll: float = 0.5
    sender_poll: float = 1.0
    sync_interval: float = 180.0
    prune_interval: float = 60.0
    concurrency: int = 16
    lease: float = 30.0  # a task's lease; at least three rounds long


class Worker:
    def __init__(
        self,
        *,
        dossiers: Dossiers,
        view: SqlTransmissionsView,
        accounts: OpcoAccounts,
        sender: Sender,
        sync: StateSync,
        leases: Leases,
        clock: Clock,
        timing: WorkerTiming,
        sandbox_keys: SandboxKeys | None = None,
        wakeup: Callable[[Callable[[], None]], LogWakeup] | None = None,
        read_models: dict[str, ProjectionRunner] | None = None,
        invoices: InvoiceOutbox | None = None,
        pruner: Pruner | None = None,
        documents: DocumentOutbox | None = None,
        ruptures: RuptureOutbox | None = None,
        amendments: AmendmentOutbox | None = None,
    ) -> None:
        """`read_models`: further projections to keep up to date, by name (e.g. the status read model); `pruner`:
        prunes their old versions."""
        self.view = view
        self._accounts = accounts
        self._sync = sync
        self._leases = leases
        self._clock = clock
        self._timing = timing
        self._keys = sandbox_keys
        self.projection = ProjectionRunner(dossiers, NAME, TOPICS, self._project, lambda: view.position(dossiers.name))
        self.read_models = {NAME: self.projection, **(read_models or {})}
        self.invoices = invoices
        self.documents = documents
        self.pruner = pruner
        # (queue, sender, does this OPCO take it over the API?) for contracts, then invoices
        self._outboxes: list[tuple[SqlTransmissionsView, Sender, Callable[[Opco], bool]]] = [
            (view, sender, lambda opco: self._accounts.profiles[opco].contracts)
        ]
        if invoices is not None:
            self._add_queue(dossiers, INVOICES, INVOICE_TOPICS, invoices.view, invoices.sender, lambda p: p.invoices)
        if documents is not None:
            self._add_documents(dossiers, documents)
        if ruptures is not None:
            self._add_queue(
                dossiers, RUPTURES, TERMINATION_TOPICS, ruptures.view, ruptures.sender, lambda p: p.ruptures
            )
        self.amendments = amendments
        if amendments is not None:  # avenants go to the OPCOs that take contracts
            self._add_queue(
                dossiers, AMENDMENTS, AMENDMENT_TOPICS, amendments.view, amendments.sender, lambda p: p.contracts
            )
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.actor = Actor(kind="worker", name=f"worker@{socket.gethostname()}:{os.getpid()}")  # in its events
        self._pool = ThreadPoolExecutor(timing.concurrency, thread_name_prefix="sender")
        self._in_progress: set[uuid.UUID] = set()
        # per queue, the account a round last took from: the next starts after it, so that a round costs the
        # accounts it takes from (not every account ahead of them again) and every account has its turn
        self._last_account: dict[int, tuple[str, str]] = {}
        # each account's endpoint, for the next rounds: until ENDPOINT_SECONDS pass or credentials change here
        self._endpoints: dict[tuple[str, str], tuple[OpcoEndpoint, float, int]] = {}
        self._finished: dict[uuid.UUID, tuple[datetime, float]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._wakes: dict[str, threading.Event] = {}
        self._wakeup = wakeup(self.wake) if wakeup else None

    # -- one round of each task (the tests call these directly) ---------------------------------------------

    def project_once(self) -> int:
        """One round of every read model; the number of events processed."""
        return sum(runner.catch_up() for runner in self.read_models.values())

    def send_once(self) -> list[Future[None]]:
        """Dispatch due dossiers, as many as the pool has room for, from every account whose OPCO can be reached;
        the futures of the sends started. Accounts without a usable key are skipped whole, so their dossiers wait
        without holding up the others."""
        now = self._clock.now()
        started: list[Future[None]] = []
        for queue, (view, sender, takes) in enumerate(self._outboxes):
            for cfa_siret, opco in _from_next(view.due_accounts(now), self._last_account.get(queue)):
                room = self._room()
                if room <= 0:
                    return started
                self._last_account[queue] = (cfa_siret, opco)
                endpoint = self._endpoint(cfa_siret, opco, takes)
                if endpoint is None:
                    continue
                for item in view.due(now, room + self._taken(), cfa_siret, opco):
                    if len(started) < room and self._claim(item):
                        started.append(self._pool.submit(self._send, sender, item, endpoint))
        return started

    def sync_once(self) -> Any:
        """One round of the contracts' state sync (its report), then of the invoices' where there are any."""
        with acting(self.actor):
            report = self._sync.run_once()
            if self.invoices is not None:
                self.invoices.sync.run_once()
            if self.amendments is not None:
                self.amendments.sync.run_once()
        return report

    # -- running ------------------------------------------------------------------------------------------------

    def start(self, groups: Collection[str] = TASK_GROUPS) -> None:
        """Runs the tasks of `groups` (all by default), each under its lease. Worker processes started with
        different groups split the work between them (each its own interpreter); with the same groups they stand
        in for each other when one dies."""
        check_groups(groups)
        tasks: list[tuple[str, float, Callable[[], object]]] = [
            *(
                (f"{name}-projection", self._timing.projection_poll, runner.catch_up)
                for name, runner in self.read_models.items()
            ),
            ("sender", self._timing.sender_poll, self._send_round),
            ("state-sync", self._timing.sync_interval, self._sync_round),
        ]
        if self.pruner is not None:
            tasks.append(("prune", self._timing.prune_interval, self._prune_round))
        tasks = [task for task in tasks if _group(task[0]) in groups]
        for name, interval, task in tasks:
            thread = threading.Thread(target=self._loop, args=(name, interval, task), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        if self._wakeup:
            self._wakeup.start()
        log.info("worker %s started", self.holder)

    def stop(self) -> None:
        self._stop.set()
        if self._wakeup:
            self._wakeup.stop()
        for event in self._wakes.values():
            event.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._pool.shutdown(wait=True, cancel_futures=True)
        for name in (*(f"{n}-projection" for n in self.read_models), "sender", "state-sync", "prune"):
            self._leases.release(name, self.holder)

    def wake(self) -> None:
        """New events are in the log: the read-model tasks start a round now rather than at their next poll."""
        for name, event in self._wakes.items():
            if name.endswith("-projection"):
                event.set()

    def _loop(self, name: str, interval: float, task: Callable[[], object]) -> None:
        ttl = max(self._timing.lease, 3 * interval)
        wake = self._wakes.setdefault(name, threading.Event())
        with acting(self.actor):
            self._rounds(name, interval, task, ttl, wake)

    def _rounds(
        self, name: str, interval: float, task: Callable[[], object], ttl: float, wake: threading.Event
    ) -> None:
        while not self._stop.is_set():
            busy = False
            try:
                if self._leases.acquire(name, self.holder, ttl):
                    busy = bool(task())
            except Exception:  # a failed round must not end the task: log it, try again next round
                log.exception("worker task %s failed; retrying in %.1f s", name, interval)
            # a round that found work is followed at once by another, which may find more
            wake.wait(min(interval, BUSY_PAUSE) if busy else interval)
            wake.clear()

    # -- internals ---------------------------------------------------------------------------------------------

    def _add_documents(self, dossiers: Dossiers, documents: DocumentOutbox) -> None:
        """The documents' queue and sender; a document is queued only with a route its OPCO takes."""
        view = documents.view
        self.read_models[DOCUMENTS] = ProjectionRunner(
            dossiers,
            DOCUMENTS,
            DOCUMENT_TOPICS,
            lambda batch: view.apply(_changes(batch), batch.tracking, batch.previous),
            lambda: view.position(dossiers.name),
        )
        self._outboxes.append((view, documents.sender, lambda opco: True))
        release = documents.release
        if release is not None:
            self.read_models[RELEASE] = ProjectionRunner(
                dossiers, RELEASE, RELEASE_TOPICS, release.apply, lambda: release.position(dossiers.name)
            )

    def _add_queue(
        self,
        dossiers: Dossiers,
        name: str,
        topics: Sequence[str],
        view: SqlTransmissionsView,
        sender: Sender,
        takes: Callable[[OpcoProfile], bool],
    ) -> None:
        """A transmission queue: its read model followed, and its sender run for the OPCOs whose catalogue entry
        `takes` what it carries over the API."""
        self.read_models[name] = ProjectionRunner(
            dossiers,
            name,
            topics,
            lambda batch: view.apply(_changes(batch), batch.tracking, batch.previous),
            lambda: view.position(dossiers.name),
        )
        self._outboxes.append((view, sender, lambda opco: takes(self._accounts.profiles[opco])))

    def _send_round(self) -> bool:
        started = self.send_once()
        return bool(started) or self._room() <= 0  # busy: come back as soon as the pool has room

    def _prune_round(self) -> bool:
        assert self.pruner is not None
        self.pruner.run_once()
        return False  # the next prune is due at its interval, whatever this one deleted

    def _sync_round(self) -> bool:
        self.sync_once()
        return False  # the OPCOs are polled at their interval, whatever a round found

    def _project(self, batch: Batch) -> None:
        self.view.apply(_changes(batch), batch.tracking, batch.previous)

    def _endpoint(self, cfa_siret: str, code: str, takes: Callable[[Opco], bool]) -> OpcoEndpoint | None:
        opco = Opco(code)
        if not takes(opco):
            return None  # this OPCO takes none over the API: the dossier or invoice is shown as such
        now, changes = time.monotonic(), self._accounts.changes
        cached = self._endpoints.get((cfa_siret, code))
        if cached is not None and cached[1] > now and cached[2] == changes:
            return cached[0]
        endpoint = self._accounts.endpoint(cfa_siret, opco)
        if endpoint is None and self._keys is not None and self._keys.ensure(cfa_siret, opco):
            endpoint = self._accounts.endpoint(cfa_siret, opco)
        if endpoint is not None:
            self._endpoints[(cfa_siret, code)] = (endpoint, now + ENDPOINT_SECONDS, changes)
        return endpoint

    def _taken(self) -> int:
        """Due rows this process already holds: being sent, or sent but not yet seen by the read model."""
        horizon = time.monotonic() - FINISHED_MEMORY_SECONDS
        with self._lock:
            for ident in [i for i, (_, at) in self._finished.items() if at < horizon]:
                del self._finished[ident]
            return len(self._in_progress) + len(self._finished)

    def _room(self) -> int:
        """Sends the pool can take now: its threads, and as many again queued, so that none idles."""
        return 2 * self._timing.concurrency - len(self._in_progress)

    def _claim(self, item: QueuedTransmission) -> bool:
        """Take a due dossier unless it is being sent, or was sent here since the read model last saw it."""
        with self._lock:
            finished = self._finished.get(item.contract_id)
            if item.contract_id in self._in_progress or (finished and finished[0] == item.due_at):
                return False
            self._in_progress.add(item.contract_id)
            return True

    def _send(self, sender: Sender, item: QueuedTransmission, endpoint: OpcoEndpoint) -> None:
        try:
            with acting(self.actor):
                sender.send(item, endpoint)
        except Exception:
            log.exception("sending %s failed unexpectedly", item.contract_id)
        finally:
            with self._lock:
                self._in_progress.discard(item.contract_id)
                # the row stays due with this due_at until the read model catches up: done, or a new due_at
                self._finished[item.contract_id] = (item.due_at, time.monotonic())


def _changes(batch: Batch) -> list[Any]:
    return [change for _, event in batch.events for change in row_changes(event)]


def _from_next(accounts: list[tuple[str, str]], last: tuple[str, str] | None) -> list[tuple[str, str]]:
    """`accounts` in order, starting with the first after `last` and coming round to it."""
    ordered = sorted(accounts)
    if last is None:
        return ordered
    after = [account for account in ordered if account > last]
    return after + ordered[: len(ordered) - len(after)]


def check_groups(groups: Collection[str]) -> None:
    """ValueError naming the groups that are not task groups."""
    if unknown := set(groups) - set(TASK_GROUPS):
        raise ValueError(f"unknown task groups {sorted(unknown)}: choose from {', '.join(TASK_GROUPS)}")


def _group(task: str) -> str:
    return "projections" if task.endswith("-projection") else task
