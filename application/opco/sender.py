"""Sends submitted dossiers and invoices to their OPCO with an exactly-once effect.

Before the call an attempt is recorded on the dossier; after it the outcome is. An attempt left without outcome
(a crash), or any earlier attempt, makes the next one look the dossier up by numeroInterne first: a re-send must
neither create a second dossier at the OPCO nor be refused as a duplicate.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from application.access.access import WORKER
from application.dossiers import Dossiers
from application.errors import ApplicationError
from application.log_context import bound
from application.opco.channels import ContractChannel, TransmissionChannel
from application.opco.opco_accounts import OpcoAccounts
from application.opco.opco_gateway import (
    KeyRejected,
    OpcoEndpoint,
    OpcoError,
    OpcoGateway,
    RefusedByOpco,
    TransientOpcoError,
)
from application.opco.transmissions import QueuedTransmission
from application.ports import Clock
from domain.errors import DomainError
from domain.opco.opcos import Opco

log = logging.getLogger("convergence.sender")
SUBMITTED = "submitted"  # the state, for contracts and invoices alike, of what waits to be sent


@dataclass(frozen=True, slots=True)
class SenderPolicy:
    max_failures: int = 8  # transient failures before the dossier is parked
    backoff_base: timedelta = timedelta(seconds=2)
    backoff_cap: timedelta = timedelta(minutes=10)
    in_flight_timeout: timedelta = timedelta(minutes=2)  # an attempt older than this without outcome was lost

    def retry_at(self, now: datetime, failures: int, retry_after: float | None, rng: random.Random) -> datetime:
        if retry_after is not None:
            return now + timedelta(seconds=retry_after)
        delay = min(self.backoff_cap, self.backoff_base * 2 ** max(0, failures - 1))
        # jitter, so that dossiers that failed together do not all come back at once
        jittered: datetime = now + delay * rng.uniform(0.5, 1.5)
        return jittered


class Sender:
    """Sends what its channel carries (contracts, or invoices) with the policy above."""

    def __init__(
        self,
        channel: TransmissionChannel,
        accounts: OpcoAccounts,
        clock: Clock,
        policy: SenderPolicy | None = None,
    ) -> None:
        self._channel = channel
        self._accounts = accounts
        self._clock = clock
        self._policy = policy or SenderPolicy()
        self._rng = random.Random()

    @classmethod
    def for_contracts(
        cls,
        dossiers: Dossiers,
        accounts: OpcoAccounts,
        gateway: OpcoGateway,
        clock: Clock,
        policy: SenderPolicy | None = None,
    ) -> Sender:
        return cls(ContractChannel(dossiers, gateway), accounts, clock, policy)

    def send(self, item: QueuedTransmission, endpoint: OpcoEndpoint) -> None:
        """One item, one attempt at most. Safe to call again at any time: it re-reads the item first. Every record
        logged meanwhile names the item (`aggregate_id`) and its OPCO."""
        with bound(aggregate_id=str(item.contract_id), opco=endpoint.opco.value):
            self._send(item, endpoint)

    def _send(self, item: QueuedTransmission, endpoint: OpcoEndpoint) -> None:
        subject = self._channel.load(item.contract_id)
        if not self._sendable(subject):
            return
        log.info(
            "sending %s %s v%d to %s (attempt %d)",
            self._channel.kind,
            subject.id,
            subject.version,
            endpoint.opco,
            int(subject.transmission["attempts"]) + 1,
            extra={"version": subject.version},
        )
        error: OpcoError | None = None
        try:
            self._attempt(subject, endpoint)
        except RefusedByOpco as refusal:
            self._refused(subject, endpoint, refusal)
        except KeyRejected as rejected:
            error = rejected
            self._key_rejected(subject, endpoint.opco, str(rejected))
        except OpcoError as failure:
            error = failure
            self._failed(subject.id, failure)
        self._accounts.contacted(subject.cfa_siret, endpoint.opco, self._clock.now(), str(error) if error else None)

    def _attempt(self, subject: Any, endpoint: OpcoEndpoint) -> None:
        if subject.transmission["attempts"] and self._found(subject, endpoint):
            return
        started = self._record_on(subject, self._channel.start(subject))
        if started is None:
            return
        self._record_on(started, self._channel.record_sent(self._channel.send(endpoint, started)))

    def _sendable(self, subject: Any) -> bool:
        tx, now = subject.transmission, self._clock.now()
        if subject.state != SUBMITTED or tx["parked"]:
            return False
        if tx["nextAttemptAt"] is not None and tx["nextAttemptAt"] > now:
            return False  # the read model has not caught up with the last failure's backoff yet
        in_flight = tx["inFlightSince"]
        return in_flight is None or now - in_flight >= self._policy.in_flight_timeout

    def _found(self, subject: Any, endpoint: OpcoEndpoint) -> bool:
        found_there = self._channel.find(endpoint, subject)
        if found_there is None:
            return False
        log.info("%s %s already at %s: recorded, not sent again", self._channel.kind, subject.id, endpoint.opco)
        self._record(subject.id, found_there)
        return True

    def _refused(self, subject: Any, endpoint: OpcoEndpoint, refusal: RefusedByOpco) -> None:
        # A refusal may be the OPCO's "already have it" for an attempt whose answer was lost: look first.
        try:
            if self._found(subject, endpoint):
                return
        except KeyRejected as rejected:
            self._key_rejected(subject, endpoint.opco, str(rejected))
            return
        except OpcoError as error:
            self._failed(subject.id, error)
            return
        self._record(subject.id, lambda s: s.record_refusal(refusal.messages, WORKER.actor))

    def _key_rejected(self, subject: Any, opco: Opco, message: str) -> None:
        self._accounts.reject_key(subject.cfa_siret, opco, message)
        self._record(
            subject.id,
            lambda s: s.record_transmission_failure(
                error=f"API key rejected: {message}", transient=False, retry_at=None, actor=WORKER.actor
            ),
        )

    def _failed(self, ident: UUID, error: OpcoError) -> None:
        now = self._clock.now()
        retry_after = error.retry_after if isinstance(error, TransientOpcoError) else None

        def fail(subject: Any) -> None:
            failures = int(subject.transmission["failures"]) + 1
            retry_at = self._policy.retry_at(now, failures, retry_after, self._rng)
            subject.record_transmission_failure(
                error=str(error), transient=True, retry_at=retry_at, actor=WORKER.actor, sent_sha256=error.sent_sha256
            )
            if failures >= self._policy.max_failures:
                subject.park_transmission(f"parked after {failures} failures; last: {error}", WORKER.actor)

        log.warning("sending %s %s failed: %s", self._channel.kind, ident, error)
        self._record(ident, fail)

    def _record_on(self, subject: Any, command: Callable[[Any], object]) -> Any | None:
        """Like _record, on the item in hand: no re-read unless another change was saved first."""
        try:
            return self._channel.change_loaded(subject, command)
        except (DomainError, ApplicationError) as reason:
            log.info("%s %s not updated: %s", self._channel.kind, subject.id, reason)
            return None

    def _record(self, ident: UUID, command: Callable[[Any], object]) -> bool:
        """Apply a worker command; False when the item moved on meanwhile (another worker, the sync)."""
        try:
            self._channel.change(ident, command)
        except (DomainError, ApplicationError) as reason:
            log.info("%s %s not updated: %s", self._channel.kind, ident, reason)
            return False
        return True
