"""An avenant of an accepted contract: an aggregate of its own, drafted with its changes and the amended Cerfa, signed
(the employer's mandate), submitted, sent to the OPCO as a dossier of type 31–38 (`POST /dossiers`, opco-wire.md §2)
exactly once, and followed until the OPCO accepts or refuses it. The contract records that it asked for it
(domain.contracts.contract: `AmendmentRequested`, which moves the contract's version, for If-Match).

The OPCO's answer may take either shape (opco-wire.md §2.5, unknown): a NEW dossier (its own numeroExterne, a
numeroDeca with a noAvenant), followed by its own numbers like any dossier; or the FIRST dossier UPDATED (the answer
names the contract's numeroExterne), whose state then speaks for the avenant once it has left ENGAGE and come back.
Event names follow the transmission queue's (application.opco.transmissions.QUEUE_EVENTS), so one queue serves."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.copying import CopiedByPickle
from domain.errors import InvalidValue, NotAllowedInState, SubmissionBlocked
from domain.ids import named_id
from domain.opco.transmission import attempt_ended, new_transmission
from domain.opco.transmission_commands import (
    TransmissionCommands,
    TransmissionFailedEvent,
    TransmissionParkedEvent,
    TransmissionResumedEvent,
    TransmissionStartedEvent,
)
from domain.problems import Problem


class AmendmentState(StrEnum):
    DRAFTED = "drafted"  # its problems, or the mandate, keep it here
    SUBMITTED = "submitted"  # waits to be sent
    SENT = "sent"  # the OPCO has it (TRANSMIS)
    IN_REVIEW = "in_review"
    ACCEPTED = "accepted"  # in effect from its dateEffetAvenant
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"  # withdrawn before it left


class AnswerShape(StrEnum):
    NEW_DOSSIER = "new_dossier"  # the OPCO answered with a dossier of its own (new numbers)
    UPDATES_FIRST = "updates_first"  # the OPCO answered with the contract's own dossier


OPCO_ETATS = {
    "TRANSMIS": AmendmentState.SENT,
    "EN_COURS_INSTRUCTION": AmendmentState.IN_REVIEW,
    "ENGAGE": AmendmentState.ACCEPTED,
    "REFUSE": AmendmentState.REFUSED,
    "ANNULE": AmendmentState.REFUSED,
}
ANSWERED = frozenset({AmendmentState.SENT, AmendmentState.IN_REVIEW})
OPEN = frozenset({AmendmentState.DRAFTED, AmendmentState.SUBMITTED, *ANSWERED})


def amendment_id(contract_id: UUID, number: int) -> UUID:
    return named_id("contracts", str(contract_id), "amendments", str(number))


class Amendment(CopiedByPickle, TransmissionCommands, Aggregate):
    @staticmethod
    def create_id(contract_id: UUID, number: int) -> UUID:
        return amendment_id(contract_id, number)

    @event("Requested")
    def __init__(
        self,
        contract_id: UUID,
        number: int,
        cfa_siret: str,
        opco: str,
        numero_interne: str,
        type_code: int,
        effect_date: date | None,
        changes: dict[str, Any],
        cerfa: dict[str, Any],
        dossier: dict[str, str | None],
        effects: dict[str, Any],
        actor: str,
    ) -> None:
        """`cerfa`: the amended Cerfa as it goes to the OPCO; `dossier`: the contract's numbers at its OPCO;
        `effects`: {funding, opcoChange} (domain.amendments.amendment_effects), or None each."""
        self.contract_id = contract_id
        self.number = number
        self.cfa_siret = cfa_siret
        self.opco = opco
        self.numero_interne = numero_interne
        self.type_code = type_code
        self.effect_date = effect_date
        self.changes = changes
        self.cerfa = cerfa
        self.dossier = dossier
        self.effects = effects
        self.state = AmendmentState.DRAFTED
        self.mandate: dict[str, Any] | None = None
        self.transmission = new_transmission()
        self.answer_shape: AnswerShape | None = None
        self.opco_state: str | None = None
        self.opco_comment: str | None = None
        self.numero_externe: str | None = None
        self.numero_deca: str | None = None
        self.no_avenant: str | None = None
        self.left_engage = False  # UPDATES_FIRST: the dossier showed another state since the avenant was sent
        self.decided_on: date | None = None
        self.reviewed = False

    # -- the CFA's commands ---------------------------------------------------------------------------------

    def record_mandate(self, signed_on: date, signatory: dict[str, str], actor: str, today: date) -> None:
        mandate = {"signedOn": signed_on.isoformat(), "signatory": dict(signatory)}
        if self.mandate == mandate:
            return
        self._require(frozenset({AmendmentState.DRAFTED}), "record the mandate of")
        if signed_on > today:
            raise InvalidValue("signedOn", "in_future", f"the mandate cannot be signed in the future ({signed_on})")
        self._mandate_recorded(signed_on=signed_on.isoformat(), signatory=dict(signatory), actor=actor)

    def submit(self, problems: list[Problem], actor: str) -> None:
        """`problems`: the Cerfa's rules on the amended contract (application); the mandate is the avenant's own."""
        self._require(frozenset({AmendmentState.DRAFTED}), "submit")
        blocking = [*problems, *self.own_problems]
        if blocking:
            raise SubmissionBlocked(blocking)
        self._submission_requested(
            opco=self.opco, cfa_siret=self.cfa_siret, numero_interne=self.numero_interne, actor=actor
        )

    @property
    def own_problems(self) -> list[Problem]:
        if self.mandate is not None:
            return []
        message = "no employer mandate for this avenant: the employer signs it, the CFA files it for the employer"
        return [Problem("mandate", "mandate_missing", message)]

    @property
    def withdrawable(self) -> bool:
        tx = self.transmission
        return self.state is AmendmentState.DRAFTED or (
            self.state is AmendmentState.SUBMITTED and tx["attempts"] == 0 and tx["inFlightSince"] is None
        )

    def withdraw(self, reason: str | None, actor: str) -> None:
        if not self.withdrawable:
            raise NotAllowedInState("withdraw the avenant of", self.state, frozenset({"drafted", "never sent"}))
        self._cancelled(reason=reason, actor=actor)

    def mark_reviewed(self, actor: str) -> None:
        """A person re-checked the échéances and the OPCO change the avenant flagged."""
        if self.reviewed:
            return
        if not self.flags:
            raise NotAllowedInState("review the avenant of", "nothing flagged", frozenset({"flagged"}))
        self._reviewed(actor=actor)

    # -- transmission (the sender's commands, as for contracts) -------------------------------------------

    def start_transmission(self, actor: str) -> int:
        self._require_submitted("send")
        if self.transmission["parked"]:
            raise NotAllowedInState("send", "parked", frozenset({"submitted, not parked"}))
        attempt = int(self.transmission["attempts"]) + 1
        self.trigger_event(self.TransmissionStarted, attempt=attempt, actor=actor)
        return attempt

    def record_sent(
        self,
        *,
        numero_externe: str | None,
        etat: str | None,
        found_by_lookup: bool,
        opco_numero_interne: str | None,
        actor: str,
        sent_sha256: str | None = None,
        answer_sha256: str | None = None,
    ) -> None:
        """`sent_sha256` and `answer_sha256`: the digests of the body sent and of the OPCO's answer (None when found
        by a lookup), as a contract's sending records them."""
        self._require_submitted("record the sending of")
        shape = AnswerShape.NEW_DOSSIER
        if numero_externe is not None and numero_externe == self.dossier.get("numeroExterne"):
            shape = AnswerShape.UPDATES_FIRST
        self.trigger_event(
            self.Sent,
            numero_externe=numero_externe,
            etat=etat,
            found_by_lookup=found_by_lookup,
            opco_numero_interne=opco_numero_interne,
            shape=shape.value,
            sent_sha256=sent_sha256,
            answer_sha256=answer_sha256,
            actor=actor,
        )

    def record_opco_state(
        self, *, etat: str, commentaire: str | None, numero_deca: str | None, no_avenant: str | None, actor: str
    ) -> None:
        """A state the OPCO shows for the dossier that carries the avenant, read by the state sync."""
        if self.state not in ANSWERED and self.state is not AmendmentState.ACCEPTED:
            raise NotAllowedInState("record an OPCO state of the avenant of", self.state, frozenset(ANSWERED))
        known = (self.opco_state, self.opco_comment, self.numero_deca, self.no_avenant)
        if (etat, commentaire, numero_deca or self.numero_deca, no_avenant or self.no_avenant) == known:
            return
        self.trigger_event(
            self.OpcoStateChanged,
            etat=etat,
            commentaire=commentaire,
            numero_deca=numero_deca,
            no_avenant=no_avenant,
            actor=actor,
        )

    # -- queries --------------------------------------------------------------------------------------------

    @property
    def in_effect_on(self) -> date | None:
        """From when the avenant applies, once accepted: its effect date, or (38, without one) its acceptance."""
        if self.state is not AmendmentState.ACCEPTED:
            return None
        return self.effect_date or self.decided_on

    @property
    def flags(self) -> list[str]:
        """What the avenant asks a person to look at: échéances to re-check, another OPCO."""
        flags = []
        funding = self.effects.get("funding")
        if funding is not None and funding["echeancesToRecheck"]:
            flags.append("echeances_to_recheck")
        if self.effects.get("opcoChange") is not None:
            flags.append("opco_change")
        return flags

    @property
    def waiting_for(self) -> list[str]:
        """Why a person must act on it, most urgent first; empty when nothing waits."""
        reasons = []
        if self.state is AmendmentState.REFUSED:
            reasons.append("refused")
        if self.state is AmendmentState.SUBMITTED and self.transmission["parked"]:
            reasons.append("parked")
        if not self.reviewed and self.state is not AmendmentState.WITHDRAWN:
            reasons.extend(self.flags)
        return reasons

    def _require(self, states: frozenset[AmendmentState], action: str) -> None:
        if self.state not in states:
            raise NotAllowedInState(action + " an avenant of", self.state, frozenset(s.value for s in states))

    def _require_submitted(self, action: str) -> None:
        self._require(frozenset({AmendmentState.SUBMITTED}), action)

    # -- events ---------------------------------------------------------------------------------------------

    @event("MandateRecorded")
    def _mandate_recorded(self, signed_on: str, signatory: dict[str, str], actor: str) -> None:
        self.mandate = {"signedOn": signed_on, "signatory": signatory}

    @event("SubmissionRequested")
    def _submission_requested(self, opco: str, cfa_siret: str, numero_interne: str, actor: str) -> None:
        self.state = AmendmentState.SUBMITTED

    @event("Cancelled")  # the queue's name for what leaves it unsent
    def _cancelled(self, reason: str | None, actor: str) -> None:
        self.state = AmendmentState.WITHDRAWN

    @event("Reviewed")
    def _reviewed(self, actor: str) -> None:
        self.reviewed = True

    class TransmissionStarted(TransmissionStartedEvent):
        """An attempt begins; recorded before the call."""

    class Sent(Aggregate.Event):
        numero_externe: str | None
        etat: str | None
        found_by_lookup: bool
        opco_numero_interne: str | None
        shape: str
        actor: str
        sent_sha256: str | None = None
        answer_sha256: str | None = None

        def apply(self, aggregate: Any) -> None:
            attempt_ended(aggregate.transmission, "found" if self.found_by_lookup else "sent", self.timestamp)
            aggregate.answer_shape = AnswerShape(self.shape)
            aggregate.numero_externe = self.numero_externe
            aggregate.opco_state = self.etat
            aggregate.state = AmendmentState.SENT
            if aggregate.answer_shape is AnswerShape.NEW_DOSSIER and self.etat in OPCO_ETATS:
                _move(aggregate, self.etat, self.timestamp.date())

    class TransmissionFailed(TransmissionFailedEvent):
        """An attempt failed; `transient`: worth another, at `retry_at`."""

    class TransmissionParked(TransmissionParkedEvent):
        """No more attempts until a person resumes them."""

    class TransmissionResumed(TransmissionResumedEvent):
        """A person asked for another attempt."""

    class RefusedOnTransmission(Aggregate.Event):
        messages: list[str]
        actor: str

        def apply(self, aggregate: Any) -> None:
            attempt_ended(aggregate.transmission, "refused", self.timestamp, "; ".join(self.messages))
            aggregate.opco_comment = "; ".join(self.messages)
            aggregate.state = AmendmentState.REFUSED
            aggregate.decided_on = self.timestamp.date()

    class OpcoStateChanged(Aggregate.Event):
        etat: str
        commentaire: str | None
        numero_deca: str | None
        no_avenant: str | None
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.opco_state = self.etat
            aggregate.opco_comment = self.commentaire
            aggregate.numero_deca = self.numero_deca or aggregate.numero_deca
            aggregate.no_avenant = self.no_avenant or aggregate.no_avenant
            if aggregate.answer_shape is AnswerShape.UPDATES_FIRST and self.etat == "ENGAGE":
                if not aggregate.left_engage:
                    return  # the first dossier still shows its own acceptance, not the avenant's
            elif aggregate.answer_shape is AnswerShape.UPDATES_FIRST:
                aggregate.left_engage = True
            _move(aggregate, self.etat, self.timestamp.date())


def _move(amendment: Any, etat: str, on: date) -> None:
    """The avenant's state by the OPCO's etat; an unknown etat leaves it as it is (kept verbatim in opco_state)."""
    if amendment.state is AmendmentState.ACCEPTED:
        return  # accepted is final: a later state of the dossier is the contract's, not the avenant's
    state = OPCO_ETATS.get(etat)
    if state is None:
        return
    amendment.state = state
    if state in (AmendmentState.ACCEPTED, AmendmentState.REFUSED):
        amendment.decided_on = on
