"""Sends submitted dossiers to their OPCO with an exactly-once effect.

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
from uuid import UUID

from application.access import WORKER
from application.dossiers import Dossiers
from application.errors import ApplicationError
from application.opco_accounts import OpcoAccounts
from application.opco_gateway import (
    KeyRejected,
    OpcoDossier,
    OpcoEndpoint,
    OpcoError,
    OpcoGateway,
    RefusedByOpco,
    TransientOpcoError,
)
from application.ports import Clock
from application.transmissions import QueuedTransmission
from domain.contract import Contract
from domain.contract_state import ContractState
from domain.errors import DomainError
from domain.opcos import Opco
from domain.transmission import contract_payload

log = logging.getLogger("convergence.sender")


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
    def __init__(
        self,
        dossiers: Dossiers,
        accounts: OpcoAccounts,
        gateway: OpcoGateway,
        clock: Clock,
        policy: SenderPolicy | None = None,
    ) -> None:
        self._app = dossiers
        self._accounts = accounts
        self._gateway = gateway
        self._clock = clock
        self._policy = policy or SenderPolicy()
        self._rng = random.Random()

    def send(self, item: QueuedTransmission, endpoint: OpcoEndpoint) -> None:
        """One dossier, one attempt at most. Safe to call again at any time: it re-reads the dossier first."""
        contract = self._app.contract_as_worker(item.contract_id)
        if not self._sendable(contract):
            return
        error: OpcoError | None = None
        try:
            self._attempt(contract, endpoint)
        except RefusedByOpco as refusal:
            self._refused(contract, endpoint, refusal)
        except KeyRejected as rejected:
            error = rejected
            self._key_rejected(contract, endpoint.opco, str(rejected))
        except OpcoError as failure:
            error = failure
            self._failed(contract.id, failure)
        self._accounts.contacted(contract.cfa_siret, endpoint.opco, self._clock.now(), str(error) if error else None)

    def _attempt(self, contract: Contract, endpoint: OpcoEndpoint) -> None:
        if contract.transmission["attempts"] and self._found(contract, endpoint):
            return
        started = self._record_on(contract, lambda c: c.start_transmission(WORKER.actor))
        if started is None:
            return
        sent = self._gateway.send_contract(endpoint, contract_payload(contract.numero_interne, contract.cerfa))
        self._record_on(
            started,
            lambda c: c.record_sent(
                numero_externe=sent.numero_externe, etat=sent.etat, found_by_lookup=False, actor=WORKER.actor
            ),
        )

    def _sendable(self, contract: Contract) -> bool:
        tx, now = contract.transmission, self._clock.now()
        if contract.state is not ContractState.SUBMITTED or tx["parked"]:
            return False
        if tx["nextAttemptAt"] is not None and tx["nextAttemptAt"] > now:
            return False  # the read model has not caught up with the last failure's backoff yet
        in_flight = tx["inFlightSince"]
        return in_flight is None or now - in_flight >= self._policy.in_flight_timeout

    def _found(self, contract: Contract, endpoint: OpcoEndpoint) -> bool:
        found = self._gateway.find_dossier(endpoint, contract.numero_interne)
        if found is None:
            return False
        self._record_found(contract, found)
        return True

    def _record_found(self, contract: Contract, found: OpcoDossier) -> None:
        log.info(
            "dossier %s already at %s as %s: recorded, not sent again",
            contract.id,
            contract.submitted_to,
            found.numero_externe,
        )

        def found_there(c: Contract) -> None:
            c.record_sent(
                numero_externe=found.numero_externe, etat=found.etat, found_by_lookup=True, actor=WORKER.actor
            )
            found.record_commitment_on(c, WORKER.actor)

        self._record(contract.id, found_there)

    def _refused(self, contract: Contract, endpoint: OpcoEndpoint, refusal: RefusedByOpco) -> None:
        # A refusal may be the OPCO's "already have it" for an attempt whose answer was lost: look first.
        try:
            if self._found(contract, endpoint):
                return
        except KeyRejected as rejected:
            self._key_rejected(contract, endpoint.opco, str(rejected))
            return
        except OpcoError as error:
            self._failed(contract.id, error)
            return
        self._record(contract.id, lambda c: c.record_refusal(refusal.messages, WORKER.actor))

    def _key_rejected(self, contract: Contract, opco: Opco, message: str) -> None:
        self._accounts.reject_key(contract.cfa_siret, opco, message)
        self._record(
            contract.id,
            lambda c: c.record_transmission_failure(
                error=f"API key rejected: {message}", transient=False, retry_at=None, actor=WORKER.actor
            ),
        )

    def _failed(self, ident: UUID, error: OpcoError) -> None:
        now = self._clock.now()
        retry_after = error.retry_after if isinstance(error, TransientOpcoError) else None

        def fail(contract: Contract) -> None:
            failures = int(contract.transmission["failures"]) + 1
            retry_at = self._policy.retry_at(now, failures, retry_after, self._rng)
            contract.record_transmission_failure(
                error=str(error), transient=True, retry_at=retry_at, actor=WORKER.actor
            )
            if failures >= self._policy.max_failures:
                contract.park_transmission(f"parked after {failures} failures; last: {error}", WORKER.actor)

        log.warning("sending %s failed: %s", ident, error)
        self._record(ident, fail)

    def _record_on(self, contract: Contract, command: Callable[[Contract], object]) -> Contract | None:
        """Like _record, on the dossier in hand: no re-read unless another change was saved first."""
        try:
            return self._app.change_loaded_as_worker(contract, command).contract
        except (DomainError, ApplicationError) as reason:
            log.info("dossier %s not updated: %s", contract.id, reason)
            return None

    def _record(self, ident: UUID, command: Callable[[Contract], object]) -> bool:
        """Apply a worker command; False when the dossier moved on meanwhile (another worker, the sync)."""
        try:
            self._app.change_as_worker(ident, command)
        except (DomainError, ApplicationError) as reason:
            log.info("dossier %s not updated: %s", ident, reason)
            return False
        return True
