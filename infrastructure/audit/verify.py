"""`convergence audit verify` without its command line: the whole store checked at a fixed log position, while the
service runs (each page read in its own short transaction; the writers go on)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.application import Application

from application.audit.chain import GENESIS, Checkpoint, checkpoint_digest, merkle_root
from application.audit.history_check import Discrepancy, HistoryCheck
from infrastructure.audit.chain_store import (
    PAGE,
    ChainBroken,
    LogTables,
    checkpoints_after,
    head_position,
    latest_checkpoint,
    lock_log,
    log_tables,
    orphan_digests,
    range_digests,
    stored_pages,
    take_checkpoints,
)
from infrastructure.read_models.status_view import _fast_mapper
from infrastructure.store.sql_store import SqlStore

Progress = Callable[[int], None]  # events checked so far


@dataclass
class Verified:
    position: int  # the log position the store was read at
    events: int = 0
    aggregates: dict[str, int] = field(default_factory=dict)
    checkpoints: int = 0
    latest: Checkpoint | None = None
    read_models: list[str] = field(default_factory=list)
    discrepancies: list[Discrepancy] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self.aggregates.items())) or "no aggregate"
        latest = f"latest #{self.latest.seq} {self.latest.digest.hex()}" if self.latest else "none yet"
        compared = ", ".join(self.read_models) or "none"
        verdict = f"{len(self.discrepancies)} discrepancies" if self.discrepancies else "no discrepancy"
        return (
            f"checked {self.events} events at log position {self.position} ({kinds}) in {self.seconds:.1f} s;"
            f" {self.checkpoints} checkpoints ({latest}); read models compared: {compared}; {verdict}"
        )


def tables_of(store: SqlStore, app: Application[UUID]) -> LogTables:
    return log_tables(store.dialect, app.name)


def verify_history(
    store: SqlStore,
    app: Application[UUID],
    progress: Progress = lambda _: None,
    *,
    replay: bool = True,
    page: int = PAGE,
) -> Verified:
    """Every event up to the head as it is now: its digest, its aggregate's replay and invariants; the digests
    without an event; every checkpoint, against the digests of its range."""
    started = time.perf_counter()
    tables = tables_of(store, app)
    with store.reading() as tx:
        head = head_position(tx, tables)
    done = Verified(head)
    check = HistoryCheck(_fast_mapper(app.mapper), replay=replay)  # JSON read by orjson, as a rebuild reads it
    for rows in stored_pages(store.reading, tables, head, page):
        check.feed(rows)
        progress(check.events)
    done.discrepancies.extend(check.finish())
    done.events, done.aggregates = check.events, dict(check.aggregates)
    with store.reading() as tx:
        done.discrepancies.extend(
            Discrepancy("orphan-digest", f"{originator} v{version}", "a digest whose event is gone (deleted?)")
            for originator, version in orphan_digests(tx, tables)
        )
    done.discrepancies.extend(verify_checkpoints(store, tables, done))
    done.seconds = time.perf_counter() - started
    return done


def verify_checkpoints(store: SqlStore, tables: LogTables, done: Verified) -> list[Discrepancy]:
    """Each checkpoint chained to the one before, its range following it, and its root and count those of the
    digests now in its range: an event deleted, inserted or altered there, or a whole aggregate gone, shows."""
    found: list[Discrepancy] = []
    with store.reading() as tx:
        last = latest_checkpoint(tx, tables)
    done.latest = last
    previous, seq = None, 0
    while last is not None and seq < last.seq:
        with store.reading() as tx:
            page = checkpoints_after(tx, tables, seq)
        if not page:
            break
        for checkpoint in page:
            found.extend(_check_one(store, tables, checkpoint, previous))
            previous, seq = checkpoint, checkpoint.seq
            done.checkpoints += 1
    return found


def _check_one(
    store: SqlStore, tables: LogTables, checkpoint: Checkpoint, previous: Checkpoint | None
) -> list[Discrepancy]:
    subject = f"checkpoint #{checkpoint.seq} (positions {checkpoint.first + 1}–{checkpoint.last})"
    found = []
    if checkpoint.seq != (previous.seq if previous else 0) + 1 or checkpoint.first != (
        previous.last if previous else 0
    ):
        found.append(Discrepancy("checkpoint", subject, "does not follow the checkpoint before it (one removed?)"))
    if checkpoint.previous != (previous.digest if previous else GENESIS):
        found.append(Discrepancy("checkpoint", subject, "is not chained to the checkpoint before it"))
    with store.reading() as tx:
        try:
            digests = [d for *_, d in range_digests(tx, tables, checkpoint.first, checkpoint.last)]
        except ChainBroken as broken:
            return [*found, Discrepancy("checkpoint", subject, str(broken))]
    root = merkle_root(digests)
    if len(digests) != checkpoint.count or root != checkpoint.root:
        found.append(
            Discrepancy(
                "checkpoint",
                subject,
                f"its range now holds {len(digests)} events (it recorded {checkpoint.count}) whose root differs:"
                " an event of the range was removed, inserted or altered",
            )
        )
    expected = checkpoint_digest(
        checkpoint.previous, checkpoint.first, checkpoint.last, checkpoint.count, checkpoint.root
    )
    if expected != checkpoint.digest:
        found.append(Discrepancy("checkpoint", subject, "its digest is not the hash of what it records"))
    return found


def check_anchor(store: SqlStore, tables: LogTables, seq: int, digest: str) -> list[Discrepancy]:
    """A checkpoint's digest kept elsewhere (sent to the CFA, timestamped, in a WORM bucket) against the store's."""
    with store.reading() as tx:
        found = checkpoints_after(tx, tables, seq - 1, 1)
    if not found or found[0].seq != seq:
        return [Discrepancy("checkpoint", f"anchored checkpoint #{seq}", "is no longer in the store")]
    if found[0].digest.hex() != digest.lower():
        return [Discrepancy("checkpoint", f"anchored checkpoint #{seq}", "differs from the digest anchored elsewhere")]
    return []


def checkpoint_now(store: SqlStore, app: Application[UUID]) -> Checkpoint | None:
    """The checkpoints up to the head, taken now (the writers held off meanwhile); the latest."""
    tables = tables_of(store, app)
    with store.transaction() as tx:
        lock_log(tx, tables)
        take_checkpoints(tx, tables)
        return latest_checkpoint(tx, tables)
