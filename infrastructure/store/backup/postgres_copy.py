"""The PostgreSQL store copied with PostgreSQL's own tools: pg_dump in its custom format (a consistent snapshot
while the service writes), pg_restore into an empty database or schema of the same name."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from infrastructure.store.backup.manifest import BackupError
from infrastructure.store.event_store import postgres_env

PART = "database.pgdump"
EXTENSIONS = (
    "pg_trgm",
    "btree_gin",
)  # the name search's index needs them (infrastructure/read_models/status_schema.py)


def tool(name: str, bin_dir: Path | None) -> str:
    """pg_dump or pg_restore: in CONVERGENCE_POSTGRES_BIN_DIR when set, else on PATH."""
    found = shutil.which(name, path=str(bin_dir) if bin_dir else None)
    if found is None:
        where = f"in {bin_dir}" if bin_dir else "on PATH"
        raise BackupError(
            f"{name} not found {where}: install the PostgreSQL client tools of the server's major version"
            " (e.g. apt install postgresql-client) or set CONVERGENCE_POSTGRES_BIN_DIR"
        )
    return found


def dump(database_url: str, target: Path, bin_dir: Path | None) -> str | None:
    """The dump of the URL's schema (with the extensions its indexes use), or of the whole database without one;
    the schema dumped."""
    env = postgres_env(database_url)
    schema = env.get("POSTGRES_SCHEMA")
    extensions = _present(database_url) if schema else []
    selection = ["--schema", schema, *(arg for ext in extensions for arg in ("--extension", ext))] if schema else []
    _run([tool("pg_dump", bin_dir), "--format=custom", "--file", str(target), *selection, env["POSTGRES_DBNAME"]], env)
    return schema


def restore(part: Path, database_url: str, schema: str | None, bin_dir: Path | None) -> None:
    """Into the URL's database, which must hold nothing in the backup's schema (created if absent)."""
    env = postgres_env(database_url)
    if env.get("POSTGRES_SCHEMA") != schema:
        wanted = f"?schema={schema}" if schema else "no ?schema= (the backup holds the whole database)"
        raise BackupError(f"the backup holds schema {schema or 'public'}: restore into a database URL with {wanted}")
    restoring = tool("pg_restore", bin_dir)
    _prepare(database_url, schema or "public")
    listing = part.with_name("restore.list")
    listing.write_text(_entries(_run([restoring, "--list", str(part)], env), schema))
    try:
        _run(
            [restoring, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
             "--use-list", str(listing), "--dbname", env["POSTGRES_DBNAME"], str(part)],
            env,
        )  # fmt: skip
    finally:
        listing.unlink()


def _present(database_url: str) -> list[str]:
    """Those of EXTENSIONS the database has (pg_dump refuses to select one it has not: the service runs without
    them where it may not create them)."""
    with psycopg.connect(_admin_conninfo(database_url), autocommit=True) as conn:
        found = conn.execute("SELECT extname FROM pg_extension WHERE extname = ANY(%s)", (list(EXTENSIONS),))
        return sorted(str(name) for (name,) in found.fetchall())


def _prepare(database_url: str, schema: str) -> None:
    with psycopg.connect(_admin_conninfo(database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        found = conn.execute(
            "SELECT COUNT(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'S', 'v', 'm')",
            (schema,),
        ).fetchone()
    if found and found[0]:
        raise BackupError(
            f"schema {schema} of the target database is not empty: restore into an empty database or schema"
        )


def _entries(toc: str, schema: str | None) -> str:
    """The dump's table of contents less what the target already has or may refuse to a non-owner: the schema
    (created above) and the comments on extensions."""
    skipped = [" COMMENT - EXTENSION ", *([f" SCHEMA - {schema} "] if schema else [])]
    return "".join(line for line in toc.splitlines(keepends=True) if not any(s in f"{line} " for s in skipped))


def _admin_conninfo(database_url: str) -> str:
    env = postgres_env(database_url)
    return psycopg.conninfo.make_conninfo(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None,
        connect_timeout="10",
    )


def _run(command: list[str], env: dict[str, str]) -> str:
    """The tool's output; its error, one line, when it fails. The password goes by the environment, never the
    command line (which `ps` shows)."""
    variables = {
        **os.environ,
        "PGHOST": env["POSTGRES_HOST"],
        "PGPORT": env["POSTGRES_PORT"],
        "PGUSER": env["POSTGRES_USER"],
        **({"PGPASSWORD": env["POSTGRES_PASSWORD"]} if env["POSTGRES_PASSWORD"] else {}),
    }
    done = subprocess.run(command, env=variables, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = " ".join(done.stderr.split()) or f"exit status {done.returncode}"
        raise BackupError(f"{Path(command[0]).name} failed: {reason}")
    return done.stdout
