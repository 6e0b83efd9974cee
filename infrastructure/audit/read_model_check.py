"""The read models rebuilt from the first event into scratch tables (the `*_next_*` tables of `convergence
projections rebuild`, through its own entry points), compared row by row with the live ones, then dropped.

The live model goes on meanwhile: both are compared as of the lower of their two positions, S. A row about an
aggregate that has events after S may rightly differ (one side has seen them, the other not): it is skipped and
counted. Every other row must be equal in both, column by column (valid_to aside: the live tables close versions
that the rebuild never wrote). A live model lagging by more than MAX_LAG events is reported, not compared.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.audit.history_check import Discrepancy
from application.dossiers import Dossiers
from infrastructure.audit.chain_store import log_tables
from infrastructure.read_models import invoice_status_schema, invoice_status_view, status_schema, status_view, tracking
from infrastructure.store.sql_store import SqlStore, Transaction

MAX_LAG = 100_000
MAX_REPORTED = 200  # differing rows reported per table; the rest counted
PAGE = 2000
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Compared:
    table: str  # without its prefix
    key: tuple[str, ...]
    where: str = ""  # which rows are the model's current ones


@dataclass(frozen=True)
class ReadModel:
    name: str
    live: str
    scratch: str
    build: Callable[[SqlStore, Dossiers], Any]
    drop: Callable[[Transaction, str], None]
    tables: tuple[Compared, ...]


READ_MODELS = (
    ReadModel(
        "status",
        status_view.LIVE,
        status_view.NEXT,
        lambda store, app: status_view.build_next(store, app.routing, app),
        status_schema.drop_tables,
        (Compared("versions", ("contract_id",), "valid_to IS NULL"),),
    ),
    ReadModel(
        "invoice status",
        invoice_status_view.LIVE,
        invoice_status_view.NEXT,
        lambda store, app: invoice_status_view.build_next(store, app),
        invoice_status_schema.drop_tables,
        (
            Compared("versions", ("invoice_id",), "valid_to IS NULL"),
            Compared("echeances", ("contract_id", "numero")),
            Compared("contracts", ("contract_id", "invoice_id")),
        ),
    ),
)


def compare_read_models(store: SqlStore, app: Dossiers) -> list[Discrepancy]:
    found: list[Discrepancy] = []
    for model in READ_MODELS:
        found.extend(compare_read_model(store, app, model))
    return found


def compare_read_model(store: SqlStore, app: Dossiers, model: ReadModel) -> list[Discrepancy]:
    try:
        model.build(store, app)
        rebuilt = tracking.read_position(store, model.scratch, app.name)
        live = tracking.read_position(store, model.live, app.name)
        since = min(rebuilt, live)
        touched = _touched_after(store, app, since)
        if touched is None:
            return [Discrepancy("read-model", model.name, f"the live model lags by more than {MAX_LAG} events")]
        found = []
        for compared in model.tables:
            found.extend(_compare_table(store, model, compared, touched))
        return found
    finally:
        with store.transaction() as tx:
            model.drop(tx, model.scratch)
            tx.execute("DELETE FROM projection_tracking WHERE projection = %s", (model.scratch,))


def _touched_after(store: SqlStore, app: Dossiers, position: int) -> set[str] | None:
    tables = log_tables(store.dialect, app.name)
    with store.reading() as tx:
        found = tx.query(
            f"SELECT DISTINCT originator_id FROM {tables.events} WHERE {tables.position} > %s LIMIT %s",
            (position, MAX_LAG + 1),
        )
    if len(found) > MAX_LAG:
        return None
    return {str(UUID(str(ident))) for (ident,) in found}


def _compare_table(store: SqlStore, model: ReadModel, compared: Compared, touched: set[str]) -> list[Discrepancy]:
    live_table, scratch_table = f"{model.live}_{compared.table}", f"{model.scratch}_{compared.table}"
    columns = sorted((store.columns(live_table) & store.columns(scratch_table)) - {"valid_to"})
    keys = [columns.index(k) for k in compared.key]
    found: list[Discrepancy] = []
    differing = 0
    for live, rebuilt in _merged(
        _rows(store, live_table, columns, compared), _rows(store, scratch_table, columns, compared), keys
    ):
        row = live if live is not None else rebuilt
        assert row is not None
        if live == rebuilt or _about_touched(row, touched):
            continue
        differing += 1
        if differing <= MAX_REPORTED:
            found.append(
                Discrepancy("read-model", f"{live_table} {_key(row, keys)}", _difference(columns, live, rebuilt))
            )
    if differing > MAX_REPORTED:
        found.append(Discrepancy("read-model", live_table, f"and {differing - MAX_REPORTED} more rows differ"))
    return found


def _rows(store: SqlStore, table: str, columns: Sequence[str], compared: Compared) -> Iterator[tuple[Any, ...]]:
    """The table's rows in key order, a page at a time (keyset)."""
    key = ", ".join(compared.key)
    index = [list(columns).index(k) for k in compared.key]
    after: tuple[Any, ...] | None = None
    while True:
        conditions = [compared.where] if compared.where else []
        params: tuple[Any, ...] = ()
        if after is not None:
            conditions.append(f"({key}) > ({', '.join(['%s'] * len(after))})")
            params = after
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        with store.reading() as tx:
            page = tx.query(
                f"SELECT {', '.join(columns)} FROM {table} {where} ORDER BY {key} LIMIT %s", (*params, PAGE)
            )
        yield from page
        if len(page) < PAGE:
            return
        after = tuple(page[-1][i] for i in index)


def _merged(
    left: Iterator[tuple[Any, ...]], right: Iterator[tuple[Any, ...]], keys: list[int]
) -> Iterator[tuple[tuple[Any, ...] | None, tuple[Any, ...] | None]]:
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        ka = tuple(a[i] for i in keys) if a is not None else None
        kb = tuple(b[i] for i in keys) if b is not None else None
        if kb is None or (ka is not None and ka < kb):
            yield a, None
            a = next(left, None)
        elif ka is None or kb < ka:
            yield None, b
            b = next(right, None)
        else:
            yield a, b
            a, b = next(left, None), next(right, None)


def _about_touched(row: tuple[Any, ...], touched: set[str]) -> bool:
    """Whether the row names an aggregate that has events after the compared position."""
    return bool(touched) and any(
        ident in touched for value in row if isinstance(value, str) for ident in _UUID.findall(value)
    )


def _key(row: tuple[Any, ...], keys: list[int]) -> str:
    return ", ".join(str(row[i]) for i in keys)


def _difference(columns: Sequence[str], live: tuple[Any, ...] | None, rebuilt: tuple[Any, ...] | None) -> str:
    if live is None:
        return "in the rebuilt model only (missing from the live one)"
    if rebuilt is None:
        return "in the live model only (the events do not make it)"
    changed = [f"{c}: live {a!r}, rebuilt {b!r}" for c, a, b in zip(columns, live, rebuilt, strict=True) if a != b]
    return "; ".join(changed)
