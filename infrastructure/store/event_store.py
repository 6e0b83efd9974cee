"""Turns the database URL of the settings into the eventsourcing library's environment."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from infrastructure.privacy.event_cipher import KEYRING, TOPIC
from infrastructure.privacy.keys import master_keyring
from infrastructure.settings import Settings


def eventsourcing_env(settings: Settings) -> dict[str, str]:
    url = settings.database_url
    # every event's and snapshot's state is encrypted under the master keyring (docs/privacy.md)
    env = {"ORIGINATOR_ID_TYPE": "uuid", "CIPHER_TOPIC": TOPIC, KEYRING: master_keyring(settings).serialise()}
    if settings.aggregate_cache_size:
        env["AGGREGATE_CACHE_MAXSIZE"] = str(settings.aggregate_cache_size)
        env["AGGREGATE_CACHE_FASTFORWARD"] = "y"  # other processes may have written newer events
    if url.startswith("memory://"):
        return {**env, "PERSISTENCE_MODULE": "eventsourcing.popo"}
    if url.startswith("sqlite://"):
        return {**env, **_sqlite_env(url), "APPLICATION_RECORDER_TOPIC": _CHAINED + "ChainedSQLiteRecorder"}
    return {
        **env,
        **postgres_env(url),
        **_pool_env(settings),
        "APPLICATION_RECORDER_TOPIC": _CHAINED + "ChainedPostgresRecorder",
    }


_CHAINED = "infrastructure.audit.chained_recorders:"  # recorders that chain each event's digest (docs/audit.md)


def sqlite_path(url: str) -> str:
    path = url.removeprefix("sqlite://").removeprefix("/")
    return path or ":memory:"


def _sqlite_env(url: str) -> dict[str, str]:
    path = sqlite_path(url)
    if path != ":memory:":
        private_database(Path(path))
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path, "SQLITE_LOCK_TIMEOUT": "10"}


def private_database(path: Path) -> None:
    """The database file and SQLite's -wal and -shm beside it are readable by the service's user only (SQLite gives
    the -wal and -shm the mode of the database file); a directory made here is 0700."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for existing in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if existing.exists():
            existing.chmod(0o600)


def postgres_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    if not parts.path.strip("/"):
        raise ValueError("a PostgreSQL database URL must name the database: postgresql://user@host:port/dbname")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
        "POSTGRES_HOST": parts.hostname or "localhost",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
    }
    schema = parse_qs(parts.query).get("schema")
    if schema:
        env["POSTGRES_SCHEMA"] = schema[0]
    return env


def _pool_env(settings: Settings) -> dict[str, str]:
    return {
        "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
        "POSTGRES_MAX_OVERFLOW": str(settings.postgres_max_overflow),
        "POSTGRES_CONNECT_TIMEOUT": str(settings.postgres_connect_timeout),
    }
