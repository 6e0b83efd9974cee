"""One engine for the temporal read models (the contracts' status, the invoices'): each is declared once (its
tables, its id columns, its topics) and a view class gives its projection step; the engine writes the batches,
holds what fails, prunes, rebuilds into scratch tables and swaps them in.

A version table keeps each aggregate's row as versions: every change closes the current version (`valid_to` =
the change's position) and inserts a new one (`valid_from` = that position, `valid_to` NULL), in the transaction
that moves the tracking position (compare-and-set on the position the batch was read from). A private memo per
aggregate (`<prefix>_memo`) lets the projection compute the next version from the next event alone; a batch loads
the memos of its aggregates only, so a catch-up holds no more than a batch's memos, whatever the store's size.
An aggregate whose event fails is held (`<prefix>_held`) at its last good version until a rebuild.

Rebuilds (rebuild.py): into tables of another prefix (`<name>_next` for `convergence projections rebuild`, which
`swap` then puts in place of the live ones; an audit's scratch tables, scratch.py). A model declared with `history`
is rebuilt as a live view catches up (every version kept); the others by bulk_build.py (each aggregate's version
at the end only), which spills its memos to the scratch tables: neither holds more than a page of memos.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, ClassVar, NamedTuple

from application.read_models.projections import Batch
from infrastructure.read_models import temporal_versions, tracking
from infrastructure.read_models.schema import Schema
from infrastructure.store.sql_store import SqlStore, Transaction

log = logging.getLogger("convergence.read_models")

Memo = dict[str, Any]
Hold = tuple[str, Memo | None, int, Any, Exception]  # aggregate, its last good memo, position, event, error


@dataclass(frozen=True)
class ReadModel:
    """A temporal read model's declaration. `name`: its live prefix and its tracking's projection name; `key`: the
    aggregate id column of its memo and held tables; `version_key`: the id column of its versions; `history`: a
    rebuild keeps every version (True) or writes each aggregate's version at its end (see bulk_build)."""

    name: str
    key: str
    version_key: str
    version_columns: tuple[str, ...]
    topics: tuple[str, ...]
    schema: Schema
    history: bool
    label: str  # how the log names it

    @property
    def next(self) -> str:
        return f"{self.name}_next"


class Step(NamedTuple):
    """What one event does to its aggregate: its new memo (None: unchanged), a new version of its row (a stored
    record, `valid_from` its position; None: none), and what else the model writes for it (None: nothing)."""

    memo: Memo | None = None
    version: dict[str, Any] | None = None
    extra: Any = None


@dataclass
class Projected:
    """A batch projected, to be written: each changed aggregate's memo before and after, its new versions (oldest
    first), the position at which its current version closes (those that had one), its extra, the holds."""

    before: dict[str, Memo]
    memos: dict[str, Memo] = field(default_factory=dict)
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    closing: dict[str, int] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    holds: list[Hold] = field(default_factory=list)


