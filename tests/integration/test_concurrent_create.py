"""Several processes starting together on a new PostgreSQL database each create the tables they need: CREATE TABLE
IF NOT EXISTS is not safe against itself there (pg_type's unique index), so the store creates them one at a time."""

from __future__ import annotations

import threading

from infrastructure.store.sql_store import PostgresStore
from interfaces.bootstrap import Container, bootstrap
from tests.support import settings

STARTERS = 8
ROUNDS = 6


def test_tables_created_by_many_stores_at_once_are_created_once_without_error(postgres_url: str) -> None:
    stores = [PostgresStore(postgres_url, pool_size=1) for _ in range(STARTERS)]
    errors: list[BaseException] = []
    try:
        for round_ in range(ROUNDS):
            ddl = [f"CREATE TABLE IF NOT EXISTS race_{round_}_{n} (id BIGINT PRIMARY KEY, body TEXT)" for n in range(4)]
            gate = threading.Barrier(STARTERS)

            def start(store: PostgresStore, ddl: list[str] = ddl, gate: threading.Barrier = gate) -> None:
                gate.wait()
                try:
                    store.create(ddl)
                except BaseException as error:
                    errors.append(error)

            threads = [threading.Thread(target=start, args=(store,)) for store in stores]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert errors == []
        assert all(stores[0].columns(f"race_{r}_{n}") == {"id", "body"} for r in range(ROUNDS) for n in range(4))
    finally:
        for store in stores:
            store.close()


def test_services_starting_together_on_a_new_database_all_start(postgres_url: str) -> None:
    """Every component's tables, and the event library's: what two APIs and two workers do on their first start."""
    started: list[Container] = []
    errors: list[BaseException] = []
    gate = threading.Barrier(4)

    def start() -> None:
        gate.wait()
        try:
            started.append(bootstrap(settings(postgres_url)))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert len(started) == 4
    finally:
        for services in started:
            services.close()
