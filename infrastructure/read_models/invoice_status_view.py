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

import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
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
from application.read_models.invoice_status_projection import TOPICS, Memo, cents, from_cents, kind_of, project
from application.read_models.projections import Batch
from infrastructure.read_models import temporal_versions, tracking
from infrastructure.read_models.invoice_status_schema import (
    AWAITING,
    ECHEANCE_COLUMNS,
    INVOICE_COLUMNS,
    LINK_COLUMNS,
    VERSION_COLUMNS,
    drop_tables,
    index_ddl,
    json_rows,
    rename_tables,
    table_ddl,
)
from infrastructure.read_models.projection_runner import ProjectionRunner
from infrastructure.read_models.temporal_versions import to_json
from infrastructure.store.sql_store import Row, SqlStore, Transaction

log = logging.getLogger("convergence.invoice_status")
LIVE = "invoice_status"
NEXT = "invoice_status_next"
_COLUMNS = ", ".join(INVOICE_COLUMNS)
_ECHEANCES = ", ".join(ECHEANCE_COLUMNS)
_ORDER = "ORDER BY valid_from DESC, invoice_id DESC"
_AWAITING_PAYMENT = f"state IN ({', '.join(repr(state) for state in AWAITING_PAYMENT_STATES)})"


class SqlInvoiceStatusView:
    """InvoiceStatusView on a SqlStore; `table_prefix` names its tables and its tracking (projection name)."""

    def __init__(self, store: SqlStore, table_prefix: str = LIVE) -> None:
        self._store = store
        self.prefix = table_prefix
        self._versions = f"{table_prefix}_versions"
        self._echeances = f"{table_prefix}_echeances"
        store.create((*tracking.DDL, *table_ddl(table_prefix), *index_ddl(table_prefix)))

    # -- writing ----------------------------------------------------------------------------------------------

    def apply(self, batch: Batch) -> None:
        """The whole batch and its position in one transaction; refused if the view moved since it was read."""
        with self._store.transaction() as tx:
            tracking.advance(tx, self.prefix, batch.tracking, batch.previous)
            self._write(tx, batch.events)

    def _write(self, tx: Transaction, events: Sequence[tuple[int, Any]]) -> None:
        keys = {str(event.originator_id) for _, event in events}
        dialect = self._store.dialect
        memos = temporal_versions.load_memos(tx, dialect, self.prefix, "aggregate_id", keys)
        held = temporal_versions.held_keys(tx, dialect, self.prefix, "aggregate_id", keys)
        existing = {key for key, memo in memos.items() if memo.get("kind") == "invoice"}  # have a current version
        versions: dict[str, list[InvoiceRow]] = defaultdict(list)
        echeances: dict[str, list[EcheanceRow]] = {}
        changed: set[str] = set()
        for position, event in events:
            key = str(event.originator_id)
            if key in held:
                continue
            try:
                projected = project(event, memos.get(key), position)
            except Exception as error:  # one aggregate's failure must not stop the read model for the others
                self._hold(tx, key, memos.get(key), position, event, error)
                held.add(key)
                continue
            if projected.memo is not None and projected.memo is not memos.get(key):
                memos[key] = projected.memo
                changed.add(key)
            if projected.invoice is not None:
                versions[key].append(projected.invoice)
            if projected.echeances is not None:
                echeances[key] = projected.echeances
        closing = {key: rows[0].position for key, rows in versions.items() if key in existing}
        temporal_versions.close(tx, self._store.dialect, self._versions, "invoice_id", closing)
        self._insert(tx, self._versions, VERSION_COLUMNS, list(_version_records(versions)))
        links = [
            {"contract_id": str(contract), "invoice_id": key, "cfa_siret": rows[0].cfa_siret}
            for key, rows in versions.items()
            if key not in existing
            for contract in rows[0].contract_ids
        ]
        self._insert(tx, f"{self.prefix}_contracts", LINK_COLUMNS, links, " ON CONFLICT DO NOTHING")
        self._replace_echeances(tx, echeances)
        temporal_versions.save_memos(
            tx, self._store.dialect, self.prefix, "aggregate_id", {k: memos[k] for k in changed}
        )

    def _replace_echeances(self, tx: Transaction, echeances: dict[str, list[EcheanceRow]]) -> None:
        if not echeances:
            return
        wanted = json_rows(self._store.dialect, ("contract_id",))
        tx.execute(
            f"DELETE FROM {self._echeances} WHERE contract_id IN (SELECT contract_id FROM ({wanted}) AS k)",
            (to_json([{"contract_id": key} for key in echeances]),),
        )
        records = [
            dict(zip(ECHEANCE_COLUMNS, _encode_echeance(r), strict=True)) for rows in echeances.values() for r in rows
        ]
        self._insert(tx, self._echeances, ECHEANCE_COLUMNS, records)

    def _insert(
        self, tx: Transaction, table: str, columns: tuple[str, ...], records: list[dict[str, Any]], suffix: str = ""
    ) -> None:
        temporal_versions.insert(tx, json_rows(self._store.dialect, columns), table, columns, records, suffix)

    def _hold(self, tx: Transaction, key: str, memo: Memo | None, position: int, event: Any, error: Exception) -> None:
        """Keep the invoice or contract at its last good state and report it; its later events wait for a
        rebuild (applying them on top of a skipped one would show a state that never existed)."""
        kind = type(event).__name__
        log.error(
            "invoice read model: %s of %s %s (position %s) failed: %r; held",
            kind,
            kind_of(event),
            key,
            position,
            error,
            exc_info=error,
        )
        tx.execute(
            f"INSERT INTO {self.prefix}_held (aggregate_id, kind, cfa_siret, position, event_type, error, held_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                key,
                kind_of(event),
                _cfa_of(memo, event),
                position,
                kind,
                repr(error)[:1000],
                time.time(),
            ),
        )

    def prune(self, keep_after_position: int) -> int:
        """Delete the versions a walk can no longer need (temporal_versions.prune); the number deleted."""
        return temporal_versions.prune(self._store, self.prefix, self._versions, keep_after_position)

    # -- reading ------------------------------------------------------------------------------------------------

    def position(self, application_name: str) -> int:
        return tracking.read_position(self._store, self.prefix, application_name)

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
        items = [_decode(row[3:]) for row in rows if row[3] is not None]
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
        return [_decode(row) for row in invoices], [_decode_echeance(row) for row in echeances]

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
        return [_decode(row) for row in rows]

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
        return [_decode_echeance(row) for row in rows]


