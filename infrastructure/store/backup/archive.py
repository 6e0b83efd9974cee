"""A backup: the database, the secret key that opens what the database keeps sealed, the keyring that decrypts what
it stores (infrastructure/privacy/keyring.py), and the documents when they are kept in a directory, in one tar.gz
with a manifest; readable by its owner only. Restoring it writes each part back where the target's settings say,
into an empty store, after checking every part against the manifest."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from infrastructure.settings import Settings
from infrastructure.store.backup import postgres_copy, sqlite_copy
from infrastructure.store.backup.manifest import BackupError, Manifest, checksums
from infrastructure.store.event_store import sqlite_path
from infrastructure.store.layout import LAYOUT_VERSION, layout_version
from infrastructure.store.sql_store import open_sql_store

KEY_PART = "keys/secret.key"
KEYRING_PART = "keys/data.keys"  # absent from the backups of releases before encryption at rest
DOCUMENTS = "documents"


def store_kind(database_url: str) -> str:
    if database_url.startswith("sqlite://") and sqlite_path(database_url) != ":memory:":
        return "sqlite"
    if database_url.startswith(("postgresql", "postgres")):
        return "postgresql"
    raise BackupError("an in-memory store keeps nothing to back up or restore: set CONVERGENCE_DATABASE_URL")


def configured_key(settings: Settings) -> bytes | None:
    """The key sealing the OPCO credentials and the IBANs, as bootstrap finds it, without making one."""
    if settings.secret_key:
        return settings.secret_key.get_secret_value().encode()
    if settings.secret_key_file.is_file():
        return settings.secret_key_file.read_bytes().strip()
    return None


def configured_keyring(settings: Settings) -> bytes | None:
    """The master keyring, as bootstrap finds it, without making one."""
    if settings.data_keys:
        return settings.data_keys.get_secret_value().replace(",", "\n").encode()
    if settings.data_keys_file.is_file():
        return settings.data_keys_file.read_bytes().strip()
    return None


def take_backup(settings: Settings, destination: Path | None = None) -> tuple[Path, Manifest]:
    kind = store_kind(settings.database_url)
    key = configured_key(settings)
    keyring = configured_keyring(settings)
    if keyring is None:
        raise BackupError(
            f"no keyring: neither CONVERGENCE_DATA_KEYS nor {settings.data_keys_file}; without it the stored data"
            " cannot be decrypted, so no backup is taken"
        )
    if key is None:
        raise BackupError(
            f"no secret key: neither CONVERGENCE_SECRET_KEY nor {settings.secret_key_file}; without it the sealed"
            " secrets of the database cannot be opened, so no backup is taken"
        )
    folder = destination or settings.backup_dir
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    created = datetime.now(UTC)
    name = f"convergence-backup-{created:%Y%m%dT%H%M%SZ}"
    with _owner_only(), tempfile.TemporaryDirectory(dir=folder, prefix=".incoming-") as staging:
        root = Path(staging) / name
        root.mkdir()
        version, schema = _dump(settings, kind, root)
        (root / KEY_PART).parent.mkdir()
        (root / KEY_PART).write_bytes(key + b"\n")
        (root / KEYRING_PART).write_bytes(keyring + b"\n")
        if settings.documents_dir is not None and settings.documents_dir.is_dir():
            shutil.copytree(settings.documents_dir, root / DOCUMENTS, ignore=shutil.ignore_patterns(".incoming-*"))
        _restrict(root)
        manifest = Manifest(settings.version, version, kind, created.isoformat(), schema, checksums(root))
        manifest.write(root)
        archive = folder / f"{name}.tar.gz"
        with tarfile.open(Path(staging) / "archive", "w:gz") as tar:
            tar.add(root, arcname=name)
        try:
            os.link(Path(staging) / "archive", archive)  # whole or absent, never half written, never over another
        except FileExistsError:
            raise BackupError(f"{archive} exists already: one backup a second") from None
    return archive, manifest


def _dump(settings: Settings, kind: str, root: Path) -> tuple[int, str | None]:
    """The database into `root`; its layout version (that of the copy on SQLite) and the schema dumped."""
    if kind == "sqlite":
        part = root / sqlite_copy.PART
        sqlite_copy.dump(Path(sqlite_path(settings.database_url)), part)
        with closing(sqlite3.connect(part)) as conn:
            found = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'convergence_schema'").fetchall()
            version = (
                int(conn.execute("SELECT MAX(version) FROM convergence_schema").fetchone()[0] or 0) if found else 0
            )
        return version, None
    store = open_sql_store(settings.database_url, 1)
    try:
        version = layout_version(store)
    finally:
        store.close()
    return version, postgres_copy.dump(settings.database_url, root / postgres_copy.PART, settings.postgres_bin_dir)


@contextmanager
def unpacked(archive: Path) -> Iterator[tuple[Path, Manifest]]:
    """The backup's parts in a private temporary directory, each checked against the manifest."""
    if not archive.is_file():
        raise BackupError(f"no backup at {archive}")
    with _owner_only(), tempfile.TemporaryDirectory(prefix="convergence-restore-") as scratch:
        try:
            with tarfile.open(archive, "r:*") as tar:
                tar.extractall(scratch, filter="data")  # no path outside, no device, no link out
        except (tarfile.TarError, OSError) as error:
            raise BackupError(f"{archive} is not a readable backup: {error}") from None
        tops = list(Path(scratch).iterdir())
        if len(tops) != 1 or not tops[0].is_dir():
            raise BackupError(f"{archive} is not a Convergence backup: expected one directory in it")
        manifest = Manifest.read(tops[0])
        manifest.check(tops[0])
        yield tops[0], manifest


