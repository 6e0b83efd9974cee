"""What the status read model answers (see application.read_models.status): list pages pinned at a log position,
the dashboard, the attention candidates, current rows, held dossiers; read from its tables (status_view.py).

A list walk is pinned at a log position `as_of` and reads the versions valid then (`valid_from <= as_of <
valid_to`), in (valid_from DESC, contract_id DESC) order: each dossier once, as it was at as_of, whatever changes
meanwhile. Old versions stay until `prune`; a walk older than the pruned horizon is refused (CursorExpired) and
must start again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from application.read_models.status import (
    ContractFilter,
    Cursor,
    Dashboard,
    HeldDossier,
    ItemPage,
    Page,
    StatusRow,
    row_from_stored,
)
from application.read_models.status_projection import ATTENTION_STATES, PENDING_STATES, CursorExpired, search_words
from infrastructure.read_models import temporal_versions
from infrastructure.read_models.amendment_status_view import NAME as AMENDMENT_STATUS
from infrastructure.read_models.rupture_status_view import NAME as RUPTURE_STATUS
from infrastructure.read_models.status_schema import SELECTED, json_rows
from infrastructure.read_models.temporal_versions import to_json
from infrastructure.store.sql_store import Row, SqlStore

_COLUMNS = ", ".join(SELECTED)
_ITEM_COLUMNS = "contract_id, valid_from, item"
_ORDER = "ORDER BY valid_from DESC, contract_id DESC"
_ATTENTION = "(state IN ('drafted', 'mandate_checked', 'submitted', 'refused') OR parked = 1)"  # = the index's
assert all(f"'{state}'" in _ATTENTION for state in ATTENTION_STATES)


class StatusReads:
    """The status read model's queries, on the tables of `prefix` (mixed into SqlStatusView)."""

    _store: SqlStore
    prefix: str
    _versions: str

    def held(self, cfa_siret: str | None) -> list[HeldDossier]:
        """Dossiers whose projection failed, oldest first: shown on /attention until a rebuild succeeds."""
        tenant, params = ("WHERE cfa_siret = %s", [cfa_siret]) if cfa_siret else ("", [])
        with self._store.reading() as tx:
            rows = tx.query(
                f"SELECT contract_id, cfa_siret, position, event_type, error FROM {self.prefix}_held {tenant}"
                " ORDER BY position",
                params,
            )
        return [HeldDossier(UUID(r[0]), r[1], int(r[2]), r[3], r[4]) for r in rows]

    def page(self, cfa_siret: str | None, where: ContractFilter, limit: int, cursor: Cursor | None) -> Page:
        """Dossiers by last change, newest first, as they were at the walk's as_of; cfa_siret None: every CFA."""
        statement, values = self._page_statement(_COLUMNS, cfa_siret, where, limit, cursor)
        with self._store.reading() as tx:
            rows, next_cursor, as_of = _paged(tx.query(statement, values), limit, cursor)
        return Page([row_from_stored(row) for row in rows], next_cursor, as_of)

    async def item_page(
        self, cfa_siret: str | None, where: ContractFilter, limit: int, cursor: Cursor | None
    ) -> ItemPage:
        """The same page, each dossier's list item as stored (JSON text), the API sends them as they are; read
        from a coroutine (SqlStore.aquery)."""
        statement, values = self._page_statement(_ITEM_COLUMNS, cfa_siret, where, limit, cursor)
        rows, next_cursor, as_of = _paged(await self._store.aquery(statement, values), limit, cursor)
        return ItemPage([row[2] for row in rows], next_cursor, as_of)

    def _page_statement(
        self, columns: str, cfa_siret: str | None, where: ContractFilter, limit: int, cursor: Cursor | None
    ) -> tuple[str, list[Any]]:
        """The page in one statement, so one snapshot and one round trip: its rows (`columns`, contract_id and
        valid_from first) and the position the walk is pinned at (see _paged).

        A first page is pinned at the view's position, read in the same statement: every current version is valid
        there and none is closed after it, so it reads the current versions only. A next page reads the versions
        valid at its as_of, with the pruned horizon: a prune that removed some of them has committed before the
        statement's snapshot, and raised the horizon in the same transaction, so the walk is refused. A rebuild
        swapped in sets the horizon at its position (it keeps no older versions); a walk pinned ahead of the view's
        position was made on the tables it replaced, before the rebuilt ones caught up: refused too."""
        head = "SELECT COALESCE(MAX(position), 0) FROM projection_tracking WHERE projection = %s"
        if cursor is None:
            pin = f"SELECT ({head}) AS pin, NULL AS head"
            pin_values: list[Any] = [self.prefix]
            rows_sql, values = self._page_sql(columns, cfa_siret, where, (), None, limit + 1)
        else:
            horizon = f"SELECT COALESCE(MAX(value), 0) FROM {self.prefix}_meta WHERE name = 'horizon'"
            pin = f"SELECT ({horizon}) AS pin, ({head}) AS head"
            pin_values = [self.prefix]
            after = (cursor.position, str(cursor.contract_id))
            rows_sql, values = self._page_sql(columns, cfa_siret, where, after, cursor.as_of, limit + 1)
        statement = (
            f"SELECT {columns}, p.pin, p.head FROM ({pin}) AS p LEFT JOIN ({rows_sql}) AS page ON 1 = 1 {_ORDER}"
        )
        return statement, [*pin_values, *values]

    def _page_sql(
        self,
        columns: str,
        cfa_siret: str | None,
        where: ContractFilter,
        after: tuple[Any, ...],
        as_of: int | None,
        fetch: int,
    ) -> tuple[str, list[Any]]:
        """Current versions (from before as_of, when given), and versions closed after as_of (a next page's): each
        a keyset scan of a partial index, limited, then merged. With states, the current versions are read once
        per state: the `states` index gives each state's rows in order, where an IN list would read and sort all
        of them."""
        branches: list[str] = []
        values: list[Any] = []

        def branch(valid: str, valid_params: tuple[Any, ...], each: ContractFilter) -> None:
            clauses, params = _filters(cfa_siret, each)
            if as_of is not None:
                clauses.append("valid_from <= %s")
                params.append(as_of)
            if after:
                clauses.append("(valid_from, contract_id) < (%s, %s)")
                params.extend(after)
            branches.append(
                f"SELECT {columns} FROM {self._versions} WHERE {valid} AND {' AND '.join(clauses)} {_ORDER} LIMIT %s"
            )
            values.extend((*valid_params, *params, fetch))

        for state in dict.fromkeys(where.states) if len(where.states) > 1 else (None,):
            branch("valid_to IS NULL", (), replace(where, states=(state,)) if state else where)
        if as_of is not None:
            branch("valid_to > %s", (as_of,), where)
        merged = " UNION ALL ".join(f"SELECT {columns} FROM ({sql}) AS b{n}" for n, sql in enumerate(branches))
        return f"SELECT {columns} FROM ({merged}) AS snapshot {_ORDER} LIMIT %s", [*values, fetch]

    def dashboard(self, cfa_siret: str | None) -> Dashboard:
        """From the counts (a few rows per CFA) and, per pending state, the oldest last change (one probe of the
        `updated` index each), with the view's position: one statement, one snapshot."""
        statement, values = self._dashboard_statement(cfa_siret)
        with self._store.reading() as tx:
            return _dashboard(tx.query(statement, values))

    async def adashboard(self, cfa_siret: str | None) -> Dashboard:
        """dashboard from a coroutine (SqlStore.aquery)."""
        return _dashboard(await self._store.aquery(*self._dashboard_statement(cfa_siret)))

    def _dashboard_statement(self, cfa_siret: str | None) -> tuple[str, list[Any]]:
        tenant, params = ("AND cfa_siret = %s", [cfa_siret]) if cfa_siret is not None else ("", [])
        oldest = " UNION ALL ".join(
            f"SELECT 'oldest', '{state}', NULL, 0, 0, NULL, (SELECT MIN(updated_at) FROM {self._versions}"
            f" WHERE valid_to IS NULL AND state = '{state}' {tenant})"
            for state in PENDING_STATES
        )
        statement = (
            "SELECT 'as_of', NULL, NULL, 0, 0, NULL,"
            " (SELECT COALESCE(MAX(position), 0) FROM projection_tracking WHERE projection = %s)"
            f" UNION ALL SELECT 'count', state, opco, dossiers, parked, committed, NULL FROM {self.prefix}_counts"
            f" WHERE dossiers > 0 {tenant} UNION ALL {oldest}"
        )
        return statement, [self.prefix, *params, *(params * len(PENDING_STATES))]

    def attention_candidates(self, cfa_siret: str | None, limit: int) -> list[StatusRow]:
        """Current rows not yet sent, refused or parked, the longest unchanged first."""
        tenant, params = ("AND cfa_siret = %s", [cfa_siret]) if cfa_siret is not None else ("", [])
        with self._store.reading() as tx:
            rows = tx.query(
                f"SELECT {_COLUMNS} FROM {self._versions} WHERE valid_to IS NULL AND {_ATTENTION} {tenant}"
                " ORDER BY updated_at, contract_id LIMIT %s",
                [*params, limit],
            )
        return [row_from_stored(row) for row in rows]

    def current_rows(self, contract_ids: Sequence[UUID]) -> list[StatusRow]:
        """The current versions of these dossiers (those that have one)."""
        if not contract_ids:
            return []
        wanted = json_rows(self._store.dialect, ("contract_id",))
        with self._store.reading() as tx:
            rows = tx.query(
                f"SELECT {_COLUMNS} FROM {self._versions} WHERE valid_to IS NULL"
                f" AND contract_id IN (SELECT contract_id FROM ({wanted}) AS k)",
                (to_json([{"contract_id": str(ident)} for ident in contract_ids]),),
            )
        return [row_from_stored(row) for row in rows]


