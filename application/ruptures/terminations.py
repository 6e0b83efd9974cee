"""Rupture commands and queries, in the same application (and event log) as the contracts.

The rupture's facts live on the contract (domain.contracts.contract, checked by domain.ruptures.rupture); its way to
the OPCO on a `Termination` of its own (domain.ruptures.termination), created and withdrawn in the same transaction as
the contract's change. Every POST is safe to retry (Idempotency-Key, application.contracts.commands)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from application.access.access import Principal
from application.access.idempotency import IdempotentRequest
from application.audit.moments import version_at
from application.contracts.commands import Outcome, Reader
from application.dossiers import Dossiers, Saved, event_record
from application.errors import NotFound
from domain.contracts.contract import Contract
from domain.contracts.contract_state import ContractState
from domain.errors import InvalidValue, NotAllowedInState
from domain.opco.opco_catalogue import OpcoProfile
from domain.opco.opcos import Opco
from domain.ruptures.rupture import ContractDates, RuptureRequest, check_rupture, contract_dates
from domain.ruptures.termination import Route, Termination, termination_id


class Terminations:
    def __init__(self, dossiers: Dossiers, profiles: Mapping[Opco, OpcoProfile]) -> None:
        self._app = dossiers
        self._commands = dossiers.commands
        self._profiles = profiles

    # -- the CFA's commands ---------------------------------------------------------------------------------

    def declare(
        self,
        principal: Principal,
        ident: UUID,
        request: RuptureRequest,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        request_body: Any = None,
    ) -> Saved:
        """Terminate a dossier the OPCO has: the contract records the rupture, a Termination carries it to the OPCO
        (over the API where its catalogue entry says so, else as a declaration the CFA files by hand)."""
        principal.require_writer()
        made: list[Aggregate] = []
        today = self._app.clock.today()

        def declare(contract: Contract) -> None:
            made.clear()
            contract.require_terminable()
            facts = check_rupture(request, _dates(contract), today)
            number = contract.ruptures_declared + 1
            contract.declare_rupture(facts, termination_id(contract.id, number), principal.actor)
            made.append(self._termination_for(contract, number, principal.actor))

        outcome = self._commands.change(
            self._contracts(principal),
            ident,
            declare,
            expected_version=expected_version,
            request=self._request(idempotency_key, principal, ident, "rupture", request_body, expected_version),
            with_it=lambda _: made,
        )
        return _saved(outcome)

    def withdraw(
        self,
        principal: Principal,
        ident: UUID,
        reason: str | None,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Saved:
        """Only a rupture the OPCO has surely not received (Termination.withdrawable)."""
        principal.require_writer()
        loaded: list[Aggregate] = []

        def withdraw(contract: Contract) -> None:
            loaded.clear()
            termination = self._current(contract)
            termination.withdraw(reason, principal.actor)
            contract.withdraw_rupture(reason, principal.actor)
            loaded.append(termination)

        request = self._request(
            idempotency_key, principal, ident, "rupture/withdrawal", {"reason": reason}, expected_version
        )
        outcome = self._commands.change(
            self._contracts(principal),
            ident,
            withdraw,
            expected_version=expected_version,
            request=request,
            with_it=lambda _: loaded,
        )
        return _saved(outcome)

    def mark_declared(self, principal: Principal, ident: UUID, idempotency_key: str | None = None) -> Termination:
        """The CFA filed the rupture on the OPCO's site (an OPCO without the route), or checked there that the OPCO
        has it after a lost answer."""
        return self._on_termination(
            principal, ident, "rupture/declaration", lambda t: t.mark_declared(principal.actor), idempotency_key
        )

    def resume_transmission(self, principal: Principal, ident: UUID, idempotency_key: str | None = None) -> Termination:
        """A person checked that the OPCO does not have the parked rupture: send it (again)."""
        return self._on_termination(
            principal,
            ident,
            "rupture/transmission/retry",
            lambda t: t.resume_transmission(principal.actor),
            idempotency_key,
        )

    def record_traineeship(
        self,
        principal: Principal,
        ident: UUID,
        start: date,
        end: date,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Saved:
        principal.require_writer()
        arguments = {"debut": start.isoformat(), "fin": end.isoformat()}
        outcome = self._commands.change(
            self._contracts(principal),
            ident,
            lambda c: c.record_traineeship(start, end, principal.actor),
            expected_version=expected_version,
            request=self._request(idempotency_key, principal, ident, "traineeship", arguments, expected_version),
        )
        return _saved(outcome)

    # -- queries --------------------------------------------------------------------------------------------

    def of_contract(self, contract: Contract, at: datetime | None = None) -> Termination | None:
        """The rupture's Termination; None without a rupture (or after its withdrawal). With `at`: as it was at that
        moment (at least as declared: it is declared with the contract's rupture, a moment after it)."""
        if contract.rupture is None:
            return None
        ident = UUID(contract.rupture["terminationId"])
        return self._load(ident, None if at is None else version_at(self._app, ident, at) or 1)

    def history(self, principal: Principal, ident: UUID) -> list[dict[str, Any]]:
        """Every event of every rupture of the dossier (withdrawn ones too), oldest first, with who caused it."""
        contract = self._app.contract(principal, ident)
        events: list[dict[str, Any]] = []
        for number in range(1, contract.ruptures_declared + 1):
            tid = termination_id(contract.id, number)
            events.extend({**event_record(e), "rupture": number} for e in self._app.repository.event_store.get(tid))
        return events

    # -- the worker's -----------------------------------------------------------------------------------------

    def termination_as_worker(self, ident: UUID) -> Termination:
        return self._load(ident)

    def change_as_worker(self, ident: UUID, command: Callable[[Termination], object]) -> Termination:
        return self._commands.change(lambda i, _: self._load(i), ident, command).aggregate

    def change_loaded_as_worker(
        self, termination: Termination, command: Callable[[Termination], object]
    ) -> Termination:
        command(termination)
        if not termination.pending_events:
            return termination
        try:
            self._app.save(termination)
        except IntegrityError:
            return self.change_as_worker(termination.id, command)
        return termination

    # -- internals ------------------------------------------------------------------------------------------

    def _termination_for(self, contract: Contract, number: int, actor: str) -> Termination:
        assert contract.submitted_to is not None  # a dossier the OPCO has was submitted to it
        profile = self._profiles.get(Opco(contract.submitted_to))
        known = contract.state is ContractState.TERMINATED  # the OPCO already shows it broken: nothing to send
        route = Route.API if profile is not None and profile.ruptures and not known else Route.DECLARATION
        assert contract.rupture is not None
        termination = Termination.declare(
            contract_id=contract.id,
            number=number,
            cfa_siret=contract.cfa_siret,
            opco=contract.submitted_to,
            route=route,
            dossier={
                "numeroInterne": contract.opco_reference,
                "numeroExterne": contract.numero_externe,
                "numeroDeca": contract.numero_deca,
            },
            rupture=contract.rupture,
            actor=actor,
        )
        if known:
            termination.mark_declared(actor)
        return termination

    def _on_termination(
        self,
        principal: Principal,
        ident: UUID,
        action: str,
        command: Callable[[Termination], object],
        idempotency_key: str | None,
    ) -> Termination:
        principal.require_writer()
        contract = self._app.contract(principal, ident)
        termination = self._current(contract)
        outcome = self._commands.change(
            lambda i, version: self._visible(principal, i, version),
            termination.id,
            command,
            request=self._request(idempotency_key, principal, ident, action, None, None),
        )
        return outcome.aggregate

    def _current(self, contract: Contract) -> Termination:
        termination = self.of_contract(contract)
        if termination is None:
            raise NotAllowedInState("change the rupture of", "no rupture declared", frozenset({"rupture declared"}))
        return termination

    def _visible(self, principal: Principal, ident: UUID, version: int | None) -> Termination:
        termination = self._load(ident, version)
        if not principal.can_see(termination.cfa_siret):
            raise NotFound("rupture", ident)
        return termination

    def _load(self, ident: UUID, version: int | None = None) -> Termination:
        try:
            termination: Termination = self._app.repository.get(ident, version=version)
        except AggregateNotFoundError:
            raise NotFound("rupture", ident) from None
        if not isinstance(termination, Termination):
            raise NotFound("rupture", ident)
        return termination

    def _contracts(self, principal: Principal) -> Reader[Contract]:
        return lambda ident, version: self._app.contract(principal, ident, version)

    @staticmethod
    def _request(
        key: str | None, principal: Principal, ident: UUID, action: str, arguments: Any, expected_version: int | None
    ) -> IdempotentRequest | None:
        return IdempotentRequest.of_command(key, principal, f"/contracts/{ident}/{action}", arguments, expected_version)


def _dates(contract: Contract) -> ContractDates:
    contrat = contract.cerfa_model.contrat
    dates = contract_dates(
        contrat.dateDebutContrat if contrat else None,
        contrat.dateFinContrat if contrat else None,
        contrat.dateDebutFormationPratique if contrat else None,
    )
    if dates is None:
        raise InvalidValue(
            "cerfa.contrat.dateFinContrat", "required", "the contract's start and end are needed to check a rupture"
        )
    return dates


def _saved(outcome: Outcome[Contract]) -> Saved:
    return Saved(outcome.aggregate, outcome.position, outcome.replayed)
