"""The status read model on SQLite or PostgreSQL (see application.read_models.status): a temporal table of row versions.

Every change of a dossier closes its current version (`valid_to` = the change's position) and inserts a new one
(`valid_from` = that position, `valid_to` NULL). A list walk is pinned at a log position `as_of` and reads the
versions valid then (`valid_from <= as_of < valid_to`), in (valid_from DESC, contract_id DESC) order: each dossier
once, as it was at as_of, whatever changes meanwhile. Old versions stay until `prune`; a walk older than the pruned
horizon is refused (CursorExpired) and must start again. A rebuild writes each dossier's version at the log's head
only, and its horizon there (`bulk_build`).
"""

from __future__ import annotations

import copy
import gc
import logging
import multiprocessing
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from itertools import pairwise
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Mapper, Tracking, Transcoder

from application.read_models.projections import Batch
from application.read_models.status import (
    ContractFilter,
    Cursor,
    Dashboard,
    HeldDossier,
    ItemPage,
    Page,
    StatusRow,
    list_item,
    row_from_stored,
)
from application.read_models.status_projection import (
    ATTENTION_STATES,
    PENDING_STATES,
    TOPICS,
    CursorExpired,
    Memo,
    ProblemCounts,
    advance,
    problem_count,
    search_column,
    search_words,
    settle,
    shown_opco,
    status_row,
    tally,
)
from domain.contracts.contract import SENT
from domain.opco.opcos import IdccRouting
from infrastructure.read_models import temporal_versions, tracking
from infrastructure.read_models.amendment_status_view import NAME as AMENDMENT_STATUS
from infrastructure.read_models.projection_runner import ProjectionRunner
from infrastructure.read_models.rupture_status_view import NAME as RUPTURE_STATUS
from infrastructure.read_models.status_schema import (
    EXTENSIONS,
    SELECTED,
    VERSION_COLUMNS,
    drop_tables,
    index_ddl,
    json_rows,
    rename_tables,
    table_ddl,
)
from infrastructure.read_models.temporal_versions import to_json
from infrastructure.store.sql_store import Row, SqlStore, Transaction

log = logging.getLogger("convergence.status")
LIVE = "status"
NEXT = "status_next"
_COLUMNS = ", ".join(SELECTED)
_ITEM_COLUMNS = "contract_id, valid_from, item"
_ORDER = "ORDER BY valid_from DESC, contract_id DESC"
_ATTENTION = "(state IN ('drafted', 'mandate_checked', 'submitted', 'refused') OR parked = 1)"  # = the index's
assert all(f"'{state}'" in _ATTENTION for state in ATTENTION_STATES)


_Hold = tuple[str, Memo | None, int, Any, Exception]  # dossier, its last good memo, position, event, error


@dataclass
class _Projected:
    """A batch projected, to be written: each changed dossier's new versions (stored records, oldest first), the
    position at which its current version closes (those that had one), its memo before and after, the holds."""

    before: dict[str, Memo]
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    closing: dict[str, int] = field(default_factory=dict)
    memos: dict[str, Memo] = field(default_factory=dict)
    holds: list[_Hold] = field(default_factory=list)


