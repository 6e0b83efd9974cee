"""The integrity chain's tables beside the event store's, and what reads and writes them on either store.

`event_chain` holds each event's digest (application/audit/chain.py), written in the same transaction as the event
by the recorders of chained_recorders.py; `audit_checkpoints` holds the store-wide checkpoints. The functions take
anything with `query`/`execute` on %s placeholders: a SqlStore transaction, or a recorder's cursor (adapted).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from application.audit.chain import GENESIS, Checkpoint, checkpoint_digest, event_digest, merkle_root

log = logging.getLogger("convergence.audit")

CHAIN = "event_chain"
CHECKPOINTS = "audit_checkpoints"
CHECKPOINT_EVERY = 1000  # log positions between the checkpoints the writers take by themselves
PAGE = 5000


class Sql(Protocol):
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...


class ChainBroken(Exception):
    """An event's predecessor has no digest: the chain cannot be extended (run `convergence audit verify`)."""


def chain_ddl(dialect: str, schema: str | None = None) -> tuple[str, ...]:
    prefix = f'"{schema}".' if schema else ""
    if dialect == "sqlite":
        chain = (
            f"CREATE TABLE IF NOT EXISTS {CHAIN} (originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL,"
            " digest BLOB NOT NULL, PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID"
        )
    else:
        chain = (
            f"CREATE TABLE IF NOT EXISTS {prefix}{CHAIN} (originator_id uuid NOT NULL,"
            " originator_version bigint NOT NULL, digest bytea NOT NULL,"
            " PRIMARY KEY (originator_id, originator_version))"
        )
    checkpoints = (
        f"CREATE TABLE IF NOT EXISTS {prefix}{CHECKPOINTS} (seq BIGINT PRIMARY KEY, first_position BIGINT NOT NULL,"
        " last_position BIGINT NOT NULL, event_count BIGINT NOT NULL, root TEXT NOT NULL, previous TEXT NOT NULL,"
        " digest TEXT NOT NULL, created_at TEXT NOT NULL)"
    )
    return chain, checkpoints


@dataclass(frozen=True)
class LogTables:
    """Where one store keeps the events and the chain: names qualified as its connection needs them."""

    dialect: str
    events: str
    chain: str = CHAIN
    checkpoints: str = CHECKPOINTS

    @property
    def position(self) -> str:
        return "rowid" if self.dialect == "sqlite" else "notification_id"

    def db_id(self, ident: UUID | str) -> Any:
        ident = UUID(str(ident))
        return ident.hex if self.dialect == "sqlite" else ident


def log_tables(dialect: str, application_name: str = "Dossiers", schema: str | None = None) -> LogTables:
    """The eventsourcing library names the table `stored_events` on SQLite and `<application>_events` on PostgreSQL."""
    if dialect == "sqlite":
        return LogTables(dialect, "stored_events")
    prefix = f'"{schema}".' if schema else ""
    return LogTables(
        dialect, f'{prefix}"{application_name.lower()}_events"', f"{prefix}{CHAIN}", f"{prefix}{CHECKPOINTS}"
    )


# -- writing ----------------------------------------------------------------------------------------------------


def write_digests(tx: Sql, tables: LogTables, events: Sequence[Any]) -> None:
    """The digest of each of `events` (StoredEvents, in version order per aggregate), in the transaction that
    inserts them."""
    insert_digests(tx, tables, chain_digests(tables, events, previous_digests(tx, tables, events)))


def previous_digests(tx: Sql, tables: LogTables, events: Sequence[Any]) -> dict[str, bytes]:
    """The digest each aggregate's first event among `events` follows, in one query: committed before the events
    were made from them, so it may be read before the writer takes the log's lock."""
    firsts: dict[str, int] = {}
    for event in events:
        firsts.setdefault(str(event.originator_id), event.originator_version)
    wanted = [(key, version - 1) for key, version in firsts.items() if version > 1]
    found: dict[str, bytes] = {key: GENESIS for key, version in firsts.items() if version <= 1}
    if wanted:
        pairs = ", ".join(["(%s, %s)"] * len(wanted))
        params = [value for key, version in wanted for value in (tables.db_id(key), version)]
        rows = tx.query(
            f"SELECT originator_id, digest FROM {tables.chain} WHERE (originator_id, originator_version) IN ({pairs})",
            params,
        )
        found.update((str(UUID(str(ident))), bytes(digest)) for ident, digest in rows)
    for key, version in wanted:
        if key not in found:
            raise ChainBroken(f"event {version} of {key} has no digest: the integrity chain is broken")
    return found


