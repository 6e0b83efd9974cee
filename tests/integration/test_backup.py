"""`convergence backup`, `backup verify` and `restore` on both stores: the database and its key travel together, are
restored on another host (another directory, another database) into an empty store, and replay there."""

from __future__ import annotations

import json
import stat
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from application.access.access import OPERATOR, Role
from infrastructure.documents.store import DirectoryDocumentStore
from infrastructure.store.backup.archive import restore_backup, take_backup
from infrastructure.store.backup.manifest import BackupError
from infrastructure.store.layout import LAYOUT_VERSION
from interfaces.bootstrap import bootstrap
from interfaces.cli import cli
from interfaces.replay import replay
from tests.invoicing import CFA
from tests.postgres import temporary_database, temporary_schema
from tests.store_contents import Contents, assert_all_there, populate
from tests.support import DATA_KEYS, SECRET_KEY, container, settings


def run(*arguments: str) -> Any:
    return CliRunner().invoke(cli, list(arguments))


def host(monkeypatch: pytest.MonkeyPatch, root: Path, url: str, **more: str) -> None:
    """A host's configuration, as the CLI reads it: its store, and its key in a file under its own directory."""
    root.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(root)  # no .env of the working tree is read
    monkeypatch.delenv("CONVERGENCE_SECRET_KEY", raising=False)
    monkeypatch.delenv("CONVERGENCE_DATA_KEYS", raising=False)
    for name, value in {
        "CONVERGENCE_DATABASE_URL": url,
        "CONVERGENCE_SECRET_KEY_FILE": str(root / "var" / "secret.key"),
        "CONVERGENCE_DATA_KEYS_FILE": str(root / "var" / "data.keys"),
        "CONVERGENCE_SANDBOX": "off",
        "CONVERGENCE_WORKER_IN_SERVE": "false",
        **more,
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def source(tmp_path: Path) -> Iterator[tuple[str, Contents]]:
    """A SQLite store under way on the first host, its key in CONVERGENCE_SECRET_KEY."""
    url = f"sqlite:///{tmp_path / 'first' / 'var' / 'convergence.db'}"
    made = container(url)
    try:
        yield url, populate(made)
    finally:
        made.close()


def test_a_sqlite_backup_restores_on_another_host_with_its_key_and_replays(
    source: tuple[str, Contents], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, contents = source
    host(monkeypatch, tmp_path / "first", url, CONVERGENCE_SECRET_KEY=SECRET_KEY, CONVERGENCE_DATA_KEYS=DATA_KEYS)
    taken = run("backup", "--output", str(tmp_path / "backups"))
    assert taken.exit_code == 0, taken.output
    archive = next((tmp_path / "backups").glob("convergence-backup-*.tar.gz"))
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "backups").stat().st_mode) == 0o700
    manifest = _manifest(archive)
    assert (manifest["store"], manifest["layout_version"]) == ("sqlite", LAYOUT_VERSION)
    assert set(manifest["parts"]) == {"database.sqlite", "keys/secret.key", "keys/data.keys"}

    second = tmp_path / "second"
    host(monkeypatch, second, f"sqlite:///{second / 'var' / 'convergence.db'}")
    restored = run("restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "3 Contract" in restored.output
    assert "1 Invoice" in restored.output
    assert "4 sealed secrets opened" in restored.output  # the IBAN; AKTO's key and client secret; AFDAS's DPoP key
    assert "read models rebuilt: status to" in restored.output
    key_file = second / "var" / "secret.key"
    assert key_file.read_text().strip() == SECRET_KEY
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    reopened = bootstrap(settings(f"sqlite:///{second / 'var' / 'convergence.db'}", secret_key=None))
    try:
        assert_all_there(reopened, contents)
    finally:
        reopened.close()


def test_verify_checks_the_parts_and_replays_a_sqlite_backup_aside(
    source: tuple[str, Contents], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = source
    archive, _ = take_backup(settings(url), tmp_path / "backups")
    host(monkeypatch, tmp_path / "elsewhere", "sqlite:///unused.db")
    verified = run("backup", "verify", str(archive))
    assert verified.exit_code == 0, verified.output
    assert "parts match the manifest" in verified.output
    assert "3 Contract" in verified.output
    assert "loading every aggregate" in verified.stderr  # its progress, phase by phase
    assert "rebuilding status" in verified.stderr
    assert not (tmp_path / "elsewhere" / "unused.db").exists()  # the replay was aside

    damaged = tmp_path / "damaged.tar.gz"
    _rewrite(archive, damaged, "keys/secret.key", b"not the key\n")
    refused = run("backup", "verify", str(damaged))
    assert refused.exit_code == 1
    assert refused.output.strip() == (
        "convergence: the backup's part keys/secret.key does not match its checksum: the backup is damaged"
    )


def test_a_restore_refuses_a_store_that_is_not_empty_or_another_key(
    source: tuple[str, Contents], tmp_path: Path
) -> None:
    url, _ = source
    archive, _ = take_backup(settings(url), tmp_path / "backups")
    with pytest.raises(BackupError, match="is not empty"):
        restore_backup(archive, settings(url))
    other_key = tmp_path / "other.key"
    other_key.write_text("3u5gEdjF6cTHGJbq9nz1ZcS1o3ocyXx8gD3OYHm8iHA=\n")
    target = settings(f"sqlite:///{tmp_path / 'new.db'}", secret_key=None, secret_key_file=other_key)
    with pytest.raises(BackupError, match="holds another key than the backup's"):
        restore_backup(archive, target)
    assert not (tmp_path / "new.db").exists()  # refused before anything was written


def test_the_documents_directory_travels_with_the_backup(tmp_path: Path) -> None:
    first = settings(f"sqlite:///{tmp_path / 'a.db'}", documents_dir=tmp_path / "documents-a")
    bootstrap(first).close()  # the database
    ref = DirectoryDocumentStore(tmp_path / "documents-a", 65_536).put(b"%PDF-1.7\n% a document\n%%EOF\n")
    archive, manifest = take_backup(first, tmp_path / "backups")
    assert f"documents/{ref.digest[:2]}/{ref.digest}" in manifest.parts
    with tarfile.open(archive) as tar:
        assert {oct(member.mode) for member in tar.getmembers()} == {"0o700", "0o600"}
    second = settings(f"sqlite:///{tmp_path / 'b.db'}", documents_dir=tmp_path / "documents-b")
    restore_backup(archive, second)
    assert (tmp_path / "documents-b" / ref.digest[:2] / ref.digest).read_bytes().startswith(b"%PDF")


@contextmanager
def _postgres_source(whole_database: bool) -> Iterator[str]:
    with temporary_database() as database:
        if whole_database:
            yield database
            return
        with temporary_schema(database) as url:
            yield url


@pytest.mark.parametrize("whole_database", [False, True], ids=["schema", "database"])
def test_a_postgresql_backup_restores_into_a_fresh_database_and_replays(
    whole_database: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _postgres_source(whole_database) as url:
        made = container(url)
        try:
            contents = populate(made)
        finally:
            made.close()
        host(monkeypatch, tmp_path / "first", url, CONVERGENCE_SECRET_KEY=SECRET_KEY, CONVERGENCE_DATA_KEYS=DATA_KEYS)
        taken = run("backup", "--output", str(tmp_path / "backups"))
        assert taken.exit_code == 0, taken.output
    archive = next((tmp_path / "backups").glob("convergence-backup-*.tar.gz"))
    schema = None if whole_database else url.rsplit("=", 1)[1]
    assert (_manifest(archive)["store"], _manifest(archive)["schema"]) == ("postgresql", schema)

    host(monkeypatch, tmp_path / "elsewhere", "sqlite:///unused.db")
    unreplayed = run("backup", "verify", str(archive))
    assert "not replayed: give --scratch-url" in unreplayed.output
    with temporary_database() as scratch_database:
        scratch = scratch_database if schema is None else f"{scratch_database}?schema={schema}"
        verified = run("backup", "verify", str(archive), "--scratch-url", scratch)
        assert verified.exit_code == 0, verified.output
        assert "3 Contract" in verified.output

    with temporary_database() as second_database:
        target = second_database if schema is None else f"{second_database}?schema={schema}"
        host(monkeypatch, tmp_path / "second", target)
        restored = run("restore", str(archive))
        assert restored.exit_code == 0, restored.output
        assert "3 Contract" in restored.output
        reopened = bootstrap(settings(target, secret_key=None, secret_key_file=tmp_path / "second/var/secret.key"))
        try:
            assert_all_there(reopened, contents)
        finally:
            reopened.close()
        again = run("restore", str(archive))
        assert again.exit_code == 1
        assert f"schema {schema or 'public'} of the target database is not empty" in again.output


def test_without_pg_dump_the_backup_says_so_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    host(
        monkeypatch,
        tmp_path / "first",
        "postgresql://postgres@127.0.0.1:1/convergence",
        CONVERGENCE_SECRET_KEY=SECRET_KEY,
        CONVERGENCE_DATA_KEYS=DATA_KEYS,
        CONVERGENCE_POSTGRES_BIN_DIR=str(empty),
    )
    monkeypatch.setattr("infrastructure.store.backup.archive.layout_version", lambda store: 1)
    monkeypatch.setattr("infrastructure.store.backup.archive.open_sql_store", lambda url, size: _Closing())
    refused = run("backup")
    assert refused.exit_code == 1
    assert refused.output.startswith(f"convergence: pg_dump not found in {empty}: install the PostgreSQL client")
    assert len(refused.output.strip().splitlines()) == 1


class _Closing:
    def close(self) -> None:
        pass


def _manifest(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/manifest.json"))
        extracted = tar.extractfile(member)
        assert extracted is not None
        found: dict[str, Any] = json.load(extracted)
    return found


def _rewrite(archive: Path, target: Path, part: str, content: bytes) -> None:
    """A copy of the archive with one part's content replaced (and its manifest left as it was)."""
    import io

    with tarfile.open(archive) as source, tarfile.open(target, "w:gz") as copy:
        for member in source.getmembers():
            data = source.extractfile(member) if member.isfile() else None
            if member.name.endswith(f"/{part}"):
                member.size = len(content)
                data = io.BytesIO(content)
            copy.addfile(member, data)


def test_a_sqlite_backup_taken_while_the_service_writes_is_consistent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    running = container(url)
    stop, issued = threading.Event(), []

    def write() -> None:
        while not stop.is_set():
            made = running.dossiers.issue_token(OPERATOR, cfa_siret=CFA, role=Role.FRONTEND, name="busy")
            issued.append(made.token.id)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(issued) < 20:
            time.sleep(0.01)
        archive, _ = take_backup(settings(url), tmp_path / "backups")
        while len(issued) < 40:  # the service carried on during and after the copy
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join()
        running.close()
    target = settings(f"sqlite:///{tmp_path / 'restored.db'}")
    restore_backup(archive, target)
    restored = bootstrap(target)
    try:
        done = replay(restored)
    finally:
        restored.close()
    assert 20 <= done.aggregates["ApiToken"] < len(issued)
    assert done.head == done.aggregates["ApiToken"]  # one event each: no token torn from its event


def test_a_postgresql_database_without_the_search_extensions_is_backed_up_too(tmp_path: Path) -> None:
    with temporary_database() as first_database, temporary_schema(first_database) as url:
        made = container(url)
        try:
            contents = populate(made)
        finally:
            made.close()
        with psycopg.connect(first_database, autocommit=True) as conn:  # as where the service may not create them
            conn.execute("DROP EXTENSION IF EXISTS pg_trgm, btree_gin CASCADE")
        archive, manifest = take_backup(settings(url), tmp_path)
    with temporary_database() as second_database:
        target = settings(f"{second_database}?schema={manifest.schema}")
        restore_backup(archive, target)
        restored = bootstrap(target)
        try:
            assert_all_there(restored, contents)
        finally:
            restored.close()


def test_an_in_memory_store_has_no_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    host(monkeypatch, tmp_path, "memory://", CONVERGENCE_SECRET_KEY=SECRET_KEY, CONVERGENCE_DATA_KEYS=DATA_KEYS)
    refused = run("backup")
    assert refused.exit_code == 1
    assert (
        refused.output
        == "convergence: an in-memory store keeps nothing to back up or restore: set CONVERGENCE_DATABASE_URL\n"
    )
