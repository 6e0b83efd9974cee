"""The avenants read model: one row per avenant, for GET /amendments, the `amendments` of /dashboard, the avenant items
of /attention and the `amendment` filter of GET /contracts. A batch's avenants are read at the version the batch
reaches and their rows written whole (the aggregate decides its state, the read model does not repeat its rules);
infrastructure stores them with the tracking position in the same transaction
(infrastructure/read_models/amendment_status_view.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Tracking

from application.access.access import Principal
from application.read_models.projections import Batch
from application.topics import stored_topics
from domain.amendments.amendment import OPEN, Amendment

_EVENTS = (
    "Requested",
    "MandateRecorded",
    "SubmissionRequested",
    "Cancelled",
    "Reviewed",
    "Sent",
    "TransmissionParked",
    "TransmissionResumed",
    "RefusedOnTransmission",
    "OpcoStateChanged",
)
TOPICS = stored_topics(*(f"{Amendment.__module__}:{Amendment.__qualname__}.{name}" for name in _EVENTS))
PENDING = frozenset(s.value for s in OPEN)


@dataclass(frozen=True, slots=True)
class AmendmentRow:
    amendment_id: UUID
    contract_id: UUID
    cfa_siret: str
    number: int
    type_code: int
    opco: str
    state: str
    effect_date: date | None
    waiting_for: tuple[str, ...]  # Amendment.waiting_for
    updated_at: datetime

    def as_item(self) -> dict[str, Any]:
        return {
            "contractId": str(self.contract_id),
            "number": self.number,
            "typeContratApp": self.type_code,
            "opco": self.opco,
            "state": self.state,
            "dateEffetAvenant": self.effect_date.isoformat() if self.effect_date else None,
            "waitingFor": list(self.waiting_for),
            "updatedAt": self.updated_at.isoformat(),
        }


def row_of(amendment: Amendment, at: datetime) -> AmendmentRow:
    return AmendmentRow(
        amendment_id=amendment.id,
        contract_id=amendment.contract_id,
        cfa_siret=amendment.cfa_siret,
        number=amendment.number,
        type_code=amendment.type_code,
        opco=amendment.opco,
        state=amendment.state.value,
        effect_date=amendment.effect_date,
        waiting_for=tuple(amendment.waiting_for),
        updated_at=at,
    )


def batch_rows(batch: Batch, load: Callable[[UUID, int], Amendment]) -> list[AmendmentRow]:
    """Each avenant of the batch as its last event in the batch leaves it."""
    last: dict[UUID, Any] = {}
    for _, event in batch.events:
        last[event.originator_id] = event
    return [row_of(load(ident, event.originator_version), event.timestamp) for ident, event in last.items()]


class AmendmentRows(Protocol):
    def rows(self, cfa_siret: str | None, contract_id: UUID | None = None) -> list[AmendmentRow]:
        """The avenants of one CFA (every CFA's: None), or of one contract, newest change first."""
        ...


class AmendmentStatusView(AmendmentRows, Protocol):
    def apply(self, rows: Sequence[AmendmentRow], tracking: Tracking, previous: int | None = None) -> None: ...

    def position(self, application_name: str) -> int: ...


class AmendmentQueries:
    def __init__(self, view: AmendmentRows) -> None:
        self._view = view

    def listing(self, who: Principal, state: str | None = None, waiting: bool | None = None) -> list[AmendmentRow]:
        rows = self._view.rows(who.cfa_siret)
        if state is not None:
            rows = [r for r in rows if r.state == state or (state == "pending" and r.state in PENDING)]
        return rows if waiting is None else [r for r in rows if bool(r.waiting_for) is waiting]

    def counts(self, who: Principal) -> dict[str, Any]:
        rows = self._view.rows(who.cfa_siret)
        by_state: dict[str, int] = {}
        for row in rows:
            by_state[row.state] = by_state.get(row.state, 0) + 1
        return {
            "total": len(rows),
            "byState": by_state,
            "pending": sum(1 for row in rows if row.state in PENDING),
            "waiting": sum(1 for row in rows if row.waiting_for),
            "opcoChanges": sum(1 for row in rows if "opco_change" in row.waiting_for),
            "echeancesToRecheck": sum(1 for row in rows if "echeances_to_recheck" in row.waiting_for),
        }

    def attention(self, who: Principal) -> list[dict[str, Any]]:
        """What waits for a person: a refused or parked avenant, échéances to re-check, an OPCO change."""
        rows = sorted((r for r in self._view.rows(who.cfa_siret) if r.waiting_for), key=lambda r: r.updated_at)
        return [
            {"kind": "amendment", **row.as_item(), "reasons": [f"amendment_{w}" for w in row.waiting_for]}
            for row in rows
        ]
