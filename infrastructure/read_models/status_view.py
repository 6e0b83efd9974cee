"""The status read model on SQLite or PostgreSQL (see application.read_models.status): its declaration to the
read-model engine (engine.py: a temporal table of row versions, memos, holds, rebuilds) and what is its own: each
version made from its dossier's memo (application.read_models.status_projection), the dashboard's counts kept with
the versions (status_counts.py), a rebuild's problem counts. Its queries are in status_reads.py.

A rebuild (bulk_build.py) writes each dossier's version at the log's head only, and its horizon there. A draft's
problems are counted once, for the version shown (`advance(deferred=True)`, then `settle`), not at every change of
its Cerfa as a live projection must; COUNTING_FROM_DRAFTS drafts or more are counted by COUNTING_PROCESSES
processes forked for it (see `settle_all`).
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from application.read_models.status import list_item
from application.read_models.status_projection import (
    TOPICS,
    Memo,
    ProblemCounts,
    advance,
    problem_count,
    search_column,
    settle,
    shown_opco,
    status_row,
)
from domain.contracts.contract import SENT
from domain.opco.opcos import IdccRouting
from infrastructure.read_models import rebuild
from infrastructure.read_models.engine import Projected, ReadModel, Step, TemporalView
from infrastructure.read_models.log_pages import OrjsonTranscoder
from infrastructure.read_models.log_pages import fast_mapper as _fast_mapper
from infrastructure.read_models.status_counts import count_changes, count_versions
from infrastructure.read_models.status_reads import StatusReads
from infrastructure.read_models.status_schema import EXTENSIONS, SCHEMA, VERSION_COLUMNS
from infrastructure.read_models.temporal_versions import to_json
from infrastructure.store.sql_store import SqlStore, Transaction

__all__ = ["OrjsonTranscoder", "SqlStatusView", "_fast_mapper", "build_next", "rebuild_status_view", "swap_in"]

log = logging.getLogger("convergence.status")
LIVE = "status"
NEXT = "status_next"
STATUS = ReadModel(
    name=LIVE,
    key="contract_id",
    version_key="contract_id",
    version_columns=VERSION_COLUMNS,
    topics=TOPICS,
    schema=SCHEMA,
    history=False,
    label="status",
)


class SqlStatusView(StatusReads, TemporalView):
    """StatusView on a SqlStore; `table_prefix` names its tables and its tracking (projection name)."""

    model = STATUS

    def __init__(
        self, store: SqlStore, routing: IdccRouting, table_prefix: str = LIVE, *, create_indexes: bool = True
    ) -> None:
        self._routing = routing
        self._counts = ProblemCounts(routing)
        super().__init__(store, table_prefix, create_indexes=create_indexes, search=_create_extensions(store))
        # A bulk build (create_indexes False: a rebuild's first pass) leaves the counts to swap_in, which counts
        # the versions once; otherwise every batch keeps them, and tables filled by other means are counted here.
        self.counting = create_indexes
        self.counted = 0  # drafts whose problems the last bulk build counted
        self._pool: ProcessPoolExecutor | None = None
        if create_indexes:
            with store.transaction() as tx:
                count_versions(tx, table_prefix, store.dialect)

    def step(self, event: Any, memo: Memo | None, position: int) -> Step:
        after = advance(event, memo, position, self._routing, self._counts)
        return Step(after, _record(str(event.originator_id), after)) if after is not None else Step()

    def write_more(self, tx: Transaction, projected: Projected) -> None:
        if self.counting:
            changes = [(projected.before.get(key), memo) for key, memo in projected.memos.items()]
            count_changes(tx, self.prefix, self._store.dialect, changes)

    def fold(self, event: Any, memo: Memo | None, position: int) -> Memo | None:
        return advance(event, memo, position, self._routing, self._counts, deferred=True)

    def settle_all(self, memos: dict[str, Memo], *, finish: bool = True) -> tuple[list[dict[str, Any]], set[str]]:
        """The version of each dossier as stored, its problems counted when still a draft (without `finish`, the
        drafts not yet counted are left out: counted once, at the end of the rebuild); the dossiers for which that
        failed (left out).

        Once COUNTING_FROM_DRAFTS drafts are met, they are counted by COUNTING_PROCESSES processes forked then
        (and kept to the end of the rebuild), while this one makes the other dossiers' versions. Forked from a
        process with threads, they only count (pure Python: the rules, no I/O, no lock); where fork is not
        offered, this process counts."""
        drafts = [key for key, memo in memos.items() if memo["problem_count"] is None]
        if not finish:
            memos = {key: memo for key, memo in memos.items() if memo["problem_count"] is not None}
            drafts = []
        self.counted += len(drafts)
        pool = self._counting_pool() if drafts else None
        counting: list[tuple[list[str], Future[list[int | None]]]] = []
        if pool is not None:
            for start in range(0, len(drafts), COUNTING_CHUNK):
                chunk = drafts[start : start + COUNTING_CHUNK]
                counting.append((chunk, pool.submit(_count_drafts, [_to_count(memos[key]) for key in chunk])))
        records: list[dict[str, Any]] = []
        failed: set[str] = set()

        def add(key: str, memo: Memo) -> None:
            try:
                if memo["problem_count"] is None:
                    settle(memo, self._routing, self._counts)
                records.append(_record(key, memo))
            except Exception:  # projected again event by event, and held where that fails (bulk_build.replay)
                failed.add(key)

        for key, memo in memos.items():
            if pool is None or memo["problem_count"] is not None:
                add(key, memo)
        for keys, done in counting:
            for key, count in zip(keys, done.result(), strict=True):
                if count is None:
                    failed.add(key)
                else:
                    memos[key]["problem_count"] = count
                    add(key, memos[key])
        return records, failed

    def _counting_pool(self) -> ProcessPoolExecutor | None:
        if self._pool is None and (
            self.counted >= COUNTING_FROM_DRAFTS
            and COUNTING_PROCESSES
            and "fork" in multiprocessing.get_all_start_methods()
        ):
            _routing[:] = [self._routing]
            self._pool = ProcessPoolExecutor(COUNTING_PROCESSES, mp_context=multiprocessing.get_context("fork"))
        return self._pool

    def close_bulk(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        _routing.clear()


# -- rebuilding -----------------------------------------------------------------------------------------------


BULK_BATCH = rebuild.PAGE  # events read, and dossiers' memos kept in memory at most, at a time by a rebuild


def build_next(
    store: SqlStore,
    routing: IdccRouting,
    app: Application[UUID],
    batch_size: int = BULK_BATCH,
    *,
    prefix: str = NEXT,
    up_to: int | None = None,
) -> SqlStatusView:
    """Project the whole log (or up to position `up_to`) into fresh `status_next_*` tables (or `prefix`'s),
    left-overs of a crashed rebuild dropped first; the live tables keep answering meanwhile (rebuild.build)."""

    def make(table_prefix: str, indexes: bool) -> SqlStatusView:
        return SqlStatusView(store, routing, table_prefix, create_indexes=indexes)

    view = rebuild.build(STATUS, make, store, app, prefix, up_to=up_to, page=batch_size)
    assert isinstance(view, SqlStatusView)
    return view


def swap_in(store: SqlStore, routing: IdccRouting) -> SqlStatusView:
    """In one transaction: the rebuilt tables and position replace the live ones (rebuild.swap), and their
    counts are made (the rebuild left them to be counted once, here)."""
    rebuild.swap(
        store,
        STATUS,
        NEXT,
        search=_create_extensions(store),
        after=lambda tx: count_versions(tx, LIVE, store.dialect),
    )
    return SqlStatusView(store, routing, LIVE)


def rebuild_status_view(
    store: SqlStore, routing: IdccRouting, app: Application[UUID], batch_size: int = BULK_BATCH
) -> SqlStatusView:
    build_next(store, routing, app, batch_size)
    return swap_in(store, routing)


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


# -- a rebuild's problem counts, in forked processes ----------------------------------------------------------

COUNTING_PROCESSES = 2  # processes counting a rebuild's drafts (0: the rebuilding process counts them)
COUNTING_FROM_DRAFTS = 200  # fewer are counted by the rebuilding process (a fork costs more than they do)
COUNTING_CHUNK = 200  # drafts per task
_routing: list[IdccRouting] = []  # the routing, as the forked processes find it (not sent with each task)


def _to_count(memo: Memo) -> tuple[Any, str | None, bool]:
    return memo["cerfa"], memo["opco_choice"], memo["has_mandate"]


def _count_drafts(drafts: list[tuple[Any, str | None, bool]]) -> list[int | None]:
    """In a forked process: the blocking problems of these drafts, as status_projection.problem_count says; None
    where counting failed (the dossier is then projected again by the rebuilding process, and held there)."""
    counts: list[int | None] = []
    [routing] = _routing
    for cerfa, opco_choice, has_mandate in drafts:
        try:
            counts.append(problem_count(cerfa, opco_choice, has_mandate, routing))
        except Exception:
            counts.append(None)
    return counts


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
