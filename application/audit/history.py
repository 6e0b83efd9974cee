"""A dossier's history as an auditor reads it: every event in order, with who acted (application.audit.recording),
its data in plain JSON as the caller's role may see it, and what each transmission sent and the OPCO answered.

A contract's history includes its ruptures' events (each Termination, withdrawn ones too), marked `rupture: n`,
and its avenants' (each Amendment, withdrawn ones too), marked `amendment: n`, merged in the order they were
recorded."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import StoredEvent

from application.access.access import Principal
from application.access.exposure import exposed
from application.audit.actor import unknown_actor
from application.audit.moments import version_at
from application.audit.plain import plain
from application.audit.recording import ActorMapper
from application.dossiers import Dossiers
from application.errors import NotFound
from application.invoices.invoices import Invoices
from domain.amendments.amendment import amendment_id
from domain.contracts.contract import Contract
from domain.ruptures.termination import termination_id

ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic", "actor"})
# What the OPCO answered, per transmission event: the fields that say it (the others are the event's own data).
TRANSMISSION_EVENTS = {
    "TransmissionStarted": ("attempt",),
    "Sent": ("etat", "numero_externe", "opco_numero_interne", "numero_interne_document", "found_by_lookup"),
    "TransmissionFailed": ("error", "transient", "retry_at", "sent_sha256"),
    "RefusedOnTransmission": ("messages",),
    "TransmissionParked": ("reason",),
    "AnswerLost": ("error",),
}
DIGESTS = ("sent_sha256", "answer_sha256")


class History:
    def __init__(self, dossiers: Dossiers, invoices: Invoices | None = None) -> None:
        self._app = dossiers
        self._invoices = invoices

    def of_contract(self, principal: Principal, ident: UUID) -> list[dict[str, Any]]:
        contract = self._app.contract(principal, ident)
        entries = self.entries(ident, principal)
        for number in range(1, contract.ruptures_declared + 1):
            entries += [
                {**entry, "rupture": number} for entry in self.entries(termination_id(ident, number), principal)
            ]
        for number in range(1, contract.amendments_requested + 1):
            entries += [
                {**entry, "amendment": number} for entry in self.entries(amendment_id(ident, number), principal)
            ]
        return sorted(entries, key=lambda entry: entry["at"])

    def of_invoice(self, principal: Principal, ident: UUID) -> list[dict[str, Any]]:
        if self._invoices is None:
            raise NotFound("invoice", ident)
        self._invoices.invoice(principal, ident)
        return self.entries(ident, principal)

    def entries(self, ident: UUID, principal: Principal) -> list[dict[str, Any]]:
        return [history_entry(stored, self._mapper, principal) for stored in self._app.recorder.select_events(ident)]

    def contract_at(
        self, principal: Principal, ident: UUID, *, version: int | None = None, at: datetime | None = None
    ) -> Contract:
        """The dossier as it was at `version`, or at the moment `at`, replayed from its events; NotFound for a
        version it has not reached, or a moment before it existed."""
        if at is not None:
            version = version_at(self._app, ident, at)
            if version is None:
                self._app.contract(principal, ident)  # NotFound for an unknown dossier, or another CFA's
                raise NotFound(f"contract (before {at.isoformat()})", ident)
        if version is None:
            return self._app.contract(principal, ident)
        try:
            contract = self._app.repository.get(ident, version=version, projector_func=replayed)
        except AggregateNotFoundError:
            raise NotFound("contract", ident) from None
        if not isinstance(contract, Contract) or not principal.can_see(contract.cfa_siret):
            raise NotFound("contract", ident)
        if contract.version != version:
            raise NotFound(f"version {version} of contract", ident)
        return contract

    @property
    def _mapper(self) -> ActorMapper:
        mapper = self._app.mapper
        assert isinstance(mapper, ActorMapper)
        return mapper


def history_entry(stored: StoredEvent, mapper: ActorMapper, principal: Principal) -> dict[str, Any]:
    event: Any
    event, actor = mapper.with_actor(stored)
    fields = vars(event)
    kind = type(event).__name__
    data = exposed(plain({key: value for key, value in fields.items() if key not in ENVELOPE}), principal.role)
    entry: dict[str, Any] = {
        "version": event.originator_version,
        "type": kind,
        "aggregate": type(event).__qualname__.split(".")[0],
        "at": event.timestamp,
        "actor": actor or unknown_actor(fields.get("actor")),
        "data": data,
    }
    if kind in TRANSMISSION_EVENTS:
        answer = {key: data[key] for key in (*TRANSMISSION_EVENTS[kind], *DIGESTS) if key in data}
        entry["transmission"] = answer
    return entry


def replayed(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's projector without its per-event check against a runtime protocol, which costs more than the
    event itself on a replay (every event here is an aggregate event of this application's)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate
