"""A rebuild's pass for a read model without history (the contracts' status): each aggregate's version at the end
of the log only, in memory that does not grow with the log.

The log is read a page at a time (a reader thread reads and decodes the next page while this one is projected).
Each event is folded onto its aggregate's memo with the model's deferred work left undone (the status model's
problem counts); the memos live in a cache of at most `capacity` aggregates (a quarter more while a chunk of a page
is read back), the least recently changed first out. When the cache is full, its oldest half is written to the
scratch tables: each memo, and the version of those that need no deferred work (a draft's waits: it may change
again). An aggregate met again later is read back from them, and written again when it leaves anew. Once the log
is read, the memos without a version are read back a cache at a time, their deferred work done once each
(`settle_pending`), their versions written. Nothing else is kept but the keys of aggregates whose version could not
be made: those are projected again at the end, event by event as a live batch would (`replay`), and held where
that fails.

A rebuild needs no history: a walk pinned before the rebuilt position would need the versions it skips, so the
rebuilt view's pruned horizon is that position, and such walks are refused; walks pinned at or after it read the
versions a live projection makes from there on. An event that fails holds its aggregate as a live batch does.

The cyclic garbage collector is paused meanwhile (memos are many, long-lived and without cycles: its full
collections walked them again and again); it runs once every COLLECT_EVERY flushes, on a bounded heap.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking

from infrastructure.read_models import temporal_versions, tracking
from infrastructure.read_models.engine import Hold, Memo, TemporalView
from infrastructure.read_models.log_pages import fast_mapper, read_page
from infrastructure.store.sql_store import Transaction

log = logging.getLogger("convergence.read_models")
COLLECT_EVERY = 8  # flushes between two collections of the paused cyclic garbage collector


def bulk_build(view: TemporalView, app: Application[UUID], page: int, up_to: int | None = None) -> int:
    """Project the log after the view's position into its (empty, scratch) tables, up to the head or `up_to`;
    `page` events read at a time and `page` memos cached at most. The number of events read."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _BulkBuild(view, app, page).run(up_to)
    finally:
        view.close_bulk()
        if collecting:
            gc.enable()


