"""Setting a CFA's credentials at an OPCO: its API key, the software's OAuth client, the key signing DPoP proofs.

Each is a command run as every other (application/contracts/commands.py): one transaction, `If-Match` on the account's
version, `Idempotency-Key` honoured. The secrets are sealed before they reach an event; what an Idempotency-Key
record keeps of a request is a keyed digest of them (`SecretBox.digest`), never the clear text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from application.access.access import Principal
from application.access.idempotency import IdempotentRequest
from application.contracts.commands import Commands, Outcome
from application.errors import ApplicationError, NotFound, PreconditionRequired, VersionMismatch
from application.ports import DpopKeyMaterial, DpopKeys, SecretBox
from domain.errors import InvalidValue
from domain.opco.opco_account import OpcoAccount, opco_account_id
from domain.opco.opco_auth import DPOP_ALGORITHMS
from domain.opco.opco_catalogue import OpcoProfile
from domain.opco.opcos import Opco

MAX_CLIENT_ID = 200


class _OpenedMeanwhile(ApplicationError):
    """Another request opened the account while this one was opening it: apply the change to that one."""


class OpcoCredentials:
    def __init__(self, app: Application[UUID], box: SecretBox, dpop_keys: DpopKeys | None) -> None:
        self._app = app
        self._box = box
        self._dpop_keys = dpop_keys
        self._commands = Commands(app)

    def set_api_key(
        self,
        principal: Principal,
        cfa_siret: str,
        opco: Opco,
        api_key: str,
        client: tuple[str, str] | None,
        expected_version: int | None,
        idempotency_key: str | None,
    ) -> Outcome[OpcoAccount]:
        check_secret("apiKey", api_key)
        if client is not None:
            check_client(*client)
        arguments = {"apiKey": self._box.digest(api_key), "client": client and self._client_digest(*client)}

        def apply(account: OpcoAccount) -> None:
            account.set_api_key(self._box.seal(api_key), api_key[-4:], principal.actor)
            if client is not None:
                self._set_client(account, *client, principal.actor)

        return self._run(principal, cfa_siret, opco, "credentials", arguments, apply, expected_version, idempotency_key)

    def set_oauth_client(
        self,
        principal: Principal,
        cfa_siret: str,
        opco: Opco,
        client_id: str,
        client_secret: str,
        expected_version: int | None,
        idempotency_key: str | None,
    ) -> Outcome[OpcoAccount]:
        check_client(client_id, client_secret)
        arguments = self._client_digest(client_id, client_secret)

        def apply(account: OpcoAccount) -> None:
            self._set_client(account, client_id, client_secret, principal.actor)

        return self._run(
            principal, cfa_siret, opco, "oauth-client", arguments, apply, expected_version, idempotency_key
        )

    def set_dpop_key(
        self,
        principal: Principal,
        profile: OpcoProfile,
        cfa_siret: str,
        *,
        generate: str | None,
        private_key: str | dict[str, Any] | None,
        expected_version: int | None,
        idempotency_key: str | None,
    ) -> Outcome[OpcoAccount]:
        """A new key (generated here, its public JWK shown to be registered with the OPCO) or the CFA's own. The
        same key again changes nothing; another replaces the one set only under If-Match (428 without), so that
        a key the OPCO knows is not replaced by a request that did not see it."""
        if not profile.dpop:
            message = f"{profile.opco} does not bind its tokens to a key ({profile.auth}): it needs no DPoP key"
            raise InvalidValue("dpopKey", "not_used_by_opco", message)
        if (generate is None) == (private_key is None):
            raise InvalidValue("generate", "one_of", "give either generate (RS256 or ES256) or privateKey")
        material = self._dpop_material(generate, private_key)
        secret = material.private_jwk if generate is None else f"generate:{generate}"
        arguments = {"dpopKey": self._box.digest(secret)}

        def apply(account: OpcoAccount) -> None:
            if account.dpop_key is not None and account.dpop_key.thumbprint == material.thumbprint:
                return
            if account.dpop_key is not None and expected_version is None:
                raise PreconditionRequired(
                    "the account has a DPoP key already: to replace it, send If-Match with the ETag you read"
                )
            sealed = self._box.seal(material.private_jwk)
            account.set_dpop_key(sealed, material.public_jwk, material.thumbprint, material.alg, principal.actor)

        opco = profile.opco
        return self._run(principal, cfa_siret, opco, "dpop-key", arguments, apply, expected_version, idempotency_key)

    # -- internals ------------------------------------------------------------------------------------------

    def _dpop_material(self, generate: str | None, private_key: str | dict[str, Any] | None) -> DpopKeyMaterial:
        if self._dpop_keys is None:
            raise RuntimeError("no DPoP key maker was given to OpcoAccounts")
        if generate is not None:
            if generate not in DPOP_ALGORITHMS:
                raise InvalidValue("generate", "dpop_algorithm", f"generate is one of {', '.join(DPOP_ALGORITHMS)}")
            return self._dpop_keys.generate(generate)
        assert private_key is not None
        try:
            return self._dpop_keys.load(private_key)
        except ValueError as error:
            raise InvalidValue("privateKey", "dpop_key", str(error)) from None

    def _set_client(self, account: OpcoAccount, client_id: str, client_secret: str, actor: str) -> None:
        same = (
            account.client_id == client_id
            and account.sealed_client_secret is not None
            and self._box.open(account.sealed_client_secret) == client_secret
        )
        if not same:
            account.set_oauth_client(client_id, self._box.seal(client_secret), actor)

    def _client_digest(self, client_id: str, client_secret: str) -> dict[str, str]:
        return {"clientId": client_id, "clientSecret": self._box.digest(client_secret)}

    def _run(
        self,
        principal: Principal,
        cfa_siret: str,
        opco: Opco,
        action: str,
        arguments: Any,
        apply: Callable[[OpcoAccount], None],
        expected_version: int | None,
        idempotency_key: str | None,
    ) -> Outcome[OpcoAccount]:
        """`apply` to the account, opening it on first use; two requests opening it at once both apply."""
        route = f"/opcos/{opco.value}/{action}"
        request = IdempotentRequest.of_command(idempotency_key, principal, route, arguments, expected_version)
        ident = opco_account_id(cfa_siret, opco.value)
        exists = self._exists(ident)
        if expected_version is not None and not exists:
            raise VersionMismatch(expected_version, 0)
        if not exists:

            def open_it() -> tuple[OpcoAccount, list[Any]]:
                account = OpcoAccount(cfa_siret=cfa_siret, opco=opco.value, actor=principal.actor)
                apply(account)
                return account, []

            try:
                return self._commands.create(open_it, self._read, request=request, collided=_opened_meanwhile)
            except _OpenedMeanwhile:
                pass
        return self._commands.change(self._read, ident, apply, expected_version=expected_version, request=request)

    def _exists(self, ident: UUID) -> bool:
        try:
            self._app.repository.get(ident)
        except AggregateNotFoundError:
            return False
        return True

    def _read(self, ident: UUID, version: int | None) -> OpcoAccount:
        try:
            account: OpcoAccount = self._app.repository.get(ident, version=version)
        except AggregateNotFoundError:
            raise NotFound("OPCO account", ident) from None
        return account


def _opened_meanwhile(_: OpcoAccount) -> ApplicationError:
    return _OpenedMeanwhile()


def check_secret(field: str, value: str) -> None:
    if not 8 <= len(value) <= 512 or any(c.isspace() for c in value):
        raise InvalidValue(field, "secret_format", f"{field} is 8 to 512 characters without spaces")


def check_client(client_id: str, client_secret: str) -> None:
    if not 1 <= len(client_id) <= MAX_CLIENT_ID or not client_id.isprintable() or client_id != client_id.strip():
        raise InvalidValue("clientId", "client_id_format", f"clientId is 1 to {MAX_CLIENT_ID} printable characters")
    check_secret("clientSecret", client_secret)