class SqlStatusView:
    """StatusView on a SqlStore; `table_prefix` names its tables and its tracking (projection name)."""

    def __init__(
        self, store: SqlStore, routing: IdccRouting, table_prefix: str = LIVE, *, create_indexes: bool = True
    ) -> None:
        self._store = store
        self._routing = routing
        self._counts = ProblemCounts(routing)
        self.prefix = table_prefix
        self._versions = f"{table_prefix}_versions"
        self.search = _create_extensions(store)
        indexes = index_ddl(table_prefix, store.dialect, self.search) if create_indexes else ()
        _drop_outdated(store, table_prefix)
        store.create((*tracking.DDL, *table_ddl(table_prefix), *indexes))
        # A bulk build (create_indexes False: a rebuild's first pass) leaves the counts to swap_in, which counts
        # the versions once; otherwise every batch keeps them, and tables filled by other means are counted here.
        self.counting = create_indexes
        self.counted = 0  # drafts whose problems the last bulk_build counted
        if create_indexes:
            with store.transaction() as tx:
                count_versions(tx, table_prefix, store.dialect)

    # -- writing ----------------------------------------------------------------------------------------------

    def apply(self, batch: Batch) -> None:
        """The whole batch and its position in one transaction; refused if the view moved since it was read."""
        with self._store.transaction() as tx:
            tracking.advance(tx, self.prefix, batch.tracking, batch.previous)
            keys = {str(event.originator_id) for _, event in batch.events}
            dialect = self._store.dialect
            memos = temporal_versions.load_memos(tx, dialect, self.prefix, "contract_id", keys)
            held = temporal_versions.held_keys(tx, dialect, self.prefix, "contract_id", keys)
            projected = self._project(batch.events, memos, held)
            self._store_projected(tx, projected)

    def _project(self, events: Sequence[tuple[int, Any]], memos: dict[str, Memo], held: set[str]) -> _Projected:
        """What the events change, computed without the store: `memos` (those of the events' dossiers, if any) and
        `held` are updated in place."""
        existing = set(memos)  # a dossier with a memo has a current version
        projected = _Projected(before=dict(memos))
        versions = projected.versions
        for position, event in events:
            key = str(event.originator_id)
            if key in held:
                continue
            try:
                memo = advance(event, memos.get(key), position, self._routing, self._counts)
                record = _record(key, memo) if memo is not None else None
            except Exception as error:  # one dossier's failure must not stop the read model for every other one
                projected.holds.append((key, memos.get(key), position, event, error))
                held.add(key)
                continue
            if record is not None and memo is not None:
                memos[key] = memo
                if key not in versions:
                    versions[key] = []
                    if key in existing:
                        projected.closing[key] = record["valid_from"]
                versions[key].append(record)
        projected.memos = {key: memos[key] for key in versions}
        return projected

    def _store_projected(self, tx: Transaction, projected: _Projected) -> None:
        for key, memo, position, event, error in projected.holds:
            self._hold(tx, key, memo, position, event, error)
        dialect = self._store.dialect
        temporal_versions.close(tx, dialect, self._versions, "contract_id", projected.closing)
        self._insert(tx, self._versions, VERSION_COLUMNS, list(_version_records(projected.versions)))
        temporal_versions.save_memos(tx, dialect, self.prefix, "contract_id", projected.memos)
        if self.counting:
            self._count(tx, [(projected.before.get(key), memo) for key, memo in projected.memos.items()])

    def bulk_build(self, runner: ProjectionRunner) -> int:
        """A rebuild's first pass, into tables no other runner writes (`status_next`), empty: every dossier's events
        projected in memory up to the log's head, then each dossier's version at that position written once (its
        row, its memo) with the position, in one transaction. The number of events read.

        A rebuild needs no history: a walk pinned before the rebuilt position would need the versions it skips, so
        the rebuilt view's pruned horizon is that position, and such walks are refused (CursorExpired); walks
        pinned at or after it read the versions the live projection makes from there on, as ever. A draft's
        problems are counted once, for the version shown (`advance(deferred=True)`, then `settle`), not at every
        change of its Cerfa as a live projection must. An event that fails holds its dossier as a live batch
        does; a dossier whose version shown cannot be counted or written is projected again, event by event as
        a live batch would, and held where that fails (see `_replay`). COUNTING_FROM_DRAFTS drafts or more are
        counted by COUNTING_PROCESSES processes forked once the log is read (see `_settle_all`).

        The cyclic garbage collector is paused meanwhile: the memos it holds are many and long-lived, without
        cycles, and its full collections would walk them again and again."""
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._bulk_build(runner)
        finally:
            if collecting:
                gc.enable()

    def _bulk_build(self, runner: ProjectionRunner) -> int:
        application = runner.app.name
        previous = self.position(application)
        memos: dict[str, Memo] = {}
        held: set[str] = set()
        holds: list[_Hold] = []
        processed = 0
        position = previous
        started = time.perf_counter()
        read = partial(_read, runner.app, _fast_mapper(runner.app.mapper), BULK_BATCH)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.prefix}-bulk") as reader:
            reading = reader.submit(read, previous)
            while True:
                events, reached, complete = reading.result()
                position = max(position, reached)
                if not complete:  # read (and decode) the next batch while this one is projected
                    reading = reader.submit(read, reached)
                holds.extend(self._advance_all(events, memos, held))
                processed += len(events)
                if complete:
                    break
        if position == previous:
            return processed
        projected = time.perf_counter()
        records, failed = self._settle_all(memos)
        if failed:
            replayed, more_holds = self._replay(runner, failed, position)
            holds.extend(more_holds)
            records.extend(_record(key, memo) for key, memo in replayed.items())
            memos.update(replayed)
        counted = time.perf_counter()
        with self._store.transaction() as tx:
            tracking.advance(tx, self.prefix, Tracking(application, position), previous)
            for key, memo, at, event, error in holds:
                self._hold(tx, key, memo, at, event, error)
            self._bulk_insert(tx, self._versions, VERSION_COLUMNS, records)
            self._bulk_insert(
                tx,
                f"{self.prefix}_memo",
                ("contract_id", "memo"),
                [{"contract_id": k, "memo": temporal_versions.seal_memo(m)} for k, m in memos.items()],
            )
            tx.execute(
                f"INSERT INTO {self.prefix}_meta (name, value) VALUES ('horizon', %s)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (position,),
            )
        log.info(
            "status rebuild: %d events projected in %.1f s, %d drafts counted in %.1f s, %d dossiers written in %.1f s",
            processed,
            projected - started,
            sum(1 for memo in memos.values() if memo["cerfa"] is not None),
            counted - projected,
            len(records),
            time.perf_counter() - counted,
        )
        return processed

    def _advance_all(self, events: Sequence[tuple[int, Any]], memos: dict[str, Memo], held: set[str]) -> list[_Hold]:
        """Each event onto its dossier's memo (in place), counts deferred; the holds of the events that failed."""
        holds: list[_Hold] = []
        routing, counts = self._routing, self._counts
        for position, event in events:
            key = str(event.originator_id)
            if key in held:
                continue
            before = memos.get(key)
            try:
                memo = advance(event, before, position, routing, counts, deferred=True)
            except Exception as error:  # as a live batch: this dossier stops here, the others go on
                holds.append((key, before, position, event, error))
                held.add(key)
                continue
            if memo is not None:
                memos[key] = memo
        return holds

    def _settle_all(self, memos: dict[str, Memo]) -> tuple[list[dict[str, Any]], set[str]]:
        """The version of each dossier as stored, its problems counted when still a draft; the dossiers for which
        that failed (left out, and out of `memos`).

        COUNTING_FROM_DRAFTS drafts or more are counted by COUNTING_PROCESSES processes forked now, which find
        the memos in their copy of this one (nothing sent but ranges, nothing loaded again), while this one makes
        the other dossiers' versions. Forked from a process with threads, they only count (pure Python: the rules,
        no I/O, no lock); where fork is not offered, this process counts."""
        drafts = [key for key, memo in memos.items() if memo["problem_count"] is None]
        self.counted = len(drafts)
        counting: list[tuple[list[str], Future[list[int | None]]]] = []
        pool = None
        if (
            len(drafts) >= COUNTING_FROM_DRAFTS
            and COUNTING_PROCESSES
            and "fork" in multiprocessing.get_all_start_methods()
        ):
            _to_count[:] = [(memos[key], self._routing) for key in drafts]
            pool = ProcessPoolExecutor(COUNTING_PROCESSES, mp_context=multiprocessing.get_context("fork"))
            for start in range(0, len(drafts), COUNTING_CHUNK):
                end = min(len(drafts), start + COUNTING_CHUNK)
                counting.append((drafts[start:end], pool.submit(_count_drafts, start, end)))
        records: list[dict[str, Any]] = []
        failed: set[str] = set()

        def add(key: str, memo: Memo) -> None:
            try:
                if memo["problem_count"] is None:
                    settle(memo, self._routing, self._counts)
                records.append(_record(key, memo))
            except Exception:  # projected again event by event, and held where that fails (_replay)
                failed.add(key)

        for key, memo in memos.items():
            if not counting or memo["problem_count"] is not None:
                add(key, memo)
        try:
            for keys, done in counting:
                for key, count in zip(keys, done.result(), strict=True):
                    if count is None:
                        failed.add(key)
                    else:
                        memos[key]["problem_count"] = count
                        add(key, memos[key])
        finally:
            _to_count.clear()
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        for key in failed:
            del memos[key]
        return records, failed

    def _replay(self, runner: ProjectionRunner, keys: set[str], stop: int) -> tuple[dict[str, Memo], list[_Hold]]:
        """These dossiers projected again from the log up to `stop` as a live batch does it (every count made,
        every version recorded): their memos, and where each was held. Only their events are decoded."""
        app = runner.app
        memos: dict[str, Memo] = {}
        held: set[str] = set()
        holds: list[_Hold] = []
        start = 1
        while start <= stop:
            found = app.recorder.select_notifications(start, BULK_BATCH, stop=stop, topics=TOPICS)
            if not found:
                break
            events = [(n.id, app.mapper.to_domain_event(n)) for n in found if str(n.originator_id) in keys]
            holds.extend(self._project(events, memos, held).holds)
            start = found[-1].id + 1
        return memos, holds

    def _bulk_insert(
        self, tx: Transaction, table: str, columns: tuple[str, ...], records: list[dict[str, Any]]
    ) -> None:
        """Many rows into an empty table: COPY on PostgreSQL, else statements of BULK_BATCH rows."""
        if tx.copy_rows(table, columns, ([record[column] for column in columns] for record in records)):
            return
        for start in range(0, len(records), BULK_BATCH):
            self._insert(tx, table, columns, records[start : start + BULK_BATCH])

    def _count(self, tx: Transaction, changes: list[tuple[Memo | None, Memo]]) -> None:
        """Move each changed dossier from its old group to its new one. The counts are read and written back in
        this transaction, after tracking.advance locked the view's position: batches write them one at a time."""
        deltas: dict[tuple[str, str, str], list[Any]] = {}
        for old, new in changes:
            for memo, sign in ((old, -1), (new, 1)):
                if memo is None:
                    continue
                cfa, state, opco, parked, commitment = tally(memo)
                delta = deltas.setdefault((cfa, state, opco), [0, 0, Decimal(0)])
                delta[0] += sign
                delta[1] += sign * int(parked)
                if commitment is not None:
                    delta[2] += sign * Decimal(commitment)
        moved = {key: delta for key, delta in deltas.items() if delta != [0, 0, 0]}
        if not moved:
            return
        keys = json_rows(self._store.dialect, ("cfa_siret", "state", "opco"))
        wanted = [dict(zip(("cfa_siret", "state", "opco"), key, strict=True)) for key in moved]
        rows = tx.query(
            f"SELECT c.cfa_siret, c.state, c.opco, c.dossiers, c.parked, c.committed FROM {self.prefix}_counts AS c"
            f" JOIN ({keys}) AS k ON c.cfa_siret = k.cfa_siret AND c.state = k.state AND c.opco = k.opco",
            (to_json(wanted),),
        )
        current = {(r[0], r[1], r[2]): (int(r[3]), int(r[4]), Decimal(r[5])) for r in rows}
        records = []
        for (cfa, state, opco), (dossiers, parked, committed) in moved.items():
            was = current.get((cfa, state, opco), (0, 0, Decimal(0)))
            records.append(
                {
                    "cfa_siret": cfa,
                    "state": state,
                    "opco": opco,
                    "dossiers": was[0] + dossiers,
                    "parked": was[1] + parked,
                    "committed": str(was[2] + committed),
                }
            )
        columns = ("cfa_siret", "state", "opco", "dossiers", "parked", "committed")
        tx.execute(
            f"INSERT INTO {self.prefix}_counts ({', '.join(columns)}) {json_rows(self._store.dialect, columns)}"
            " ON CONFLICT (cfa_siret, state, opco) DO UPDATE SET dossiers = excluded.dossiers,"
            " parked = excluded.parked, committed = excluded.committed",
            (to_json(records),),
        )

    def _hold(self, tx: Transaction, key: str, memo: Memo | None, position: int, event: Any, error: Exception) -> None:
        """Keep the dossier at its last good version and report it; its later events wait for a rebuild."""
        kind = type(event).__name__
        log.error(
            "status read model: %s of dossier %s (position %s) failed: %r; dossier held",
            kind,
            key,
            position,
            error,
            exc_info=error,
        )
        tx.execute(
            f"INSERT INTO {self.prefix}_held (contract_id, cfa_siret, position, event_type, error, held_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (key, (memo or {}).get("cfa_siret"), position, kind, repr(error)[:1000], time.time()),
        )

    def held(self, cfa_siret: str | None) -> list[HeldDossier]:
        """Dossiers whose projection failed, oldest first: shown on /attention until a rebuild succeeds."""
        tenant, params = ("WHERE cfa_siret = %s", [cfa_siret]) if cfa_siret else ("", [])
        with self._store.reading() as tx:
            rows = tx.query(
                f"SELECT contract_id, cfa_siret, position, event_type, error FROM {self.prefix}_held {tenant}"
                " ORDER BY position",
                params,
            )
        return [HeldDossier(UUID(r[0]), r[1], int(r[2]), r[3], r[4]) for r in rows]

    def _insert(self, tx: Transaction, table: str, columns: tuple[str, ...], records: list[dict[str, Any]]) -> None:
        temporal_versions.insert(tx, json_rows(self._store.dialect, columns), table, columns, records)

    def prune(self, keep_after_position: int) -> int:
        """Delete the versions a walk can no longer need (temporal_versions.prune); the number deleted."""
        return temporal_versions.prune(self._store, self.prefix, self._versions, keep_after_position)

    # -- reading ------------------------------------------------------------------------------------------------

    def position(self, application_name: str) -> int:
        return tracking.read_position(self._store, self.prefix, application_name)

    def page(self, cfa_siret: str | None, where: ContractFilter, limit: int, cursor: Cursor | None) -> Page:
        """Dossiers by last change, newest first, as they were at the walk's as_of; cfa_siret None: every CFA."""
        statement, values = self._page_statement(_COLUMNS, cfa_siret, where, limit, cursor)
        with self._store.reading() as tx:
            rows, next_cursor, as_of = _paged(tx.query(statement, values), limit, cursor)
        return Page([row_from_stored(row) for row in rows], next_cursor, as_of)

    async def item_page(
        self, cfa_siret: str | None, where: ContractFilter, limit: int, cursor: Cursor | None
    ) -> ItemPage:
        """The same page, each dossier's list item as stored (JSON text), the API sends them as they are; read
        from a coroutine (SqlStore.aquery)."""
        statement, values = self._page_statement(_ITEM_COLUMNS, cfa_siret, where, limit, cursor)
        rows, next_cursor, as_of = _paged(await self._store.aquery(statement, values), limit, cursor)
        return ItemPage([row[2] for row in rows], next_cursor, as_of)

    def _page_statement(
        self, columns: str, cfa_siret: str | None, where: ContractFilter, limit: int, cursor: Cursor | None
    ) -> tuple[str, list[Any]]:
        """The page in one statement, so one snapshot and one round trip: its rows (`columns`, contract_id and
        valid_from first) and the position the walk is pinned at (see _paged).

        A first page is pinned at the view's position, read in the same statement: every current version is valid
        there and none is closed after it, so it reads the current versions only. A next page reads the versions
        valid at its as_of, with the pruned horizon: a prune that removed some of them has committed before the
        statement's snapshot, and raised the horizon in the same transaction, so the walk is refused. A rebuild
        swapped in sets the horizon at its position (it keeps no older versions); a walk pinned ahead of the view's
        position was made on the tables it replaced, before the rebuilt ones caught up: refused too."""
        head = "SELECT COALESCE(MAX(position), 0) FROM projection_tracking WHERE projection = %s"
        if cursor is None:
            pin = f"SELECT ({head}) AS pin, NULL AS head"
            pin_values: list[Any] = [self.prefix]
            rows_sql, values = self._page_sql(columns, cfa_siret, where, (), None, limit + 1)
        else:
            horizon = f"SELECT COALESCE(MAX(value), 0) FROM {self.prefix}_meta WHERE name = 'horizon'"
            pin = f"SELECT ({horizon}) AS pin, ({head}) AS head"
            pin_values = [self.prefix]
            after = (cursor.position, str(cursor.contract_id))
            rows_sql, values = self._page_sql(columns, cfa_siret, where, after, cursor.as_of, limit + 1)
        statement = (
            f"SELECT {columns}, p.pin, p.head FROM ({pin}) AS p LEFT JOIN ({rows_sql}) AS page ON 1 = 1 {_ORDER}"
        )
        return statement, [*pin_values, *values]

    def _page_sql(
        self,
        columns: str,
        cfa_siret: str | None,
        where: ContractFilter,
        after: tuple[Any, ...],
        as_of: int | None,
        fetch: int,
    ) -> tuple[str, list[Any]]:
        """Current versions (from before as_of, when given), and versions closed after as_of (a next page's): each
        a keyset scan of a partial index, limited, then merged. With states, the current versions are read once
        per state: the `states` index gives each state's rows in order, where an IN list would read and sort all
        of them."""
        branches: list[str] = []
        values: list[Any] = []

        def branch(valid: str, valid_params: tuple[Any, ...], each: ContractFilter) -> None:
            clauses, params = _filters(cfa_siret, each)
            if as_of is not None:
                clauses.append("valid_from <= %s")
                params.append(as_of)
            if after:
                clauses.append("(valid_from, contract_id) < (%s, %s)")
                params.extend(after)
            branches.append(
                f"SELECT {columns} FROM {self._versions} WHERE {valid} AND {' AND '.join(clauses)} {_ORDER} LIMIT %s"
            )
            values.extend((*valid_params, *params, fetch))

        for state in dict.fromkeys(where.states) if len(where.states) > 1 else (None,):
            branch("valid_to IS NULL", (), replace(where, states=(state,)) if state else where)
        if as_of is not None:
            branch("valid_to > %s", (as_of,), where)
        merged = " UNION ALL ".join(f"SELECT {columns} FROM ({sql}) AS b{n}" for n, sql in enumerate(branches))
        return f"SELECT {columns} FROM ({merged}) AS snapshot {_ORDER} LIMIT %s", [*values, fetch]

    def dashboard(self, cfa_siret: str | None) -> Dashboard:
        """From the counts (a few rows per CFA) and, per pending state, the oldest last change (one probe of the
        `updated` index each), with the view's position: one statement, one snapshot."""
        statement, values = self._dashboard_statement(cfa_siret)
        with self._store.reading() as tx:
            return _dashboard(tx.query(statement, values))

    async def adashboard(self, cfa_siret: str | None) -> Dashboard:
        """dashboard from a coroutine (SqlStore.aquery)."""
        return _dashboard(await self._store.aquery(*self._dashboard_statement(cfa_siret)))

    def _dashboard_statement(self, cfa_siret: str | None) -> tuple[str, list[Any]]:
        tenant, params = ("AND cfa_siret = %s", [cfa_siret]) if cfa_siret is not None else ("", [])
        oldest = " UNION ALL ".join(
            f"SELECT 'oldest', '{state}', NULL, 0, 0, NULL, (SELECT MIN(updated_at) FROM {self._versions}"
            f" WHERE valid_to IS NULL AND state = '{state}' {tenant})"
            for state in PENDING_STATES
        )
        statement = (
            "SELECT 'as_of', NULL, NULL, 0, 0, NULL,"
            " (SELECT COALESCE(MAX(position), 0) FROM projection_tracking WHERE projection = %s)"
            f" UNION ALL SELECT 'count', state, opco, dossiers, parked, committed, NULL FROM {self.prefix}_counts"
            f" WHERE dossiers > 0 {tenant} UNION ALL {oldest}"
        )
        return statement, [self.prefix, *params, *(params * len(PENDING_STATES))]

    def attention_candidates(self, cfa_siret: str | None, limit: int) -> list[StatusRow]:
        """Current rows not yet sent, refused or parked, the longest unchanged first."""
        tenant, params = ("AND cfa_siret = %s", [cfa_siret]) if cfa_siret is not None else ("", [])
        with self._store.reading() as tx:
            rows = tx.query(
                f"SELECT {_COLUMNS} FROM {self._versions} WHERE valid_to IS NULL AND {_ATTENTION} {tenant}"
                " ORDER BY updated_at, contract_id LIMIT %s",
                [*params, limit],
            )
        return [row_from_stored(row) for row in rows]

    def current_rows(self, contract_ids: Sequence[UUID]) -> list[StatusRow]:
        """The current versions of these dossiers (those that have one)."""
        if not contract_ids:
            return []
        wanted = json_rows(self._store.dialect, ("contract_id",))
        with self._store.reading() as tx:
            rows = tx.query(
                f"SELECT {_COLUMNS} FROM {self._versions} WHERE valid_to IS NULL"
                f" AND contract_id IN (SELECT contract_id FROM ({wanted}) AS k)",
                (to_json([{"contract_id": str(ident)} for ident in contract_ids]),),
            )
        return [row_from_stored(row) for row in rows]


