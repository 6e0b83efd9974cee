"""The commands every aggregate sent to an OPCO shares (contracts, invoices, documents, ruptures): a failed attempt,
parking after too many, resuming by hand, the OPCO's refusal on sending; and the events of an attempt.

Each aggregate keeps its own event classes of these names (their topics are its own) and says, with
`_require_submitted(action)`, when it is waiting to be sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.errors import NotAllowedInState
from domain.opco.transmission import attempt_started, failure_recorded, parked, resumed


class TransmissionCommands:
    transmission: dict[str, Any]

    def _require_submitted(self, action: str) -> None:
        raise NotImplementedError

    def record_transmission_failure(
        self, *, error: str, transient: bool, retry_at: datetime | None, actor: str, sent_sha256: str | None = None
    ) -> None:
        """`sent_sha256`: the digest of the body the attempt sent, when it got as far as sending one."""
        self._require_submitted("record a failed sending of")
        _aggregate(self).trigger_event(
            _aggregate(self).TransmissionFailed,
            error=error,
            transient=transient,
            retry_at=retry_at,
            sent_sha256=sent_sha256,
            actor=actor,
        )

    def park_transmission(self, reason: str, actor: str) -> None:
        self._require_submitted("park")
        if not self.transmission["parked"]:
            _aggregate(self).trigger_event(_aggregate(self).TransmissionParked, reason=reason, actor=actor)

    def resume_transmission(self, actor: str) -> None:
        """Send it again, after a person looked into why it was parked."""
        self._require_submitted("retry the sending of")
        if not self.transmission["parked"]:
            raise NotAllowedInState("retry the sending of", "not parked", frozenset({"parked"}))
        _aggregate(self).trigger_event(_aggregate(self).TransmissionResumed, actor=actor)

    def record_refusal(self, messages: list[str], actor: str) -> None:
        """The OPCO refused it when it was sent (its validation), with its messages."""
        self._require_submitted("record the refusal of")
        _aggregate(self).trigger_event(_aggregate(self).RefusedOnTransmission, messages=list(messages), actor=actor)


def _aggregate(commands: TransmissionCommands) -> Any:
    """The aggregate itself, whose trigger_event and event classes the mixin cannot name in its own type."""
    return commands


class TransmissionStartedEvent(Aggregate.Event):
    """The events of those commands, whose fields and effect on `transmission` the four share; each aggregate
    subclasses them under its own names (so their topics are its own), and adds what else it keeps."""

    attempt: int
    actor: str

    def apply(self, aggregate: Any) -> None:
        attempt_started(aggregate.transmission, self.attempt, self.timestamp)


class TransmissionFailedEvent(Aggregate.Event):
    error: str
    transient: bool
    retry_at: datetime | None
    sent_sha256: str | None
    actor: str

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["sent_sha256"] = None  # the digest of what an attempt sent was not kept before version 2

    def apply(self, aggregate: Any) -> None:
        failure_recorded(aggregate.transmission, self.error, self.transient, self.retry_at, self.timestamp)


class TransmissionParkedEvent(Aggregate.Event):
    reason: str
    actor: str

    def apply(self, aggregate: Any) -> None:
        parked(aggregate.transmission, self.reason)


class TransmissionResumedEvent(Aggregate.Event):
    actor: str

    def apply(self, aggregate: Any) -> None:
        resumed(aggregate.transmission)
