"""The layout version: an older store is upgraded on start (the fixture of tests/fixtures/layout_v0 on SQLite; today's
tables without the version table on PostgreSQL), a newer one is refused, and the steps run once, in order, in one
transaction, under a lock on PostgreSQL."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from infrastructure.store.layout import (
    LAYOUT_VERSION,
    MIGRATIONS,
    LayoutError,
    Migration,
    layout_version,
    upgrade_layout,
)
from infrastructure.store.sql_store import SqlStore, Transaction, open_sql_store
from interfaces.cli import main
from tests.postgres import temporary_database, temporary_schema
from tests.store_contents import Contents, assert_all_there, populate
from tests.support import container

FIXTURE = Path(__file__).parent.parent / "fixtures" / "layout_v0"


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    with temporary_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'layout.db'}"
        return
    with temporary_schema(request.getfixturevalue("postgres_database")) as url:
        yield url


def test_the_store_of_the_release_before_the_version_opens_upgraded_with_everything_in_it(tmp_path: Path) -> None:
    database = tmp_path / "convergence.db"
    shutil.copy(FIXTURE / "convergence.db", database)
    url = f"sqlite:///{database}"
    before = open_sql_store(url)
    assert layout_version(before) == 0
    before.close()

    upgraded = container(url)
    try:
        assert layout_version(upgraded.store) == LAYOUT_VERSION
        assert_all_there(upgraded, Contents.load(FIXTURE / "contents.json"))
    finally:
        upgraded.close()


def test_todays_postgresql_tables_without_the_version_are_upgraded_on_start(postgres_database: str) -> None:
    with temporary_schema(postgres_database) as url:
        made = container(url)
        contents = populate(made)
        made.close()
        with psycopg.connect(postgres_database, autocommit=True) as conn:  # the layout of the release before
            conn.execute(f"DROP TABLE {url.rsplit('=', 1)[1]}.convergence_schema")

        upgraded = container(url)
        try:
            assert layout_version(upgraded.store) == LAYOUT_VERSION
            assert_all_there(upgraded, contents)
        finally:
            upgraded.close()


def test_a_store_newer_than_the_service_is_refused_with_what_to_do(store_url: str) -> None:
    store = open_sql_store(store_url)
    try:
        later = Migration(LAYOUT_VERSION + 1, "a later release's step", lambda tx, dialect: None)
        upgrade_layout(store, migrations=(*MIGRATIONS, later))
        with pytest.raises(LayoutError, match=rf"layout version {LAYOUT_VERSION + 1}, newer than this service"):
            upgrade_layout(store)
    finally:
        store.close()
    with pytest.raises(LayoutError, match="newer"):
        container(store_url)


def test_a_store_older_than_the_steps_the_service_keeps_is_refused(store_url: str) -> None:
    store = open_sql_store(store_url)
    try:
        upgrade_layout(store)
        kept = (Migration(LAYOUT_VERSION + 2, "needs an intermediate release", lambda tx, dialect: None),)
        with pytest.raises(LayoutError, match="intermediate release"):
            upgrade_layout(store, migrations=kept)
    finally:
        store.close()


def _adding_a_table(version: int) -> Migration:
    def apply(tx: Transaction, dialect: str) -> None:
        tx.execute(f"CREATE TABLE IF NOT EXISTS step_{version} (n INTEGER)")
        tx.execute(f"INSERT INTO step_{version} (n) VALUES ({version})")

    return Migration(version, f"step {version}", apply)


def _failing(tx: Transaction, dialect: str) -> None:
    raise RuntimeError("step 3 fails")


def test_steps_run_once_in_order_and_a_failure_leaves_the_store_as_it_was(store_url: str) -> None:
    store = open_sql_store(store_url)
    try:
        steps = (_adding_a_table(1), _adding_a_table(2))
        assert [step.version for step in upgrade_layout(store, migrations=steps)] == [1, 2]
        assert upgrade_layout(store, migrations=steps) == []
        with pytest.raises(RuntimeError, match="step 3 fails"):
            upgrade_layout(store, migrations=(*steps, _adding_a_table(3), Migration(4, "fails", _failing)))
        assert layout_version(store) == 2
        assert store.columns("step_3") == set()  # rolled back with the failed step's transaction
        assert _rows(store, "step_1") == [1]
    finally:
        store.close()


def test_processes_starting_together_migrate_once(store_url: str) -> None:
    if not store_url.startswith("postgresql"):
        pytest.skip("SQLite's BEGIN IMMEDIATE serialises them; the advisory lock is PostgreSQL's")
    entered, release = threading.Event(), threading.Event()

    def slow(tx: Transaction, dialect: str) -> None:
        entered.set()
        release.wait(10)
        tx.execute("CREATE TABLE step_slow (n INTEGER)")  # not idempotent: a second run would fail

    steps = (Migration(1, "slow", slow),)
    stores = [open_sql_store(store_url), open_sql_store(store_url)]
    applied: list[list[Migration]] = []
    try:
        first = threading.Thread(target=lambda: applied.append(upgrade_layout(stores[0], migrations=steps)))
        first.start()
        assert entered.wait(10)
        second = threading.Thread(target=lambda: applied.append(upgrade_layout(stores[1], migrations=steps)))
        second.start()
        second.join(0.5)
        assert second.is_alive()  # waiting on the lock
        release.set()
        first.join(10)
        second.join(10)
        assert sorted(len(done) for done in applied) == [0, 1]
    finally:
        for store in stores:
            store.close()


def _rows(store: SqlStore, table: str) -> list[int]:
    with store.reading() as tx:
        return [int(n) for (n,) in tx.query(f"SELECT n FROM {table}")]


@pytest.mark.parametrize("command", [["projections", "status"], ["serve", "--port", "1"]])
def test_the_cli_refuses_a_newer_store_in_one_line(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    store = open_sql_store(url)
    upgrade_layout(store, migrations=(*MIGRATIONS, Migration(LAYOUT_VERSION + 1, "later", lambda tx, dialect: None)))
    store.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONVERGENCE_DATABASE_URL", url)
    monkeypatch.setenv("CONVERGENCE_SANDBOX", "off")
    monkeypatch.setattr("sys.argv", ["convergence", *command])  # serve: before it starts any process
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        f"convergence: the database has layout version {LAYOUT_VERSION + 1}, newer than this service knows"
        f" ({LAYOUT_VERSION}): a newer release of Convergence wrote it; run that release (or restore a backup taken"
        " before the upgrade)\n"
    )
