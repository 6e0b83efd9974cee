"""A rupture on its way to the OPCO: an aggregate of its own, because its lifecycle (sent, lost, parked, withdrawn,
declared by hand) runs beside the contract's. The contract records the rupture's facts (domain.contracts.contract); this
aggregate records how the OPCO learns of them.

Two routes (the catalogue's `ruptures`): `api`, sent to POST /v2/dossiers/rupture/employeur exactly once, like a
dossier; `declaration`, an OPCO without that route, where the CFA files it on the OPCO's site and marks it done.
Event names follow the transmission queue's (application.opco.transmissions.QUEUE_EVENTS), so that one queue serves."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.copying import CopiedByPickle
from domain.errors import NotAllowedInState
from domain.ids import named_id
from domain.opco.transmission import attempt_ended, new_transmission
from domain.opco.transmission_commands import (
    TransmissionCommands,
    TransmissionFailedEvent,
    TransmissionParkedEvent,
    TransmissionResumedEvent,
    TransmissionStartedEvent,
)

RUPTURE_STATES = frozenset({"RUPTU", "RUPTURE"})  # the OPCO's `etat` of a broken contract: either proves arrival


class Route(StrEnum):
    API = "api"
    DECLARATION = "declaration"


class TerminationState(StrEnum):
    SUBMITTED = "submitted"  # waits to be sent (api)
    TO_DECLARE = "to_declare"  # waits for the CFA to file it on the OPCO's site (declaration)
    SENT = "sent"  # the OPCO has it
    DECLARED = "declared"  # the CFA filed it (or confirmed the OPCO has it) by hand
    REFUSED = "refused"  # the OPCO refused it when it was sent
    WITHDRAWN = "withdrawn"  # withdrawn before the OPCO received it


OPEN_STATES = frozenset({TerminationState.SUBMITTED, TerminationState.TO_DECLARE})


def termination_id(contract_id: UUID, number: int) -> UUID:
    return named_id("contracts", str(contract_id), "ruptures", str(number))


class Termination(CopiedByPickle, TransmissionCommands, Aggregate):
    @staticmethod
    def create_id(contract_id: UUID, number: int) -> UUID:
        return termination_id(contract_id, number)

    @classmethod
    def declare(
        cls,
        *,
        contract_id: UUID,
        number: int,
        cfa_siret: str,
        opco: str,
        route: Route,
        dossier: dict[str, str | None],
        rupture: dict[str, Any],
        actor: str,
    ) -> Termination:
        """`dossier`: the numbers the OPCO knows the contract by (numeroInterne, numeroExterne, numeroDeca)."""
        termination = cls(
            contract_id=contract_id,
            number=number,
            cfa_siret=cfa_siret,
            opco=opco,
            route=route.value,
            dossier=dict(dossier),
            rupture=dict(rupture),
            actor=actor,
        )
        if route is Route.API:
            termination._submission_requested(
                opco=opco, cfa_siret=cfa_siret, numero_interne=str(dossier["numeroInterne"]), actor=actor
            )
        return termination

    @event("Declared")
    def __init__(
        self,
        contract_id: UUID,
        number: int,
        cfa_siret: str,
        opco: str,
        route: str,
        dossier: dict[str, str | None],
        rupture: dict[str, Any],
        actor: str,
    ) -> None:
        self.contract_id = contract_id
        self.number = number
        self.cfa_siret = cfa_siret
        self.opco = opco
        self.route = Route(route)
        self.dossier = dossier
        self.rupture = rupture
        self.state = TerminationState.TO_DECLARE if self.route is Route.DECLARATION else TerminationState.SUBMITTED
        self.transmission = new_transmission()
        self.answer_lost = False  # an attempt may have reached the OPCO without its answer coming back
        self.opco_state: str | None = None
        self.opco_comment: str | None = None

    # -- the CFA's commands ---------------------------------------------------------------------------------

    @property
    def withdrawable(self) -> bool:
        """Only what the OPCO has surely not received: nothing in flight, no answer lost."""
        if self.state is TerminationState.TO_DECLARE:
            return True
        tx = self.transmission
        return self.state is TerminationState.SUBMITTED and tx["inFlightSince"] is None and not self.answer_lost

    def withdraw(self, reason: str | None, actor: str) -> None:
        if not self.withdrawable:
            raise NotAllowedInState(
                "withdraw the rupture of", self._shown_state(), frozenset({"not yet received by the OPCO"})
            )
        self._cancelled(reason=reason, actor=actor)

    def mark_declared(self, actor: str) -> None:
        """The CFA filed it on the OPCO's site, or checked that the OPCO has it after a lost answer."""
        if self.state is TerminationState.DECLARED:
            return
        if self.state is TerminationState.TO_DECLARE or (
            self.state is TerminationState.SUBMITTED and self.transmission["parked"]
        ):
            self._marked_declared(actor=actor)
            return
        raise NotAllowedInState("mark as declared the rupture of", self.state, frozenset({"to_declare", "parked"}))

    # -- transmission (the sender's commands, as for contracts) -------------------------------------------

    def start_transmission(self, actor: str) -> int:
        self._require_submitted("send")
        if self.transmission["parked"]:
            raise NotAllowedInState("send", "parked", frozenset({"submitted, not parked"}))
        attempt = int(self.transmission["attempts"]) + 1
        self.trigger_event(self.TransmissionStarted, attempt=attempt, actor=actor)
        return attempt

    def record_answer_lost(self, error: str, actor: str) -> None:
        """The call may have reached the OPCO (a timeout after the body left, a 5xx): a re-send could declare it
        twice, so the next attempt looks first and, unless the OPCO shows the rupture, waits for a person."""
        self._require_submitted("record a lost answer of")
        if not self.answer_lost:
            self._answer_lost(error=error, actor=actor)

    def record_sent(
        self,
        *,
        numero_externe: str | None,
        etat: str | None,
        found_by_lookup: bool,
        actor: str,
        opco_numero_interne: str | None = None,
        sent_sha256: str | None = None,
        answer_sha256: str | None = None,
    ) -> None:
        """`sent_sha256`, `answer_sha256`: the digests of the body sent and of the answer (None: found by a lookup)."""
        self._require_submitted("record the sending of")
        self.trigger_event(
            self.Sent,
            numero_externe=numero_externe,
            etat=etat,
            found_by_lookup=found_by_lookup,
            opco_numero_interne=opco_numero_interne,
            sent_sha256=sent_sha256,
            answer_sha256=answer_sha256,
            actor=actor,
        )

    # -- queries --------------------------------------------------------------------------------------------

    @property
    def waiting_for_person(self) -> str | None:
        """Why a person must act on it, or None."""
        if self.state is TerminationState.TO_DECLARE:
            return "to_declare"
        if self.state is TerminationState.REFUSED:
            return "refused"
        if self.state is TerminationState.SUBMITTED and self.transmission["parked"]:
            return "parked"
        return None

    def as_record(self) -> dict[str, Any]:
        tx = self.transmission
        return {
            "id": str(self.id),
            "route": self.route.value,
            "state": self.state.value,
            "opcoState": self.opco_state,
            "opcoComment": self.opco_comment,
            "answerLost": self.answer_lost,
            "withdrawable": self.withdrawable,
            "waitingFor": self.waiting_for_person,
            "transmission": {
                "attempts": tx["attempts"],
                "parked": tx["parked"],
                "lastError": tx["lastError"],
                "nextAttemptAt": tx["nextAttemptAt"],
                "inFlightSince": tx["inFlightSince"],
            },
        }

    def _shown_state(self) -> str:
        return "in flight or answer lost" if self.state is TerminationState.SUBMITTED else self.state.value

    def _require_submitted(self, action: str) -> None:
        if self.state is not TerminationState.SUBMITTED:
            raise NotAllowedInState(action, self.state, frozenset({TerminationState.SUBMITTED.value}))

    # -- events ---------------------------------------------------------------------------------------------

    @event("SubmissionRequested")
    def _submission_requested(self, opco: str, cfa_siret: str, numero_interne: str, actor: str) -> None:
        pass  # names the item for the transmission queue, which reads only this event

    @event("Cancelled")  # the queue's name for what leaves it unsent
    def _cancelled(self, reason: str | None, actor: str) -> None:
        self.state = TerminationState.WITHDRAWN

    @event("MarkedDeclared")
    def _marked_declared(self, actor: str) -> None:
        self.state = TerminationState.DECLARED
        self.transmission["parked"] = False

    @event("AnswerLost")
    def _answer_lost(self, error: str, actor: str) -> None:
        self.answer_lost = True

    class TransmissionStarted(TransmissionStartedEvent):
        def apply(self, aggregate: Any) -> None:
            if aggregate.transmission["inFlightSince"] is not None:
                aggregate.answer_lost = True  # the attempt before never got its outcome recorded (a crash)
            super().apply(aggregate)

    class Sent(Aggregate.Event):
        numero_externe: str | None
        etat: str | None
        found_by_lookup: bool
        opco_numero_interne: str | None
        sent_sha256: str | None
        answer_sha256: str | None
        actor: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["sent_sha256"] = state["answer_sha256"] = None  # the exchange's digests were not kept before v2

        def apply(self, aggregate: Any) -> None:
            attempt_ended(aggregate.transmission, "found" if self.found_by_lookup else "sent", self.timestamp)
            aggregate.opco_state = self.etat
            aggregate.state = TerminationState.SENT
            aggregate.answer_lost = False

    class TransmissionFailed(TransmissionFailedEvent):
        """An attempt failed; `transient`: worth another, at `retry_at`."""

    class TransmissionParked(TransmissionParkedEvent):
        """No more attempts until a person resumes them."""

    class TransmissionResumed(TransmissionResumedEvent):
        def apply(self, aggregate: Any) -> None:
            if aggregate.transmission["inFlightSince"] is not None:  # a person checked: that attempt never arrived
                attempt_ended(aggregate.transmission, "lost", self.timestamp)
            super().apply(aggregate)
            aggregate.answer_lost = False

    class RefusedOnTransmission(Aggregate.Event):
        messages: list[str]
        actor: str

        def apply(self, aggregate: Any) -> None:
            attempt_ended(aggregate.transmission, "refused", self.timestamp, "; ".join(self.messages))
            aggregate.opco_comment = "; ".join(self.messages)
            aggregate.state = TerminationState.REFUSED