def _filters(cfa_siret: str | None, where: ContractFilter) -> tuple[list[str], list[Any]]:
    clauses, params = temporal_versions.filters(
        cfa_siret,
        where.states,
        where.opco,
        where.parked,
        where.updated_since,
        employer_siret=where.employer_siret,
        formation_rncp=where.formation_rncp,
        origin=where.origin,
    )
    for word in search_words(where.apprentice):
        # Written in the statement, not bound: a prepared statement's generic plan cannot know how common the
        # word is, and walks the trigram index for every match (~5,000 heap rows for "mar" in a large CFA) where
        # the plan for the word itself walks the CFA's newest rows and stops at the page. Safe: letters only (no
        # quote, no wildcard); "%%" is psycopg's "%" (and on SQLite two wildcards, the same pattern).
        if not word.isalpha():
            raise ValueError(f"not a search word: {word!r}")
        clauses.append(f"apprentice_search LIKE '%% {word}%%'")
    if where.problems is not None:
        clauses.append("problem_count > 0" if where.problems else "problem_count = 0")
    if where.rupture is not None:  # the ruptures and avenants read models' current rows (they may lag a round)
        clauses.append(f"contract_id {'' if where.rupture else 'NOT '}IN (SELECT contract_id FROM {RUPTURE_STATUS})")
    if where.amendment is not None:
        clauses.append(_amendment_clause(where.amendment))
    return clauses, params