class _BulkBuild:
    def __init__(self, view: TemporalView, app: Application[UUID], capacity: int) -> None:
        self.view = view
        self.app = app
        self.store = view.store
        self.capacity = max(2, capacity)
        self.cache: OrderedDict[str, Memo] = OrderedDict()  # least recently changed first
        self.dirty: set[str] = set()  # cached memos changed since they were read or written
        self.stored: set[str] = set()  # cached aggregates whose memo (and version) the tables already hold
        self.held: set[str] = set()  # aggregates held, among those cached or not yet written
        self.holds: list[Hold] = []  # not yet written
        self.failed: set[str] = set()  # aggregates whose version could not be settled: replayed at the end
        self.spilled = False  # whether anything was written yet (else nothing can be read back)
        self.flushes = 0
        self.written = 0

    def run(self, up_to: int | None) -> int:
        view, app = self.view, self.app
        previous = view.position(app.name)
        position, processed = previous, 0
        started = time.perf_counter()
        read = partial(read_page, app, fast_mapper(app.mapper), view.model.topics, self.capacity)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{view.prefix}-bulk") as reader:
            reading = reader.submit(read, previous, up_to)
            while True:
                events, reached, complete = reading.result()
                position = max(position, reached)
                if not complete:  # read (and decode) the next page while this one is projected
                    reading = reader.submit(read, reached, up_to)
                chunk = max(1, self.capacity // 4)  # a page's new memos read back or made a chunk at a time
                for start in range(0, len(events), chunk):
                    self.fold(events[start : start + chunk])
                    if len(self.cache) > self.capacity:
                        self.flush(self.capacity // 2)
                processed += len(events)
                if complete:
                    break
        if position == previous:
            return processed
        self.flush(0)
        self.settle_pending()
        replayed, holds = self.replay(self.failed, position) if self.failed else ({}, [])
        with self.store.transaction() as tx:
            tracking.advance(tx, view.prefix, Tracking(app.name, position), previous)
            for hold in holds:
                view.hold(tx, *hold)
            self.write(tx, replayed, set(replayed), finish=True)
            view.set_horizon(tx, position)
        log.info(
            "%s rebuild: %d events read, %d versions written (%d times the memos spilled), %d replayed, in %.1f s",
            view.model.label,
            processed,
            self.written,
            self.flushes,
            len(replayed),
            time.perf_counter() - started,
        )
        return processed

    def fold(self, events: list[tuple[int, Any]]) -> None:
        """Each event onto its aggregate's memo (read back from the tables where it left the cache before)."""
        cache, view = self.cache, self.view
        if self.spilled:
            self.read_back({str(event.originator_id) for _, event in events} - cache.keys())
        for position, event in events:
            key = str(event.originator_id)
            if key in self.held:
                continue
            memo = cache.get(key)
            try:
                after = view.fold(event, memo, position)
            except Exception as error:  # as a live batch: this aggregate stops here, the others go on
                self.holds.append((key, memo, position, event, error))
                self.held.add(key)
                continue
            if after is not None:
                cache[key] = after
                cache.move_to_end(key)
                self.dirty.add(key)
        view.peak_memos = max(view.peak_memos, len(cache))

    def read_back(self, keys: set[str]) -> None:
        if not keys:
            return
        view, dialect = self.view, self.store.dialect
        with self.store.reading() as tx:
            memos = temporal_versions.load_memos(tx, dialect, view.prefix, view.model.key, keys)
            self.held |= temporal_versions.held_keys(tx, dialect, view.prefix, view.model.key, keys)
        self.cache.update(memos)
        self.stored.update(memos)

    def flush(self, keep: int) -> None:
        """Settle and write the least recently changed memos until `keep` are left in the cache, half the cache's
        capacity at a time (so that what a write makes of them stays within bounds too)."""
        while len(self.cache) > keep or self.holds:
            leaving: dict[str, Memo] = {}
            while len(self.cache) > keep and len(leaving) < self.capacity // 2:
                key, memo = self.cache.popitem(last=False)
                if key in self.dirty:
                    leaving[key] = memo
                self.dirty.discard(key)
            stored = {key for key in leaving if key in self.stored}
            self.stored -= leaving.keys()
            with self.store.transaction() as tx:
                for hold in self.holds:
                    self.view.hold(tx, *hold)
                self.write(tx, leaving, stored)
            self.holds.clear()
        self.held &= self.cache.keys()  # the others' holds are written: read back with them if met again
        self.spilled = True
        self.flushes += 1
        if self.flushes % COLLECT_EVERY == 0:
            gc.collect()

    def write(self, tx: Transaction, memos: dict[str, Memo], stored: set[str], *, finish: bool = False) -> None:
        """These aggregates' memos, and the versions of those whose version needs no deferred work (all of them
        with `finish`: the work done), replacing what the tables hold for `stored` ones."""
        if not memos:
            return
        view, dialect = self.view, self.store.dialect
        records, failed = view.settle_all(memos, finish=finish)
        self.failed = (self.failed - memos.keys()) | failed
        if stored:
            _delete_versions(tx, view, stored)
        view.bulk_insert(tx, f"{view.prefix}_versions", view.model.version_columns, records)
        new = {key: memo for key, memo in memos.items() if key not in stored}
        temporal_versions.copy_memos(tx, dialect, view.prefix, view.model.key, new)
        temporal_versions.save_memos(tx, dialect, view.prefix, view.model.key, {k: memos[k] for k in stored})
        self.written += len(records)

    def settle_pending(self) -> None:
        """The aggregates written without a version (their deferred work left for their last memo: a draft's
        problem count), a cache's worth at a time: that work done once each, their versions and memos written."""
        view, dialect = self.view, self.store.dialect
        key, version_key, prefix = view.model.key, view.model.version_key, view.prefix
        after = ""
        while True:
            with self.store.reading() as tx:
                keys = [
                    str(ident)
                    for (ident,) in tx.query(
                        f"SELECT m.{key} FROM {prefix}_memo AS m WHERE m.{key} > %s AND NOT EXISTS"
                        f" (SELECT 1 FROM {prefix}_versions AS v WHERE v.{version_key} = m.{key})"
                        f" ORDER BY m.{key} LIMIT %s",
                        (after, self.capacity),
                    )
                ]
                if not keys:
                    return
                memos = temporal_versions.load_memos(tx, dialect, prefix, key, keys)
            view.peak_memos = max(view.peak_memos, len(memos))
            with self.store.transaction() as tx:
                self.write(tx, memos, set(memos), finish=True)
            after = keys[-1]

    def replay(self, keys: set[str], stop: int) -> tuple[dict[str, Memo], list[Hold]]:
        """These aggregates projected again from the log up to `stop` as a live batch does it: their memos, and
        where each was held. Only their events are decoded."""
        app, view = self.app, self.view
        memos: dict[str, Memo] = {}
        held: set[str] = set()
        holds: list[Hold] = []
        start = 1
        while start <= stop:
            found = app.recorder.select_notifications(start, self.capacity, stop=stop, topics=view.model.topics)
            if not found:
                break
            events = [(n.id, app.mapper.to_domain_event(n)) for n in found if str(n.originator_id) in keys]
            holds.extend(view.project(events, memos, held).holds)
            start = found[-1].id + 1
        self.failed = set()
        return memos, holds


def _delete_versions(tx: Transaction, view: TemporalView, keys: Iterable[str]) -> None:
    """The versions of these aggregates (written when they left the cache before): a rebuild keeps one each."""
    key = view.model.version_key
    wanted = view.model.schema.json_rows(view.store.dialect, (key,))
    tx.execute(
        f"DELETE FROM {view.prefix}_versions WHERE {key} IN (SELECT {key} FROM ({wanted}) AS k)",
        (temporal_versions.to_json([{key: value} for value in keys]),),
    )
