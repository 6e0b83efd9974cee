"""The SQLite store copied with SQLite's online backup API, in one step: one read snapshot, consistent, and in WAL mode
(the service's) the service's writers carry on meanwhile."""

from __future__ import annotations

import sqlite3
from contextlib import closing as _closing
from pathlib import Path

from infrastructure.store.backup.manifest import BackupError

PART = "database.sqlite"


def dump(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}: check CONVERGENCE_DATABASE_URL")
    _copy(source, target)


def restore(part: Path, target: Path) -> None:
    if target.exists() and has_tables(target):
        raise BackupError(f"the database {target} is not empty: restore into a new file (or move this one away)")
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(part, target)
    with _closing(sqlite3.connect(target)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")  # as the service opens it
    target.chmod(0o600)


def has_tables(path: Path) -> bool:
    with _closing(sqlite3.connect(path)) as conn:
        return bool(conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchall())


def _copy(source: Path, target: Path) -> None:
    with _closing(sqlite3.connect(source, timeout=30)) as reading, _closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)  # in steps, a write between two of them would start the copy over