def chain_digests(tables: LogTables, events: Sequence[Any], previous: dict[str, bytes]) -> list[tuple[Any, int, bytes]]:
    """(originator, version, digest) of each of `events`, each chained to the one before it."""
    previous, rows = dict(previous), []
    for event in events:
        key = str(event.originator_id)
        digest = event_digest(previous[key], event.originator_id, event.originator_version, event.topic, event.state)
        previous[key] = digest
        rows.append((tables.db_id(event.originator_id), event.originator_version, digest))
    return rows


def insert_digests(tx: Sql, tables: LogTables, rows: Sequence[tuple[Any, int, bytes]]) -> None:
    for row in rows:
        tx.execute(f"INSERT INTO {tables.chain} (originator_id, originator_version, digest) VALUES (%s, %s, %s)", row)


def checkpoint_if_due(tx: Sql, tables: LogTables, every: int | None = None, head: int | None = None) -> int:
    """In a writer's transaction, under its lock: the checkpoints due since the last one, if `every` positions
    have passed (up to `head`, read if not given). Gives the position the last committed checkpoint ends at, as
    read before."""
    every = every or CHECKPOINT_EVERY
    head = head_position(tx, tables) if head is None else head
    last = latest_checkpoint(tx, tables)
    checkpointed = last.last if last else 0
    if head - checkpointed < every:
        return checkpointed
    try:
        take_checkpoints(tx, tables, head, every)
    except ChainBroken as broken:  # never block the writers: verify reports it
        log.error("no checkpoint taken: %s", broken)
    return checkpointed


def head_position(tx: Sql, tables: LogTables) -> int:
    return int(tx.query(f"SELECT MAX({tables.position}) FROM {tables.events}")[0][0] or 0)


def take_checkpoints(
    tx: Sql, tables: LogTables, upto: int | None = None, every: int = CHECKPOINT_EVERY
) -> list[Checkpoint]:
    """Checkpoints from the last one up to `upto` (the head by default), one per `every` positions at most; the
    caller holds the store's write lock (a writer's transaction, or lock_log)."""
    head = head_position(tx, tables) if upto is None else upto
    last = latest_checkpoint(tx, tables)
    taken = []
    while (start := last.last if last else 0) < head:
        end = min(head, start + every) if every else head
        digests = [digest for *_, digest in range_digests(tx, tables, start, end)]
        last = _record(tx, tables, last, start, end, digests)
        taken.append(last)
    return taken


