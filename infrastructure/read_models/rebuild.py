"""Rebuilding a temporal read model (engine.py) from the log into tables of another prefix, and swapping them in.

`convergence projections rebuild` builds into `<name>_next_*` then swaps; an audit builds into scratch tables up
to a position, compares, and drops them (`build` with `up_to`, then `drop`). Either way the live tables keep
answering, and memory holds a page of memos at most, whatever the log's length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

from eventsourcing.application import Application

from infrastructure.read_models import tracking
from infrastructure.read_models.bulk_build import bulk_build
from infrastructure.read_models.engine import ReadModel, TemporalView
from infrastructure.read_models.projection_runner import ProjectionRunner
from infrastructure.store.sql_store import SqlStore, Transaction

MakeView = Callable[[str, bool], TemporalView]  # the model's view on tables of this prefix, with its indexes?
PAGE = 5000  # events read (and, for a model without history, memos kept in memory) at a time


def build(
    model: ReadModel,
    make_view: MakeView,
    store: SqlStore,
    app: Application[UUID],
    prefix: str,
    *,
    up_to: int | None = None,
    page: int = PAGE,
) -> TemporalView:
    """Project the log from its start into fresh tables of `prefix` (left-overs of an earlier build dropped first),
    up to the log's head, or to position `up_to` (the head if it is further); the live tables keep answering.
    Indexes are made after the bulk of the rows: on PostgreSQL here, on SQLite by the swap (a build never
    swapped in has none there). A model with history is projected as a live view catches up, `page` events per
    transaction; the others by bulk_build, `page` memos in memory at most."""
    drop(store, model, prefix)
    view = make_view(prefix, False)
    if model.history:
        runner = ProjectionRunner(app, prefix, model.topics, view.apply, lambda: view.position(app.name), page)
        runner.catch_up(stop=up_to)
    else:
        bulk_build(view, app, page, up_to)
    if store.dialect == "postgresql":
        create_indexes(store, model.schema.index_ddl(prefix, store.dialect, view.search))
        store.create((f"ANALYZE {prefix}_versions",))
        if up_to is None:  # what was written meanwhile, as a live view does
            ProjectionRunner(app, prefix, model.topics, view.apply, lambda: view.position(app.name)).catch_up()
    return view


def drop(store: SqlStore, model: ReadModel, prefix: str) -> None:
    """Drop the model's tables of this prefix and its position (a rebuild's, an audit's scratch tables)."""
    if prefix == model.name:
        raise ValueError(f"{prefix} names the live tables of the {model.label} read model")
    store.create(tracking.DDL)
    with store.transaction() as tx:
        model.schema.drop_tables(tx, prefix)
        tx.execute("DELETE FROM projection_tracking WHERE projection = %s", (prefix,))


def swap(
    store: SqlStore,
    model: ReadModel,
    source: str,
    *,
    search: bool = False,
    after: Callable[[Transaction], None] | None = None,
) -> None:
    """In one transaction: the rebuilt tables and position replace the live ones. The tracking row is moved
    first: a live batch in flight either committed before (and is dropped with the old tables) or finds the
    position moved and is refused, to be read again from the rebuilt position. `after`: more, in the same
    transaction."""
    with store.transaction() as tx:
        tx.execute("DELETE FROM projection_tracking WHERE projection = %s", (model.name,))
        tx.execute("UPDATE projection_tracking SET projection = %s WHERE projection = %s", (model.name, source))
        model.schema.drop_tables(tx, model.name)
        model.schema.rename_tables(tx, store.dialect, source, model.name, search)
        if after is not None:
            after(tx)


def create_indexes(store: SqlStore, statements: Sequence[str], connections: int = 2) -> None:
    """Each index in its own transaction, `connections` at a time: the server builds them side by side (each
    CREATE INDEX takes a lock that lets the others build too), on as many cores."""
    with ThreadPoolExecutor(max_workers=connections, thread_name_prefix="read-model-index") as pool:
        for done in [pool.submit(store.create, (statement,)) for statement in statements]:
            done.result()
