"""What a CFA front-end asks of the status read model: pages, counts, and the dossiers that need a human."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from application.access.access import Principal
from application.opco.opco_accounts import OpcoAccounts
from application.ports import Clock
from application.read_models.projections import wait_for_position
from application.read_models.status import (
    AttentionItem,
    ContractFilter,
    Cursor,
    Dashboard,
    ItemPage,
    Page,
    StatusRow,
    StatusView,
)
from domain.contracts.deadlines import add_working_days, deposit_deadline
from domain.opco.opcos import Opco

NOT_YET_SENT = frozenset({"drafted", "mandate_checked", "submitted"})
KEY_CACHE_SECONDS = 5.0  # how long the dashboard trusts that a CFA has (or lacks) a usable key at an OPCO


@dataclass(frozen=True, slots=True)
class AttentionPolicy:
    problems_after: timedelta = timedelta(days=7)  # a draft still blocked after this long needs a human
    deadline_warning_working_days: int = 2  # warn this many working days before the deposit deadline
    limit: int = 500


class StatusQueries:
    def __init__(
        self,
        view: StatusView,
        accounts: OpcoAccounts,
        clock: Clock,
        app_name: str,
        policy: AttentionPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        key_cache_seconds: float = KEY_CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._view = view
        self._accounts = accounts
        self._clock = clock
        self._app_name = app_name
        self._policy = policy or AttentionPolicy()
        self._sleep = sleep
        self._key_cache_seconds = key_cache_seconds
        self._monotonic = monotonic
        self._usable_until: dict[tuple[str, str], tuple[float, bool]] = {}

    def page(self, principal: Principal, where: ContractFilter, limit: int, cursor: Cursor | None) -> Page:
        return self._view.page(principal.cfa_siret, where, limit, cursor)

    async def item_page(
        self, principal: Principal, where: ContractFilter, limit: int, cursor: Cursor | None
    ) -> ItemPage:
        """The same page, its dossiers as the API lists them, encoded: sent as stored."""
        return await self._view.item_page(principal.cfa_siret, where, limit, cursor)

    async def dashboard(self, principal: Principal) -> Dashboard:
        """The counts, read without blocking the event loop, and the dossiers waiting for a key: the keys'
        usability, where not known from the last KEY_CACHE_SECONDS, is read in a worker thread (it reads the event
        store)."""
        board = await self._view.adashboard(principal.cfa_siret)
        cfa = principal.cfa_siret
        if cfa is not None and all(self._known(cfa, opco) for opco in board.counts.get("submitted", {})):
            return self._with_waiting(board, principal)
        return await asyncio.to_thread(self._with_waiting, board, principal)

    def _with_waiting(self, board: Dashboard, principal: Principal) -> Dashboard:
        if principal.cfa_siret is None:
            waiting = self._waiting_for_key_everywhere(principal)
        else:
            submitted = board.counts.get("submitted", {})
            waiting = sum(n for opco, n in submitted.items() if not self._usable(principal.cfa_siret, opco))
        return replace(board, extra={**board.extra, "waitingForKey": waiting})

    def attention(self, principal: Principal) -> list[AttentionItem]:
        candidates = self._view.attention_candidates(principal.cfa_siret, self._policy.limit)
        reasons_of = self._reasons_at(self._clock.now(), self._clock.today())
        items = {row.contract_id: AttentionItem(row, reasons) for row in candidates if (reasons := reasons_of(row))}
        held = [h.contract_id for h in self._view.held(principal.cfa_siret)]
        for row in self._view.current_rows(held):  # shown as last projected, with why it stopped there
            known = items.get(row.contract_id)
            items[row.contract_id] = AttentionItem(row, (*(known.reasons if known else ()), "projection_error"))
        return list(items.values())

    def position(self) -> int:
        return self._view.position(self._app_name)

    def wait_for(self, position: int, timeout: float) -> bool:
        """Read-your-writes: True once the read model has reached `position`, False after `timeout` seconds."""
        return wait_for_position(self.position, position, timeout, self._sleep)

    def _reasons_at(self, now: datetime, today: date) -> Callable[[StatusRow], tuple[str, ...]]:
        """Why a row needs a human, as of now: one clock reading for a whole list, one warning horizon per
        département (its holidays make its jours ouvrables)."""
        problems_before = now - self._policy.problems_after
        warning_days = self._policy.deadline_warning_working_days

        @functools.cache
        def warn_until(departement: str | None) -> date:
            return add_working_days(today, warning_days, departement)

        def reasons(row: StatusRow) -> tuple[str, ...]:
            found = []
            if row.problem_count and row.created_at <= problems_before:
                found.append("problems_old")
            if row.state == "drafted" and not row.has_mandate:
                found.append("no_mandate")
            if row.parked:
                found.append("parked")
            if row.state == "refused":
                found.append("refused")
            if row.state in NOT_YET_SENT and row.start_date is not None:
                deadline = deposit_deadline(row.start_date, row.workplace_departement)
                if today > deadline:
                    found.append("deposit_deadline_passed")
                elif warn_until(row.workplace_departement) >= deadline:
                    found.append("deposit_deadline_near")
            return tuple(found)

        return reasons

    def _known(self, cfa_siret: str, opco: str) -> bool:
        known = self._usable_until.get((cfa_siret, opco))
        return known is not None and known[0] > self._monotonic()

    def _usable(self, cfa_siret: str, opco: str) -> bool:
        """Whether the CFA has a usable key at the OPCO, as read at most KEY_CACHE_SECONDS ago: reading an account
        is a read of the event store, and the dashboard asks it for every OPCO its submitted dossiers go to, on
        every call (as the counts follow the log, a key set or rejected shows within that time)."""
        now = self._monotonic()
        known = self._usable_until.get((cfa_siret, opco))
        if known is not None and known[0] > now:
            return known[1]
        usable = opco in Opco.__members__ and self._accounts.usable(cfa_siret, Opco(opco))
        if len(self._usable_until) > 10_000:
            self._usable_until.clear()
        self._usable_until[(cfa_siret, opco)] = (now + self._key_cache_seconds, usable)
        return usable

    def _waiting_for_key_everywhere(self, principal: Principal) -> int:
        """For the operator: every submitted dossier, account by account (a walk of the submitted ones)."""
        where = ContractFilter(states=("submitted",))
        usable: dict[tuple[str, str], bool] = {}
        waiting, cursor = 0, None
        while True:
            page = self._view.page(principal.cfa_siret, where, 500, cursor)
            for row in page.items:
                key = (row.cfa_siret, row.opco or "")
                if key not in usable:
                    usable[key] = self._usable(*key)
                waiting += not usable[key]
            if page.next_cursor is None:
                return waiting
            cursor = page.next_cursor
