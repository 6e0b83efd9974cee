"""Imports one CFA's dossiers from one OPCO: reads its list (`/dossiers/etats`, every page), pairs each row with the
dossiers known here (`matching`), reads the new ones (`GET /dossiers?…`) and creates them (`Contract.imported`).

A dry run decides exactly as a real run does (the dossiers it would create count as known for the rows after
them), and writes nothing but its record in the journal. A dossier imported gets an id derived from the OPCO's
number of it, so a second import, a resumed one or two at once cannot create it twice; a dossier known here is
left as it is (the state sync follows it): nothing the CFA changed is refreshed. Every run is recorded in the
`ImportJournal` of the CFA at that OPCO (who, when, progress, counts, conflicts)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.access.access import Principal
from application.access.idempotency import IdempotentRequest
from application.contracts.imports.matching import Decision, KnownDossiers, Numbers, Outcome
from application.contracts.imports.opco_reads import find_listed, listed_numbers, numbers_of, retried
from application.dossiers import Dossiers
from application.errors import NotFound
from application.opco.opco_accounts import OpcoAccounts
from application.opco.opco_gateway import ListedDossier, OpcoDossier, OpcoEndpoint, OpcoError, OpcoGateway
from application.opco.transmissions import TransmissionsView
from application.ports import Clock
from domain.amendments.amendment_types import is_avenant
from domain.contracts.contract import Contract
from domain.contracts.contract_import import ImportRecord
from domain.errors import NotAllowedInState
from domain.opco.opco_import import FINISHED, MAX_CONFLICTS_KEPT, OUTCOMES, RUNNING, ImportJournal, journal_id
from domain.opco.opcos import Opco

log = logging.getLogger("convergence.imports")

PROGRESS_EVERY = 25  # rows between two progress records (and the heartbeat of a running import)
STALE_AFTER = timedelta(minutes=2)  # a run silent for longer has stopped: a new start resumes it
READERS = 8  # dossiers read from the OPCO at once
READ_MODEL_WAIT = 30.0  # seconds to wait for the transmissions read model to reach the log's head
Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class Started:
    """A run recorded in the journal, to execute (`replayed`: the answer to a repeated Idempotency-Key)."""

    cfa_siret: str
    opco: Opco
    run: int
    journal: ImportJournal
    replayed: bool = False

    @property
    def status(self) -> dict[str, Any]:
        return run_status(self.journal, self.run)


class OpcoImporter:
    def __init__(
        self,
        dossiers: Dossiers,
        accounts: OpcoAccounts,
        gateway: OpcoGateway,
        view: TransmissionsView,
        clock: Clock,
        catch_up: Callable[[], object] | None = None,
        ensure_credentials: Callable[[str, Opco], object] | None = None,
    ) -> None:
        """`catch_up` brings the transmissions read model (`view`) up to the log's head, where this process may;
        `ensure_credentials` gives a CFA its credentials at an OPCO where it lacks them (the sandbox's keys)."""
        self._app = dossiers
        self._catch_up = catch_up
        self._ensure_credentials = ensure_credentials
        self._accounts = accounts
        self._gateway = gateway
        self._view = view
        self._clock = clock

    # -- commands and queries ---------------------------------------------------------------------------------

    def start(
        self, principal: Principal, cfa_siret: str, opco: Opco, *, dry_run: bool, idempotency_key: str | None = None
    ) -> Started:
        """Record a new run (or resume the real run that stopped before its end); admin of the CFA or operator.
        Refused while the OPCO cannot be called for this CFA, or while another real run is running."""
        _require_admin_of(principal, cfa_siret)
        if self._ensure_credentials is not None and self._accounts.not_ready(cfa_siret, opco) is not None:
            self._ensure_credentials(cfa_siret, opco)
        not_ready = self._accounts.not_ready(cfa_siret, opco)
        if not_ready is not None:
            raise NotAllowedInState("import from", f"account not ready: {not_ready.message}", frozenset({"ready"}))
        route = f"/cfas/{cfa_siret}/opcos/{opco.value}/imports"
        request = IdempotentRequest.of(idempotency_key, principal, route, {"dryRun": dry_run})

        def begin() -> tuple[ImportJournal, list[Any]]:
            journal = self._journal_or_new(cfa_siret, opco)
            self._begin(journal, dry_run, principal.actor)
            return journal, []

        outcome = self._app.commands.create(
            begin, lambda ident, version: self._journal(ident, version), request=request, collided=lambda _: None
        )
        return Started(cfa_siret, opco, outcome.aggregate.last_run, outcome.aggregate, outcome.replayed)

    def status(self, principal: Principal, cfa_siret: str, opco: Opco, run: int) -> dict[str, Any]:
        if not principal.can_see(cfa_siret):
            raise NotFound("CFA", cfa_siret)
        try:
            journal = self._journal(journal_id(cfa_siret, opco.value), None)
        except NotFound:
            raise NotFound("import", str(run)) from None
        if run not in journal.runs:
            raise NotFound("import", str(run))
        return run_status(journal, run)

    def execute(self, started: Started, actor: str, on_progress: Progress | None = None) -> dict[str, Any]:
        """Do the run (a dry run writes nothing but its record); its status at the end. An OPCO's failure stops it
        (recorded as failed: the next start resumes it)."""
        journal_ident = journal_id(started.cfa_siret, started.opco.value)
        run = _Run(self, started, f"{journal_ident}/{started.run}", actor, on_progress)
        try:
            run.go()
        except OpcoError as failure:
            log.warning("import %s of %s at %s stopped: %s", started.run, started.cfa_siret, started.opco, failure)
            error = str(failure)
            self._record(started, lambda j: j.fail(started.run, error, self._clock.now()))
        except Exception as failure:  # recorded as failed at once rather than left running until stale
            log.exception("import %s of %s at %s failed", started.run, started.cfa_siret, started.opco)
            error = f"{type(failure).__name__}: {failure}"
            self._record(started, lambda j: j.fail(started.run, error, self._clock.now()))
            raise
        return run_status(self._journal(journal_ident, None), started.run)

    # -- internals ----------------------------------------------------------------------------------------------

    def _begin(self, journal: ImportJournal, dry_run: bool, actor: str) -> None:
        now = self._clock.now()
        unfinished = None if dry_run else journal.unfinished()
        if unfinished is None:
            journal.start(dry_run=dry_run, actor=actor, at=now)
            return
        entry = journal.runs[unfinished]
        if entry["status"] == RUNNING and now - _moment(entry["updatedAt"]) < STALE_AFTER:
            raise NotAllowedInState("start an import of", "an import running", frozenset({"no import running"}))
        journal.resume(unfinished, actor, now)

    def _journal_or_new(self, cfa_siret: str, opco: Opco) -> ImportJournal:
        try:
            return self._journal(journal_id(cfa_siret, opco.value), None)
        except NotFound:
            return ImportJournal(cfa_siret, opco.value)

    def _journal(self, ident: UUID, version: int | None) -> ImportJournal:
        try:
            journal: ImportJournal = self._app.repository.get(ident, version=version)
        except AggregateNotFoundError:
            raise NotFound("import journal", ident) from None
        return journal

    def _record(
        self, started: Started, change: Callable[[ImportJournal], None], journal: ImportJournal | None = None
    ) -> ImportJournal | None:
        """A change to the run's record, saved at once, on `journal` as this run last saved it (read again when
        absent, or when another run saved the journal meanwhile); the journal saved, None if three races were
        lost (the record then lags; the next progress catches up)."""
        ident = journal_id(started.cfa_siret, started.opco.value)
        for _ in range(3):
            journal = journal or self._journal(ident, None)
            change(journal)
            try:
                self._app.save(journal)
                return journal
            except IntegrityError:
                journal = None
        return None

    def _known(self, cfa_siret: str, opco: Opco, run_key: str) -> tuple[KnownDossiers, set[UUID]]:
        """The dossiers of the CFA at this OPCO: the read model must have seen every dossier saved before the run
        began, or one sent from here a moment ago would be imported a second time."""
        self._await_read_model()
        known, ours = KnownDossiers(), set()
        for ident in self._view.ids_at_opco(cfa_siret, opco.value).values():
            contract = self._contract(ident)
            if contract is not None:
                known.add(ident, numbers_of(contract))
                if contract.import_run == run_key:  # created by this run before it stopped: it resumes
                    ours.add(ident)
        return known, ours

    def _await_read_model(self) -> None:
        """Catch the read model up here where this process may (retried while another process does it at the same
        moment), else wait for the worker to bring it to the log's head as it was when the run began."""
        head = self._app.recorder.max_notification_id() or 0
        deadline = time.monotonic() + READ_MODEL_WAIT
        while True:
            if self._catch_up is not None:
                try:
                    self._catch_up()
                    return
                except Exception as error:  # a lost race on the tracking position: try again
                    log.debug("catching up the transmissions read model: %s", error)
            elif self._view.position(self._app.name) >= head:
                return
            if time.monotonic() > deadline:
                raise OpcoError("the dossiers' read model is behind the log: the import cannot tell what is known")
            time.sleep(0.05)

    def _contract(self, ident: UUID) -> Contract | None:
        try:
            contract: Any = self._app.repository.get(ident)
        except AggregateNotFoundError:
            return None
        return contract if isinstance(contract, Contract) else None


class _Run:
    """One execution of a run: the rows of the OPCO's list, decided in order."""

    def __init__(
        self, importer: OpcoImporter, started: Started, run_key: str, actor: str, on_progress: Progress | None
    ) -> None:
        self.importer, self.started, self.run_key, self.actor = importer, started, run_key, actor
        self.on_progress = on_progress
        self.dry_run = bool(started.journal.runs[started.run]["dryRun"])
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self.conflicts: list[dict[str, Any]] = []
        self.ours: set[UUID] = set()  # the dossiers this run created before it stopped and was resumed
        self.journal: ImportJournal | None = None  # as this run last saved it (no reading it again each time)

    def go(self) -> None:
        importer, started = self.importer, self.started
        endpoint = importer._accounts.endpoint(started.cfa_siret, started.opco)
        if endpoint is None:
            raise OpcoError(f"{started.opco}: the CFA's account there is not ready")
        known, self.ours = importer._known(started.cfa_siret, started.opco, self.run_key)
        rows = retried(lambda: list(importer._gateway.dossier_list(endpoint)))
        done = 0
        with ThreadPoolExecutor(READERS, thread_name_prefix="import-read") as readers:
            for chunk in _chunks(rows, PROGRESS_EVERY):
                details = self._read_new(readers, endpoint, known, chunk)
                for row, detail in zip(chunk, details, strict=True):
                    self._decide(endpoint, known, row, detail)
                done += len(chunk)
                self._progress(len(rows), done)
        counts, conflicts = dict(self.counts), list(self.conflicts)
        importer._record(
            started, lambda j: j.finish(started.run, counts=counts, conflicts=conflicts, at=_now(self)), self.journal
        )

    def _read_new(
        self, readers: ThreadPoolExecutor, endpoint: OpcoEndpoint, known: KnownDossiers, rows: Sequence[ListedDossier]
    ) -> list[OpcoDossier | None]:
        """The dossiers of the rows that may be new (those the row's numbers do not pair), read from the OPCO."""

        def read(row: ListedDossier) -> OpcoDossier | None:
            if known.decide(listed_numbers(row)).outcome is not Outcome.CREATE:
                return None
            return find_listed(self.importer._gateway, endpoint, row)

        return list(readers.map(read, rows))

    def _decide(
        self, endpoint: OpcoEndpoint, known: KnownDossiers, row: ListedDossier, detail: OpcoDossier | None
    ) -> None:
        numbers = listed_numbers(row)
        decision = known.decide(numbers)
        if decision.outcome is Outcome.CREATE:
            if detail is None:
                detail = find_listed(
                    self.importer._gateway, endpoint, row
                )  # a row paired when read, no longer: read it
            decision, numbers = self._with_detail(known, numbers, detail)
        if decision.outcome is Outcome.CONFLICT:  # an avenant shares its contract's DECA number: say so
            detail = detail or find_listed(self.importer._gateway, endpoint, row)
            if detail is not None and is_avenant(detail.cerfa):
                decision = _avenant(detail)
        if decision.outcome is Outcome.CREATE:
            assert detail is not None
            decision = self._create(known, numbers, row, detail)
        if decision.outcome is Outcome.MATCHED and decision.contract_id in self.ours:
            decision = Decision(Outcome.CREATE, decision.contract_id)  # created by this run: counted so again
        self.counts[decision.outcome.value] += 1
        if decision.outcome is Outcome.CONFLICT and len(self.conflicts) < MAX_CONFLICTS_KEPT:
            self.conflicts.append(_conflict(numbers, decision, row.etat))

    def _with_detail(
        self, known: KnownDossiers, numbers: Numbers, detail: OpcoDossier | None
    ) -> tuple[Decision, Numbers]:
        if detail is None:
            return Decision(
                Outcome.CONFLICT, reason="not_found", detail="listed by the OPCO, not found when read"
            ), numbers
        if is_avenant(detail.cerfa):  # an avenant's dossier (docs/amendments.md): not a contract of its own
            return _avenant(detail), numbers
        read = Numbers(detail.numero_interne or None, detail.numero_externe, detail.numero_deca)
        field = numbers.disagreement(read)
        if field is not None:
            text = f"{field}: {numbers.by_field()[field]} in the OPCO's list, {read.by_field()[field]} in its dossier"
            return Decision(Outcome.CONFLICT, reason="numbers_disagree", detail=text), numbers
        complete = numbers.merged(read)
        return known.decide(complete), complete

    def _create(self, known: KnownDossiers, numbers: Numbers, row: ListedDossier, detail: OpcoDossier) -> Decision:
        started = self.started
        record = ImportRecord(
            opco=started.opco.value,
            import_run=self.run_key,
            numero_interne=numbers.numero_interne,
            numero_externe=numbers.numero_externe,
            numero_deca=numbers.numero_deca,
            etat=detail.etat or row.etat,
            commentaire=detail.commentaire_etat or row.commentaire_etat,
            cerfa=detail.cerfa,
        )
        ident = Contract.create_imported_id(started.cfa_siret, record.opco, record.opco_key)
        existing = self.importer._contract(ident)
        if existing is not None:  # imported before (not yet in the read model), or earlier in this very run
            known.add(ident, numbers_of(existing))
            if existing.import_run == self.run_key:
                self.ours.add(ident)
            return Decision(Outcome.MATCHED, ident)
        known.add(ident, numbers)
        if not self.dry_run:
            self._save_new(record, detail)
        return Decision(Outcome.CREATE, ident)

    def _save_new(self, record: ImportRecord, detail: OpcoDossier) -> None:
        numero = record.numero_interne or f"{record.opco}-{record.numero_externe or record.numero_deca}"
        contract = Contract.imported(
            cfa_siret=self.started.cfa_siret, numero_interne=numero, record=record, actor=self.actor
        )
        detail.record_commitment_on(contract, self.actor)
        try:
            self.importer._app.save(contract)
        except IntegrityError:  # another run created it at the same moment: it exists, once
            log.info("imported dossier %s was created meanwhile", contract.id)

    def _progress(self, total: int, done: int) -> None:
        counts, run = dict(self.counts), self.started.run
        self.journal = self.importer._record(
            self.started, lambda j: j.progress(run, total=total, done=done, counts=counts, at=_now(self)), self.journal
        )
        if self.on_progress is not None:
            self.on_progress({"total": total, "done": done, "counts": counts})


def run_status(journal: ImportJournal, run: int) -> dict[str, Any]:
    entry = journal.runs[run]
    return {
        **entry,
        "id": run,
        "cfaSiret": journal.cfa_siret,
        "opco": journal.opco,
        "finished": entry["status"] == FINISHED,
    }


def _avenant(detail: OpcoDossier) -> Decision:
    text = f"an avenant of the contract {detail.numero_deca}: followed on that contract, not imported as one"
    return Decision(Outcome.CONFLICT, reason="avenant", detail=text)


def _conflict(numbers: Numbers, decision: Decision, etat: str | None) -> dict[str, Any]:
    return {
        "numeroInterne": numbers.numero_interne,
        "numeroExterne": numbers.numero_externe,
        "numeroDeca": numbers.numero_deca,
        "etat": etat,
        "reason": decision.reason,
        "detail": decision.detail,
        "candidates": [str(ident) for ident in decision.candidates],
    }


def _chunks(rows: list[ListedDossier], size: int) -> Iterator[list[ListedDossier]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _now(run: _Run) -> datetime:
    return run.importer._clock.now()


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _require_admin_of(principal: Principal, cfa_siret: str) -> None:
    if not principal.can_see(cfa_siret):
        raise NotFound("CFA", cfa_siret)
    principal.require_admin()
