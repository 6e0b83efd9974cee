"""The status read model survives a restart: a new process resumes where the last one stopped, and ends with
exactly the rows of a view projected from the first event in one go: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from application.read_models.status import ContractFilter, StatusRow
from application.read_models.status_projection import TOPICS
from infrastructure.read_models.projection_runner import ProjectionRunner
from infrastructure.read_models.status_view import SqlStatusView, build_next
from infrastructure.reference_data import idcc_routing
from infrastructure.store.sql_store import SqlStore, open_sql_store
from tests.integration.status_support import CFA_A, accept, create, park, status_setup, submit


def walk(view: SqlStatusView) -> list[StatusRow]:
    page = view.page(CFA_A, ContractFilter(), 500, None)
    assert page.next_cursor is None
    return page.items


def test_a_restarted_projection_resumes_where_it_stopped(database_url: str, complete_cerfa: dict[str, Any]) -> None:
    with status_setup(database_url, batch_size=3) as setup:
        for n in range(4):
            create(setup.app, complete_cerfa, CFA_A, f"A-{n}")
        setup.catch_up()
        stopped_at = setup.view.position(setup.app.name)

        submit(setup.app, CFA_A, create(setup.app, complete_cerfa, CFA_A, "B-1"))
        accept(setup.app, CFA_A, create(setup.app, complete_cerfa, CFA_A, "B-2"), "8000.00")
        park(setup.app, CFA_A, create(setup.app, complete_cerfa, CFA_A, "B-3"))

        store = open_sql_store(database_url)  # another process: its own connections, view and runner
        try:
            view = SqlStatusView(store, idcc_routing())
            assert view.position(setup.app.name) == stopped_at
            runner = ProjectionRunner(setup.app, "status", TOPICS, view.apply, lambda: view.position(setup.app.name), 3)
            assert runner.catch_up() > 0
            assert runner.lag() == 0
            resumed = walk(view)
            in_one_go = walk(build_next(store, idcc_routing(), setup.app))
        finally:
            store.close()

    assert len(resumed) == 7
    assert resumed == in_one_go
    states = {row.numero_interne: (row.state, row.parked) for row in resumed}
    assert states["B-2"] == ("accepted", False)
    assert states["B-3"] == ("submitted", True)


def listed(store: SqlStore, view: SqlStatusView) -> list[str]:
    """The list items of CFA_A's first page, as the API reads them (from a coroutine)."""

    async def first_page() -> list[str]:
        try:
            return (await view.item_page(CFA_A, ContractFilter(), 50, None)).items
        finally:
            await store.aclose()

    return asyncio.run(first_page())


def test_tables_of_an_earlier_layout_are_made_again_and_refilled_from_the_log(
    database_url: str, complete_cerfa: dict[str, Any]
) -> None:
    """A release that stores a new column (the list item) finds the tables an earlier one made without it: they
    are dropped with their position, and the projection refills them from the first event."""
    with status_setup(database_url) as setup:
        for n in range(3):
            create(setup.app, complete_cerfa, CFA_A, f"A-{n}")
        setup.catch_up()
        expected = walk(setup.view)
        store = open_sql_store(database_url)
        try:
            with store.transaction() as tx:  # as the release before the list item left them
                tx.execute("ALTER TABLE status_versions DROP COLUMN item")
            assert "item" not in store.columns("status_versions")
            view = SqlStatusView(store, idcc_routing())
            assert "item" in store.columns("status_versions")
            assert view.position(setup.app.name) == 0
            assert walk(view) == []
            runner = ProjectionRunner(setup.app, "status", TOPICS, view.apply, lambda: view.position(setup.app.name))
            runner.catch_up()
            assert walk(view) == expected
            numbers = [json.loads(item)["numeroInterne"] for item in listed(store, view)]
            assert numbers == [row.numero_interne for row in expected]
            assert SqlStatusView(store, idcc_routing()).position(setup.app.name) > 0  # current tables are kept
        finally:
            store.close()
