"""The invoices' read model on SQLite or PostgreSQL (see application.read_models.invoice_status).

Invoices are a temporal table of row versions: every change closes the invoice's current version (`valid_to` =
the change's position) and inserts a new one (`valid_from` = that position, `valid_to` NULL), in the transaction
that moves the tracking position (compare-and-set on the position the batch was read from).

Why a walk sees each invoice exactly once. A walk is pinned at `as_of`, the view's position when its first page
was read, and every page reads the versions valid then: `valid_from <= as_of AND (valid_to IS NULL OR valid_to >
as_of)`, in (valid_from DESC, invoice_id DESC) order, after the last row of the previous page.
1. An invoice's versions cover consecutive, disjoint intervals [valid_from, valid_to) of log positions (a new
   version closes the current one at its own valid_from, in the same transaction): at any as_of, an invoice that
   existed then has exactly one version valid at as_of, and one that did not has none.
2. Every batch written after the walk began holds events after the view's position, so after as_of: it only
   inserts versions with valid_from > as_of (not in the snapshot) and closes versions at a valid_to > as_of (still
   in it, read by the second branch). The snapshot is the same set of rows, with the same values, on every page.
3. In that set each invoice has one row, so (valid_from, invoice_id) orders it strictly and the keyset after the
   previous page's last key neither repeats nor skips a row.
4. Prune deletes only versions closed at or before its horizon; a walk with as_of below the horizon is refused
   (InvoiceCursorExpired), and for as_of at or above it the deleted versions were not in the snapshot.
5. A rebuild projects the same events into the same versions. A walk pinned past the rebuilt view's position
   (a swap happened mid-walk) is told to retry (ViewBehind) until the view has caught up with it.
Each page is one statement that reads the view's position, the pruned horizon and the rows together, so the checks
of 4 and 5 and the rows see one snapshot on both stores (PostgreSQL's renames in a swap lock the tables).
The contractId filter reads a table of (contract, invoice) pairs written with the invoice's first version and
never changed afterwards (an invoice's lines are fixed when it is drafted), so it is the same at any as_of.

Échéances are rows as they are now, one per contract and échéance, rewritten when the contract's funding or ledger
changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from application.read_models.invoice_status import (
    AWAITING_PAYMENT_STATES,
    EcheanceRow,
    HeldAggregate,
    InvoiceCursor,
    InvoiceCursorExpired,
    InvoiceDashboard,
    InvoiceFilter,
    InvoicePage,
    InvoiceRow,
    StateFigures,
    Tally,
    ViewBehind,
)
from application.read_models.invoice_status_projection import TOPICS, Memo, from_cents, kind_of, project
from infrastructure.read_models import rebuild, temporal_versions
from infrastructure.read_models.engine import Projected, ReadModel, Step, TemporalView
from infrastructure.read_models.invoice_status_rows import decode, decode_echeance, encode, encode_echeance
from infrastructure.read_models.invoice_status_schema import (
    AWAITING,
    ECHEANCE_COLUMNS,
    INVOICE_COLUMNS,
    LINK_COLUMNS,
    SCHEMA,
    VERSION_COLUMNS,
    json_rows,
)
from infrastructure.read_models.temporal_versions import from_json, to_json
from infrastructure.store.sql_store import Row, SqlStore, Transaction

LIVE = "invoice_status"
NEXT = "invoice_status_next"
_COLUMNS = ", ".join(INVOICE_COLUMNS)
_ECHEANCES = ", ".join(ECHEANCE_COLUMNS)
_ORDER = "ORDER BY valid_from DESC, invoice_id DESC"
_AWAITING_PAYMENT = f"state IN ({', '.join(repr(state) for state in AWAITING_PAYMENT_STATES)})"


INVOICE_STATUS = ReadModel(
    name=LIVE,
    key="aggregate_id",
    version_key="invoice_id",
    version_columns=VERSION_COLUMNS,
    topics=TOPICS,
    schema=SCHEMA,
    history=True,
    label="invoice",
)


class SqlInvoiceStatusView(TemporalView):
    """InvoiceStatusView on a SqlStore; `table_prefix` names its tables and its tracking (projection name)."""

    model = INVOICE_STATUS

    def __init__(self, store: SqlStore, table_prefix: str = LIVE, *, create_indexes: bool = True) -> None:
        self._echeances = f"{table_prefix}_echeances"
        super().__init__(store, table_prefix, create_indexes=create_indexes)

    def step(self, event: Any, memo: Memo | None, position: int) -> Step:
        projected = project(event, memo, position)
        after = projected.memo if projected.memo is not memo else None
        version = _version(projected.invoice) if projected.invoice is not None else None
        return Step(after, version, projected.echeances)

    def had_version(self, memo: Memo | None) -> bool:
        return memo is not None and memo.get("kind") == "invoice"

    def write_more(self, tx: Transaction, projected: Projected) -> None:
        """The contracts of each new invoice (fixed when it is drafted), the échéances of each contract changed."""
        links = [
            {"contract_id": contract, "invoice_id": key, "cfa_siret": records[0]["cfa_siret"]}
            for key, records in projected.versions.items()
            if not self.had_version(projected.before.get(key))
            for contract in from_json(records[0]["contract_ids"])
        ]
        self.insert(tx, f"{self.prefix}_contracts", LINK_COLUMNS, links, " ON CONFLICT DO NOTHING")
        self._replace_echeances(tx, projected.extras)

    def held_columns(self, memo: Memo | None, event: Any) -> dict[str, Any]:
        return {"kind": kind_of(event), "cfa_siret": _cfa_of(memo, event)}

    def _replace_echeances(self, tx: Transaction, echeances: dict[str, list[EcheanceRow]]) -> None:
        if not echeances:
            return
        wanted = json_rows(self._store.dialect, ("contract_id",))
        tx.execute(
            f"DELETE FROM {self._echeances} WHERE contract_id IN (SELECT contract_id FROM ({wanted}) AS k)",
            (to_json([{"contract_id": key} for key in echeances]),),
        )
        records = [
            dict(zip(ECHEANCE_COLUMNS, encode_echeance(r), strict=True)) for rows in echeances.values() for r in rows
        ]
        self.insert(tx, self._echeances, ECHEANCE_COLUMNS, records)

    # -- reading ------------------------------------------------------------------------------------------------

    def page(
        self, cfa_siret: str | None, where: InvoiceFilter, limit: int, cursor: InvoiceCursor | None
    ) -> InvoicePage:
        """Invoices by last change, newest first, as they were at the walk's as_of; cfa_siret None: every CFA.
        One statement: the rows, the view's position and the pruned horizon in one snapshot (see above)."""
        statement, values = self._page_sql(cfa_siret, where, cursor, limit + 1)
        with self._store.reading() as tx:
            rows = tx.query(statement, values)
        as_of, head, horizon = (int(v) for v in rows[0][:3])
        if as_of < horizon:
            raise InvoiceCursorExpired(f"the walk at position {as_of} is older than the pruned horizon {horizon}")
        if as_of > head:
            raise ViewBehind(f"the walk is at position {as_of}, the read model at {head} (rebuilt meanwhile)")
        items = [decode(row[3:]) for row in rows if row[3] is not None]
        more = len(items) > limit
        items = items[:limit]
        last = items[-1] if more else None
        next_cursor = InvoiceCursor(as_of, last.position, last.invoice_id) if last is not None else None
        return InvoicePage(items=items, next_cursor=next_cursor, as_of=as_of)

    def _page_sql(
        self, cfa_siret: str | None, where: InvoiceFilter, cursor: InvoiceCursor | None, fetch: int
    ) -> tuple[str, list[Any]]:
        """The current versions from before as_of, and the versions closed after it: two keyset scans, each
        limited, merged; as_of is the cursor's, or the view's position for a first page."""
        clauses, params = self._filters(cfa_siret, where)
        if cursor is not None:
            clauses.append("(valid_from, invoice_id) < (%s, %s)")
            params.extend((cursor.position, str(cursor.invoice_id)))
        condition = " AND ".join(clauses)
        as_of = "(SELECT as_of FROM a)"
        branches = (
            f"SELECT {_COLUMNS} FROM (SELECT {_COLUMNS} FROM {self._versions} WHERE valid_to IS NULL"
            f" AND valid_from <= {as_of} AND {condition} {_ORDER} LIMIT %s) AS current_versions"
            f" UNION ALL SELECT {_COLUMNS} FROM (SELECT {_COLUMNS} FROM {self._versions} WHERE valid_to > {as_of}"
            f" AND valid_from <= {as_of} AND {condition} {_ORDER} LIMIT %s) AS closed_versions"
        )
        selected = ", ".join(f"s.{column}" for column in INVOICE_COLUMNS)
        statement = (
            "WITH h AS (SELECT COALESCE(MAX(position), 0) AS head FROM projection_tracking WHERE projection = %s),"
            f" m AS (SELECT COALESCE(MAX(value), 0) AS horizon FROM {self.prefix}_meta WHERE name = 'horizon'),"
            " a AS (SELECT COALESCE(CAST(%s AS BIGINT), head) AS as_of, head FROM h)"
            f" SELECT a.as_of, a.head, m.horizon, {selected} FROM a CROSS JOIN m"
            f" LEFT JOIN ({branches}) AS s ON 1 = 1 ORDER BY s.valid_from DESC, s.invoice_id DESC LIMIT %s"
        )
        pinned = cursor.as_of if cursor is not None else None
        return statement, [self.prefix, pinned, *params, fetch, *params, fetch, fetch]

    def _filters(self, cfa_siret: str | None, where: InvoiceFilter) -> tuple[list[str], list[Any]]:
        clauses, params = temporal_versions.filters(
            cfa_siret, where.states, where.opco, where.parked, where.updated_since
        )
        if where.contract_id is not None:
            clauses.append(f"invoice_id IN (SELECT invoice_id FROM {self.prefix}_contracts WHERE contract_id = %s)")
            params.append(str(where.contract_id))
        if where.numero_prefix:  # exact and case-sensitive on both stores (LIKE is not, on SQLite)
            clauses.append("substr(numero_interne_facture, 1, %s) = %s")
            params.extend((len(where.numero_prefix), where.numero_prefix))
        return clauses, params

    def dashboard(self, cfa_siret: str | None, sent_before: date, open_on: date) -> InvoiceDashboard:
        """Sums per state, overdue invoices, échéances awaiting an invoice, parked, and the view's position: one
        statement, one snapshot."""
        statement, values = self._dashboard_statement(cfa_siret, sent_before, open_on)
        with self._store.reading() as tx:
            return _dashboard(tx.query(statement, values))

    async def adashboard(self, cfa_siret: str | None, sent_before: date, open_on: date) -> InvoiceDashboard:
        """dashboard from a coroutine (SqlStore.aquery)."""
        return _dashboard(await self._store.aquery(*self._dashboard_statement(cfa_siret, sent_before, open_on)))

    def _dashboard_statement(self, cfa_siret: str | None, sent_before: date, open_on: date) -> tuple[str, list[Any]]:
        tenant, params = ("AND cfa_siret = %s", [cfa_siret]) if cfa_siret is not None else ("", [])
        current = f"FROM {self._versions} WHERE valid_to IS NULL {tenant}"
        statement = (
            "SELECT 'as_of', NULL,"
            " (SELECT COALESCE(MAX(position), 0) FROM projection_tracking WHERE projection = %s), 0, 0, NULL"
            f" UNION ALL SELECT 'state', state, COUNT(*), SUM(amount), SUM(paid), NULL {current} GROUP BY state"
            f" UNION ALL SELECT 'overdue', NULL, COUNT(*), SUM(amount - paid), 0, MIN(sent_on) {current}"
            f" AND {_AWAITING_PAYMENT} AND sent_on < %s"
            f" UNION ALL SELECT 'parked', NULL, COUNT(*), 0, 0, NULL {current} AND parked = 1"
            f" UNION ALL SELECT 'echeances', NULL, COUNT(*), SUM(remaining), 0, MIN(opens_on)"
            f" FROM {self._echeances} WHERE {AWAITING} AND (opens_on IS NULL OR opens_on <= %s) {tenant}"
        )
        values = [self.prefix, *params, *params, sent_before.isoformat(), *params, open_on.isoformat(), *params]
        return statement, values

    def attention_candidates(
        self, cfa_siret: str | None, sent_before: date, opened_before: date, limit: int
    ) -> tuple[list[InvoiceRow], list[EcheanceRow]]:
        """Invoices refused, parked, or awaiting payment since before `sent_before`, the longest unchanged first;
        échéances awaiting an invoice opened before `opened_before`, the oldest first."""
        tenant, params = ("AND cfa_siret = %s", [cfa_siret]) if cfa_siret is not None else ("", [])
        with self._store.reading() as tx:
            invoices = tx.query(
                f"SELECT {_COLUMNS} FROM {self._versions} WHERE valid_to IS NULL {tenant} AND (state = 'refused'"
                f" OR parked = 1 OR ({_AWAITING_PAYMENT} AND sent_on < %s)) ORDER BY updated_at, invoice_id LIMIT %s",
                [*params, sent_before.isoformat(), limit],
            )
            echeances = tx.query(
                f"SELECT {_ECHEANCES} FROM {self._echeances} WHERE {AWAITING} AND opens_on < %s {tenant}"
                " ORDER BY opens_on, contract_id, numero LIMIT %s",
                [opened_before.isoformat(), *params, limit],
            )
        return [decode(row) for row in invoices], [decode_echeance(row) for row in echeances]

    def held(self, cfa_siret: str | None) -> list[HeldAggregate]:
        """Invoices and contracts whose projection failed, oldest first."""
        tenant, params = ("WHERE cfa_siret = %s", [cfa_siret]) if cfa_siret else ("", [])
        with self._store.reading() as tx:
            rows = tx.query(
                f"SELECT aggregate_id, kind, cfa_siret, position, event_type, error FROM {self.prefix}_held {tenant}"
                " ORDER BY position",
                params,
            )
        return [HeldAggregate(UUID(r[0]), r[1], r[2], int(r[3]), r[4], r[5]) for r in rows]

    def current_invoices(self, invoice_ids: Sequence[UUID]) -> list[InvoiceRow]:
        if not invoice_ids:
            return []
        wanted = json_rows(self._store.dialect, ("invoice_id",))
        with self._store.reading() as tx:
            rows = tx.query(
                f"SELECT {_COLUMNS} FROM {self._versions} WHERE valid_to IS NULL"
                f" AND invoice_id IN (SELECT invoice_id FROM ({wanted}) AS k) ORDER BY invoice_id",
                (to_json([{"invoice_id": str(ident)} for ident in invoice_ids]),),
            )
        return [decode(row) for row in rows]

    def echeances(self, contract_ids: Sequence[UUID]) -> list[EcheanceRow]:
        if not contract_ids:
            return []
        wanted = json_rows(self._store.dialect, ("contract_id",))
        with self._store.reading() as tx:
            rows = tx.query(
                f"SELECT {_ECHEANCES} FROM {self._echeances}"
                f" WHERE contract_id IN (SELECT contract_id FROM ({wanted}) AS k) ORDER BY contract_id, numero",
                (to_json([{"contract_id": str(ident)} for ident in contract_ids]),),
            )
        return [decode_echeance(row) for row in rows]


