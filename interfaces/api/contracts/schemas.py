"""Request and response bodies of the REST API (camelCase, as the Cerfa standard writes its fields)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from application.access.access import Role
from domain.cerfa import Cerfa, Siret
from domain.contracts.contract_state import ContractState
from domain.opco.opcos import Opco
from interfaces.api.amendments.amendment_schemas import AmendmentAttentionOut
from interfaces.api.invoices.invoice_listing_schemas import (
    EcheanceAttentionOut,
    InvoiceAttentionOut,
    InvoiceDashboardOut,
)
from interfaces.api.opco.opco_account_schemas import AddressOut, AuthOut, DpopKeyOut, NotReadyOut, OAuthClientOut
from interfaces.api.ruptures.rupture_schemas import RuptureAttentionOut, RuptureDashboardOut, RuptureOut

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
    npec: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)] | None = Field(
        None, description="a forecast of the annual NPEC in euros, for the funding schedule until the OPCO commits"
    )


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


class AttemptOut(BaseModel):
    attempt: int
    startedAt: datetime | None
    outcome: Literal["sent", "found", "failed", "refused"] | None = Field(
        description="found: the OPCO already had it (an earlier attempt reached it); null: in flight"
    )
    error: str | None
    endedAt: datetime | None = None


class TransmissionOut(BaseModel):
    attempts: int
    failures: int = Field(description="transient failures since the last retry; the dossier is parked at the limit")
    parked: bool
    inFlightSince: datetime | None
    nextAttemptAt: datetime | None
    lastError: str | None
    waitingForKey: bool = Field(description="the CFA has no usable API key at this OPCO: set one to release it")
    waitingFor: NotReadyOut | None = Field(
        None, description="why a submitted dossier is not being sent: a credential missing, or the OPCO not reachable"
    )
    opcoTakesContracts: bool = Field(description="false when this OPCO takes no contracts over the API")
    history: list[AttemptOut]


class OpcoLookupOut(BaseModel):
    siret: str
    outcome: Literal["found", "not_found", "multiple", "unavailable"]
    opco: Opco | None
    opcoName: str | None = Field(description="the OPCO as the directory names it")
    idcc: str | None = Field(description="the IDCC the directory gives for the establishment")
    source: str = Field(description="the directory that answered (cfadock)")
    checkedAt: datetime
    appliesToCerfa: bool = Field(description="false once the Cerfa names another employer SIRET")
    tableOpco: Opco | None = Field(description="what the IDCC table gives for the Cerfa's IDCC")
    agreesWithTable: bool | None = Field(description="whether the lookup's OPCO is the table's (null: no OPCO found)")
    note: str


class ContractOut(BaseModel):
    id: UUID
    numeroInterne: str
    cfaSiret: str
    origin: str = Field(description="sent: made here (to be sent from here); imported: imported from its OPCO")
    state: ContractState
    opco: Opco | None = Field(description="the OPCO the dossier goes (or went) to, when known")
    opcoSource: Literal["chosen", "lookup", "idcc", "submission"] | None = Field(
        description="what decided the OPCO: the CFA's choice, the lookup by SIRET, the IDCC table, the submission"
    )
    opcoLookup: OpcoLookupOut | None = Field(
        None, description="the lookup of the employer's OPCO by SIRET (when enabled): its answer beside the table's"
    )
    cerfa: dict[str, Any] = Field(description="the Cerfa document as stored (fields not set are absent)")
    mandate: MandateOut | None
    problems: list[ProblemOut] = Field(description="what blocks submission; empty once submitted")
    transmission: TransmissionOut | None = Field(description="the sending to the OPCO; null for a draft")
    numeroExterne: str | None = Field(description="the OPCO's dossier number")
    opcoNumeroInterne: str | None = Field(
        description="the numeroInterne the OPCO answered with when it received the dossier: this numeroInterne, "
        "or one of its own, by which it is then looked up"
    )
    numeroDeca: str | None = Field(description="the national contract number, once the OPCO registered it")
    opcoState: str | None = Field(description="the OPCO's own state (etat), verbatim")
    opcoComment: str | None = Field(description="the OPCO's comment (commentaireEtat) or refusal messages")
    unknownOpcoState: bool = Field(description="true when opcoState is not one this service knows")
    commitment: Decimal | None = Field(description="the amount the OPCO committed to fund, in euros")
    echeances: list[dict[str, Any]] = Field(description="the OPCO's instalment schedule (échéancier)")
    npecForecast: Decimal | None = Field(description="the CFA's forecast of the annual NPEC, in euros")
    version: int
    createdAt: datetime
    updatedAt: datetime
    rupture: RuptureOut | None = Field(None, description="the rupture declared, and where its transmission stands")
    hiddenFields: list[str] = Field(
        default_factory=list,
        description="the fields of `cerfa` this token's role may not see, left out of it: an auditor's answer has no"
        " NIR (`cerfa.apprenti.nir`, `cerfa.maitre1.nir`, `cerfa.maitre2.nir`)",
    )


class EventOut(BaseModel):
    version: int
    type: str
    at: datetime
    actor: str | None
    data: dict[str, Any]


LifetimeDays = Annotated[int, Field(ge=1, le=3650)]


class TokenCreate(Strict):
    cfaSiret: Siret
    role: Role
    name: Name
    expiresInDays: LifetimeDays | None = Field(
        None, description="days the token is valid from now; absent: CONVERGENCE_TOKEN_LIFETIME_DAYS (90)"
    )


class TokenRenewal(Strict):
    expiresInDays: LifetimeDays | None = Field(
        None, description="days the token is valid from now; absent: CONVERGENCE_TOKEN_LIFETIME_DAYS (90)"
    )


class TokenOut(BaseModel):
    id: UUID
    cfaSiret: str
    role: Role
    name: str
    revoked: bool
    status: Literal["active", "expired", "revoked"]
    expiresAt: datetime | None = Field(description="null: issued before tokens expired, valid until renewed")
    createdAt: datetime


class TokenIssued(TokenOut):
    token: str = Field(description="the bearer token; shown this once, only its hash is stored")


Secret = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=512)]


class CredentialsIn(Strict):
    apiKey: Secret = Field(description="the CFA's API key at this OPCO (from the OPCO's CFA extranet)")
    clientId: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None, description="OAuth2 client id of the software, where the OPCO requires OAuth (kept when absent)"
    )
    clientSecret: Secret | None = None


class Capabilities(BaseModel):
    contracts: bool
    invoices: bool
    invoiceStates: bool
    ruptures: bool
    oauth: bool


class OpcoAccountOut(BaseModel):
    opco: Opco
    protocol: int
    capabilities: Capabilities
    reachable: bool = Field(description="false when this OPCO's address (or token endpoint) is not known here")
    unreachableReason: str | None = Field(description="why, when not reachable")
    ready: bool = Field(description="dossiers and invoices can go: reachable, and the credentials complete")
    notReady: NotReadyOut | None
    address: AddressOut
    auth: AuthOut
    keySet: bool
    keyLast4: str | None
    keyStatus: Literal["none", "unchecked", "valid", "rejected"]
    keyExpiresOn: date | None
    keyComment: str | None
    clientId: str | None
    oauthClient: OAuthClientOut | None = Field(description="the software's OAuth client: never its secret")
    dpopKey: DpopKeyOut | None = Field(description="the key signing DPoP proofs: its public part only")
    version: int = Field(description="the account's version (its ETag); 0 before anything was set")
    lastContactAt: datetime | None
    lastError: str | None
    lastErrorAt: datetime | None


class ContractItem(BaseModel):
    """A dossier as a table shows it: never the whole Cerfa, never the NIR."""

    id: UUID
    numeroInterne: str
    cfaSiret: str
    state: ContractState
    opco: Opco | None
    apprenticeName: str | None
    employerName: str | None
    employerSiret: str | None
    formationRncp: str | None
    formationTitle: str | None
    startDate: date | None
    endDate: date | None
    numeroExterne: str | None
    numeroDeca: str | None
    opcoState: str | None
    problemCount: int
    hasMandate: bool
    parked: bool
    commitment: Decimal | None
    createdAt: datetime
    updatedAt: datetime
    submittedAt: datetime | None
    sentAt: datetime | None
    origin: str = Field(description="sent: made here (to be sent from here); imported: imported from its OPCO")


class ContractPage(BaseModel):
    items: list[ContractItem]
    nextCursor: str | None = Field(description="pass it as `cursor` for the next page; null on the last page")


class DashboardOut(BaseModel):
    counts: dict[str, dict[str, int]] = Field(description="state → OPCO (or 'none') → number of dossiers")
    committed: Decimal = Field(description="euros committed by the OPCOs to the accepted dossiers")
    parked: int
    waitingForKey: int = Field(description="submitted dossiers whose CFA has no usable key at their OPCO")
    oldestPending: dict[str, datetime] = Field(description="per pending state, the oldest last change")
    asOf: int = Field(description="the log position the figures are at")
    invoices: InvoiceDashboardOut = Field(description="invoiced, paid, overdue, échéances not invoiced yet")
    ruptures: RuptureDashboardOut | None = Field(None, description="contracts with a rupture, by its state")
    amendments: dict[str, Any] | None = Field(
        None,
        description="avenants: total, byState, pending, waiting (for a person), opcoChanges, echeancesToRecheck",
    )


class AttentionOut(ContractItem):
    reasons: list[
        Literal[
            "problems_old",
            "no_mandate",
            "parked",
            "refused",
            "deposit_deadline_near",
            "deposit_deadline_passed",
            "projection_error",
        ]
    ]


AttentionEntry = (  # these have a `kind`
    AttentionOut | InvoiceAttentionOut | EcheanceAttentionOut | RuptureAttentionOut | AmendmentAttentionOut
)
