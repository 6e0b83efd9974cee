"""The Dossiers application: every command on contracts goes load → one aggregate command → save."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Mapper, Recording
from eventsourcing.utils import Environment, EnvType

import application.topics  # noqa: F401  (registers the former topics before any event is read)
from application.access.access import (
    DEFAULT_TOKEN_LIFETIME,
    OPERATOR,
    WORKER,
    ApiToken,
    Principal,
    Role,
    new_token_secret,
    token_hash,
    token_id,
)
from application.access.idempotency import IdempotentRequest
from application.audit.recording import ActorMapper
from application.contracts.assessment import Assessments, assess
from application.contracts.commands import Commands, Outcome, Reader
from application.contracts.transcodings import DateAsISO
from application.errors import DuplicateNumeroInterne, NotFound, PreconditionRequired, TokenAlreadyIssued
from application.opco.opco_lookup import OpcoLookup
from application.ports import Clock, TokenRevocations
from application.privacy.sealing import DataKeys, SealingMapper
from application.topics import stored_topics
from domain.cerfa import Cerfa
from domain.contracts.cerfa_document import cfa_siret
from domain.contracts.contract import Contract
from domain.errors import InvalidValue
from domain.money import money_text
from domain.opco.opcos import IdccRouting, Opco

log = logging.getLogger("convergence.commands")


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


class DossierMapper(ActorMapper, SealingMapper):
    """Records who acted (`_actor`) and seals the personal fields under the dossier's own key: on the way in the actor
    is added first, then the personal fields are sealed; on the way out they are opened before the actor is read, so
    the history (`with_actor`) sees them opened too."""


class Dossiers(Application[UUID]):
    name = "Dossiers"
    env: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        env: Mapping[str, str],
        routing: IdccRouting,
        clock: Clock,
        revocations: TokenRevocations | None = None,
        data_keys: DataKeys | None = None,
    ) -> None:
        self.data_keys = data_keys  # seals each dossier's personal fields with its own key (application/privacy)
        self.routing = routing
        self.revocations = revocations
        self.assessments = Assessments(routing)
        self.clock = clock
        self.opco_lookup: OpcoLookup | None = None  # the lookup by SIRET, when the settings enable it
        super().__init__(env=dict(env))
        self.commands = Commands(self)

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        # The settings are the one source of configuration: the process environment is not read here.
        return Environment(name, dict(env or {}))

    def construct_mapper(self) -> Mapper[UUID]:
        mapper = self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=DossierMapper)
        assert isinstance(mapper, DossierMapper)
        mapper.data_keys = self.data_keys
        return mapper

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Save only once what the answer derives from a changed dossier (its problems, its OPCO) is computed: a
        rule that fails on some Cerfa then stores nothing, rather than a dossier whose creation answered 500."""
        changed = [obj for obj in objs if isinstance(obj, Contract) and obj.pending_events]
        assessed = [(contract, assess(contract, self.routing)) for contract in changed]
        recordings = super().save(*objs, **kwargs)
        for contract, assessment in assessed:
            self.assessments.remember(contract, assessment)
        _log_saved(recordings)
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

        def draft() -> tuple[Contract, list[Aggregate]]:
            contract = Contract.draft(
                cfa_siret=self._owner_of_new(principal, cerfa),
                numero_interne=numero_interne or _new_numero_interne(self.clock.today()),
                cerfa=cerfa,
                opco=opco,
                actor=principal.actor,
            )
            contract.forecast_npec(npec, principal.actor)
            self._look_up_opco(contract, principal.actor)
            return contract, []

        outcome = self.commands.create(
            draft,
            self._reader(principal),
            request=IdempotentRequest.of(idempotency_key, principal, "", request_body),
            collided=lambda contract: DuplicateNumeroInterne(contract.numero_interne),
        )
        return _saved(outcome)

    def replace_cerfa(self, principal: Principal, ident: UUID, cerfa: Cerfa, expected_version: int | None) -> Saved:
        def replace(contract: Contract) -> None:
            contract.replace_cerfa(cerfa, principal.actor)
            self._look_up_opco(contract, principal.actor)

        return self._change(principal, ident, expected_version, replace)

    def patch_cerfa(
        self, principal: Principal, ident: UUID, patch: dict[str, Any], expected_version: int | None
    ) -> Saved:
        def patch_it(contract: Contract) -> None:
            contract.patch_cerfa(patch, principal.actor)
            self._look_up_opco(contract, principal.actor)

        return self._change(principal, ident, expected_version, patch_it)

    def choose_opco(
        self,
        principal: Principal,
        ident: UUID,
        opco: Opco | None,
        expected_version: int | None,
        idempotency_key: str | None = None,
    ) -> Saved:
        request = self._request(idempotency_key, principal, ident, "opco", opco, expected_version)
        return self._change(principal, ident, expected_version, lambda c: c.choose_opco(opco, principal.actor), request)

    def record_mandate(
        self,
        principal: Principal,
        ident: UUID,
        *,
        signed_on: date,
        signatory: dict[str, str],
        document_sha256: str | None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Saved:
        """The same mandate again changes nothing; another one replaces it only under If-Match (428 without), so
        that a mandate is never replaced by a request that did not see it."""
        today = self.clock.today()
        mandate = {"signedOn": signed_on, "signatory": dict(signatory), "documentSha256": document_sha256}
        request = self._request(idempotency_key, principal, ident, "mandate", mandate, expected_version)

        def record(contract: Contract) -> None:
            if expected_version is None and contract.has_other_mandate(signed_on, signatory, document_sha256):
                raise PreconditionRequired(
                    "the dossier has another mandate: to replace it, send If-Match with the ETag of the version"
                    " you read"
                )
            contract.record_mandate(
                signed_on=signed_on,
                signatory=signatory,
                document_sha256=document_sha256,
                actor=principal.actor,
                today=today,
            )

        return self._change(principal, ident, expected_version, record, request)

    def forecast_npec(
        self,
        principal: Principal,
        ident: UUID,
        npec: Decimal | None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Saved:
        amount = None if npec is None else money_text(npec)  # "8000" and "8000.00" are one request
        request = self._request(idempotency_key, principal, ident, "npec", amount, expected_version)
        return self._change(
            principal, ident, expected_version, lambda c: c.forecast_npec(npec, principal.actor), request
        )

    def submit(
        self,
        principal: Principal,
        ident: UUID,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Saved:
        request = self._request(idempotency_key, principal, ident, "submission", None, expected_version)
        return self._change(
            principal, ident, expected_version, lambda c: c.submit(self.routing, principal.actor), request
        )

    def cancel(
        self,
        principal: Principal,
        ident: UUID,
        reason: str | None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Saved:
        request = self._request(idempotency_key, principal, ident, "cancellation", {"reason": reason}, expected_version)
        return self._change(principal, ident, expected_version, lambda c: c.cancel(reason, principal.actor), request)

    def resume_transmission(
        self,
        principal: Principal,
        ident: UUID,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Saved:
        request = self._request(idempotency_key, principal, ident, "transmission/retry", None, expected_version)
        return self._change(
            principal, ident, expected_version, lambda c: c.resume_transmission(principal.actor), request
        )

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

    def issue_token(
        self,
        principal: Principal,
        *,
        cfa_siret: str,
        role: Role,
        name: str,
        lifetime: timedelta = DEFAULT_TOKEN_LIFETIME,
        idempotency_key: str | None = None,
    ) -> IssuedToken:
        """A new token, valid for `lifetime` from now; its secret is in the answer and nowhere else. So a repeat
        under the same Idempotency-Key cannot give it again: it is refused (TokenAlreadyIssued, naming the token to
        revoke) and issues nothing."""
        principal.require_operator()
        arguments = {"cfaSiret": cfa_siret, "role": role.value, "name": name, "seconds": lifetime.total_seconds()}
        made: list[str] = []

        def issue() -> tuple[ApiToken, list[Aggregate]]:
            made.append(new_token_secret())
            token = ApiToken(
                secret_hash=token_hash(made[-1]),
                cfa_siret=cfa_siret,
                role=role.value,
                name=name,
                actor=principal.actor,
                expires_at=self.clock.now() + lifetime,
            )
            return token, []

        outcome = self.commands.create(
            issue,
            self._token,
            request=IdempotentRequest.of(idempotency_key, principal, "/admin/tokens", arguments),
            collided=lambda _: None,  # 256 random bits collided: draw again
        )
        if outcome.replayed:
            raise TokenAlreadyIssued(outcome.aggregate.id)
        return IssuedToken(outcome.aggregate, made[-1])

    def tokens(self, principal: Principal, cfa_siret: str | None = None) -> list[ApiToken]:
        """Every token issued (revoked ones included), oldest first; those of one CFA when `cfa_siret` is given.
        Read from the log's `Issued` events: tokens are few, and an operator lists them rarely."""
        principal.require_operator()
        topic = f"{ApiToken.__module__}:{ApiToken.__qualname__}.Issued"
        found: list[ApiToken] = []
        start: int | None = None
        while page := self.recorder.select_notifications(start=start, limit=500, topics=stored_topics(topic)):
            found += [self._token(UUID(str(n.originator_id))) for n in page]
            start = page[-1].id + 1
        return [token for token in found if cfa_siret in (None, token.cfa_siret)]

    def revoke_token(self, principal: Principal, ident: UUID, idempotency_key: str | None = None) -> ApiToken:
        principal.require_operator()
        route = f"/admin/tokens/{ident}/revocation"
        outcome = self.commands.change(
            self._token,
            ident,
            lambda token: token.revoke(principal.actor),
            request=IdempotentRequest.of_command(idempotency_key, principal, route, None, None),
        )
        if self.revocations is not None:  # after the commit; again on a repeated revocation, in case one was lost
            self.revocations.announce(ident)
        return outcome.aggregate

    def renew_token(
        self, principal: Principal, ident: UUID, lifetime: timedelta, idempotency_key: str | None = None
    ) -> ApiToken:
        """Valid for `lifetime` from now, with the same secret (an expired token too); a revoked one is refused."""
        principal.require_operator()
        route = f"/admin/tokens/{ident}/renewal"
        expires_at = self.clock.now() + lifetime
        arguments = {"seconds": lifetime.total_seconds()}
        outcome = self.commands.change(
            self._token,
            ident,
            lambda token: token.renew(expires_at, principal.actor),
            request=IdempotentRequest.of_command(idempotency_key, principal, route, arguments, None),
        )
        return outcome.aggregate

    def authenticate(self, secret: str) -> Principal | None:
        try:
            token = self._token(token_id(token_hash(secret)))
        except NotFound:
            return None
        return token.principal() if token.valid_at(self.clock.now()) else None

    # -- internals ------------------------------------------------------------------------------------------

    def _change(
        self,
        principal: Principal,
        ident: UUID,
        expected_version: int | None,
        command: Callable[[Contract], object],
        request: IdempotentRequest | None = None,
    ) -> Saved:
        principal.require_writer()
        outcome = self.commands.change(
            self._reader(principal), ident, command, expected_version=expected_version, request=request
        )
        return _saved(outcome)

    def _reader(self, principal: Principal) -> Reader[Contract]:
        return lambda ident, version: self.contract(principal, ident, version)

    @staticmethod
    def _request(
        key: str | None, principal: Principal, ident: UUID, action: str, arguments: Any, expected_version: int | None
    ) -> IdempotentRequest | None:
        return IdempotentRequest.of_command(key, principal, f"/contracts/{ident}/{action}", arguments, expected_version)

    def _look_up_opco(self, contract: Contract, actor: str) -> None:
        if self.opco_lookup is not None:
            self.opco_lookup.update(contract, actor)

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

    def _token(self, ident: UUID, version: int | None = None) -> ApiToken:
        try:
            token: ApiToken = self.repository.get(ident, version=version)
        except AggregateNotFoundError:
            raise NotFound("token", ident) from None
        if not isinstance(token, ApiToken):
            raise NotFound("token", ident)
        return token


def _saved(outcome: Outcome[Contract]) -> Saved:
    return Saved(outcome.aggregate, outcome.position, outcome.replayed)


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


def _log_saved(recordings: list[Recording[UUID]]) -> None:
    """One record per aggregate saved: its id, the version and log position reached and its events' names, so that
    what a request saved (its record carries the request id) can be followed into the worker's records, which
    name the same aggregate id and version (docs/operations.md)."""
    if not log.isEnabledFor(logging.INFO):
        return
    by_aggregate: dict[UUID, list[Recording[UUID]]] = {}
    for recording in recordings:
        by_aggregate.setdefault(recording.domain_event.originator_id, []).append(recording)
    for ident, saved in by_aggregate.items():
        last = saved[-1]
        kind = type(last.domain_event).__qualname__.split(".")[0]
        events = [type(r.domain_event).__name__ for r in saved]
        fields = {"aggregate_id": str(ident), "version": last.domain_event.originator_version}
        log.info(
            "saved %s %s v%d at position %d: %s",
            kind,
            ident,
            fields["version"],
            last.notification.id,
            ", ".join(events),
            extra={**fields, "aggregate": kind, "position": last.notification.id, "events": events},
        )
