"""Request and response bodies of the REST API (camelCase, as the Cerfa standard writes its fields)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from application.access import Role
from domain.cerfa import Cerfa, Siret
from domain.contract import ContractState
from domain.opcos import Opco

NumeroInterne = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Sha256 = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[0-9a-fA-F]{64}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContractCreate(Strict):
    numeroInterne: NumeroInterne | None = Field(
        None, description="the CFA's own reference, unique per CFA; generated when absent"
    )
    opco: Opco | None = Field(None, description="the OPCO chosen by the user; overrides the routing by IDCC")
    cerfa: Cerfa = Field(description="the Cerfa FA13 data; a draft may be incomplete")


class OpcoChoice(Strict):
    opco: Opco | None = Field(description="an OPCO code, or null to go back to the routing by IDCC")


class Signatory(Strict):
    nom: Name
    prenom: Name
    qualite: Name = Field(description="the signatory's capacity at the employer, e.g. 'Gérant', 'DRH'")


class MandateIn(Strict):
    signedOn: date = Field(description="the day the employer signed the mandate; not in the future")
    signatory: Signatory
    documentSha256: Sha256 | None = Field(None, description="SHA-256 of the signed mandate document, if kept")


class Cancellation(Strict):
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


class ProblemOut(BaseModel):
    field: str
    code: str
    message: str


class MandateOut(BaseModel):
    signedOn: date
    signatory: Signatory
    documentSha256: str | None
    recordedBy: str


class ContractOut(BaseModel):
    id: UUID
    numeroInterne: str
    cfaSiret: str
    state: ContractState
    opco: Opco | None = Field(description="the OPCO the dossier goes (or went) to, when known")
    opcoSource: Literal["chosen", "idcc", "submission"] | None
    cerfa: dict[str, Any] = Field(description="the Cerfa document as stored (fields not set are absent)")
    mandate: MandateOut | None
    problems: list[ProblemOut] = Field(description="what blocks submission; empty once submitted")
    version: int
    createdAt: datetime
    updatedAt: datetime


class EventOut(BaseModel):
    version: int
    type: str
    at: datetime
    actor: str | None
    data: dict[str, Any]


class TokenCreate(Strict):
    cfaSiret: Siret
    role: Role
    name: Name


class TokenOut(BaseModel):
    id: UUID
    cfaSiret: str
    role: Role
    name: str
    revoked: bool
    createdAt: datetime


class TokenIssued(TokenOut):
    token: str = Field(description="the bearer token; shown this once, only its hash is stored")
