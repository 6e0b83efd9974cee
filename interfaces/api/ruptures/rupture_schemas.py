"""Request and response bodies of the ruptures (POST /contracts/{id}/rupture and what follows)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.ruptures.rupture import Initiative, Motif

MOTIFS_TEXT = ", ".join(m.value for m in Motif)


class RuptureIn(BaseModel):
    """Codes are checked by the rules (422 naming the field and the rule), not by the schema, so that every problem
    is listed at once."""

    model_config = ConfigDict(extra="forbid")

    dateEffetRupture: date | None = Field(None, description="the contract's last day; within the contract")
    motif: str | None = Field(None, description=f"the legal cause, one of: {MOTIFS_TEXT}", examples=["commun_accord"])
    initiative: str | None = Field(
        None, description=f"who breaks it: {', '.join(i.value for i in Initiative)}; must fit the motif"
    )
    dateSignalement: date | None = Field(None, description="when the CFA learnt of it; today when absent")
    commentaire: Annotated[str, StringConstraints(max_length=1000)] | None = None
    finPeriodeProbatoire: date | None = Field(
        None,
        description="the end of the probatory period where the CFA knows it (days at the CFA and absences push it"
        " past the 45 calendar days computed from dateDebutFormationPratique)",
    )


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


class TraineeshipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    debut: date = Field(description="the first day as a trainee at the CFA, after the rupture")
    fin: date = Field(description="the last day; at most six months after the rupture (L6222-18-2)")


class RuptureTransmissionOut(BaseModel):
    route: Literal["api", "declaration"] = Field(
        description="api: sent to POST /v2/dossiers/rupture/employeur; declaration: the CFA files it on the OPCO's site"
    )
    state: Literal["submitted", "to_declare", "sent", "declared", "refused", "withdrawn"]
    opcoState: str | None
    opcoComment: str | None
    answerLost: bool = Field(
        description="an attempt may have reached the OPCO without its answer: never resent blindly"
    )
    withdrawable: bool
    waitingFor: Literal["to_declare", "parked", "refused"] | None = Field(description="what a person must do")
    attempts: int
    parked: bool
    lastError: str | None
    nextAttemptAt: datetime | None
    inFlightSince: datetime | None


class RuptureOut(BaseModel):
    dateEffetRupture: date
    motif: Motif
    article: str
    libelle: str
    initiative: Initiative
    dateSignalement: date
    commentaire: str | None
    periodeProbatoire: dict[str, Any] = Field(description="{debut, fin, source: computed | stated}")
    pendantPeriodeProbatoire: bool
    lastInvoiceBy: date = Field(description="the last invoice and the attestation, 4 months after the effective end")
    traineeship: dict[str, Any] | None = Field(description="{debut, fin}: the apprentice goes on as a trainee")
    transmission: RuptureTransmissionOut | None


class RuptureDetailOut(RuptureOut):
    events: list[dict[str, Any]] = Field(description="every step of every rupture of the dossier, with its actor")


class RuptureItemOut(BaseModel):
    contractId: str
    numeroInterne: str
    cfaSiret: str
    opco: str
    dateEffetRupture: date
    motif: Motif
    pendantPeriodeProbatoire: bool
    route: Literal["api", "declaration"]
    state: Literal["submitted", "to_declare", "sent", "declared", "refused"]
    waitingFor: Literal["to_declare", "parked", "refused"] | None
    lastInvoiceBy: date
    traineeshipUntil: date | None
    updatedAt: datetime


class RuptureAttentionOut(RuptureItemOut):
    kind: Literal["rupture"]
    reasons: list[
        Literal[
            "rupture_to_declare",
            "rupture_parked",
            "rupture_refused",
            "last_invoice_deadline_near",
            "last_invoice_deadline_passed",
        ]
    ]


class RuptureDashboardOut(BaseModel):
    total: int = Field(description="contracts with a rupture (withdrawn ones not counted)")
    byState: dict[str, int]
    waiting: int = Field(description="ruptures waiting for a person: to declare, parked, refused")
    insideProbation: int
    lastInvoiceDue: int = Field(description="ruptures whose last invoice is due within 30 days")