class TemporalView:
    """A temporal read model on a SqlStore; `prefix` names its tables and its tracking (projection name)."""

    model: ClassVar[ReadModel]

    def __init__(self, store: SqlStore, prefix: str, *, create_indexes: bool = True, search: bool = False) -> None:
        self._store = store
        self.prefix = prefix
        self._versions = f"{prefix}_versions"
        self.search = search
        self.peak_memos = 0  # the most memos this view held in memory at once (a batch's, a rebuild's cache)
        schema = self.model.schema
        drop_outdated(store, self.model, prefix)
        indexes = schema.index_ddl(prefix, store.dialect, search) if create_indexes else ()
        store.create((*tracking.DDL, *schema.table_ddl(prefix), *indexes))

    # -- what each model declares -----------------------------------------------------------------------------

    def step(self, event: Any, memo: Memo | None, position: int) -> Step:
        """What the event does to its aggregate, as a live batch shows it."""
        raise NotImplementedError

    def had_version(self, memo: Memo | None) -> bool:
        """Whether an aggregate with this memo has a current version."""
        return memo is not None

    def write_more(self, tx: Transaction, projected: Projected) -> None:
        """What the model writes besides versions and memos."""

    def held_columns(self, memo: Memo | None, event: Any) -> dict[str, Any]:
        """The columns of a held row besides the key, position, event type, error and time."""
        return {"cfa_siret": (memo or {}).get("cfa_siret")}

    # ... and, for a model without history, what its rebuild's bulk pass (bulk_build.py) needs

    def fold(self, event: Any, memo: Memo | None, position: int) -> Memo | None:
        """The memo after the event as a rebuild makes it: the work only the version shown needs left for
        settle_all; None when nothing changes."""
        raise NotImplementedError

    def settle_all(self, memos: dict[str, Memo], *, finish: bool = True) -> tuple[list[dict[str, Any]], set[str]]:
        """The version of each aggregate as stored, that work done (in place); those for which that failed (left
        out, to be projected again event by event). Without `finish`, those that need that work are left out."""
        raise NotImplementedError

    def close_bulk(self) -> None:
        """Release what settle_all kept between its calls."""

    @property
    def store(self) -> SqlStore:
        return self._store

    # -- writing ----------------------------------------------------------------------------------------------

    def apply(self, batch: Batch) -> None:
        """The whole batch and its position in one transaction; refused if the view moved since it was read."""
        with self._store.transaction(durable=False) as tx:
            tracking.advance(tx, self.prefix, batch.tracking, batch.previous)
            keys = {str(event.originator_id) for _, event in batch.events}
            memos = temporal_versions.load_memos(tx, self._store.dialect, self.prefix, self.model.key, keys)
            held = temporal_versions.held_keys(tx, self._store.dialect, self.prefix, self.model.key, keys)
            self.peak_memos = max(self.peak_memos, len(memos))
            self.write(tx, self.project(batch.events, memos, held))

    def project(self, events: Sequence[tuple[int, Any]], memos: dict[str, Memo], held: set[str]) -> Projected:
        """What the events change, computed without the store: `memos` (those of the events' aggregates, if any)
        and `held` are updated in place."""
        projected = Projected(before=dict(memos))
        for position, event in events:
            key = str(event.originator_id)
            if key in held:
                continue
            before = memos.get(key)
            try:
                step = self.step(event, before, position)
            except Exception as error:  # one aggregate's failure must not stop the read model for the others
                projected.holds.append((key, before, position, event, error))
                held.add(key)
                continue
            if step.memo is not None:
                memos[key] = projected.memos[key] = step.memo
            if step.version is not None:
                if key not in projected.versions:
                    projected.versions[key] = []
                    if self.had_version(projected.before.get(key)):
                        projected.closing[key] = step.version["valid_from"]
                projected.versions[key].append(step.version)
            if step.extra is not None:
                projected.extras[key] = step.extra
        return projected

    def write(self, tx: Transaction, projected: Projected) -> None:
        dialect, model = self._store.dialect, self.model
        for hold in projected.holds:
            self.hold(tx, *hold)
        temporal_versions.close(tx, dialect, self._versions, model.version_key, projected.closing)
        self.insert(tx, self._versions, model.version_columns, list(version_records(projected.versions)))
        self.write_more(tx, projected)
        temporal_versions.save_memos(tx, dialect, self.prefix, model.key, projected.memos)

    def insert(
        self, tx: Transaction, table: str, columns: tuple[str, ...], records: list[dict[str, Any]], suffix: str = ""
    ) -> None:
        temporal_versions.insert(
            tx, self.model.schema.json_rows(self._store.dialect, columns), table, columns, records, suffix
        )

    def bulk_insert(self, tx: Transaction, table: str, columns: tuple[str, ...], records: list[dict[str, Any]]) -> None:
        """Many new rows: COPY on PostgreSQL, else statements of BULK_ROWS rows."""
        if tx.copy_rows(table, columns, ([record[column] for column in columns] for record in records)):
            return
        for start in range(0, len(records), BULK_ROWS):
            self.insert(tx, table, columns, records[start : start + BULK_ROWS])

    def hold(self, tx: Transaction, key: str, memo: Memo | None, position: int, event: Any, error: Exception) -> None:
        """Keep the aggregate at its last good version and report it; its later events wait for a rebuild (applying
        them on top of a skipped one would show a state that never existed)."""
        kind = type(event).__name__
        log.error(
            "%s read model: %s of %s (position %s) failed: %r; held",
            self.model.label,
            kind,
            key,
            position,
            error,
            exc_info=error,
        )
        columns = {
            self.model.key: key,
            **self.held_columns(memo, event),
            "position": position,
            "event_type": kind,
            "error": repr(error)[:1000],
            "held_at": time.time(),
        }
        tx.execute(
            f"INSERT INTO {self.prefix}_held ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
            tuple(columns.values()),
        )

    def prune(self, keep_after_position: int) -> int:
        """Delete the versions a walk can no longer need (temporal_versions.prune); the number deleted."""
        return temporal_versions.prune(self._store, self.prefix, self._versions, keep_after_position)

    def position(self, application_name: str) -> int:
        return tracking.read_position(self._store, self.prefix, application_name)

    def set_horizon(self, tx: Transaction, position: int) -> None:
        tx.execute(
            f"INSERT INTO {self.prefix}_meta (name, value) VALUES ('horizon', %s)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (position,),
        )


BULK_ROWS = 5000  # rows per statement where there is no COPY


def version_records(versions: dict[str, list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    """Each aggregate's new versions, each closed by the next one (valid_to: the next one's valid_from)."""
    for records in versions.values():
        for record, following in pairwise(records):
            record["valid_to"] = following["valid_from"]
        if records:
            records[-1]["valid_to"] = None
        yield from records


def drop_outdated(store: SqlStore, model: ReadModel, prefix: str) -> None:
    """Tables made by an earlier release without a column this one stores (the list item, say) are dropped with
    their position, to be made again and refilled from the start of the log by the projection: the read model is
    derived from the log, so nothing is lost, but the lists are incomplete until it has caught up. Running
    `convergence projections rebuild` right after the upgrade refills them at a rebuild's rate."""
    present = store.columns(f"{prefix}_versions")
    if not present or present >= set(model.version_columns):
        return
    log.warning(
        "%s read model: tables %s_* lack %s; dropped, to be rebuilt from the log",
        model.label,
        prefix,
        ", ".join(sorted(set(model.version_columns) - present)),
    )
    store.create(tracking.DDL)
    with store.transaction() as tx:
        model.schema.drop_tables(tx, prefix)
        tx.execute("DELETE FROM projection_tracking WHERE projection = %s", (prefix,))
