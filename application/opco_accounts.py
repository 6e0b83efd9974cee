"""The CFAs' accounts at the OPCOs: credentials (sealed), key status, and how to reach each OPCO for a CFA."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from application.access import WORKER, Principal
from application.errors import NotFound
from application.opco_gateway import OpcoEndpoint
from application.ports import Contact, ContactLog, SecretBox
from domain.errors import InvalidValue
from domain.opco_account import KeyStatus, OpcoAccount, opco_account_id
from domain.opco_catalogue import OpcoProfile
from domain.opcos import Opco

CONTACT_RESOLUTION = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class AccountView:
    profile: OpcoProfile
    account: OpcoAccount | None
    contact: Contact | None

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
    ) -> None:
        self._app = app
        self._box = box
        self.profiles = profiles
        self.contacts = contacts
        self._last_success: dict[tuple[str, Opco], datetime] = {}

    def set_credentials(
        self,
        principal: Principal,
        cfa_siret: str,
        opco: Opco,
        *,
        api_key: str,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> OpcoAccount:
        self._require_admin_of(principal, cfa_siret)
        _check_secret("apiKey", api_key)
        if client_secret is not None:
            _check_secret("clientSecret", client_secret)
        if (client_id is None) != (client_secret is None):
            raise InvalidValue("clientSecret", "pair", "clientId and clientSecret go together")
        account = self.account(cfa_siret, opco) or OpcoAccount(
            cfa_siret=cfa_siret, opco=opco.value, actor=principal.actor
        )
        account.set_credentials(
            sealed_api_key=self._box.seal(api_key),
            key_last4=api_key[-4:],
            client_id=client_id,
            sealed_client_secret=self._box.seal(client_secret) if client_secret else None,
            actor=principal.actor,
        )
        self._app.save(account)
        return account

    def overview(self, principal: Principal, cfa_siret: str) -> list[AccountView]:
        if not principal.can_see(cfa_siret):
            raise NotFound("CFA", cfa_siret)
        return [
            AccountView(profile, self.account(cfa_siret, opco), self.contacts.get(cfa_siret, opco.value))
            for opco, profile in self.profiles.items()
        ]

    def account(self, cfa_siret: str, opco: Opco) -> OpcoAccount | None:
        try:
            account: OpcoAccount = self._app.repository.get(opco_account_id(cfa_siret, opco.value))
        except AggregateNotFoundError:
            return None
        return account

    def endpoint(self, cfa_siret: str, opco: Opco) -> OpcoEndpoint | None:
        """How to call `opco` for this CFA; None while there is no usable key or no known address."""
        account = self.account(cfa_siret, opco)
        profile = self.profiles[opco]
        if account is None or not account.usable or account.sealed_api_key is None or profile.base_url is None:
            return None
        secret = self._box.open(account.sealed_client_secret) if account.sealed_client_secret else None
        return OpcoEndpoint(
            opco=opco,
            base_url=profile.base_url,
            protocol=profile.protocol,
            api_key=self._box.open(account.sealed_api_key),
            client_id=account.client_id,
            client_secret=secret,
            token_url=profile.token_url,
            scope=profile.oauth_scope,
        )

    def usable(self, cfa_siret: str, opco: Opco) -> bool:
        account = self.account(cfa_siret, opco)
        return account is not None and account.usable

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

    def confirm_key(self, cfa_siret: str, opco: Opco, expires_on: date | None, comment: str | None) -> None:
        account = self.account(cfa_siret, opco)
        if account is not None:
            account.confirm_key(expires_on, comment, WORKER.actor)
            self._app.save(account)

    def _require_admin_of(self, principal: Principal, cfa_siret: str) -> None:
        if not principal.can_see(cfa_siret):
            raise NotFound("CFA", cfa_siret)
        principal.require_admin()


def _check_secret(field: str, value: str) -> None:
    if not 8 <= len(value) <= 512 or any(c.isspace() for c in value):
        raise InvalidValue(field, "secret_format", f"{field} is 8 to 512 characters without spaces")