# -- rebuilding -----------------------------------------------------------------------------------------------


BULK_BATCH = 5000  # events per transaction of a rebuild: fewer round trips and statements per event


def build_next(
    store: SqlStore, routing: IdccRouting, app: Application[UUID], batch_size: int = BULK_BATCH
) -> SqlStatusView:
    """Project the whole log into fresh `status_next_*` tables (left-overs of a crashed rebuild dropped first),
    up to the head; the live tables keep answering meanwhile. Indexes are built after the bulk of the rows."""
    store.create(tracking.DDL)
    with store.transaction() as tx:
        drop_tables(tx, NEXT)
        tx.execute("DELETE FROM projection_tracking WHERE projection = %s", (NEXT,))
    view = SqlStatusView(store, routing, NEXT, create_indexes=False)
    runner = ProjectionRunner(app, NEXT, TOPICS, view.apply, lambda: view.position(app.name), batch_size)
    view.bulk_build(runner)
    if store.dialect == "postgresql":  # on SQLite they are created under their final names by the swap
        _create_indexes(store, index_ddl(NEXT, store.dialect, view.search))
        store.create((f"ANALYZE {NEXT}_versions",))
        runner.catch_up()
    return view


def _create_indexes(store: SqlStore, statements: Sequence[str], connections: int = 2) -> None:
    """Each index in its own transaction, `connections` at a time: the server builds them side by side (each
    CREATE INDEX takes a lock that lets the others build too), on as many cores."""
    with ThreadPoolExecutor(max_workers=connections, thread_name_prefix="status-index") as pool:
        for done in [pool.submit(store.create, (statement,)) for statement in statements]:
            done.result()


