"""One document sent to an OPCO (a convention, a certificat de réalisation): an event-sourced aggregate.

Its content stays in the document store, named by its SHA-256 (domain.documents). Its transmission lives like a
contract's or an invoice's, with the same event names (SubmissionRequested, TransmissionStarted, Sent, …), so that
one transmission queue and the Sender carry it. One thing differs: no route is known to look a document up at the
OPCO. So an attempt whose answer was lost (it may have reached the OPCO) is never sent again by itself: the
document is parked, and a person checks at the OPCO, then resumes it (send again) or marks it received."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.copying import CopiedByPickle
from domain.documents import DocumentRef
from domain.errors import NotAllowedInState
from domain.ids import named_id
from domain.opco.opco_documents.kinds import DocumentKind
from domain.opco.transmission import attempt_ended, new_transmission
from domain.opco.transmission_commands import (
    TransmissionCommands,
    TransmissionFailedEvent,
    TransmissionParkedEvent,
    TransmissionResumedEvent,
    TransmissionStartedEvent,
)

UNCONFIRMED = "unconfirmed"  # the outcome of an attempt whose answer never came


class DocumentState(StrEnum):
    WAITING = "waiting"  # kept, not submitted: `waiting_reason` says why (the contract not at its OPCO, no route)
    SUBMITTED = "submitted"  # queued for sending (or parked)
    SENT = "sent"  # the OPCO took it (its answer kept), or a person found it there
    REFUSED = "refused"  # the OPCO refused it: upload a corrected one


def document_id(contract_id: UUID, kind: DocumentKind | str, digest: str) -> UUID:
    """The same file of the same kind for the same contract is one document: uploading it again changes nothing."""
    return named_id("contracts", str(contract_id), "documents", str(kind), digest)


def lost_answer_reason(attempt: int) -> str:
    return (
        f"the answer to attempt {attempt} was lost: the OPCO may have received the document, and no lookup of"
        " documents is known. Check at the OPCO (its extranet), then either resume the sending (POST"
        " …/transmission/retry) if it is not there, or mark it received (POST …/receipt)"
    )


class OpcoDocument(CopiedByPickle, TransmissionCommands, Aggregate):
    @staticmethod
    def create_id(contract_id: UUID, kind: str, digest: str) -> UUID:
        return document_id(contract_id, kind, digest)

    @classmethod
    def keep(
        cls,
        *,
        contract_id: UUID,
        cfa_siret: str,
        kind: DocumentKind,
        ref: DocumentRef,
        file_name: str | None,
        details: dict[str, Any],
        actor: str,
    ) -> OpcoDocument:
        return cls(
            contract_id=contract_id,
            cfa_siret=cfa_siret,
            kind=kind.value,
            digest=ref.digest,
            size=ref.size,
            media_type=ref.media_type.value,
            file_name=file_name,
            details=details,
            actor=actor,
        )

    @event("Kept")
    def __init__(
        self,
        contract_id: UUID,
        cfa_siret: str,
        kind: str,
        digest: str,
        size: int,
        media_type: str,
        file_name: str | None,
        details: dict[str, Any],
        actor: str,
    ) -> None:
        self.contract_id = contract_id
        self.cfa_siret = cfa_siret
        self.kind = kind
        self.digest = digest
        self.size = size
        self.media_type = media_type
        self.file_name = file_name
        self.details = details  # what the wire needs besides the dossier: numeroInterneFacture, échéance, …
        self.state = DocumentState.WAITING
        self.waiting_reason: str | None = None
        self.opco: str | None = None
        self.route: str | None = None
        self.objects: list[dict[str, str]] = []  # [{typeObjet, idObjet}] as decided at submission
        self.reference: str | None = None  # the queue's numeroInterne for it
        self.transmission = new_transmission()
        self.answer_lost = False  # an attempt may have reached the OPCO without our knowing
        self.opco_answer: dict[str, Any] | None = None
        self.received_confirmed_by: str | None = None
        self.opco_comment: str | None = None

    @property
    def document_kind(self) -> DocumentKind:
        return DocumentKind(self.kind)

    @property
    def unconfirmed_attempt(self) -> bool:
        """An attempt may have reached the OPCO: its answer was lost, or it never ended (a crash)."""
        history = self.transmission["history"]
        return self.answer_lost or bool(history and history[-1]["outcome"] is None)

    # -- the CFA's commands ---------------------------------------------------------------------------------

    def wait(self, reason: str, actor: str) -> None:
        self._require_state("hold", frozenset({DocumentState.WAITING}))
        if reason != self.waiting_reason:
            self._held(reason=reason, actor=actor)

    def submit(self, *, opco: str, route: str, objects: list[dict[str, str]], reference: str, actor: str) -> None:
        self._require_state("submit", frozenset({DocumentState.WAITING, DocumentState.REFUSED}))
        self._submission_requested(
            opco=opco,
            cfa_siret=self.cfa_siret,
            numero_interne=reference,
            route=route,
            objects=objects,
            actor=actor,
        )

    def confirm_received(self, actor: str) -> None:
        """A person found it at the OPCO (after a lost answer): recorded as sent, never sent again."""
        self._require_state("mark as received", frozenset({DocumentState.SUBMITTED}))
        self.trigger_event(self.Sent, answer=None, etat=None, found_by_lookup=True, actor=actor)

    # -- transmission and the OPCO's answers ------------------------------------------------------------

    def start_transmission(self, actor: str) -> int:
        self._require_state("send", frozenset({DocumentState.SUBMITTED}))
        if self.transmission["parked"]:
            raise NotAllowedInState("send", "parked", frozenset({"submitted, not parked"}))
        attempt = int(self.transmission["attempts"]) + 1
        self.trigger_event(self.TransmissionStarted, attempt=attempt, actor=actor)
        return attempt

    def record_sent(self, *, answer: dict[str, Any], etat: str | None, actor: str) -> None:
        self._require_state("record the sending of", frozenset({DocumentState.SUBMITTED}))
        self.trigger_event(self.Sent, answer=answer, etat=etat, found_by_lookup=False, actor=actor)

    def record_answer_lost(self, error: str, actor: str) -> None:
        """The exchange broke after the document left: it may be at the OPCO. Parked at the next round."""
        self._require_state("record a lost answer of", frozenset({DocumentState.SUBMITTED}))
        if not self.answer_lost:
            self.trigger_event(self.AnswerLost, error=error, actor=actor)

    def park_unconfirmed(self, actor: str) -> None:
        self.park_transmission(lost_answer_reason(int(self.transmission["attempts"])), actor)

    def _require_submitted(self, action: str) -> None:
        self._require_state(action, frozenset({DocumentState.SUBMITTED}))

    # -- events ---------------------------------------------------------------------------------------------

    @event("Held")
    def _held(self, reason: str, actor: str) -> None:
        self.waiting_reason = reason

    @event("SubmissionRequested")
    def _submission_requested(
        self, opco: str, cfa_siret: str, numero_interne: str, route: str, objects: list[dict[str, str]], actor: str
    ) -> None:
        # named like the contract's, so that the transmission queue reads it (numero_interne: the document's reference)
        self.state = DocumentState.SUBMITTED
        self.waiting_reason = None
        self.opco = opco
        self.route = route
        self.objects = objects
        self.reference = numero_interne

    def _require_state(self, action: str, allowed: frozenset[DocumentState]) -> None:
        if self.state not in allowed:
            raise NotAllowedInState(action, self.state, frozenset(s.value for s in allowed))

    class TransmissionStarted(TransmissionStartedEvent):
        """An attempt to send it began."""

    class Sent(Aggregate.Event):
        answer: dict[str, Any] | None  # the OPCO's identifiers of the document, as it answered
        etat: str | None
        found_by_lookup: bool  # True: a person found it at the OPCO (no lookup route exists)
        actor: str

        def apply(self, aggregate: Any) -> None:
            outcome = "found" if self.found_by_lookup else "sent"
            if aggregate.transmission["history"] and aggregate.transmission["history"][-1]["outcome"] is None:
                attempt_ended(aggregate.transmission, outcome, self.timestamp)
            else:
                aggregate.transmission.update(lastError=None, nextAttemptAt=None, inFlightSince=None)
            aggregate.transmission["parked"] = False
            aggregate.opco_answer = self.answer
            aggregate.answer_lost = False
            aggregate.received_confirmed_by = self.actor if self.found_by_lookup else None
            aggregate.state = DocumentState.SENT

    class AnswerLost(Aggregate.Event):
        error: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.answer_lost = True

    class TransmissionFailed(TransmissionFailedEvent):
        """An attempt failed; `transient`: worth another, at `retry_at`."""

    class TransmissionParked(TransmissionParkedEvent):
        def apply(self, aggregate: Any) -> None:
            history = aggregate.transmission["history"]
            if history and history[-1]["outcome"] is None:  # a crashed attempt: its outcome will never come
                attempt_ended(aggregate.transmission, UNCONFIRMED, self.timestamp)
            super().apply(aggregate)
            aggregate.transmission["parkedReason"] = self.reason

    class TransmissionResumed(TransmissionResumedEvent):
        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.transmission["parkedReason"] = None
            aggregate.answer_lost = False  # a person checked: the OPCO does not have it

    class RefusedOnTransmission(Aggregate.Event):
        messages: list[str]
        actor: str

        def apply(self, aggregate: Any) -> None:
            attempt_ended(aggregate.transmission, "refused", self.timestamp, "; ".join(self.messages))
            aggregate.opco_comment = "; ".join(self.messages)
            aggregate.state = DocumentState.REFUSED