# -- rebuilding -----------------------------------------------------------------------------------------------


def build_next(
    store: SqlStore, app: Application[UUID], batch_size: int = 1000, *, prefix: str = NEXT, up_to: int | None = None
) -> SqlInvoiceStatusView:
    """Project the whole log (or up to position `up_to`) into fresh `invoice_status_next_*` tables (or
    `prefix`'s), left-overs of a crashed rebuild dropped first, every version kept as a live view makes them,
    `batch_size` events per transaction; the live tables keep answering meanwhile (rebuild.build)."""

    def make(table_prefix: str, indexes: bool) -> SqlInvoiceStatusView:
        return SqlInvoiceStatusView(store, table_prefix, create_indexes=indexes)

    view = rebuild.build(INVOICE_STATUS, make, store, app, prefix, up_to=up_to, page=batch_size)
    assert isinstance(view, SqlInvoiceStatusView)
    return view


def swap_in(store: SqlStore) -> SqlInvoiceStatusView:
    """In one transaction: the rebuilt tables and position replace the live ones (rebuild.swap)."""
    rebuild.swap(store, INVOICE_STATUS, NEXT)
    return SqlInvoiceStatusView(store, LIVE)


def rebuild_invoice_status_view(
    store: SqlStore, app: Application[UUID], batch_size: int = 1000
) -> SqlInvoiceStatusView:
    build_next(store, app, batch_size)
    return swap_in(store)


