"""Bodies of the OPCO-account routes beyond the API key: the software's OAuth client, the DPoP key, and how each OPCO
is reached (its address and dialect) and whether it can be, shown on GET /cfas/{siret}/opcos."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.opco.opco_auth import AuthFlavour

ClientSecret = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=512)]
ClientId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class OAuthClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    clientId: ClientId = Field(description="the software's OAuth2 client id at this OPCO")
    clientSecret: ClientSecret = Field(description="its secret: stored sealed, never shown again")


class DpopKeyIn(BaseModel):
    """Either `generate` (a key made here: its public JWK is in the answer, to register with the OPCO) or
    `privateKey` (the CFA's own: a PEM text, or a private JWK as an object or a JSON text)."""

    model_config = ConfigDict(extra="forbid")

    generate: Literal["RS256", "ES256"] | None = Field(None, description="make a new key signing with this algorithm")
    privateKey: Annotated[str, StringConstraints(min_length=1, max_length=20_000)] | dict[str, Any] | None = Field(
        None, description="PEM private key (RSA ≥ 2048 bits or EC P-256), or a private JWK"
    )

    @model_validator(mode="after")
    def _one_of(self) -> DpopKeyIn:
        if (self.generate is None) == (self.privateKey is None):
            raise ValueError("give either generate or privateKey")
        return self


class AuthOut(BaseModel):
    dialect: AuthFlavour = Field(description="sor, keycloak, okta_dpop or key_only (docs/wire.md)")
    tokenUrl: str | None
    scope: str | None = Field(description="the scope asked for at the token endpoint; null: none is sent")
    dpop: bool = Field(description="the OPCO binds its tokens to a key: a DPoP key must be set")


class AddressOut(BaseModel):
    environment: Literal["production", "test"]
    baseUrl: str | None
    invoicePath: str = Field(description="the invoice path's case at this OPCO: /v1/Factures on the SOR hosts")


class OAuthClientOut(BaseModel):
    clientId: str
    secretSet: bool
    setAt: datetime | None


class DpopKeyOut(BaseModel):
    alg: str
    thumbprint: str = Field(description="RFC 7638 SHA-256 thumbprint of the public key")
    publicJwk: dict[str, Any] = Field(description="the public key, to register with the OPCO where it asks")
    setAt: datetime


class NotReadyOut(BaseModel):
    code: Literal["opco_unreachable", "api_key_missing", "api_key_rejected", "oauth_client_missing", "dpop_key_missing"]
    message: str
