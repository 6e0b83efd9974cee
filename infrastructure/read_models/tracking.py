"""Projection positions, written in the same transaction as the projection's own rows."""

from __future__ import annotations

from eventsourcing.persistence import IntegrityError, Tracking

from infrastructure.store.sql_store import SqlStore, Transaction

DDL = (
    "CREATE TABLE IF NOT EXISTS projection_tracking ("
    " projection TEXT NOT NULL, application_name TEXT NOT NULL, position BIGINT NOT NULL,"
    " PRIMARY KEY (projection, application_name))",
)


def advance(tx: Transaction, projection: str, tracking: Tracking, previous: int | None = None) -> None:
    """Move the position forward; a position already reached means the event was processed: refuse it. With
    `previous`, refuse also unless the position is still `previous` (the batch was read from there)."""
    if previous is not None and position(tx, projection, tracking.application_name) != previous:
        raise IntegrityError(f"{projection} moved on since position {previous}: read the log again")
    moved = tx.execute(
        "UPDATE projection_tracking SET position = %s WHERE projection = %s AND application_name = %s"
        " AND position < %s",
        (tracking.notification_id, projection, tracking.application_name, tracking.notification_id),
    )
    if moved:
        return
    if position(tx, projection, tracking.application_name):
        raise IntegrityError(f"{projection} already processed position {tracking.notification_id}")
    tx.execute(
        "INSERT INTO projection_tracking (projection, application_name, position) VALUES (%s, %s, %s)",
        (projection, tracking.application_name, tracking.notification_id),
    )


def position(tx: Transaction, projection: str, application_name: str) -> int:
    rows = tx.query(
        "SELECT position FROM projection_tracking WHERE projection = %s AND application_name = %s",
        (projection, application_name),
    )
    return int(rows[0][0]) if rows else 0


def read_position(store: SqlStore, projection: str, application_name: str) -> int:
    with store.reading() as tx:
        return position(tx, projection, application_name)
