"""A CFA's account at one OPCO: its API key, the software's OAuth client and DPoP key there (the secrets sealed,
never in clear in an event), and what the OPCO said of the key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.copying import CopiedByPickle
from domain.ids import named_id


class KeyStatus(StrEnum):
    NONE = "none"  # no key yet: the CFA's dossiers for this OPCO wait for one
    UNCHECKED = "unchecked"  # set, not yet confirmed by the OPCO
    VALID = "valid"  # the OPCO accepted it
    REJECTED = "rejected"  # the OPCO answered 403 or cfakeyinfo said so: waiting for a new key


def opco_account_id(cfa_siret: str, opco: str) -> UUID:
    return named_id("cfas", cfa_siret, "opcos", opco)


@dataclass(frozen=True, slots=True)
class DpopKeyRecord:
    """The key signing the DPoP proofs: the private JWK sealed; its public part, thumbprint and algorithm shown."""

    sealed_private_jwk: str = field(repr=False)
    public_jwk: dict[str, Any]
    thumbprint: str  # RFC 7638, of the public key
    alg: str
    set_at: datetime


class OpcoAccount(CopiedByPickle, Aggregate):
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
        self.client_set_at: datetime | None = None
        self.dpop_key: DpopKeyRecord | None = None
        self.key_status = KeyStatus.NONE
        self.key_expires_on: date | None = None
        self.key_comment: str | None = None

    # Before the OAuth client was a command of its own, the key and the client were set together: kept for replay.
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

    def set_api_key(self, sealed_api_key: str, key_last4: str, actor: str) -> None:
        """A new key is unchecked until the OPCO takes it; the OAuth client and the DPoP key stay."""
        self.trigger_event(self.ApiKeySet, sealed_api_key=sealed_api_key, key_last4=key_last4, actor=actor)

    def set_oauth_client(self, client_id: str, sealed_client_secret: str, actor: str) -> None:
        self.trigger_event(
            self.OAuthClientSet, client_id=client_id, sealed_client_secret=sealed_client_secret, actor=actor
        )

    def set_dpop_key(
        self, sealed_private_jwk: str, public_jwk: dict[str, Any], thumbprint: str, alg: str, actor: str
    ) -> None:
        """The key that signs the DPoP proofs; the same key again (by its RFC 7638 thumbprint) changes nothing."""
        if self.dpop_key is None or self.dpop_key.thumbprint != thumbprint:
            self.trigger_event(
                self.DpopKeySet,
                sealed_private_jwk=sealed_private_jwk,
                public_jwk=public_jwk,
                thumbprint=thumbprint,
                alg=alg,
                actor=actor,
            )

    def reject_key(self, comment: str, actor: str) -> None:
        if self.key_status is not KeyStatus.REJECTED or self.key_comment != comment:
            self._key_rejected(comment=comment, actor=actor)

    def confirm_key(self, expires_on: date | None, comment: str | None, actor: str) -> None:
        if (self.key_status, self.key_expires_on, self.key_comment) != (KeyStatus.VALID, expires_on, comment):
            self._key_confirmed(expires_on=expires_on, comment=comment, actor=actor)

    @property
    def usable(self) -> bool:
        return self.key_status in {KeyStatus.UNCHECKED, KeyStatus.VALID}

    # Declared as classes: their `apply` keeps the event's own timestamp (when the credential was set).
    class ApiKeySet(Aggregate.Event):
        sealed_api_key: str
        key_last4: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.sealed_api_key = self.sealed_api_key
            aggregate.key_last4 = self.key_last4
            aggregate.key_status = KeyStatus.UNCHECKED
            aggregate.key_expires_on = None
            aggregate.key_comment = None

    class OAuthClientSet(Aggregate.Event):
        client_id: str
        sealed_client_secret: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.client_id = self.client_id
            aggregate.sealed_client_secret = self.sealed_client_secret
            aggregate.client_set_at = self.timestamp

    class DpopKeySet(Aggregate.Event):
        sealed_private_jwk: str
        public_jwk: dict[str, Any]
        thumbprint: str
        alg: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.dpop_key = DpopKeyRecord(
                self.sealed_private_jwk, dict(self.public_jwk), self.thumbprint, self.alg, self.timestamp
            )

    @event("KeyRejected")
    def _key_rejected(self, comment: str, actor: str) -> None:
        self.key_status = KeyStatus.REJECTED
        self.key_comment = comment

    @event("KeyConfirmed")
    def _key_confirmed(self, expires_on: date | None, comment: str | None, actor: str) -> None:
        self.key_status = KeyStatus.VALID
        self.key_expires_on = expires_on
        self.key_comment = comment
