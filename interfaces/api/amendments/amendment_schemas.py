"""Request and response bodies of the avenants (POST /contracts/{id}/amendments and what follows)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.amendments.amendment_types import AMENDMENT_TYPES

TYPES_TEXT = "; ".join(f"{t.code}: {t.label}" for t in AMENDMENT_TYPES.values())
State = Literal["drafted", "submitted", "sent", "in_review", "accepted", "refused", "withdrawn"]


class Signatory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nom: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    prenom: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    qualite: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class AmendmentMandateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signedOn: date = Field(description="the day the employer signed the avenant and its mandate; not in the future")
    signatory: Signatory


class AmendmentIn(BaseModel):
    """Codes and fields are checked by the rules (422 naming the field and the rule), so that every problem is
    listed at once."""

    model_config = ConfigDict(extra="forbid")

    typeContratApp: int | None = Field(None, description=f"the avenant's type: {TYPES_TEXT}", examples=[33])
    dateEffetAvenant: date | None = Field(
        None, description="when it takes effect, within the contract; asked for 31–37, not for 38"
    )
    changes: dict[str, Any] = Field(
        default_factory=dict,
        description="a JSON merge patch (RFC 7386) of the contract's Cerfa as it stands (with the avenants accepted"
        " so far); only the fields its type may change (docs/amendments.md)",
        examples=[{"contrat": {"dateFinContrat": "2029-08-31"}, "formation": {"dateFinFormation": "2029-06-30"}}],
    )
    mandate: AmendmentMandateIn | None = Field(None, description="the employer's mandate, when already signed")


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


class AmendmentOut(BaseModel):
    contractId: str
    number: int = Field(description="1, 2, … per contract, withdrawn ones included")
    typeContratApp: int
    libelle: str
    dateEffetAvenant: date | None
    inEffectOn: date | None = Field(description="from when it applies, once accepted (38: its acceptance)")
    changes: dict[str, Any]
    state: State
    problems: list[dict[str, str]] = Field(description="what blocks its submission: the Cerfa's rules, the mandate")
    mandate: dict[str, Any] | None
    numeroInterne: str = Field(description="ours at the OPCO: the contract's numeroInterne and -AVn")
    answerShape: Literal["new_dossier", "updates_first"] | None = Field(
        description="new_dossier: the OPCO answered with a dossier of its own; updates_first: with the contract's"
    )
    numeroExterne: str | None
    numeroDeca: str | None
    noAvenant: str | None
    opcoState: str | None
    opcoComment: str | None
    effects: dict[str, Any] = Field(
        description="funding: {recomputed, before, after, echeancesToRecheck, missing} where it changes the funding"
        " (33, 34, 35, 36 with another duration); opcoChange: {from, to} where the employer's IDCC routes elsewhere"
    )
    reviewed: bool
    waitingFor: list[str] = Field(
        description="refused, parked, echeances_to_recheck, opco_change: what a person must do"
    )
    withdrawable: bool
    transmission: dict[str, Any]
    cerfa: dict[str, Any] = Field(description="the amended Cerfa, as it goes to the OPCO")
    events: list[dict[str, Any]] | None = None


class AmendmentItemOut(BaseModel):
    contractId: str
    number: int
    typeContratApp: int
    opco: str
    state: State
    dateEffetAvenant: date | None
    waitingFor: list[str]
    updatedAt: datetime


class AmendmentAttentionOut(AmendmentItemOut):
    kind: Literal["amendment"]
    reasons: list[
        Literal["amendment_refused", "amendment_parked", "amendment_echeances_to_recheck", "amendment_opco_change"]
    ]
