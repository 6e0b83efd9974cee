"""`convergence backup`, `convergence backup verify` and `convergence restore` (docs/operations.md)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from infrastructure.settings import Settings
from infrastructure.store.backup.archive import DOCUMENTS, restore_backup, take_backup, unpacked
from infrastructure.store.backup.manifest import BackupError, Manifest
from infrastructure.store.layout import LayoutError
from interfaces.bootstrap import bootstrap
from interfaces.replay import Replayed, replay

backup = typer.Typer(
    help="Back up the store and its secret key into one archive (no subcommand), or verify an archive.",
    invoke_without_command=True,
)


@contextmanager
def _one_line() -> Iterator[None]:
    """What went wrong as one line on stderr, exit status 1: no traceback for the operator."""
    try:
        yield
    except (BackupError, LayoutError) as error:
        typer.echo(f"convergence: {error}", err=True)
        raise typer.Exit(1) from None


@backup.callback()
def take(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="directory to write to (default CONVERGENCE_BACKUP_DIR)")
    ] = None,
) -> None:
    """Back up the database (SQLite by its online backup API, PostgreSQL by pg_dump), the secret key and the
    documents directory into one tar.gz with a manifest; safe while the service runs."""
    if ctx.invoked_subcommand is not None:
        return
    with _one_line():
        archive, manifest = take_backup(Settings(), output)
    typer.echo(
        f"{archive}: {manifest.store} store, layout version {manifest.layout_version},"
        f" {len(manifest.parts)} parts (database, key{', documents' if _has_documents(manifest) else ''})"
    )
    typer.echo("it holds the secret key: keep it where only the operator can read it")


@backup.command("verify")
def verify(
    archive: Annotated[Path, typer.Argument(help="the backup (.tar.gz)")],
    scratch_url: Annotated[
        str | None,
        typer.Option(help="PostgreSQL backups: an empty database (…/db or …/db?schema=<the backup's>) to replay in"),
    ] = None,
) -> None:
    """Check every part against the manifest, then restore it aside (a temporary SQLite file, or --scratch-url) and
    replay it: every aggregate loads, its sealed secrets open, every read model rebuilds."""
    with _one_line():
        with unpacked(archive) as (_, manifest):
            typer.echo(f"{archive}: {len(manifest.parts)} parts match the manifest ({_described(manifest)})")
        if manifest.store == "postgresql" and scratch_url is None:
            typer.echo("not replayed: give --scratch-url postgresql://…/<an empty database> to restore it there")
            return
        with tempfile.TemporaryDirectory(prefix="convergence-verify-") as scratch:
            typer.echo(_restored_and_replayed(archive, _aside(Path(scratch), scratch_url, manifest)).summary())


def restore(
    archive: Annotated[Path, typer.Argument(help="the backup (.tar.gz)")],
    check: Annotated[bool, typer.Option("--verify/--no-verify", help="replay the restored store")] = True,
) -> None:
    """Restore a backup into the empty store of CONVERGENCE_DATABASE_URL, its key to CONVERGENCE_SECRET_KEY_FILE
    (unless the same key is configured) and its documents to CONVERGENCE_DOCUMENTS_DIR; then replay it."""
    settings = Settings()
    with _one_line():
        if not check:
            manifest = restore_backup(archive, settings)
            typer.echo(f"restored {archive} ({_described(manifest)}); not replayed")
            return
        typer.echo(_restored_and_replayed(archive, settings).summary())


def _restored_and_replayed(archive: Path, settings: Settings) -> Replayed:
    manifest = restore_backup(archive, settings)
    typer.echo(f"restored {_described(manifest)}")
    container = bootstrap(settings)  # upgrades the layout of a backup of an older release, as `serve` would
    try:
        return replay(container)
    finally:
        container.close()


def _aside(scratch: Path, scratch_url: str | None, manifest: Manifest) -> Settings:
    """The settings of a store restored aside: this host's, but for where the data, key and documents go."""
    return Settings().model_copy(
        update={
            "database_url": scratch_url or f"sqlite:///{scratch / 'convergence.db'}",
            "secret_key": None,
            "secret_key_file": scratch / "secret.key",
            "data_keys": None,
            "data_keys_file": scratch / "data.keys",
            "documents_dir": scratch / DOCUMENTS if _has_documents(manifest) else None,
            "worker_in_serve": False,
            "sandbox": "off",
            "sandbox_url": None,
            "opco_lookup_enabled": False,
        }
    )


def _has_documents(manifest: Manifest) -> bool:
    return any(name.startswith(f"{DOCUMENTS}/") for name in manifest.parts)


def _described(manifest: Manifest) -> str:
    schema = f", schema {manifest.schema}" if manifest.schema else ""
    return (
        f"{manifest.store}{schema}, layout version {manifest.layout_version}, taken {manifest.created_at}"
        f" by Convergence {manifest.service_version}"
    )
