"""Avenant commands and queries, in the same application (and event log) as the contracts.

The contract records that it asked for avenant n (`AmendmentRequested`, which moves its version: If-Match); the
avenant itself is an `Amendment` (domain.amendments.amendment), created in the same transaction. Every POST is safe
to retry (Idempotency-Key, application.contracts.commands)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.access.access import Principal
from application.access.idempotency import IdempotentRequest
from application.contracts.commands import Reader
from application.dossiers import Dossiers, Saved, event_record
from application.errors import NotFound
from domain.amendments.amendment import OPEN, Amendment, amendment_id
from domain.amendments.amendment_effects import changes_funding, funding_effect, opco_change
from domain.amendments.amendment_types import AmendmentRequest, check_request
from domain.amendments.contract_at import amended_cerfa, cerfa_at, cerfa_now
from domain.cerfa import Cerfa
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import Contract
from domain.contracts.submission import submission_problems
from domain.errors import NotAllowedInState
from domain.opco.opcos import Opco
from domain.problems import Problem


class Amendments:
    def __init__(self, dossiers: Dossiers) -> None:
        self._app = dossiers
        self._commands = dossiers.commands

    # -- the CFA's commands ---------------------------------------------------------------------------------

    def request(
        self,
        principal: Principal,
        ident: UUID,
        request: AmendmentRequest,
        mandate: tuple[date, dict[str, str]] | None = None,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        request_body: Any = None,
    ) -> tuple[Saved, Amendment]:
        """Draft avenant n+1 of an accepted contract: its own rules checked (422), its amended Cerfa made, its
        effects computed (funding, OPCO), with the employer's mandate when given. The contract's version moves."""
        principal.require_writer()
        made: list[Amendment] = []
        today = self._app.clock.today()

        def amend(contract: Contract) -> None:
            made.clear()
            contract.require_amendable()
            previous = self.of_contract(contract)
            if any(a.state in OPEN for a in previous):  # each avenant amends the contract as the last one left it
                raise NotAllowedInState("amend", "avenant pending", frozenset({"no avenant pending"}))
            made.append(self._draft(contract, previous, request, principal.actor))
            if mandate is not None:
                made[0].record_mandate(*mandate, principal.actor, today)
            contract.request_amendment(made[0].number, made[0].id, made[0].type_code, principal.actor)

        outcome = self._commands.change(
            self._contracts(principal),
            ident,
            amend,
            expected_version=expected_version,
            request=_request(idempotency_key, principal, ident, "amendments", request_body, expected_version),
            with_it=lambda _: made,
        )
        contract = outcome.aggregate
        amendment = made[0] if made and not outcome.replayed else self._load(_nth(contract))
        return Saved(contract, outcome.position, outcome.replayed), amendment

    def record_mandate(
        self,
        principal: Principal,
        ident: UUID,
        number: int,
        signed_on: date,
        signatory: dict[str, str],
        idempotency_key: str | None = None,
    ) -> Amendment:
        today = self._app.clock.today()
        arguments = {"signedOn": signed_on.isoformat(), "signatory": signatory}
        return self._on_amendment(
            principal,
            ident,
            number,
            ("mandate", arguments),
            lambda a: a.record_mandate(signed_on, signatory, principal.actor, today),
            idempotency_key,
        )

    def submit(self, principal: Principal, ident: UUID, number: int, idempotency_key: str | None = None) -> Amendment:
        def submit(amendment: Amendment) -> None:
            amendment.submit(self.cerfa_problems(amendment), principal.actor)

        return self._on_amendment(principal, ident, number, ("submission", None), submit, idempotency_key)

    def withdraw(
        self, principal: Principal, ident: UUID, number: int, reason: str | None, idempotency_key: str | None = None
    ) -> Amendment:
        command = ("withdrawal", {"reason": reason})
        return self._on_amendment(
            principal, ident, number, command, lambda a: a.withdraw(reason, principal.actor), idempotency_key
        )

    def mark_reviewed(
        self, principal: Principal, ident: UUID, number: int, idempotency_key: str | None = None
    ) -> Amendment:
        return self._on_amendment(
            principal, ident, number, ("review", None), lambda a: a.mark_reviewed(principal.actor), idempotency_key
        )

    def resume_transmission(
        self, principal: Principal, ident: UUID, number: int, idempotency_key: str | None = None
    ) -> Amendment:
        command = ("transmission/retry", None)
        return self._on_amendment(
            principal, ident, number, command, lambda a: a.resume_transmission(principal.actor), idempotency_key
        )

    # -- queries --------------------------------------------------------------------------------------------

    def of_contract(self, contract: Contract) -> list[Amendment]:
        """Every avenant of the contract, withdrawn ones too, by number."""
        return [self._load(amendment_id(contract.id, n)) for n in range(1, contract.amendments_requested + 1)]

    def one(self, principal: Principal, ident: UUID, number: int) -> Amendment:
        contract = self._app.contract(principal, ident)
        if not 1 <= number <= contract.amendments_requested:
            raise NotFound("avenant of contract", ident)
        return self._load(amendment_id(contract.id, number))

    def cerfa_problems(self, amendment: Amendment) -> list[Problem]:
        """The Cerfa's rules on the amended contract (its OPCO is the one that has the contract)."""
        cerfa = parse_cerfa(amendment.cerfa)
        problems = submission_problems(
            cerfa, chosen_opco=Opco(amendment.opco), routing=self._app.routing, has_mandate=True
        )
        return [p for p in problems if p.code != "mandate_missing"]

    def contract_at(self, contract: Contract, day: date) -> dict[str, Any]:
        """The Cerfa in effect on `day`: the initial one with the accepted avenants in effect then."""
        return cerfa_at(contract.cerfa, self.of_contract(contract), day)

    def current_cerfa(self, contract: Contract) -> Cerfa | None:
        """The contract with every accepted avenant; None when it has none (its own Cerfa stands)."""
        amendments = [a for a in self.of_contract(contract) if a.in_effect_on is not None]
        return parse_cerfa(cerfa_now(contract.cerfa, amendments)) if amendments else None

    def as_of(self, contract: Contract, day: date) -> dict[str, Any]:
        """The contract's Cerfa on `day` and the avenants in effect then (GET /contracts/{id}?at=)."""
        amendments = self.of_contract(contract)
        return {
            "asOf": day.isoformat(),
            "cerfa": cerfa_at(contract.cerfa, amendments, day),
            "amendmentsInEffect": [a.number for a in amendments if a.in_effect_on and a.in_effect_on <= day],
        }

    def history(self, principal: Principal, ident: UUID, number: int) -> list[dict[str, Any]]:
        amendment = self.one(principal, ident, number)
        return [event_record(e) for e in self._app.repository.event_store.get(amendment.id)]

    # -- the worker's -----------------------------------------------------------------------------------------

    def amendment_as_worker(self, ident: UUID) -> Amendment:
        return self._load(ident)

    def change_as_worker(self, ident: UUID, command: Callable[[Amendment], object]) -> Amendment:
        return self._commands.change(lambda i, _: self._load(i), ident, command).aggregate

    def change_loaded_as_worker(self, amendment: Amendment, command: Callable[[Amendment], object]) -> Amendment:
        command(amendment)
        if not amendment.pending_events:
            return amendment
        try:
            self._app.save(amendment)
        except IntegrityError:
            return self.change_as_worker(amendment.id, command)
        return amendment

    def contract_as_worker(self, ident: UUID) -> Contract:
        return self._app.contract_as_worker(ident)

    # -- internals ------------------------------------------------------------------------------------------

    def _draft(self, contract: Contract, previous: list[Amendment], request: AmendmentRequest, actor: str) -> Amendment:
        base_document = cerfa_now(contract.cerfa, previous)
        base = parse_cerfa(base_document)
        contrat = base.contrat
        kind = check_request(request, contrat.dateDebutContrat if contrat else None, _end(base))
        number = contract.amendments_requested + 1
        after = amended_cerfa(base_document, request, kind, number, contract.numero_deca)
        assert contract.submitted_to is not None  # an accepted contract went to its OPCO
        return Amendment(
            contract_id=contract.id,
            number=number,
            cfa_siret=contract.cfa_siret,
            opco=contract.submitted_to,
            numero_interne=f"{contract.numero_interne}-AV{number}",
            type_code=kind.code,
            effect_date=request.effect_date,
            changes=dict(request.changes),
            cerfa=after.to_document(),
            dossier={
                "numeroInterne": contract.opco_reference,
                "numeroExterne": contract.numero_externe,
                "numeroDeca": contract.numero_deca,
            },
            effects=self._effects(contract, kind, base, after),
            actor=actor,
        )

    def _effects(self, contract: Contract, kind: Any, base: Cerfa, after: Cerfa) -> dict[str, Any]:
        assert contract.submitted_to is not None
        funding = None
        if changes_funding(kind, base, after):
            funding = funding_effect(base, after, contract.npec_forecast, contract.echeances).as_record()
        change = opco_change(kind, base, after, contract.submitted_to, self._app.routing)
        return {"funding": funding, "opcoChange": change.as_record() if change else None}

    def _on_amendment(
        self,
        principal: Principal,
        ident: UUID,
        number: int,
        action: tuple[str, Any],
        command: Callable[[Amendment], object],
        idempotency_key: str | None,
    ) -> Amendment:
        principal.require_writer()
        amendment = self.one(principal, ident, number)
        route, arguments = action
        outcome = self._commands.change(
            lambda i, version: self._visible(principal, i, version),
            amendment.id,
            command,
            request=_request(idempotency_key, principal, ident, f"amendments/{number}/{route}", arguments, None),
        )
        return outcome.aggregate

    def _visible(self, principal: Principal, ident: UUID, version: int | None) -> Amendment:
        amendment = self._load(ident, version)
        if not principal.can_see(amendment.cfa_siret):
            raise NotFound("avenant", ident)
        return amendment

    def _load(self, ident: UUID, version: int | None = None) -> Amendment:
        try:
            amendment: Amendment = self._app.repository.get(ident, version=version)
        except AggregateNotFoundError:
            raise NotFound("avenant", ident) from None
        if not isinstance(amendment, Amendment):
            raise NotFound("avenant", ident)
        return amendment

    def _contracts(self, principal: Principal) -> Reader[Contract]:
        return lambda ident, version: self._app.contract(principal, ident, version)


def _nth(contract: Contract) -> UUID:
    """The avenant a replayed request made: the last one the contract had at the version it answered with."""
    return amendment_id(contract.id, contract.amendments_requested)


def _end(cerfa: Cerfa) -> date | None:
    return cerfa.contrat.dateFinContrat if cerfa.contrat else None


def _request(
    key: str | None, principal: Principal, ident: UUID, action: str, arguments: Any, expected_version: int | None
) -> IdempotentRequest | None:
    return IdempotentRequest.of_command(key, principal, f"/contracts/{ident}/{action}", arguments, expected_version)