def _record(
    tx: Sql, tables: LogTables, last: Checkpoint | None, start: int, end: int, digests: list[bytes]
) -> Checkpoint:
    previous = last.digest if last else GENESIS
    root = merkle_root(digests)
    made = Checkpoint(
        seq=(last.seq if last else 0) + 1,
        first=start,
        last=end,
        count=len(digests),
        root=root,
        previous=previous,
        digest=checkpoint_digest(previous, start, end, len(digests), root),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    tx.execute(
        f"INSERT INTO {tables.checkpoints} (seq, first_position, last_position, event_count, root, previous, digest,"
        " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (made.seq, start, end, made.count, root.hex(), previous.hex(), made.digest.hex(), made.created_at),
    )
    return made


def lock_log(tx: Sql, tables: LogTables) -> None:
    """Hold off the writers of events until the transaction ends (SQLite: the transaction's BEGIN IMMEDIATE)."""
    if tables.dialect == "postgresql":
        tx.execute(f"LOCK TABLE {tables.events} IN EXCLUSIVE MODE")


# -- reading ----------------------------------------------------------------------------------------------------


def range_digests(tx: Sql, tables: LogTables, start: int, end: int) -> list[tuple[int, UUID, int, bytes]]:
    """(position, originator, version, digest) of the events in (start, end], in log order; ChainBroken if one
    has no digest."""
    found = tx.query(
        f"SELECT e.{tables.position}, e.originator_id, e.originator_version, c.digest FROM {tables.events} e"
        f" LEFT JOIN {tables.chain} c ON c.originator_id = e.originator_id"
        f" AND c.originator_version = e.originator_version"
        f" WHERE e.{tables.position} > %s AND e.{tables.position} <= %s ORDER BY e.{tables.position}",
        (start, end),
    )
    rows = []
    for position, originator, version, digest in found:
        if digest is None:
            raise ChainBroken(f"event {version} of {UUID(str(originator))} (position {position}) has no digest")
        rows.append((int(position), UUID(str(originator)), int(version), bytes(digest)))
    return rows


def _checkpoint(row: Sequence[Any]) -> Checkpoint:
    seq, first, last, count, root, previous, digest, created_at = row
    return Checkpoint(
        int(seq), int(first), int(last), int(count), bytes.fromhex(root), bytes.fromhex(previous),
        bytes.fromhex(digest), str(created_at),
    )  # fmt: skip


_CHECKPOINT_COLUMNS = "seq, first_position, last_position, event_count, root, previous, digest, created_at"


def latest_checkpoint(tx: Sql, tables: LogTables) -> Checkpoint | None:
    found = tx.query(f"SELECT {_CHECKPOINT_COLUMNS} FROM {tables.checkpoints} ORDER BY seq DESC LIMIT 1")
    return _checkpoint(found[0]) if found else None


def checkpoint_covering(tx: Sql, tables: LogTables, position: int) -> Checkpoint | None:
    found = tx.query(
        f"SELECT {_CHECKPOINT_COLUMNS} FROM {tables.checkpoints}"
        " WHERE first_position < %s AND last_position >= %s ORDER BY seq LIMIT 1",
        (position, position),
    )
    return _checkpoint(found[0]) if found else None


def checkpoints_after(tx: Sql, tables: LogTables, seq: int, limit: int = 100) -> list[Checkpoint]:
    found = tx.query(
        f"SELECT {_CHECKPOINT_COLUMNS} FROM {tables.checkpoints} WHERE seq > %s ORDER BY seq LIMIT %s", (seq, limit)
    )
    return [_checkpoint(row) for row in found]


def stored_pages(
    tx_factory: Any, tables: LogTables, upto: int, page: int = PAGE
) -> Iterator[list[tuple[UUID, int, str, bytes, int, bytes | None]]]:
    """Every event at or before log position `upto`, in (originator, version) order, a page at a time, each page
    read in its own short transaction (`tx_factory()` gives one): (originator, version, topic, state, position,
    digest or None)."""
    after: tuple[Any, int] | None = None
    while True:
        where, params = ("", ()) if after is None else (
            "AND (e.originator_id, e.originator_version) > (%s, %s)", (tables.db_id(after[0]), after[1])
        )  # fmt: skip
        with tx_factory() as tx:
            found = tx.query(
                f"SELECT e.originator_id, e.originator_version, e.topic, e.state, e.{tables.position}, c.digest"
                f" FROM {tables.events} e LEFT JOIN {tables.chain} c ON c.originator_id = e.originator_id"
                " AND c.originator_version = e.originator_version"
                f" WHERE e.{tables.position} <= %s {where} ORDER BY e.originator_id, e.originator_version LIMIT %s",
                (upto, *params, page),
            )
        if not found:
            return
        rows = [(_uuid(o), v, t, bytes(s), p, None if d is None else bytes(d)) for o, v, t, s, p, d in found]
        yield rows
        after = (rows[-1][0], rows[-1][1])
        if len(found) < page:
            return


_last_ids: dict[Any, UUID] = {}


def _uuid(stored: Any) -> UUID:
    """The originator as a UUID (SQLite keeps its hex): consecutive rows share it, so the last few are kept."""
    if isinstance(stored, UUID):
        return stored
    found = _last_ids.get(stored)
    if found is None:
        if len(_last_ids) > 64:
            _last_ids.clear()
        found = _last_ids[stored] = UUID(stored)
    return found


def orphan_digests(tx: Sql, tables: LogTables, limit: int = 100) -> list[tuple[UUID, int]]:
    """Digests whose event is gone (an event deleted and its digest left)."""
    found = tx.query(
        f"SELECT c.originator_id, c.originator_version FROM {tables.chain} c LEFT JOIN {tables.events} e"
        " ON e.originator_id = c.originator_id AND e.originator_version = c.originator_version"
        " WHERE e.originator_id IS NULL ORDER BY c.originator_id, c.originator_version LIMIT %s",
        (limit,),
    )
    return [(UUID(str(o)), int(v)) for o, v in found]
