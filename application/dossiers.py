"""The Dossiers application: every command on contracts goes load → one aggregate command → save."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording
from eventsourcing.utils import Environment, EnvType

from application.access import OPERATOR, WORKER, ApiToken, Principal, Role, new_token_secret, token_hash, token_id
from application.assessment import Assessments, assess
from application.errors import (
    ConcurrentChange,
    DuplicateNumeroInterne,
    IdempotencyKeyReused,
    NotFound,
    VersionMismatch,
)
from application.idempotency import IdempotencyRecord, fingerprint, record_id
from application.ports import Clock
from application.transcodings import DateAsISO
from domain.cerfa import Cerfa
from domain.cerfa_document import cfa_siret
from domain.contract import Contract
from domain.errors import InvalidValue
from domain.opcos import IdccRouting, Opco

CONFLICT_RETRIES = 3


@dataclass(frozen=True, slots=True)
class Saved:
    """A command's outcome: the dossier as saved and the log position of its last event (None if unchanged)."""

    contract: Contract
    position: int | None
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ApiToken
    secret: str


class Dossiers(Application[UUID]):
    name = "Dossiers"
    env: ClassVar[dict[str, str]] = {}

    def __init__(self, env: Mapping[str, str], routing: IdccRouting, clock: Clock) -> None:
        self.routing = routing
        self.assessments = Assessments(routing)
        self.clock = clock
        super().__init__(env=dict(env))

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        # The settings are the one source of configuration: the process environment is not read here.
        return Environment(name, dict(env or {}))

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Save only once what the answer derives from a changed dossier (its problems, its OPCO) is computed: a
        rule that fails on some Cerfa then stores nothing, rather than a dossier whose creation answered 500."""
        changed = [obj for obj in objs if isinstance(obj, Contract) and obj.pending_events]
        assessed = [(contract, assess(contract, self.routing)) for contract in changed]
        recordings = super().save(*objs, **kwargs)
        for contract, assessment in assessed:
            self.assessments.remember(contract, assessment)
        return recordings

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # -- contracts: commands --------------------------------------------------------------------------------

    def create_contract(
        self,
        principal: Principal,
        *,
        cerfa: Cerfa,
        numero_interne: str | None,
        opco: Opco | None,
        npec: Decimal | None = None,
        idempotency_key: str | None = None,
        request_body: Any = None,
    ) -> Saved:
        principal.require_writer()
        scope = principal.cfa_siret or principal.actor
        if idempotency_key:
            replay = self._replay(scope, idempotency_key, fingerprint(request_body))
            if replay:
                return replay
        contract = Contract.draft(
            cfa_siret=self._owner_of_new(principal, cerfa),
            numero_interne=numero_interne or _new_numero_interne(self.clock.today()),
            cerfa=cerfa,
            opco=opco,
            actor=principal.actor,
        )
        contract.forecast_npec(npec, principal.actor)
        records = []
        if idempotency_key:
            records.append(
                IdempotencyRecord(
                    scope=scope,
                    key=idempotency_key,
                    fingerprint=fingerprint(request_body),
                    resource_id=contract.id,
                    resource_version=contract.version,
                )
            )
        try:
            recordings = self.save(contract, *records)
        except IntegrityError:
            replay = self._replay(scope, idempotency_key, fingerprint(request_body)) if idempotency_key else None
            if replay:
                return replay
            raise DuplicateNumeroInterne(contract.numero_interne) from None
        return Saved(contract, recordings[-1].notification.id)

    def replace_cerfa(self, principal: Principal, ident: UUID, cerfa: Cerfa, expected_version: int | None) -> Saved:
        return self._change(principal, ident, expected_version, lambda c: c.replace_cerfa(cerfa, principal.actor))

    def patch_cerfa(
        self, principal: Principal, ident: UUID, patch: dict[str, Any], expected_version: int | None
    ) -> Saved:
        return self._change(principal, ident, expected_version, lambda c: c.patch_cerfa(patch, principal.actor))

    def choose_opco(self, principal: Principal, ident: UUID, opco: Opco | None, expected_version: int | None) -> Saved:
        return self._change(principal, ident, expected_version, lambda c: c.choose_opco(opco, principal.actor))

    def record_mandate(
        self,
        principal: Principal,
        ident: UUID,
        *,
        signed_on: date,
        signatory: dict[str, str],
        document_sha256: str | None,
        expected_version: int | None = None,
    ) -> Saved:
        today = self.clock.today()
        return self._change(
            principal,
            ident,
            expected_version,
            lambda c: c.record_mandate(
                signed_on=signed_on,
                signatory=signatory,
                document_sha256=document_sha256,
                actor=principal.actor,
                today=today,
            ),
        )

    def forecast_npec(
        self, principal: Principal, ident: UUID, npec: Decimal | None, expected_version: int | None = None
    ) -> Saved:
        return self._change(principal, ident, expected_version, lambda c: c.forecast_npec(npec, principal.actor))

    def submit(self, principal: Principal, ident: UUID, expected_version: int | None = None) -> Saved:
        return self._change(principal, ident, expected_version, lambda c: c.submit(self.routing, principal.actor))

    def cancel(
        self, principal: Principal, ident: UUID, reason: str | None, expected_version: int | None = None
    ) -> Saved:
        return self._change(principal, ident, expected_version, lambda c: c.cancel(reason, principal.actor))

    def resume_transmission(self, principal: Principal, ident: UUID, expected_version: int | None = None) -> Saved:
        return self._change(principal, ident, expected_version, lambda c: c.resume_transmission(principal.actor))

    def change_as_worker(self, ident: UUID, command: Callable[[Contract], object]) -> Saved:
        """A change made by the transmission worker (actor `worker`), retried on a lost race like any other."""
        return self._change(WORKER, ident, None, command)

    def change_loaded_as_worker(self, contract: Contract, command: Callable[[Contract], object]) -> Saved:
        """A worker change to a dossier it has just read: saved without reading it again, unless another change
        was saved in between (then read again and retried)."""
        command(contract)
        try:
            return self._save_changes(contract)
        except IntegrityError:
            return self.change_as_worker(contract.id, command)

    # -- contracts: queries ---------------------------------------------------------------------------------

    def contract(self, principal: Principal, ident: UUID, version: int | None = None) -> Contract:
        try:
            contract: Contract = self.repository.get(ident, version=version)
        except AggregateNotFoundError:
            raise NotFound("contract", ident) from None
        if not isinstance(contract, Contract) or not principal.can_see(contract.cfa_siret):
            raise NotFound("contract", ident)
        return contract

    def contract_as_worker(self, ident: UUID) -> Contract:
        return self.contract(WORKER, ident)

    def history_as_worker(self, ident: UUID) -> list[dict[str, Any]]:
        return self.history(WORKER, ident)

    def history(self, principal: Principal, ident: UUID) -> list[dict[str, Any]]:
        """Every event of the dossier, oldest first, with who caused it: what an auditor replays."""
        self.contract(principal, ident)
        return [event_record(e) for e in self.repository.event_store.get(ident)]

    # -- tokens ---------------------------------------------------------------------------------------------

    def issue_token(self, principal: Principal, *, cfa_siret: str, role: Role, name: str) -> IssuedToken:
        principal.require_operator()
        secret = new_token_secret()
        token = ApiToken(
            secret_hash=token_hash(secret),
            cfa_siret=cfa_siret,
            role=role.value,
            name=name,
            actor=principal.actor,
        )
        self.save(token)
        return IssuedToken(token, secret)

    def revoke_token(self, principal: Principal, ident: UUID) -> ApiToken:
        principal.require_operator()
        token = self._token(ident)
        token.revoke(principal.actor)
        self.save(token)
        return token

    def authenticate(self, secret: str) -> Principal | None:
        try:
            token = self._token(token_id(token_hash(secret)))
        except NotFound:
            return None
        return None if token.revoked else token.principal()

    # -- internals ------------------------------------------------------------------------------------------

    def _change(
        self,
        principal: Principal,
        ident: UUID,
        expected_version: int | None,
        command: Callable[[Contract], object],
    ) -> Saved:
        """Load, apply, save. Without an expected version the command applies to whatever version is current,
        so a lost race is retried on the newer version; with one, the race is the caller's to see (412)."""
        principal.require_writer()
        for _ in range(CONFLICT_RETRIES):
            contract = self.contract(principal, ident)
            if expected_version is not None and expected_version != contract.version:
                raise VersionMismatch(expected_version, contract.version)
            command(contract)
            try:
                return self._save_changes(contract)
            except IntegrityError:
                if expected_version is not None:
                    raise VersionMismatch(expected_version, expected_version + 1) from None
        raise ConcurrentChange

    def _save_changes(self, contract: Contract) -> Saved:
        """Save what a command changed (nothing to save: no position); IntegrityError if a race was lost."""
        if not contract.pending_events:
            return Saved(contract, None)
        recordings = self.save(contract)
        return Saved(contract, recordings[-1].notification.id)

    def _owner_of_new(self, principal: Principal, cerfa: Cerfa) -> str:
        if principal.cfa_siret is not None:
            return principal.cfa_siret
        siret = cfa_siret(cerfa)
        if siret is None:
            raise InvalidValue(
                "cerfa.organismeFormation.siret",
                "required",
                "the operator must name the CFA that owns the dossier (organismeFormation.siret)",
            )
        return siret

    def _replay(self, scope: str, key: str, body_fingerprint: str) -> Saved | None:
        try:
            record: IdempotencyRecord = self.repository.get(record_id(scope, key))
        except AggregateNotFoundError:
            return None
        if record.fingerprint != body_fingerprint:
            raise IdempotencyKeyReused
        contract: Contract = self.repository.get(record.resource_id, version=record.resource_version)
        return Saved(contract, None, replayed=True)

    def _token(self, ident: UUID) -> ApiToken:
        try:
            token: ApiToken = self.repository.get(ident)
        except AggregateNotFoundError:
            raise NotFound("token", ident) from None
        if not isinstance(token, ApiToken):
            raise NotFound("token", ident)
        return token


def _new_numero_interne(today: date) -> str:
    return f"CVG-{today:%Y%m%d}-{secrets.token_hex(4).upper()}"


_EVENT_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic", "actor"}


def event_record(domain_event: Any) -> dict[str, Any]:
    return {
        "version": domain_event.originator_version,
        "type": type(domain_event).__name__,
        "at": domain_event.timestamp,
        "actor": getattr(domain_event, "actor", None),
        "data": {k: v for k, v in vars(domain_event).items() if k not in _EVENT_ENVELOPE},
    }


__all__ = ["OPERATOR", "Dossiers", "IssuedToken", "Saved"]
