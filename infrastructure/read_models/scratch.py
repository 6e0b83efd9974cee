"""A temporal read model rebuilt from the log into scratch tables up to a log position, never swapped in, and
those tables dropped: what an audit compares with the live tables (the versions in effect at that position).

The contracts' status is rebuilt as `convergence projections rebuild` does it (each dossier's version at the
position, still open; its dashboard counts left uncounted), the invoices' with every version up to the position.
Memory holds a page of memos at most (rebuild.py), and the live tables keep answering meanwhile.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application

from domain.opco.opcos import IdccRouting
from infrastructure.read_models import invoice_status_view, rebuild, status_view
from infrastructure.read_models.engine import ReadModel, TemporalView
from infrastructure.store.sql_store import SqlStore

MODELS: dict[str, ReadModel] = {
    status_view.LIVE: status_view.STATUS,
    invoice_status_view.LIVE: invoice_status_view.INVOICE_STATUS,
}


def scratch_prefix(name: str) -> str:
    """The scratch tables' prefix of the read model `name` unless one is given: `<name>_audit`."""
    return f"{name}_audit"


def rebuild_into_scratch(
    store: SqlStore,
    app: Application[UUID],
    name: str,
    up_to: int,
    *,
    routing: IdccRouting,
    prefix: str | None = None,
) -> TemporalView:
    """The read model `name` ("status" or "invoice_status") projected from the first event to position `up_to`
    (the log's head if that is further) into fresh tables of `prefix` (scratch_prefix(name) by default; what they
    held before is dropped first); its position is then up_to. Never swapped in: drop them with drop_scratch."""
    chosen = prefix or scratch_prefix(name)
    if name == status_view.LIVE:
        return status_view.build_next(store, routing, app, prefix=chosen, up_to=up_to)
    if name == invoice_status_view.LIVE:
        return invoice_status_view.build_next(store, app, rebuild.PAGE, prefix=chosen, up_to=up_to)
    raise ValueError(f"not a temporal read model: {name!r} (one of {', '.join(MODELS)})")


def drop_scratch(store: SqlStore, name: str, prefix: str | None = None) -> None:
    """Drop the scratch tables of the read model `name` made by rebuild_into_scratch, and their position."""
    if name not in MODELS:
        raise ValueError(f"not a temporal read model: {name!r} (one of {', '.join(MODELS)})")
    rebuild.drop(store, MODELS[name], prefix or scratch_prefix(name))
