"""The audit file of one aggregate, read from the store: its events and digests, a checkpoint taken first where
its last events have none yet, and the Merkle path of each event to the checkpoint covering it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from application.audit.audit_file import Inclusion, StoredStep, build_audit_file
from application.audit.chain import Checkpoint, merkle_proof
from infrastructure.audit.chain_store import (
    LogTables,
    checkpoint_covering,
    checkpoints_after,
    latest_checkpoint,
    range_digests,
)
from infrastructure.audit.verify import checkpoint_now, tables_of
from infrastructure.store.sql_store import SqlStore


def audit_file(store: SqlStore, app: Application[UUID], ident: UUID) -> dict[str, Any]:
    tables = tables_of(store, app)
    steps = stored_steps(store, tables, ident)
    with store.reading() as tx:
        latest = latest_checkpoint(tx, tables)
    if steps and (latest is None or latest.last < steps[-1].position):
        checkpoint_now(store, app)  # so that every event of the file leads to a checkpoint
    inclusions, checkpoints = _inclusions(store, tables, ident, steps)
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    return build_audit_file(ident, steps, app.mapper, inclusions, checkpoints, generated)


def stored_steps(store: SqlStore, tables: LogTables, ident: UUID) -> list[StoredStep]:
    with store.reading() as tx:
        found = tx.query(
            f"SELECT e.originator_version, e.topic, e.state, e.{tables.position}, c.digest FROM {tables.events} e"
            f" LEFT JOIN {tables.chain} c ON c.originator_id = e.originator_id"
            " AND c.originator_version = e.originator_version"
            " WHERE e.originator_id = %s ORDER BY e.originator_version",
            (tables.db_id(ident),),
        )
    return [StoredStep(int(v), str(t), bytes(s), int(p), None if d is None else bytes(d)) for v, t, s, p, d in found]


def _inclusions(
    store: SqlStore, tables: LogTables, ident: UUID, steps: list[StoredStep]
) -> tuple[dict[int, Inclusion], list[Checkpoint]]:
    inclusions: dict[int, Inclusion] = {}
    ranges: dict[int, tuple[Checkpoint, list[tuple[int, UUID, int, bytes]]]] = {}
    with store.reading() as tx:
        for step in steps:
            covering = checkpoint_covering(tx, tables, step.position)
            if covering is None:
                continue
            if covering.seq not in ranges:
                ranges[covering.seq] = (covering, range_digests(tx, tables, covering.first, covering.last))
            checkpoint, rows = ranges[covering.seq]
            index = next(i for i, row in enumerate(rows) if row[1] == ident and row[2] == step.version)
            digests = [row[3] for row in rows]
            inclusions[step.version] = Inclusion(checkpoint.seq, index, len(digests), merkle_proof(digests, index))
        checkpoints = _from(tx, tables, min(ranges, default=None))
    return inclusions, checkpoints


def _from(tx: Any, tables: LogTables, seq: int | None) -> list[Checkpoint]:
    """The checkpoints from #seq to the latest (each chained to the one before)."""
    if seq is None:
        return []
    found: list[Checkpoint] = []
    while page := checkpoints_after(tx, tables, (found[-1].seq if found else seq - 1), 500):
        found.extend(page)
    return found
