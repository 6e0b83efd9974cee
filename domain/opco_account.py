"""A CFA's account at one OPCO: its API key (sealed, never in clear in an event) and what the OPCO said of it."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ids import named_id


class KeyStatus(StrEnum):
    NONE = "none"  # no key yet: the CFA's dossiers for this OPCO wait for one
    UNCHECKED = "unchecked"  # set, not yet confirmed by the OPCO
    VALID = "valid"  # the OPCO accepted it
    REJECTED = "rejected"  # the OPCO answered 403 or cfakeyinfo said so: waiting for a new key


def opco_account_id(cfa_siret: str, opco: str) -> UUID:
    return named_id("cfas", cfa_siret, "opcos", opco)


class OpcoAccount(Aggregate):
    @staticmethod
    def create_id(cfa_siret: str, opco: str) -> UUID:
        return opco_account_id(cfa_siret, opco)

    @event("Opened")
    def __init__(self, cfa_siret: str, opco: str, actor: str) -> None:
        self.cfa_siret = cfa_siret
        self.opco = opco
        self.sealed_api_key: str | None = None
        self.key_last4: str | None = None
        self.client_id: str | None = None
        self.sealed_client_secret: str | None = None
        self.key_status = KeyStatus.NONE
        self.key_expires_on: date | None = None
        self.key_comment: str | None = None

    @event("CredentialsSet")
    def set_credentials(
        self,
        sealed_api_key: str,
        key_last4: str,
        client_id: str | None,
        sealed_client_secret: str | None,
        actor: str,
    ) -> None:
        self.sealed_api_key = sealed_api_key
        self.key_last4 = key_last4
        self.client_id = client_id
        self.sealed_client_secret = sealed_client_secret
        self.key_status = KeyStatus.UNCHECKED
        self.key_expires_on = None
        self.key_comment = None

    def reject_key(self, comment: str, actor: str) -> None:
        if self.key_status is not KeyStatus.REJECTED or self.key_comment != comment:
            self._key_rejected(comment=comment, actor=actor)

    def confirm_key(self, expires_on: date | None, comment: str | None, actor: str) -> None:
        if (self.key_status, self.key_expires_on, self.key_comment) != (KeyStatus.VALID, expires_on, comment):
            self._key_confirmed(expires_on=expires_on, comment=comment, actor=actor)

    @property
    def usable(self) -> bool:
        return self.key_status in {KeyStatus.UNCHECKED, KeyStatus.VALID}

    @event("KeyRejected")
    def _key_rejected(self, comment: str, actor: str) -> None:
        self.key_status = KeyStatus.REJECTED
        self.key_comment = comment

    @event("KeyConfirmed")
    def _key_confirmed(self, expires_on: date | None, comment: str | None, actor: str) -> None:
        self.key_status = KeyStatus.VALID
        self.key_expires_on = expires_on
        self.key_comment = comment
