"""The CFAs' accounts at the OPCOs: credentials (sealed), key status, and how to reach each OPCO for a CFA: or why
it cannot be reached yet."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from application.access.access import WORKER, Principal
from application.contracts.commands import Outcome
from application.errors import NotFound
from application.opco.opco_credentials import OpcoCredentials
from application.opco.opco_gateway import OpcoEndpoint
from application.ports import Contact, ContactLog, DpopKeys, SecretBox
from domain.errors import InvalidValue
from domain.opco.opco_account import KeyStatus, OpcoAccount, opco_account_id
from domain.opco.opco_catalogue import OpcoProfile
from domain.opco.opcos import Opco

CONTACT_RESOLUTION = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class NotReady:
    """Why this CFA's dossiers and invoices cannot go to this OPCO yet."""

    code: str  # opco_unreachable, api_key_missing, api_key_rejected, oauth_client_missing, dpop_key_missing
    message: str


@dataclass(frozen=True, slots=True)
class AccountView:
    profile: OpcoProfile
    account: OpcoAccount | None
    contact: Contact | None
    not_ready: NotReady | None = None

    @property
    def key_status(self) -> KeyStatus:
        return self.account.key_status if self.account else KeyStatus.NONE


class OpcoAccounts:
    def __init__(
        self,
        app: Application[UUID],
        box: SecretBox,
        profiles: Mapping[Opco, OpcoProfile],
        contacts: ContactLog,
        dpop_keys: DpopKeys | None = None,
    ) -> None:
        self._app = app
        self._box = box
        self.profiles = profiles
        self.contacts = contacts
        self._credentials = OpcoCredentials(app, box, dpop_keys)
        self._last_success: dict[tuple[str, Opco], datetime] = {}
        self.changes = 0  # counts the changes of credentials made here: what keeps an endpoint cached is stale after

    # -- commands: the CFA's credentials (admin of the CFA or operator) -------------------------------------

    def set_credentials(
        self,
        principal: Principal,
        cfa_siret: str,
        opco: Opco,
        *,
        api_key: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome[OpcoAccount]:
        """The CFA's API key; with the software's OAuth client when both its id and secret are given (the client
        already set stays otherwise)."""
        self._require_admin_of(principal, cfa_siret)
        if (client_id is None) != (client_secret is None):
            raise InvalidValue("clientSecret", "pair", "clientId and clientSecret go together")
        client = (client_id, client_secret) if client_id is not None and client_secret is not None else None
        return self._changed(
            self._credentials.set_api_key(
                principal, cfa_siret, opco, api_key, client, expected_version, idempotency_key
            )
        )

    def set_oauth_client(
        self,
        principal: Principal,
        cfa_siret: str,
        opco: Opco,
        *,
        client_id: str,
        client_secret: str,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome[OpcoAccount]:
        """The software's OAuth2 client at this OPCO, for the OPCOs whose dialect asks for a token."""
        self._require_admin_of(principal, cfa_siret)
        return self._changed(
            self._credentials.set_oauth_client(
                principal, cfa_siret, opco, client_id, client_secret, expected_version, idempotency_key
            )
        )

    def set_dpop_key(
        self,
        principal: Principal,
        cfa_siret: str,
        opco: Opco,
        *,
        generate: str | None = None,
        private_key: str | dict[str, Any] | None = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome[OpcoAccount]:
        """The key signing the DPoP proofs, for the OPCOs that bind their tokens to one (AFDAS)."""
        self._require_admin_of(principal, cfa_siret)
        return self._changed(
            self._credentials.set_dpop_key(
                principal,
                self.profiles[opco],
                cfa_siret,
                generate=generate,
                private_key=private_key,
                expected_version=expected_version,
                idempotency_key=idempotency_key,
            )
        )

    # -- queries --------------------------------------------------------------------------------------------

    def overview(self, principal: Principal, cfa_siret: str) -> list[AccountView]:
        if not principal.can_see(cfa_siret):
            raise NotFound("CFA", cfa_siret)
        views = []
        for opco, profile in self.profiles.items():
            account = self.account(cfa_siret, opco)
            contact = self.contacts.get(cfa_siret, opco.value)
            views.append(AccountView(profile, account, contact, self.not_ready(cfa_siret, opco, account)))
        return views

    def account(self, cfa_siret: str, opco: Opco) -> OpcoAccount | None:
        try:
            account: OpcoAccount = self._app.repository.get(opco_account_id(cfa_siret, opco.value))
        except AggregateNotFoundError:
            return None
        return account

    def not_ready(self, cfa_siret: str, opco: Opco, account: OpcoAccount | None = None) -> NotReady | None:
        """Why `opco` cannot be called for this CFA, or None when it can."""
        reason = self.profiles[opco].unreachable()
        if reason is not None:
            return NotReady("opco_unreachable", reason)
        return _missing_credentials(self.profiles[opco], account or self.account(cfa_siret, opco))

    def endpoint(self, cfa_siret: str, opco: Opco) -> OpcoEndpoint | None:
        """How to call `opco` for this CFA; None while it cannot be called (`not_ready` says why)."""
        account = self.account(cfa_siret, opco)
        profile = self.profiles[opco]
        if account is None or self.not_ready(cfa_siret, opco, account) is not None:
            return None
        assert profile.base_url is not None
        assert account.sealed_api_key is not None
        sealed_secret = account.sealed_client_secret if profile.oauth else None
        dpop = account.dpop_key if profile.dpop else None
        return OpcoEndpoint(
            opco=opco,
            base_url=profile.base_url,
            protocol=profile.protocol,
            api_key=self._box.open(account.sealed_api_key),
            client_id=account.client_id if sealed_secret else None,
            client_secret=self._box.open(sealed_secret) if sealed_secret else None,
            token_url=profile.token_url,
            scope=profile.oauth_scope,
            dpop_key=self._box.open(dpop.sealed_private_jwk) if dpop else None,
            errors=profile.errors,
            invoice_path=profile.invoice_path,
        )

    def usable(self, cfa_siret: str, opco: Opco) -> bool:
        """The CFA's credentials at `opco` are complete and its key not rejected (whatever the OPCO's address)."""
        account = self.account(cfa_siret, opco)
        return account is not None and _missing_credentials(self.profiles[opco], account) is None

    def contacted(self, cfa_siret: str, opco: Opco, at: datetime, error: str | None) -> None:
        """Note an exchange; successful ones at most once a second per account (the sender makes hundreds)."""
        key = (cfa_siret, opco)
        if error is None and (last := self._last_success.get(key)) is not None and at - last < CONTACT_RESOLUTION:
            return
        self.contacts.record(cfa_siret, opco.value, at, error)
        if error is None:
            self._last_success[key] = at

    def reject_key(self, cfa_siret: str, opco: Opco, comment: str) -> None:
        account = self.account(cfa_siret, opco)
        if account is not None:
            account.reject_key(comment, WORKER.actor)
            self._app.save(account)
            self.changes += 1

    def confirm_key(self, cfa_siret: str, opco: Opco, expires_on: date | None, comment: str | None) -> None:
        account = self.account(cfa_siret, opco)
        if account is not None:
            account.confirm_key(expires_on, comment, WORKER.actor)
            self._app.save(account)
            self.changes += 1

    def _changed(self, outcome: Outcome[OpcoAccount]) -> Outcome[OpcoAccount]:
        """Counted once saved: an endpoint read between the count and the save would be cached as current."""
        self.changes += 1
        return outcome

    def _require_admin_of(self, principal: Principal, cfa_siret: str) -> None:
        if not principal.can_see(cfa_siret):
            raise NotFound("CFA", cfa_siret)
        principal.require_admin()


def _missing_credentials(profile: OpcoProfile, account: OpcoAccount | None) -> NotReady | None:
    opco = profile.opco
    if account is None or account.sealed_api_key is None:
        return NotReady("api_key_missing", f"the CFA's API key at {opco} is not set")
    if not account.usable:
        return NotReady("api_key_rejected", f"{opco} rejected the CFA's API key ({account.key_comment}): set a new one")
    if profile.oauth and (account.client_id is None or account.sealed_client_secret is None):
        message = f"{opco} asks for a token ({profile.auth}): the software's OAuth client there is not set"
        return NotReady("oauth_client_missing", message)
    if profile.dpop and account.dpop_key is None:
        return NotReady("dpop_key_missing", f"{opco} binds its tokens to a key (DPoP): that key is not set")
    return None