def swap_in(store: SqlStore, routing: IdccRouting) -> SqlStatusView:
    """In one transaction: the rebuilt tables and position replace the live ones. The tracking row is moved
    first: a live batch in flight either committed before (and is dropped with the old tables) or finds the
    position moved and is refused, to be read again from the rebuilt position."""
    with store.transaction() as tx:
        tx.execute("DELETE FROM projection_tracking WHERE projection = %s", (LIVE,))
        tx.execute("UPDATE projection_tracking SET projection = %s WHERE projection = %s", (LIVE, NEXT))
        drop_tables(tx, LIVE)
        rename_tables(tx, store.dialect, NEXT, LIVE, _create_extensions(store))
        count_versions(tx, LIVE, store.dialect)  # the rebuild left them to be counted once, here
    return SqlStatusView(store, routing, LIVE)


def _drop_outdated(store: SqlStore, prefix: str) -> None:
    """Tables made by an earlier release without a column this one stores (the list item, say) are dropped with
    their position, to be made again and refilled from the start of the log by the projection: the read model is
    derived from the log, so nothing is lost, but the lists are incomplete until it has caught up. Running
    `convergence projections rebuild status` right after the upgrade refills them at a rebuild's rate."""
    present = store.columns(f"{prefix}_versions")
    if not present or present >= set(VERSION_COLUMNS):
        return
    log.warning(
        "status read model: tables %s_* lack %s; dropped, to be rebuilt from the log",
        prefix,
        ", ".join(sorted(set(VERSION_COLUMNS) - present)),
    )
    store.create(tracking.DDL)
    with store.transaction() as tx:
        drop_tables(tx, prefix)
        tx.execute("DELETE FROM projection_tracking WHERE projection = %s", (prefix,))


