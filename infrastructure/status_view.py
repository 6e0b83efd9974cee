"""The status read model on SQLite or PostgreSQL (see application.status): a temporal table of row versions.

Every change of a dossier closes its current version (`valid_to` = the change's position) and inserts a new one
(`valid_from` = that position, `valid_to` NULL). A list walk is pinned at a log position `as_of` and reads the
versions valid then (`valid_from <= as_of < valid_to`), in (valid_from DESC, contract_id DESC) order: each dossier
once, as it was at as_of, whatever changes meanwhile. Old versions stay until `prune`; a walk older than the pruned
horizon is refused (CursorExpired) and must start again.
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

from application.projections import Batch
from application.status import ContractFilter, Cursor, Dashboard, HeldDossier, Page, StatusRow
from application.status_projection import (
    ATTENTION_STATES,
    PENDING_STATES,
    TOPICS,
    CursorExpired,
    Memo,
    project,
    search_column,
    search_words,
)
from domain.opcos import IdccRouting
from infrastructure import tracking
from infrastructure.projection_runner import ProjectionRunner
from infrastructure.sql_store import Row, SqlStore, Transaction
from infrastructure.status_schema import (
    ROW_COLUMNS,
    VERSION_COLUMNS,
    drop_tables,
    index_ddl,
    json_rows,
    rename_tables,
    table_ddl,
)

log = logging.getLogger("convergence.status")
LIVE = "status"
NEXT = "status_next"
SELECTED = tuple(c for c in ROW_COLUMNS if c != "apprentice_search")
_COLUMNS = ", ".join(SELECTED)
_ORDER = "ORDER BY valid_from DESC, contract_id DESC"
_ATTENTION = "(state IN ('drafted', 'mandate_checked', 'submitted', 'refused') OR parked = 1)"  # = the index's
assert all(f"'{state}'" in _ATTENTION for state in ATTENTION_STATES)


class SqlStatusView:
    """StatusView on a SqlStore; `table_prefix` names its tables and its tracking (projection name)."""

    def __init__(
        self, store: SqlStore, routing: IdccRouting, table_prefix: str = LIVE, *, create_indexes: bool = True
    ) -> None:
        self._store = store
        self._routing = routing
        self.prefix = table_prefix
        self._versions = f"{table_prefix}_versions"
        store.create((*tracking.DDL, *table_ddl(table_prefix), *(index_ddl(table_prefix) if create_indexes else ())))

    # -- writing ----------------------------------------------------------------------------------------------

    def apply(self, batch: Batch) -> None:
        """The whole batch and its position in one transaction; refused if the view moved since it was read."""
        with self._store.transaction() as tx:
            tracking.advance(tx, self.prefix, batch.tracking, batch.previous)
            self._write(tx, batch.events)

    def _write(self, tx: Transaction, events: Sequence[tuple[int, Any]]) -> None:
        keys = {str(event.originator_id) for _, event in events}
        memos = self._load_memos(tx, keys)
        held = self._load_held(tx, keys)
        existing = set(memos)  # a dossier with a memo has a current version
        versions: dict[str, list[StatusRow]] = defaultdict(list)
        for position, event in events:
            key = str(event.originator_id)
            if key in held:
                continue
            try:
                memo, row = project(event, memos.get(key), position, self._routing)
            except Exception as error:  # one dossier's failure must not stop the read model for every other one
                self._hold(tx, key, memos.get(key), position, event, error)
                held.add(key)
                continue
            if row is not None and memo is not None:
                memos[key] = memo
                versions[key].append(row)
        self._close(tx, {key: rows[0].position for key, rows in versions.items() if key in existing})
        self._insert(tx, self._versions, VERSION_COLUMNS, list(_version_records(versions)))
        self._save_memos(tx, [{"contract_id": key, "memo": _json(memos[key])} for key in versions])

    def _load_memos(self, tx: Transaction, keys: set[str]) -> dict[str, Memo]:
        wanted = json_rows(self._store.dialect, ("contract_id",))
        rows = tx.query(
            f"SELECT contract_id, memo FROM {self.prefix}_memo"
            f" WHERE contract_id IN (SELECT contract_id FROM ({wanted}) AS k)",
            (_json([{"contract_id": key} for key in keys]),),
        )
        return {key: json.loads(text) for key, text in rows}

    def _load_held(self, tx: Transaction, keys: set[str]) -> set[str]:
        wanted = json_rows(self._store.dialect, ("contract_id",))
        rows = tx.query(
            f"SELECT contract_id FROM {self.prefix}_held"
            f" WHERE contract_id IN (SELECT contract_id FROM ({wanted}) AS k)",
            (_json([{"contract_id": key} for key in keys]),),
        )
        return {str(r[0]) for r in rows}

    def _hold(self, tx: Transaction, key: str, memo: Memo | None, position: int, event: Any, error: Exception) -> None:
        """Keep the dossier at its last good version and report it; its later events wait for a rebuild."""
        kind = type(event).__name__
        log.error(
            "status read model: %s of dossier %s (position %s) failed: %r; dossier held",
            kind,
            key,
            position,
            error,
            exc_info=error,
        )
        tx.execute(
            f"INSERT INTO {self.prefix}_held (contract_id, cfa_siret, position, event_type, error, held_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (key, (memo or {}).get("cfa_siret"), position, kind, repr(error)[:1000], time.time()),
        )

    def held(self, cfa_siret: str | None) -> list[HeldDossier]:
        """Dossiers whose projection failed, oldest first: shown on /attention until a rebuild succeeds."""
        tenant, params = ("WHERE cfa_siret = %s", [cfa_siret]) if cfa_siret else ("", [])
        with self._store.transaction() as tx:
            rows = tx.query(
                f"SELECT contract_id, cfa_siret, position, event_type, error FROM {self.prefix}_held {tenant}"
                " ORDER BY position",
                params,
            )
        return [HeldDossier(UUID(r[0]), r[1], int(r[2]), r[3], r[4]) for r in rows]

    def _close(self, tx: Transaction, closing: dict[str, int]) -> None:
        """Close the current versions of these dossiers at the position of their first change in the batch."""
        if closing:
            ends = json_rows(self._store.dialect, ("contract_id", "valid_to"))
            tx.execute(
                f"UPDATE {self._versions} SET valid_to = x.valid_to FROM ({ends}) AS x"
                f" WHERE {self._versions}.contract_id = x.contract_id AND {self._versions}.valid_to IS NULL",
                (_json([{"contract_id": key, "valid_to": end} for key, end in closing.items()]),),
            )

    def _insert(self, tx: Transaction, table: str, columns: tuple[str, ...], records: list[dict[str, Any]]) -> None:
        if records:
            rows = json_rows(self._store.dialect, columns)
            tx.execute(f"INSERT INTO {table} ({', '.join(columns)}) {rows}", (_json(records),))

    def _save_memos(self, tx: Transaction, memos: list[dict[str, Any]]) -> None:
        if memos:
            rows = json_rows(self._store.dialect, ("contract_id", "memo"))
            tx.execute(
                f"INSERT INTO {self.prefix}_memo (contract_id, memo) {rows}"
                " ON CONFLICT (contract_id) DO UPDATE SET memo = excluded.memo",
                (_json(memos),),
            )

    def prune(self, keep_after_position: int) -> int:
        """Delete the versions closed at or before this position (never past the view's own position); walks
        pinned before it are refused from then on. The number of versions deleted."""
        with self._store.transaction() as tx:
            horizon = min(keep_after_position, _head(tx, self.prefix))
            if horizon <= _horizon(tx, self.prefix):
                return 0
            deleted = tx.execute(
                f"DELETE FROM {self._versions} WHERE valid_to IS NOT NULL AND valid_to <= %s", (horizon,)
            )
            tx.execute(
                f"INSERT INTO {self.prefix}_meta (name, value) VALUES ('horizon', %s)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (horizon,),
            )
            return deleted

    # -- reading ------------------------------------------------------------------------------------------------

    def position(self, application_name: str) -> int:
        return tracking.read_position(self._store, self.prefix, application_name)

    def page(self, cfa_siret: str | None, where: ContractFilter, limit: int, cursor: Cursor | None) -> Page:
        """Dossiers by last change, newest first, as they were at the walk's as_of; cfa_siret None: every CFA."""
        clauses, params = _filters(cfa_siret, where)
        with self._store.transaction() as tx:
            as_of = cursor.as_of if cursor is not None else _head(tx, self.prefix)
            if cursor is not None:
                clauses.append("(valid_from, contract_id) < (%s, %s)")
                params.extend((cursor.position, str(cursor.contract_id)))
            rows = tx.query(self._page_sql(" AND ".join(clauses)), _page_params(as_of, params, limit + 1))
            # read after the rows: a prune that removed some of them is seen here (it commits both at once)
            if as_of < _horizon(tx, self.prefix):
                raise CursorExpired(f"the walk at position {as_of} is older than the pruned horizon")
        items = [_decode(row) for row in rows]
        more = len(items) > limit
        items = items[:limit]
        last = items[-1] if more else None
        next_cursor = Cursor(as_of, last.position, last.contract_id) if last is not None else None
        return Page(items=items, next_cursor=next_cursor, as_of=as_of)

    def _page_sql(self, filters: str) -> str:
        """Current versions from before as_of, and versions closed after as_of: each a keyset scan of its own
        partial index, limited, then merged."""
        branch = (
            f"SELECT {_COLUMNS} FROM {self._versions} WHERE {{valid}} AND valid_from <= %s AND {filters}"
            f" {_ORDER} LIMIT %s"
        )
        current = branch.format(valid="valid_to IS NULL")
        closed = branch.format(valid="valid_to > %s")
        return (
            f"SELECT {_COLUMNS} FROM (SELECT {_COLUMNS} FROM ({current}) AS live"
            f" UNION ALL SELECT {_COLUMNS} FROM ({closed}) AS past) AS snapshot {_ORDER} LIMIT %s"
        )

    def dashboard(self, cfa_siret: str | None) -> Dashboard:
        tenant, params = ("AND cfa_siret = %s", [cfa_siret]) if cfa_siret is not None else ("", [])
        with self._store.transaction() as tx:
            groups = tx.query(
                f"SELECT state, opco, COUNT(*), SUM(parked), MIN(updated_at), {self._commitment_sum()},"
                " (SELECT COALESCE(MAX(position), 0) FROM projection_tracking WHERE projection = %s)"
                f" FROM {self._versions} WHERE valid_to IS NULL {tenant} GROUP BY state, opco",
                [self.prefix, *params],
            )
            as_of = int(groups[0][6]) if groups else _head(tx, self.prefix)
            committed = self._committed(tx, groups, tenant, params)
        return _dashboard(groups, committed, as_of)

    def _commitment_sum(self) -> str:
        """PostgreSQL sums the decimal text exactly as NUMERIC in the same statement (one snapshot); SQLite has
        no exact decimal type: its sum is done in Python (in the same transaction, which SQLite serialises)."""
        return "SUM(CAST(commitment AS NUMERIC))" if self._store.dialect == "postgresql" else "NULL"

    def _committed(self, tx: Transaction, groups: list[Row], tenant: str, params: list[Any]) -> Decimal:
        if self._store.dialect == "postgresql":
            return sum((Decimal(g[5]) for g in groups if g[0] == "accepted" and g[5] is not None), Decimal(0))
        rows = tx.query(
            f"SELECT commitment FROM {self._versions} WHERE valid_to IS NULL AND state = 'accepted'"
            f" AND commitment IS NOT NULL {tenant}",
            params,
        )
        return sum((Decimal(r[0]) for r in rows), Decimal(0))

    def attention_candidates(self, cfa_siret: str | None, limit: int) -> list[StatusRow]:
        """Current rows not yet sent, refused or parked, the longest unchanged first."""
        tenant, params = ("AND cfa_siret = %s", [cfa_siret]) if cfa_siret is not None else ("", [])
        with self._store.transaction() as tx:
            rows = tx.query(
                f"SELECT {_COLUMNS} FROM {self._versions} WHERE valid_to IS NULL AND {_ATTENTION} {tenant}"
                " ORDER BY updated_at, contract_id LIMIT %s",
                [*params, limit],
            )
        return [_decode(row) for row in rows]

    def current_rows(self, contract_ids: Sequence[UUID]) -> list[StatusRow]:
        """The current versions of these dossiers (those that have one)."""
        if not contract_ids:
            return []
        wanted = json_rows(self._store.dialect, ("contract_id",))
        with self._store.transaction() as tx:
            rows = tx.query(
                f"SELECT {_COLUMNS} FROM {self._versions} WHERE valid_to IS NULL"
                f" AND contract_id IN (SELECT contract_id FROM ({wanted}) AS k)",
                (_json([{"contract_id": str(ident)} for ident in contract_ids]),),
            )
        return [_decode(row) for row in rows]


# -- rebuilding -----------------------------------------------------------------------------------------------


def build_next(store: SqlStore, routing: IdccRouting, app: Application[UUID], batch_size: int = 1000) -> SqlStatusView:
    """Project the whole log into fresh `status_next_*` tables (left-overs of a crashed rebuild dropped first),
    up to the head; the live tables keep answering meanwhile. Indexes are built after the bulk of the rows."""
    store.create(tracking.DDL)
    with store.transaction() as tx:
        drop_tables(tx, NEXT)
        tx.execute("DELETE FROM projection_tracking WHERE projection = %s", (NEXT,))
    view = SqlStatusView(store, routing, NEXT, create_indexes=False)
    runner = ProjectionRunner(app, NEXT, TOPICS, view.apply, lambda: view.position(app.name), batch_size)
    runner.catch_up()
    if store.dialect == "postgresql":  # on SQLite they are created under their final names by the swap
        store.create((*index_ddl(NEXT), f"ANALYZE {NEXT}_versions"))
        runner.catch_up()
    return view


def swap_in(store: SqlStore, routing: IdccRouting) -> SqlStatusView:
    """In one transaction: the rebuilt tables and position replace the live ones. The tracking row is moved
    first: a live batch in flight either committed before (and is dropped with the old tables) or finds the
    position moved and is refused, to be read again from the rebuilt position."""
    with store.transaction() as tx:
        tx.execute("DELETE FROM projection_tracking WHERE projection = %s", (LIVE,))
        tx.execute("UPDATE projection_tracking SET projection = %s WHERE projection = %s", (LIVE, NEXT))
        drop_tables(tx, LIVE)
        rename_tables(tx, store.dialect, NEXT, LIVE)
    return SqlStatusView(store, routing, LIVE)


def rebuild_status_view(
    store: SqlStore, routing: IdccRouting, app: Application[UUID], batch_size: int = 1000
) -> SqlStatusView:
    build_next(store, routing, app, batch_size)
    return swap_in(store, routing)


# -- helpers ------------------------------------------------------------------------------------------------


def _head(tx: Transaction, prefix: str) -> int:
    rows = tx.query("SELECT COALESCE(MAX(position), 0) FROM projection_tracking WHERE projection = %s", (prefix,))
    return int(rows[0][0])


def _horizon(tx: Transaction, prefix: str) -> int:
    rows = tx.query(f"SELECT value FROM {prefix}_meta WHERE name = 'horizon'")
    return int(rows[0][0]) if rows else 0


def _filters(cfa_siret: str | None, where: ContractFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = ["1 = 1"]
    params: list[Any] = []

    def equal(column: str, value: Any) -> None:
        if value is not None:
            clauses.append(f"{column} = %s")
            params.append(value)

    equal("cfa_siret", cfa_siret)
    if where.states:
        clauses.append(f"state IN ({', '.join(['%s'] * len(where.states))})")
        params.extend(where.states)
    equal("opco", where.opco)
    equal("employer_siret", where.employer_siret)
    equal("formation_rncp", where.formation_rncp)
    equal("parked", None if where.parked is None else int(where.parked))
    for word in search_words(where.apprentice):  # letters only: no LIKE wildcard can come from the query
        clauses.append("apprentice_search LIKE %s")
        params.append(f"% {word}%")
    if where.updated_since is not None:
        clauses.append("updated_at >= %s")
        params.append(where.updated_since.timestamp())
    if where.problems is not None:
        clauses.append("problem_count > 0" if where.problems else "problem_count = 0")
    return clauses, params


def _page_params(as_of: int, filters: list[Any], fetch: int) -> list[Any]:
    return [as_of, *filters, fetch, as_of, as_of, *filters, fetch, fetch]


def _dashboard(groups: list[Row], committed: Decimal, as_of: int) -> Dashboard:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    oldest: dict[str, datetime] = {}
    parked = 0
    for state, opco, count, parked_count, oldest_update, *_ in groups:
        counts[state][opco or "none"] = int(count)
        parked += int(parked_count or 0)
        moment = datetime.fromtimestamp(oldest_update, UTC)
        if state in PENDING_STATES and (state not in oldest or moment < oldest[state]):
            oldest[state] = moment
    return Dashboard(counts=dict(counts), committed=committed, parked=parked, oldest_pending=oldest, as_of=as_of)


def _version_records(versions: dict[str, list[StatusRow]]) -> Iterator[dict[str, Any]]:
    for rows in versions.values():
        for row, following in zip(rows, [*rows[1:], None], strict=True):
            record = dict(zip(ROW_COLUMNS, _encode(row), strict=True))
            record["valid_to"] = following.position if following is not None else None
            yield record


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _encode(row: StatusRow) -> tuple[Any, ...]:
    return (
        str(row.contract_id),
        row.position,
        row.cfa_siret,
        row.numero_interne,
        row.state,
        row.opco,
        row.apprentice_name,
        search_column(row.apprentice_name),
        row.employer_name,
        row.employer_siret,
        row.formation_rncp,
        row.formation_title,
        _iso(row.start_date),
        _iso(row.end_date),
        row.numero_externe,
        row.numero_deca,
        row.opco_state,
        row.problem_count,
        int(row.has_mandate),
        int(row.parked),
        str(row.commitment) if row.commitment is not None else None,
        row.created_at.timestamp(),
        row.updated_at.timestamp(),
        _epoch(row.submitted_at),
        _epoch(row.sent_at),
    )


def _decode(r: Row) -> StatusRow:
    return StatusRow(
        contract_id=UUID(r[0]),
        position=int(r[1]),
        cfa_siret=r[2],
        numero_interne=r[3],
        state=r[4],
        opco=r[5],
        apprentice_name=r[6],
        employer_name=r[7],
        employer_siret=r[8],
        formation_rncp=r[9],
        formation_title=r[10],
        start_date=date.fromisoformat(r[11]) if r[11] else None,
        end_date=date.fromisoformat(r[12]) if r[12] else None,
        numero_externe=r[13],
        numero_deca=r[14],
        opco_state=r[15],
        problem_count=int(r[16]),
        has_mandate=bool(r[17]),
        parked=bool(r[18]),
        commitment=Decimal(r[19]) if r[19] is not None else None,
        created_at=datetime.fromtimestamp(r[20], UTC),
        updated_at=datetime.fromtimestamp(r[21], UTC),
        submitted_at=datetime.fromtimestamp(r[22], UTC) if r[22] is not None else None,
        sent_at=datetime.fromtimestamp(r[23], UTC) if r[23] is not None else None,
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _epoch(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None
