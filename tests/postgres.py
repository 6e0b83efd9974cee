"""A throw-away PostgreSQL database for a test run: created at the start, dropped at the end.

CI=true makes an unreachable server a failure; elsewhere the tests that need it are skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

ADMIN_URL = os.environ.get("CONVERGENCE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(url, autocommit=True, connect_timeout=3)


def _with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", "", ""))


def unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"PostgreSQL is required when CI=true: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not reachable ({reason}); set CONVERGENCE_TEST_POSTGRES_URL to run these tests")


@contextmanager
def temporary_database() -> Iterator[str]:
    try:
        admin = _connect(ADMIN_URL)
    except psycopg.OperationalError as error:
        unavailable(f"{ADMIN_URL}: {str(error).strip().splitlines()[0]}")
    name = f"convergence_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield _with_database(ADMIN_URL, name)
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def temporary_schema(database_url: str) -> Iterator[str]:
    """A fresh schema in the run's database: each test gets empty tables without a new database."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with _connect(database_url) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            yield f"{database_url}?schema={schema}"
        finally:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