def restore_backup(archive: Path, settings: Settings) -> Manifest:
    """Into the store, key file and documents directory the settings name; each must be empty or absent (the key:
    absent, or the same)."""
    kind = store_kind(settings.database_url)
    with unpacked(archive) as (root, manifest):
        if manifest.store != kind:
            raise BackupError(f"the backup is of a {manifest.store} store; the target is {kind}")
        if manifest.layout_version > LAYOUT_VERSION:
            raise BackupError(
                f"the backup has layout version {manifest.layout_version}, newer than this release knows"
                f" ({LAYOUT_VERSION}): restore it with the release that took it, or a later one"
            )
        key = (root / KEY_PART).read_bytes().strip()
        _check_key(key, settings)
        keyring = (root / KEYRING_PART).read_bytes().strip() if (root / KEYRING_PART).is_file() else None
        _check_keyring(keyring, settings)
        documents = _documents_target(root, settings)
        if kind == "sqlite":
            sqlite_copy.restore(root / sqlite_copy.PART, Path(sqlite_path(settings.database_url)))
        else:
            part = root / postgres_copy.PART
            postgres_copy.restore(part, settings.database_url, manifest.schema, settings.postgres_bin_dir)
        _install_key(key, settings)
        _install_keyring(keyring, settings)
        if documents is not None:
            shutil.copytree(root / DOCUMENTS, documents, dirs_exist_ok=True)
    return manifest


def _check_key(key: bytes, settings: Settings) -> None:
    present = configured_key(settings)
    if present is None or present == key:
        return
    if settings.secret_key:
        raise BackupError(
            "CONVERGENCE_SECRET_KEY is not the backup's key: the restored data opens only with it; unset it (the"
            f" backup's key is written to {settings.secret_key_file}) or set it to the backup's keys/secret.key"
        )
    raise BackupError(
        f"{settings.secret_key_file} holds another key than the backup's: the restored data opens only with the"
        " backup's key; move that file away first"
    )


def _install_key(key: bytes, settings: Settings) -> None:
    if configured_key(settings) is not None:
        return  # the same key (checked)
    path = settings.secret_key_file
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(key + b"\n")


def _check_keyring(keyring: bytes | None, settings: Settings) -> None:
    present = configured_keyring(settings)
    if keyring is None or present is None or present == keyring:
        return
    where = "CONVERGENCE_DATA_KEYS" if settings.data_keys else str(settings.data_keys_file)
    raise BackupError(
        f"{where} is not the backup's keyring: the restored data decrypt only with it; use the backup's"
        " keys/data.keys (or a keyring holding every one of its keys)"
    )


def _install_keyring(keyring: bytes | None, settings: Settings) -> None:
    if keyring is None or configured_keyring(settings) is not None:
        return
    path = settings.data_keys_file
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(keyring + b"\n")


def _documents_target(root: Path, settings: Settings) -> Path | None:
    if not (root / DOCUMENTS).is_dir():
        return None
    target = settings.documents_dir
    if target is None:
        raise BackupError(
            "the backup holds a documents directory: set CONVERGENCE_DOCUMENTS_DIR to where it is to be restored"
        )
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"the documents directory {target} is not empty: restore into an empty one")
    return target


def _restrict(root: Path) -> None:
    """0700 and 0600 throughout, whatever modes the copied documents had."""
    for path in [root, *root.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)


@contextmanager
def _owner_only() -> Iterator[None]:
    """Every file and directory made meanwhile readable by the owner only (0600, 0700): the backup holds the key."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)
