"""What a CFA front-end asks of the invoices' read model: pages, the dashboard's figures, and what needs a human."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from application.access.access import Principal
from application.ports import Clock
from application.read_models.invoice_status import (
    AWAITING_PAYMENT_STATES,
    EcheanceRow,
    InvoiceAttentionItem,
    InvoiceCursor,
    InvoiceDashboard,
    InvoiceFilter,
    InvoicePage,
    InvoiceRow,
    InvoiceStatusView,
    ViewBehind,
)
from application.read_models.projections import wait_for_position

PAYMENT_DAYS = 30  # the legal payment delay (Code de commerce L441-10, as applied to the OPCOs' invoices)


@dataclass(frozen=True, slots=True)
class InvoiceAttentionPolicy:
    echeance_days: int = 30  # an échéance open for more than this many days and not invoiced needs a human
    payment_days: int = PAYMENT_DAYS  # an invoice sent more than this many days ago and not paid in full too
    limit: int = 500  # of each kind


class InvoiceStatusQueries:
    def __init__(
        self,
        view: InvoiceStatusView,
        clock: Clock,
        app_name: str,
        policy: InvoiceAttentionPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._view = view
        self._clock = clock
        self._app_name = app_name
        self.policy = policy or InvoiceAttentionPolicy()
        self._sleep = sleep

    def page(
        self,
        principal: Principal,
        where: InvoiceFilter,
        limit: int,
        cursor: InvoiceCursor | None,
        cfa_siret: str | None = None,
        behind_timeout: float = 2.0,
    ) -> InvoicePage:
        """A CFA's invoices; the operator's, of every CFA or of `cfa_siret`. A CFA naming another CFA sees nothing.
        A walk pinned past a view rebuilt meanwhile waits for it (ViewBehind after `behind_timeout` seconds)."""
        tenant = self._tenant(principal, cfa_siret)
        try:
            return self._view.page(tenant, where, limit, cursor)
        except ViewBehind:
            if cursor is None or not self.wait_for(cursor.as_of, behind_timeout):
                raise
            return self._view.page(tenant, where, limit, cursor)

    def dashboard(self, principal: Principal, cfa_siret: str | None = None) -> InvoiceDashboard:
        """Invoiced, paid, unpaid, overdue (awaiting payment, sent more than the payment delay ago), parked, and
        the open échéances not invoiced yet."""
        return self._view.dashboard(*self._dashboard_scope(principal, cfa_siret))

    async def adashboard(self, principal: Principal, cfa_siret: str | None = None) -> InvoiceDashboard:
        """dashboard, from a coroutine without blocking its event loop."""
        return await self._view.adashboard(*self._dashboard_scope(principal, cfa_siret))

    def _dashboard_scope(self, principal: Principal, cfa_siret: str | None) -> tuple[str | None, date, date]:
        """Whose rows, overdue if sent before which day, échéances open on which day (today)."""
        today = self._clock.today()
        return self._tenant(principal, cfa_siret), self._overdue_before(today), today

    def attention(self, principal: Principal, cfa_siret: str | None = None) -> list[InvoiceAttentionItem]:
        """Invoices refused, parked, or unpaid past the payment delay; échéances open for more than the policy's
        days and not invoiced; and invoices or contracts the read model could not follow (projection_error)."""
        today = self._clock.today()
        tenant = self._tenant(principal, cfa_siret)
        opened_before = today - timedelta(days=self.policy.echeance_days)
        invoices, echeances = self._view.attention_candidates(
            tenant, self._overdue_before(today), opened_before, self.policy.limit
        )
        items = [InvoiceAttentionItem("invoice", self._invoice_reasons(row, today), invoice=row) for row in invoices]
        items.extend(InvoiceAttentionItem("echeance", ("echeance_not_invoiced",), echeance=e) for e in echeances)
        return self._with_held(tenant, items)

    def position(self) -> int:
        return self._view.position(self._app_name)

    def wait_for(self, position: int, timeout: float) -> bool:
        """Read-your-writes: True once the read model has reached `position`, False after `timeout` seconds."""
        return wait_for_position(self.position, position, timeout, self._sleep)

    # -- internals ------------------------------------------------------------------------------------------

    def _overdue_before(self, today: date) -> date:
        """Sent before this day: more than the payment delay ago (sent exactly `payment_days` ago is not late)."""
        return today - timedelta(days=self.policy.payment_days)

    def _invoice_reasons(self, row: InvoiceRow, today: date) -> tuple[str, ...]:
        reasons = []
        if row.state == "refused":
            reasons.append("invoice_refused")
        if row.parked:
            reasons.append("invoice_parked")
        late = row.sent_on is not None and row.sent_on < self._overdue_before(today)
        if row.state in AWAITING_PAYMENT_STATES and late:
            reasons.append("invoice_unpaid")
        return tuple(reasons)

    def _with_held(self, tenant: str | None, items: list[InvoiceAttentionItem]) -> list[InvoiceAttentionItem]:
        """Held invoices and the échéances of held contracts, shown as last projected, with why they stopped."""
        held = self._view.held(tenant)
        if not held:
            return items
        by_invoice = {item.invoice.invoice_id: n for n, item in enumerate(items) if item.invoice is not None}
        held_invoices = [h.aggregate_id for h in held if h.kind == "invoice"]
        for row in self._view.current_invoices(held_invoices):
            known = by_invoice.get(row.invoice_id)
            if known is None:
                items.append(InvoiceAttentionItem("invoice", ("projection_error",), invoice=row))
            else:
                items[known] = InvoiceAttentionItem("invoice", (*items[known].reasons, "projection_error"), invoice=row)
        by_echeance = {_key(item.echeance): n for n, item in enumerate(items) if item.echeance is not None}
        held_contracts = [h.aggregate_id for h in held if h.kind == "contract"]
        for echeance in self._view.echeances(held_contracts):
            known = by_echeance.get(_key(echeance))
            if known is None:
                items.append(InvoiceAttentionItem("echeance", ("projection_error",), echeance=echeance))
            else:
                reasons = (*items[known].reasons, "projection_error")
                items[known] = InvoiceAttentionItem("echeance", reasons, echeance=echeance)
        return items

    @staticmethod
    def _tenant(principal: Principal, cfa_siret: str | None) -> str | None:
        """Whose rows: a CFA's own (another CFA's SIRET: nobody's), or the operator's choice (None: everyone)."""
        if principal.cfa_siret is None:
            return cfa_siret
        if cfa_siret is not None and cfa_siret != principal.cfa_siret:
            return NOBODY
        return principal.cfa_siret


NOBODY = "-"  # no CFA has this SIRET: a CFA that names another one sees nothing


def _key(echeance: EcheanceRow) -> tuple[object, int]:
    return echeance.contract_id, echeance.numero