def rebuild_status_view(
    store: SqlStore, routing: IdccRouting, app: Application[UUID], batch_size: int = BULK_BATCH
) -> SqlStatusView:
    build_next(store, routing, app, batch_size)
    return swap_in(store, routing)


# -- helpers ------------------------------------------------------------------------------------------------


def _filters(cfa_siret: str | None, where: ContractFilter) -> tuple[list[str], list[Any]]:
    clauses, params = temporal_versions.filters(
        cfa_siret,
        where.states,
        where.opco,
        where.parked,
        where.updated_since,
        employer_siret=where.employer_siret,
        formation_rncp=where.formation_rncp,
        origin=where.origin,
    )
    for word in search_words(where.apprentice):
        # Written in the statement, not bound: a prepared statement's generic plan cannot know how common the
        # word is, and walks the trigram index for every match (~5,000 heap rows for "mar" in a large CFA) where
        # the plan for the word itself walks the CFA's newest rows and stops at the page. Safe: letters only (no
        # quote, no wildcard); "%%" is psycopg's "%" (and on SQLite two wildcards, the same pattern).
        if not word.isalpha():
            raise ValueError(f"not a search word: {word!r}")
        clauses.append(f"apprentice_search LIKE '%% {word}%%'")
    if where.problems is not None:
        clauses.append("problem_count > 0" if where.problems else "problem_count = 0")
    if where.rupture is not None:  # the ruptures and avenants read models' current rows (they may lag a round)
        clauses.append(f"contract_id {'' if where.rupture else 'NOT '}IN (SELECT contract_id FROM {RUPTURE_STATUS})")
    if where.amendment is not None:
        clauses.append(_amendment_clause(where.amendment))
    return clauses, params