_AMENDMENT_STATES = {"pending": "('drafted', 'submitted', 'sent', 'in_review')"}


def _amendment_clause(wanted: str) -> str:
    """Contracts with an avenant in that state ("pending": not yet decided, "waiting": waiting for a person, "any"),
    or without any ("none"). `wanted` is one of the API's values, never a caller's text (written in the statement)."""
    rows = f"SELECT contract_id FROM {AMENDMENT_STATUS}"
    if wanted == "none":
        return f"contract_id NOT IN ({rows})"
    if wanted == "any":
        return f"contract_id IN ({rows})"
    if wanted == "waiting":
        return f"contract_id IN ({rows} WHERE waiting_for <> '[]')"
    if not wanted.replace("_", "").isalpha():
        raise ValueError(f"not an avenant state: {wanted!r}")
    states = _AMENDMENT_STATES.get(wanted) or f"('{wanted}')"
    return f"contract_id IN ({rows} WHERE state IN {states})"


def _paged(found: list[Row], limit: int, cursor: Cursor | None) -> tuple[list[Row], Cursor | None, int]:
    """A page statement's rows, the next page's cursor and the position the walk is pinned at."""
    pinned = int(found[0][-2])  # one row at least: the pin's, with NULLs when no version matches
    if cursor is None:
        as_of = pinned
    elif cursor.as_of < pinned:
        raise CursorExpired(f"the walk at position {cursor.as_of} is older than the pruned horizon")
    elif cursor.as_of > int(found[0][-1]):  # pinned on tables a rebuild replaced, ahead of the rebuilt ones
        raise CursorExpired(f"the walk at position {cursor.as_of} was made on tables replaced since")
    else:
        as_of = cursor.as_of
    rows = [row[:-2] for row in found if row[0] is not None]
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    next_cursor = Cursor(as_of, int(last[1]), UUID(last[0])) if last is not None else None
    return rows, next_cursor, as_of


def _dashboard(rows: list[Row]) -> Dashboard:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    oldest: dict[str, datetime] = {}
    parked = 0
    committed = Decimal(0)
    as_of = 0
    for kind, state, opco, dossiers, parked_count, committed_text, value in rows:
        if kind == "as_of":
            as_of = int(value)
        elif kind == "count":
            group = opco or "none"
            counts[state][group] = counts[state].get(group, 0) + int(dossiers)
            parked += int(parked_count)
            if state == "accepted":
                committed += Decimal(committed_text)
        elif value is not None and state in counts:
            oldest[state] = datetime.fromtimestamp(value, UTC)
    return Dashboard(counts=dict(counts), committed=committed, parked=parked, oldest_pending=oldest, as_of=as_of)
