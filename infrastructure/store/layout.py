"""The version of the database layout, and the steps that bring an older store up to it when a service starts.

Each component creates its own tables (CREATE TABLE IF NOT EXISTS) when it is built; this module only records which
layout a store has, in `convergence_schema` (one row per step applied), and runs the steps a store still lacks. The
steps run before any component touches the store, in one transaction (SQLite and PostgreSQL both roll DDL back), on
PostgreSQL under an advisory lock, so that of several processes starting together one migrates and the others then
find the store up to date. A step must be idempotent and must tolerate the tables it changes being absent: a fresh
store runs every step on nothing, and its components then create the current tables.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from infrastructure.audit.chain_upgrade import chain_existing
from infrastructure.store.sql_store import SqlStore, Transaction

log = logging.getLogger("convergence.layout")

TABLE = "convergence_schema"
DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL, service_version TEXT)",
)
LOCK = "convergence layout"  # hashed into the advisory lock's key, with the schema: one migration per schema


class LayoutError(Exception):
    """The store cannot be used by this service: newer than it knows, or too old to be upgraded by it."""


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Transaction, str], None]  # the transaction, the store's dialect


def _baseline(tx: Transaction, dialect: str) -> None:
    """The layout every release before the version was recorded made: nothing to change, only to record."""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "the layout of release 0.1, from which the layout version is recorded", _baseline),
    Migration(2, "the integrity chain of the events and its checkpoints (docs/audit.md)", chain_existing),
)
LAYOUT_VERSION = MIGRATIONS[-1].version


def stored_version(tx: Transaction, dialect: str) -> int:
    """The store's layout version: 0 without the table (a store of a release before the version was recorded)."""
    if not _table_exists(tx, dialect):
        return 0
    found = tx.query(f"SELECT MAX(version) FROM {TABLE}")
    return int(found[0][0] or 0)


def layout_version(store: SqlStore) -> int:
    with store.reading() as tx:
        return stored_version(tx, store.dialect)


def upgrade_layout(
    store: SqlStore, service_version: str = "", migrations: Sequence[Migration] = MIGRATIONS
) -> list[Migration]:
    """Bring the store to the last of `migrations`; the steps applied (none if it was up to date). Refuses a store
    newer than the service, or older than it can upgrade, with a LayoutError that says what to do."""
    target = migrations[-1].version if migrations else 0
    with store.transaction() as tx:
        if store.dialect == "postgresql":  # held to the commit: a second process waits, then finds nothing to do
            tx.query("SELECT pg_advisory_xact_lock(hashtext(%s || current_schema()))", (LOCK,))
        current = stored_version(tx, store.dialect)
        _check(current, target, migrations)
        pending = [step for step in migrations if step.version > current]
        if not pending:
            return []
        for statement in DDL:
            tx.execute(statement)
        for step in pending:
            step.apply(tx, store.dialect)
            tx.execute(
                f"INSERT INTO {TABLE} (version, description, applied_at, service_version) VALUES (%s, %s, %s, %s)",
                (step.version, step.description, datetime.now(UTC).isoformat(), service_version or None),
            )
    log.info("database layout upgraded from version %s to %s", current, target)
    return pending


def _check(current: int, target: int, migrations: Sequence[Migration]) -> None:
    if current > target:
        raise LayoutError(
            f"the database has layout version {current}, newer than this service knows ({target}): a newer release"
            " of Convergence wrote it; run that release (or restore a backup taken before the upgrade)"
        )
    oldest = min((step.version for step in migrations), default=target + 1) - 1
    if current < oldest:  # the steps from it were dropped from this release
        raise LayoutError(
            f"the database has layout version {current}, older than this service can upgrade (from {oldest}):"
            " upgrade it first with an intermediate release of Convergence"
        )


def _table_exists(tx: Transaction, dialect: str) -> bool:
    if dialect == "postgresql":
        found = tx.query("SELECT to_regclass(%s) IS NOT NULL", (TABLE,))
        return bool(found[0][0])
    return bool(tx.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", (TABLE,)))