# -- rebuilding -----------------------------------------------------------------------------------------------


def build_next(store: SqlStore, app: Application[UUID], batch_size: int = 1000) -> SqlInvoiceStatusView:
    """Project the whole log into fresh `invoice_status_next_*` tables (left-overs of a crashed rebuild dropped
    first), up to the head; the live tables keep answering meanwhile."""
    store.create(tracking.DDL)
    with store.transaction() as tx:
        drop_tables(tx, NEXT)
        tx.execute("DELETE FROM projection_tracking WHERE projection = %s", (NEXT,))
    view = SqlInvoiceStatusView(store, NEXT)
    ProjectionRunner(app, NEXT, TOPICS, view.apply, lambda: view.position(app.name), batch_size).catch_up()
    return view


def swap_in(store: SqlStore) -> SqlInvoiceStatusView:
    """In one transaction: the rebuilt tables and position replace the live ones. The tracking row is moved
    first: a live batch in flight either committed before (and is dropped with the old tables) or finds the
    position moved and is refused, to be read again from the rebuilt position."""
    with store.transaction() as tx:
        tx.execute("DELETE FROM projection_tracking WHERE projection = %s", (LIVE,))
        tx.execute("UPDATE projection_tracking SET projection = %s WHERE projection = %s", (LIVE, NEXT))
        drop_tables(tx, LIVE)
        rename_tables(tx, store.dialect, NEXT, LIVE)
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


def _version_records(versions: dict[str, list[InvoiceRow]]) -> Iterator[dict[str, Any]]:
    for rows in versions.values():
        for row, following in zip(rows, [*rows[1:], None], strict=True):
            record = dict(zip(INVOICE_COLUMNS, _encode(row), strict=True))
            record["valid_to"] = following.position if following is not None else None
            yield record


def _encode(row: InvoiceRow) -> tuple[Any, ...]:
    return (
        str(row.invoice_id),
        row.position,
        row.cfa_siret,
        row.opco,
        row.numero_interne_facture,
        row.invoice_date.isoformat(),
        row.state,
        cents(row.amount),
        cents(row.paid),
        row.numero_externe,
        row.opco_state,
        int(row.parked),
        row.sent_at.timestamp() if row.sent_at is not None else None,
        row.sent_on.isoformat() if row.sent_on is not None else None,
        row.line_count,
        to_json([str(ident) for ident in row.contract_ids]),
        row.created_at.timestamp(),
        row.updated_at.timestamp(),
    )


def _decode(r: Row) -> InvoiceRow:
    return InvoiceRow(
        invoice_id=UUID(r[0]),
        position=int(r[1]),
        cfa_siret=r[2],
        opco=r[3],
        numero_interne_facture=r[4],
        invoice_date=date.fromisoformat(r[5]),
        state=r[6],
        amount=from_cents(r[7]),
        paid=from_cents(r[8]),
        numero_externe=r[9],
        opco_state=r[10],
        parked=bool(r[11]),
        sent_at=datetime.fromtimestamp(r[12], UTC) if r[12] is not None else None,
        sent_on=date.fromisoformat(r[13]) if r[13] else None,
        line_count=int(r[14]),
        contract_ids=tuple(UUID(ident) for ident in json.loads(r[15])),
        created_at=datetime.fromtimestamp(r[16], UTC),
        updated_at=datetime.fromtimestamp(r[17], UTC),
    )


def _encode_echeance(row: EcheanceRow) -> tuple[Any, ...]:
    return (
        str(row.contract_id),
        row.numero,
        row.cfa_siret,
        row.opco,
        row.numero_interne,
        row.numero_externe,
        row.apprentice_name,
        row.employer_name,
        row.codification,
        cents(row.total),
        cents(row.settled_at_commitment),
        cents(row.invoiced),
        cents(row.paid),
        cents(row.remaining),
        row.opens_on.isoformat() if row.opens_on is not None else None,
        int(row.invoiceable),
        row.pending_invoice,
        row.updated_at.timestamp(),
        row.position,
    )


def _decode_echeance(r: Row) -> EcheanceRow:
    return EcheanceRow(
        contract_id=UUID(r[0]),
        numero=int(r[1]),
        cfa_siret=r[2],
        opco=r[3],
        numero_interne=r[4],
        numero_externe=r[5],
        apprentice_name=r[6],
        employer_name=r[7],
        codification=r[8],
        total=from_cents(r[9]),
        settled_at_commitment=from_cents(r[10]),
        invoiced=from_cents(r[11]),
        paid=from_cents(r[12]),
        remaining=from_cents(r[13]),
        opens_on=date.fromisoformat(r[14]) if r[14] else None,
        invoiceable=bool(r[15]),
        pending_invoice=r[16],
        updated_at=datetime.fromtimestamp(r[17], UTC),
        position=int(r[18]),
    )
