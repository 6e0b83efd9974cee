"""Reads the OPCOs' dossier states and records each change as an event on the dossier.

On ENGAGE it reads the dossier to capture the DECA number, the funding commitment and the instalments.
An unknown state is recorded verbatim and reported, never dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from application.access.access import WORKER
from application.dossiers import Dossiers
from application.errors import ApplicationError
from application.opco.opco_accounts import OpcoAccounts
from application.opco.opco_gateway import (
    ENGAGE,
    DossierState,
    KeyRejected,
    NotSupported,
    OpcoEndpoint,
    OpcoError,
    OpcoGateway,
)
from application.opco.transmissions import TransmissionsView
from application.ports import Clock, FanOut, one_at_a_time
from domain.contracts.contract import Contract
from domain.errors import DomainError
from domain.opco.opco_account import KeyStatus
from domain.opco.opcos import Opco
from domain.opco.transmission import OPCO_STATES

log = logging.getLogger("convergence.sync")


@dataclass(frozen=True, slots=True)
class SyncReport:
    accounts: int = 0
    changes: int = 0
    unknown_states: int = 0
    errors: int = 0

    @classmethod
    def of(cls, counts: list[tuple[int, int, int] | None]) -> SyncReport:
        """The report of a round over the accounts: each account's (changes, unknown states, errors), None where
        the account was not polled."""
        polled = [each for each in counts if each is not None]
        return cls(len(polled), *(sum(column) for column in zip(*polled, strict=True))) if polled else cls()


class StateSync:
    def __init__(
        self,
        dossiers: Dossiers,
        accounts: OpcoAccounts,
        gateway: OpcoGateway,
        view: TransmissionsView,
        clock: Clock,
        fan_out: FanOut = one_at_a_time,
    ) -> None:
        self._app = dossiers
        self._accounts = accounts
        self._gateway = gateway
        self._view = view
        self._clock = clock
        self._fan_out = fan_out

    def run_once(self) -> SyncReport:
        return SyncReport.of(self._fan_out(self._poll, self._view.accounts_at_opcos()))

    def _poll(self, account: tuple[str, str]) -> tuple[int, int, int] | None:
        cfa_siret, code = account
        endpoint = self._accounts.endpoint(cfa_siret, Opco(code))
        if endpoint is None:
            return None  # no usable key: the dossiers wait, the CFA is told on GET /cfas/{siret}/opcos
        return self._sync_account(cfa_siret, endpoint)

    def _sync_account(self, cfa_siret: str, endpoint: OpcoEndpoint) -> tuple[int, int, int]:
        known = self._view.opco_states(cfa_siret, endpoint.opco.value)
        ids = self._view.ids_at_opco(cfa_siret, endpoint.opco.value)
        changes = unknown = 0
        error: str | None = None
        try:
            for state in self._gateway.dossier_states(endpoint):
                ident = ids.get(state.numero_interne)
                if ident is None or state.numero_interne not in known or known[state.numero_interne] == state.etat:
                    continue
                unknown += state.etat not in OPCO_STATES
                changes += self._record(ident, endpoint, state)
            self._confirm_key(cfa_siret, endpoint)
        except KeyRejected as rejected:
            error = str(rejected)
            self._accounts.reject_key(cfa_siret, endpoint.opco, error)
        except OpcoError as failure:
            error = str(failure)
            log.warning("state sync of %s at %s failed: %s", cfa_siret, endpoint.opco, failure)
        self._accounts.contacted(cfa_siret, endpoint.opco, self._clock.now(), error)
        return changes, unknown, int(error is not None)

    def _confirm_key(self, cfa_siret: str, endpoint: OpcoEndpoint) -> None:
        """The OPCO answered with this key: mark it valid, with its expiry where the OPCO tells it (v2)."""
        account = self._accounts.account(cfa_siret, endpoint.opco)
        if account is None or account.key_status is not KeyStatus.UNCHECKED:
            return
        expires_on, comment = None, None
        if endpoint.protocol >= 2:
            try:
                info = self._gateway.key_info(endpoint, siren=cfa_siret[:9])
                if not info.valid:
                    self._accounts.reject_key(cfa_siret, endpoint.opco, info.comment or "the OPCO says it is invalid")
                    return
                expires_on, comment = info.expires_on, info.comment
            except NotSupported:
                comment = "this OPCO does not tell the key's expiry"
        self._accounts.confirm_key(cfa_siret, endpoint.opco, expires_on, comment)

    def _record(self, ident: UUID, endpoint: OpcoEndpoint, state: DossierState) -> int:
        """`state.numero_interne` is the number the OPCO knows the dossier by (its own, where it assigned one)."""
        if state.etat not in OPCO_STATES:
            log.warning(
                "unknown OPCO state %r for %s at %s: kept verbatim", state.etat, state.numero_interne, endpoint.opco
            )
        detail = self._gateway.find_dossier(endpoint, state.numero_interne) if state.etat == ENGAGE else None

        def apply(contract: Contract) -> None:
            contract.record_opco_state(
                etat=state.etat,
                commentaire=state.commentaire_etat,
                numero_externe=state.numero_externe,
                numero_deca=state.numero_deca or (detail.numero_deca if detail else None),
                actor=WORKER.actor,
            )
            if detail is not None:
                detail.record_commitment_on(contract, WORKER.actor)

        try:
            saved = self._app.change_as_worker(ident, apply)
        except (DomainError, ApplicationError) as reason:
            log.info("state %s of %s not recorded: %s", state.etat, state.numero_interne, reason)
            return 0
        return int(saved.position is not None)  # None: the dossier already knew (the read model lagged)