_AMENDMENT_STATES = {"pending": "('drafted', 'submitted', 'sent', 'in_review')"}


def _amendment_clause(wanted: str) -> str:
    """Contracts with an avenant in that state ("pending": not yet decided, "waiting": waiting for a person, "any"),
    or without any ("none"). `wanted` is one of the API's values, never a caller's text (written in the statement)."""
    rows = f"SELECT contract_id FROM {AMENDMENT_STATUS}"
    if wanted == "none":
        return f"contract_id NOT IN ({rows})"
    if wanted == "any":
        return f"contract_id IN ({rows})"
    if wanted == "waiting":
        return f"contract_id IN ({rows} WHERE waiting_for <> '[]')"
    if not wanted.replace("_", "").isalpha():
        raise ValueError(f"not an avenant state: {wanted!r}")
    states = _AMENDMENT_STATES.get(wanted) or f"('{wanted}')"
    return f"contract_id IN ({rows} WHERE state IN {states})"


def _paged(found: list[Row], limit: int, cursor: Cursor | None) -> tuple[list[Row], Cursor | None, int]:
    """A page statement's rows, the next page's cursor and the position the walk is pinned at."""
    pinned = int(found[0][-2])  # one row at least: the pin's, with NULLs when no version matches
    if cursor is None:
        as_of = pinned
    elif cursor.as_of < pinned:
        raise CursorExpired(f"the walk at position {cursor.as_of} is older than the pruned horizon")
    elif cursor.as_of > int(found[0][-1]):  # pinned on tables a rebuild replaced, ahead of the rebuilt ones
        raise CursorExpired(f"the walk at position {cursor.as_of} was made on tables replaced since")
    else:
        as_of = cursor.as_of
    rows = [row[:-2] for row in found if row[0] is not None]
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    next_cursor = Cursor(as_of, int(last[1]), UUID(last[0])) if last is not None else None
    return rows, next_cursor, as_of


