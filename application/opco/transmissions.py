"""The transmissions read model: what must be sent, and what each OPCO last said of each dossier.

The projection below decides what each event changes; infrastructure stores it (SQLite or PostgreSQL) with its
tracking position in the same transaction, so a crash never loses or doubles an update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Tracking

from application.topics import stored_topics
from domain.contracts.contract import Contract


class QueueStatus(StrEnum):
    PENDING = "pending"  # to send, from due_at on
    PARKED = "parked"  # failed too often: waits for POST /contracts/{id}/transmission/retry
    DONE = "done"  # the OPCO has it (or refused it), or the dossier was cancelled


@dataclass(frozen=True, slots=True)
class QueuedTransmission:
    contract_id: UUID
    cfa_siret: str
    opco: str
    numero_interne: str  # ours; once sent, the one the OPCO answered with (its own, where it assigns them)
    due_at: datetime


@dataclass(frozen=True, slots=True)
class RowChange:
    """One change to the row of a dossier; None leaves a column as it is."""

    contract_id: UUID
    status: QueueStatus | None = None
    due_at: datetime | None = None
    opco_state: str | None = None
    numero_interne: str | None = None  # the number the OPCO knows it by, where it answered with its own
    new_row: QueuedTransmission | None = None


class TransmissionsView(Protocol):
    def apply(self, changes: Sequence[RowChange], tracking: Tracking, previous: int | None = None) -> None:
        """Write the changes and the tracking position in one transaction (a position seen twice is refused, and
        so is a batch read from another position than `previous`, when given)."""
        ...

    def position(self, application_name: str) -> int: ...

    def due_accounts(self, now: datetime) -> list[tuple[str, str]]:
        """(cfa_siret, opco) pairs with dossiers due for sending."""
        ...

    def due(self, now: datetime, limit: int, cfa_siret: str, opco: str) -> list[QueuedTransmission]:
        """The dossiers of one CFA at one OPCO due for sending, oldest first."""
        ...

    def accounts_at_opcos(self) -> list[tuple[str, str]]:
        """(cfa_siret, opco) pairs that have dossiers at their OPCO, for the state sync."""
        ...

    def opco_states(self, cfa_siret: str, opco: str) -> dict[str, str | None]:
        """numeroInterne (the number the OPCO knows it by) → last OPCO state recorded, for the dossiers of this CFA
        at this OPCO."""
        ...

    def ids_at_opco(self, cfa_siret: str, opco: str) -> dict[str, UUID]:
        """numeroInterne (the number the OPCO knows it by) → id, for the dossiers of this CFA at this OPCO."""
        ...

    def counts(self) -> dict[str, int]: ...


# The events that move a row of the queue; contracts and invoices name them alike.
QUEUE_EVENTS = (
    "SubmissionRequested",
    "Imported",
    "Sent",
    "TransmissionFailed",
    "TransmissionParked",
    "TransmissionResumed",
    "RefusedOnTransmission",
    "OpcoStateChanged",
    "Cancelled",
)


def queue_topics(aggregate: type) -> tuple[str, ...]:
    return stored_topics(*(f"{aggregate.__module__}:{aggregate.__qualname__}.{name}" for name in QUEUE_EVENTS))


TOPICS = queue_topics(Contract)


def row_changes(event: Any) -> list[RowChange]:
    """What one dossier event changes in the transmissions read model."""
    name = type(event).__name__
    ident = event.originator_id
    if name == "SubmissionRequested":
        row = QueuedTransmission(ident, event.cfa_siret, event.opco, event.numero_interne, event.timestamp)
        return [RowChange(ident, status=QueueStatus.PENDING, due_at=event.timestamp, new_row=row)]
    if name == "Imported":  # at its OPCO already: nothing to send, its state followed by the state sync
        numero = event.opco_numero_interne or event.numero_interne
        row = QueuedTransmission(ident, event.cfa_siret, event.opco, numero, event.timestamp)
        return [
            RowChange(ident, new_row=row),
            RowChange(ident, status=QueueStatus.DONE, opco_state=event.etat or "TRANSMIS"),
        ]
    if name == "Sent":
        opco_number = getattr(event, "opco_numero_interne", None)  # the OPCO's own number, where it gave one
        return [
            RowChange(ident, status=QueueStatus.DONE, opco_state=event.etat or "TRANSMIS", numero_interne=opco_number)
        ]
    if name == "Numbered":  # invoices: the CFA's number, the one the OPCO knows it by until it gives its own
        return [RowChange(ident, numero_interne=event.numero)]
    if name == "TransmissionFailed":
        return [RowChange(ident, due_at=event.retry_at or event.timestamp)]
    if name == "TransmissionParked":
        return [RowChange(ident, status=QueueStatus.PARKED)]
    if name == "TransmissionResumed":
        return [RowChange(ident, status=QueueStatus.PENDING, due_at=event.timestamp)]
    if name == "RefusedOnTransmission":
        return [RowChange(ident, status=QueueStatus.DONE)]
    if name == "OpcoStateChanged":
        return [RowChange(ident, status=QueueStatus.DONE, opco_state=event.etat)]
    if name == "Cancelled":
        return [RowChange(ident, status=QueueStatus.DONE)]
    return []
