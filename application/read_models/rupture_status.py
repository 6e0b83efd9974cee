"""The ruptures read model: one row per contract with a rupture, for GET /ruptures, the `ruptures` of /dashboard and
the rupture items of /attention. Fed by the Termination events and the contract's traineeship; infrastructure stores
it with its tracking position in the same transaction (infrastructure/read_models/rupture_status_view.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Tracking

from application.access.access import Principal
from application.topics import stored_topics
from domain.contracts.contract import Contract
from domain.funding.dates import months_later
from domain.funding.instalments import PROOF_DEADLINE_MONTHS
from domain.ruptures.termination import Termination

DEADLINE_NEAR = timedelta(days=30)  # the last invoice's deadline shows on /attention this long before it (ours)
DEADLINE_SHOWN_AFTER = timedelta(days=30)  # …and this long after it passed

_TERMINATION_EVENTS = (
    "Declared",
    "Sent",
    "TransmissionParked",
    "TransmissionResumed",
    "RefusedOnTransmission",
    "Cancelled",
    "MarkedDeclared",
)
TOPICS = stored_topics(
    *(f"{Termination.__module__}:{Termination.__qualname__}.{name}" for name in _TERMINATION_EVENTS),
    f"{Contract.__module__}:{Contract.__qualname__}.TraineeshipRecorded",
)


@dataclass(frozen=True, slots=True)
class RuptureRow:
    contract_id: UUID
    termination_id: UUID
    cfa_siret: str
    numero_interne: str
    opco: str
    route: str
    state: str
    parked: bool
    date_effet: date
    motif: str
    inside_probation: bool
    last_invoice_by: date
    traineeship_until: date | None
    updated_at: datetime

    @property
    def waiting_for(self) -> str | None:
        if self.state == "to_declare":
            return "to_declare"
        if self.state == "refused":
            return "refused"
        return "parked" if self.parked and self.state == "submitted" else None

    def as_item(self) -> dict[str, Any]:
        return {
            "contractId": str(self.contract_id),
            "numeroInterne": self.numero_interne,
            "cfaSiret": self.cfa_siret,
            "opco": self.opco,
            "dateEffetRupture": self.date_effet.isoformat(),
            "motif": self.motif,
            "pendantPeriodeProbatoire": self.inside_probation,
            "route": self.route,
            "state": self.state,
            "waitingFor": self.waiting_for,
            "lastInvoiceBy": self.last_invoice_by.isoformat(),
            "traineeshipUntil": self.traineeship_until.isoformat() if self.traineeship_until else None,
            "updatedAt": self.updated_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class RuptureChange:
    """A new row (`row`), a change of some columns of the row of `termination_id` (None leaves one as it is), the
    row's removal, or the traineeship of `contract_id`."""

    termination_id: UUID | None = None
    contract_id: UUID | None = None
    row: RuptureRow | None = None
    state: str | None = None
    parked: bool | None = None
    removed: bool = False
    traineeship_until: date | None = None
    at: datetime | None = None


class RuptureRows(Protocol):
    def rows(self, cfa_siret: str | None, state: str | None = None, waiting: bool | None = None) -> list[RuptureRow]:
        """The ruptures of one CFA (every CFA's: None), newest rupture first."""
        ...


class RuptureStatusView(RuptureRows, Protocol):
    def apply(self, changes: Sequence[RuptureChange], tracking: Tracking, previous: int | None = None) -> None: ...

    def position(self, application_name: str) -> int: ...


def rupture_changes(event: Any) -> list[RuptureChange]:
    name, at = type(event).__name__, event.timestamp
    if name == "TraineeshipRecorded":
        return [RuptureChange(contract_id=event.originator_id, traineeship_until=event.end, at=at)]
    ident = event.originator_id
    if name == "Declared":
        return [RuptureChange(row=_new_row(event))]
    states = {"Sent": "sent", "RefusedOnTransmission": "refused", "MarkedDeclared": "declared"}
    if name in states:
        return [RuptureChange(ident, state=states[name], parked=False, at=at)]
    if name in ("TransmissionParked", "TransmissionResumed"):
        return [RuptureChange(ident, parked=name == "TransmissionParked", at=at)]
    if name == "Cancelled":
        return [RuptureChange(ident, removed=True, at=at)]
    return []


def _new_row(event: Any) -> RuptureRow:
    rupture, effet = event.rupture, date.fromisoformat(event.rupture["dateEffetRupture"])
    return RuptureRow(
        contract_id=event.contract_id,
        termination_id=event.originator_id,
        cfa_siret=event.cfa_siret,
        numero_interne=str(event.dossier["numeroInterne"]),
        opco=event.opco,
        route=event.route,
        state="to_declare" if event.route == "declaration" else "submitted",
        parked=False,
        date_effet=effet,
        motif=rupture["motif"],
        inside_probation=bool(rupture["pendantPeriodeProbatoire"]),
        last_invoice_by=months_later(effet, PROOF_DEADLINE_MONTHS),
        traineeship_until=None,
        updated_at=event.timestamp,
    )


@dataclass(frozen=True, slots=True)
class RuptureAttention:
    row: RuptureRow
    reasons: tuple[str, ...]

    def as_item(self) -> dict[str, Any]:
        return {"kind": "rupture", **self.row.as_item(), "reasons": list(self.reasons)}


class RuptureQueries:
    def __init__(self, view: RuptureRows) -> None:
        self._view = view

    def listing(self, who: Principal, state: str | None = None, waiting: bool | None = None) -> list[RuptureRow]:
        return self._view.rows(who.cfa_siret, state, waiting)

    def counts(self, who: Principal, today: date) -> dict[str, Any]:
        rows = self._view.rows(who.cfa_siret)
        by_state: dict[str, int] = {}
        for row in rows:
            by_state[row.state] = by_state.get(row.state, 0) + 1
        return {
            "total": len(rows),
            "byState": by_state,
            "waiting": sum(1 for row in rows if row.waiting_for),
            "insideProbation": sum(1 for row in rows if row.inside_probation),
            "lastInvoiceDue": sum(1 for row in rows if "last_invoice_deadline_near" in _deadline(row, today)),
        }

    def attention(self, who: Principal, today: date) -> list[RuptureAttention]:
        """What waits for a person: a declaration to file, a parked or refused rupture, the last invoice's deadline
        within 30 days (or passed within 30 days)."""
        items = []
        for row in self._view.rows(who.cfa_siret):
            reasons = (*((f"rupture_{row.waiting_for}",) if row.waiting_for else ()), *_deadline(row, today))
            if reasons:
                items.append(RuptureAttention(row, reasons))
        return sorted(items, key=lambda item: item.row.updated_at)


def _deadline(row: RuptureRow, today: date) -> tuple[str, ...]:
    if today <= row.last_invoice_by <= today + DEADLINE_NEAR:
        return ("last_invoice_deadline_near",)
    if row.last_invoice_by < today <= row.last_invoice_by + DEADLINE_SHOWN_AFTER:
        return ("last_invoice_deadline_passed",)
    return ()