def _dashboard(rows: list[Row]) -> Dashboard:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    oldest: dict[str, datetime] = {}
    parked = 0
    committed = Decimal(0)
    as_of = 0
    for kind, state, opco, dossiers, parked_count, committed_text, value in rows:
        if kind == "as_of":
            as_of = int(value)
        elif kind == "count":
            group = opco or "none"
            counts[state][group] = counts[state].get(group, 0) + int(dossiers)
            parked += int(parked_count)
            if state == "accepted":
                committed += Decimal(committed_text)
        elif value is not None and state in counts:
            oldest[state] = datetime.fromtimestamp(value, UTC)
    return Dashboard(counts=dict(counts), committed=committed, parked=parked, oldest_pending=oldest, as_of=as_of)


def count_versions(tx: Transaction, prefix: str, dialect: str) -> None:
    """Count the current versions into `{prefix}_counts` unless they are already counted (flag in the meta): for
    tables filled in bulk (a rebuild's first pass, a benchmark's COPY) or made before the counts existed."""
    flag = f"SELECT value FROM {prefix}_meta WHERE name = 'counted'"
    if tx.query(flag):
        return
    if dialect == "postgresql":  # a batch waits (its counts come after this count) or is counted here
        tx.execute(f"LOCK TABLE {prefix}_counts IN EXCLUSIVE MODE")
        if tx.query(flag):
            return
    summed = "CAST(SUM(CAST(commitment AS NUMERIC)) AS TEXT)" if dialect == "postgresql" else "group_concat(commitment)"
    groups = tx.query(
        f"SELECT cfa_siret, state, COALESCE(opco, ''), COUNT(*), SUM(parked), {summed} FROM {prefix}_versions"
        " WHERE valid_to IS NULL GROUP BY cfa_siret, state, COALESCE(opco, '')"
    )
    columns = ("cfa_siret", "state", "opco", "dossiers", "parked", "committed")
    records = [
        dict(zip(columns, (cfa, state, opco, int(n), int(p or 0), str(_decimal_sum(dialect, total))), strict=True))
        for cfa, state, opco, n, p, total in groups
    ]
    tx.execute(f"DELETE FROM {prefix}_counts")
    if records:
        tx.execute(
            f"INSERT INTO {prefix}_counts ({', '.join(columns)}) {json_rows(dialect, columns)}", (to_json(records),)
        )
    tx.execute(f"INSERT INTO {prefix}_meta (name, value) VALUES ('counted', 1)")


def _decimal_sum(dialect: str, total: str | None) -> Decimal:
    """PostgreSQL sums as NUMERIC (exact); SQLite has no exact decimal type: its commitments are summed here."""
    if total is None:
        return Decimal(0)
    if dialect == "postgresql":
        return Decimal(total)
    return sum((Decimal(part) for part in total.split(",")), Decimal(0))


def _create_extensions(store: SqlStore) -> bool:
    """pg_trgm and btree_gin for the name search's index, when they exist or may be created. Creating one needs
    the CREATE right on the database (a superuser here): without it the name search walks the `current` index
    instead, correct and slower on rare names (a warning says so)."""
    if store.dialect != "postgresql":
        return False
    with store.transaction() as tx:
        present = tx.query("SELECT COUNT(*) FROM pg_extension WHERE extname IN ('pg_trgm', 'btree_gin')")
    if int(present[0][0]) == len(EXTENSIONS):
        return True
    try:
        store.create(EXTENSIONS)
    except Exception as error:  # no right, or not installed: the view works without them
        log.warning("status read model: no trigram index for the name search (%s); searches walk instead", error)
        return False
    return True


COUNTING_PROCESSES = 2  # processes counting a rebuild's drafts (0: the rebuilding process counts them)
COUNTING_FROM_DRAFTS = 1000  # fewer are counted by the rebuilding process (a fork costs more than they do)
COUNTING_CHUNK = 200  # drafts per task
_to_count: list[tuple[Memo, IdccRouting]] = []  # the drafts to count, as the forked processes find them


def _count_drafts(start: int, end: int) -> list[int | None]:
    """In a forked process: the blocking problems of these drafts, as status_projection.problem_count says; None
    where counting failed (the dossier is then projected again by the rebuilding process, and held there)."""
    counts: list[int | None] = []
    for memo, routing in _to_count[start:end]:
        try:
            counts.append(problem_count(memo["cerfa"], memo["opco_choice"], memo["has_mandate"], routing))
        except Exception:
            counts.append(None)
    return counts