# -- helpers ------------------------------------------------------------------------------------------------


def _cfa_of(memo: Memo | None, event: Any) -> str | None:
    """The CFA of a held aggregate: from its memo, else from its Drafted event, else unknown."""
    if memo is not None:
        return memo.get("cfa_siret")
    try:
        cfa = getattr(event, "cfa_siret", None)
    except Exception:  # an event whose data cannot even be read
        return None
    return cfa if isinstance(cfa, str) else None


def _version(row: InvoiceRow) -> dict[str, Any]:
    record = dict(zip(INVOICE_COLUMNS, encode(row), strict=True))
    record["valid_to"] = None
    return record


def _dashboard(rows: list[Row]) -> InvoiceDashboard:
    by_state: dict[str, StateFigures] = {}
    as_of = parked = 0
    overdue = echeances = Tally(0, Decimal("0.00"), None)
    for kind, state, count, amount, paid, oldest in rows:
        if kind == "as_of":
            as_of = int(count)
        elif kind == "state":
            by_state[state] = StateFigures(int(count), from_cents(amount or 0), from_cents(paid or 0))
        elif kind == "parked":
            parked = int(count)
        elif kind == "overdue":
            overdue = Tally(int(count), from_cents(amount or 0), date.fromisoformat(oldest) if oldest else None)
        else:
            echeances = Tally(int(count), from_cents(amount or 0), date.fromisoformat(oldest) if oldest else None)
    invoiced = [figures for state, figures in by_state.items() if state in (*AWAITING_PAYMENT_STATES, "paid")]
    total = sum((f.amount for f in invoiced), Decimal("0.00"))
    paid_total = sum((f.paid for f in invoiced), Decimal("0.00"))
    return InvoiceDashboard(
        by_state=by_state,
        invoiced=total,
        paid=paid_total,
        unpaid=total - paid_total,
        overdue=overdue,
        echeances_not_invoiced=echeances,
        parked=parked,
        as_of=as_of,
    )