def _read(app: Application[UUID], mapper: Mapper[UUID], size: int, previous: int) -> tuple[list[Any], int, bool]:
    """What ProjectionRunner.next_batch reads, decoded by `mapper`: the events after `previous` (at most `size`),
    the position reached, and whether that is the log's head (then the position is the head)."""
    head = app.recorder.max_notification_id() or 0  # read first: every event up to it is committed
    found = app.recorder.select_notifications(previous + 1, size, topics=TOPICS)
    complete = len(found) < size
    last = found[-1].id if found else previous
    return [(n.id, mapper.to_domain_event(n)) for n in found], max(last, head) if complete else last, complete


def _fast_mapper(mapper: Mapper[UUID]) -> Mapper[UUID]:
    """The application's mapper with its JSON decoded by orjson (a rebuild decodes every event of the log), the
    same cipher and compressor; itself when its transcoder is not eventsourcing's JSONTranscoder."""
    if type(mapper.transcoder) is not JSONTranscoder:
        return mapper
    fast = copy.copy(mapper)  # its class too: a subclass (application/privacy/sealing.py) does more than decode
    fast.transcoder = OrjsonTranscoder(mapper.transcoder)
    return fast


class OrjsonTranscoder(Transcoder):
    """Decodes what a JSONTranscoder encoded into the same values, with orjson: the JSON parsed at once, then each
    object `{"_type_": name, "_data_": data}` (innermost first, as JSONTranscoder's object hook) made its registered
    type. What orjson reads otherwise is left to the JSONTranscoder: JSON it refuses (NaN, infinities, lone
    surrogates) and integers beyond 64 bits (orjson makes them floats: any float that large sends the document
    there, an integer or not). Encoding too."""

    def __init__(self, transcoder: JSONTranscoder) -> None:
        self._transcoder = transcoder
        self._names = transcoder.names

    def encode(self, obj: Any) -> bytes:
        return self._transcoder.encode(obj)

    def decode(self, data: bytes) -> Any:
        try:
            value = orjson.loads(data)
            kind = type(value)
            if kind is dict or kind is list:
                return self._revive(value)
            if kind is float and not -_INT64 < value < _INT64:
                raise _NotOrjson
            return value
        except (orjson.JSONDecodeError, _NotOrjson):
            return self._transcoder.decode(data)

    def _revive(self, value: Any) -> Any:
        if type(value) is list:
            for index, item in enumerate(value):
                kind = type(item)
                if kind is dict or kind is list:
                    value[index] = self._revive(item)
                elif kind is float and not -_INT64 < item < _INT64:
                    raise _NotOrjson
            return value
        for key, item in value.items():
            kind = type(item)
            if kind is dict or kind is list:
                value[key] = self._revive(item)
            elif kind is float and not -_INT64 < item < _INT64:
                raise _NotOrjson
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            try:
                transcoding = self._names[value["_type_"]]
            except (KeyError, TypeError):
                return self._transcoder._decode_obj(value)  # its error, as it says it
            return transcoding.decode(value["_data_"])
        return value


_INT64 = 2.0**63  # orjson reads integers within 64 bits as integers, larger ones as floats


class _NotOrjson(Exception):
    """A document orjson would read otherwise than the JSON transcoder."""


def _version_records(versions: dict[str, list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    """Each dossier's new versions, each closed by the next one (valid_to: the next one's valid_from)."""
    for records in versions.values():
        for record, following in pairwise(records):
            record["valid_to"] = following["valid_from"]
        yield from records


def _record(key: str, memo: Memo) -> dict[str, Any]:
    """The dossier's version as stored (VERSION_COLUMNS, still open), straight from its memo: what status_row(memo)
    says, in the stored types (application.read_models.status.row_from_stored reads it back; pinned by
    tests/unit/test_status_projection.py), and the row's list item, encoded, as a page sends it."""
    name = memo["apprentice_name"]
    commitment = memo["commitment"]
    return {
        "contract_id": key,
        "valid_from": memo["position"],
        "cfa_siret": memo["cfa_siret"],
        "numero_interne": memo["numero_interne"],
        "state": memo["state"],
        "opco": shown_opco(memo),
        "apprentice_name": name,
        "apprentice_search": search_column(name),
        "employer_name": memo["employer_name"],
        "employer_siret": memo["employer_siret"],
        "formation_rncp": memo["formation_rncp"],
        "formation_title": memo["formation_title"],
        "start_date": _day(memo["start_date"]),
        "end_date": _day(memo["end_date"]),
        "numero_externe": memo["numero_externe"],
        "numero_deca": memo["numero_deca"],
        "opco_state": memo["opco_state"],
        "problem_count": memo["problem_count"],
        "has_mandate": int(memo["has_mandate"]),
        "parked": int(memo["parked"]),
        "commitment": str(Decimal(commitment)) if commitment is not None else None,
        "created_at": datetime.fromisoformat(memo["created_at"]).timestamp(),
        "updated_at": datetime.fromisoformat(memo["updated_at"]).timestamp(),
        "submitted_at": datetime.fromisoformat(memo["submitted_at"]).timestamp() if memo["submitted_at"] else None,
        "sent_at": datetime.fromisoformat(memo["sent_at"]).timestamp() if memo["sent_at"] else None,
        "workplace_departement": memo["workplace_departement"],
        "origin": memo.get("origin") or SENT,
        "item": to_json(list_item(status_row(UUID(key), memo))),
        "valid_to": None,
    }


def _day(text: str | None) -> str | None:
    return date.fromisoformat(text).isoformat() if text else None
