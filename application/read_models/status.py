"""The status read model: what a CFA front-end lists, filters, counts and triages, fed by the dossier events.

The projection (application/read_models/status_projection.py) decides what each event changes; infrastructure stores
it with its tracking position in the same transaction. Listing is by keyset over a snapshot: a walk pinned at a log
position (`as_of`) sees every dossier exactly once, as it was at that position, even while dossiers change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from application.read_models.projections import Batch
from domain.money import CENT


@dataclass(frozen=True, slots=True)
class StatusRow:
    """One dossier as a table shows it: never the whole Cerfa, never the NIR."""

    contract_id: UUID
    cfa_siret: str
    numero_interne: str
    state: str
    opco: str | None
    apprentice_name: str | None  # "NOM Prénom"
    employer_name: str | None
    employer_siret: str | None
    formation_rncp: str | None
    formation_title: str | None
    start_date: date | None  # contrat.dateDebutContrat
    end_date: date | None  # contrat.dateFinContrat
    numero_externe: str | None
    numero_deca: str | None
    opco_state: str | None
    problem_count: int
    has_mandate: bool
    parked: bool
    commitment: Decimal | None
    created_at: datetime
    updated_at: datetime  # the last change
    submitted_at: datetime | None
    sent_at: datetime | None
    position: int  # log position of the last change
    workplace_departement: str | None  # the employer's, from its postcode: the deposit deadline's holidays
    origin: str = "sent"  # domain.contracts.contract: "sent" (made here) or "imported" (from its OPCO)


# A row as the store keeps it (StoredRow): StatusRow's values in this order, in plain types: the id, dates and the
# commitment as text (ISO dates, decimal amount), booleans as 0/1, moments as epoch seconds.
STORED_FIELDS = (
    "contract_id",
    "position",
    "cfa_siret",
    "numero_interne",
    "state",
    "opco",
    "apprentice_name",
    "employer_name",
    "employer_siret",
    "formation_rncp",
    "formation_title",
    "start_date",
    "end_date",
    "numero_externe",
    "numero_deca",
    "opco_state",
    "problem_count",
    "has_mandate",
    "parked",
    "commitment",
    "created_at",
    "updated_at",
    "submitted_at",
    "sent_at",
    "workplace_departement",
    "origin",
)
StoredRow = tuple[Any, ...]


def row_from_stored(r: StoredRow) -> StatusRow:
    return StatusRow(
        contract_id=UUID(r[0]),
        position=int(r[1]),
        cfa_siret=r[2],
        numero_interne=r[3],
        state=r[4],
        opco=r[5],
        apprentice_name=r[6],
        employer_name=r[7],
        employer_siret=r[8],
        formation_rncp=r[9],
        formation_title=r[10],
        start_date=date.fromisoformat(r[11]) if r[11] else None,
        end_date=date.fromisoformat(r[12]) if r[12] else None,
        numero_externe=r[13],
        numero_deca=r[14],
        opco_state=r[15],
        problem_count=int(r[16]),
        has_mandate=bool(r[17]),
        parked=bool(r[18]),
        commitment=Decimal(r[19]) if r[19] is not None else None,
        created_at=datetime.fromtimestamp(r[20], UTC),
        updated_at=datetime.fromtimestamp(r[21], UTC),
        submitted_at=datetime.fromtimestamp(r[22], UTC) if r[22] is not None else None,
        sent_at=datetime.fromtimestamp(r[23], UTC) if r[23] is not None else None,
        workplace_departement=r[24],
        origin=r[25] or "sent",
    )


def list_item(row: StatusRow) -> dict[str, Any]:
    """The dossier as the API lists it (GET /contracts, /attention). The read model stores it, encoded, with each
    version, so that a page is sent as stored, with no object per row."""
    return {
        "id": str(row.contract_id),
        "numeroInterne": row.numero_interne,
        "cfaSiret": row.cfa_siret,
        "state": row.state,
        "opco": row.opco,
        "apprenticeName": row.apprentice_name,
        "employerName": row.employer_name,
        "employerSiret": row.employer_siret,
        "formationRncp": row.formation_rncp,
        "formationTitle": row.formation_title,
        "startDate": row.start_date.isoformat() if row.start_date else None,
        "endDate": row.end_date.isoformat() if row.end_date else None,
        "numeroExterne": row.numero_externe,
        "numeroDeca": row.numero_deca,
        "opcoState": row.opco_state,
        "problemCount": row.problem_count,
        "hasMandate": row.has_mandate,
        "parked": row.parked,
        "commitment": str(row.commitment.quantize(CENT)) if row.commitment is not None else None,
        "createdAt": row.created_at.isoformat(),
        "updatedAt": row.updated_at.isoformat(),
        "submittedAt": row.submitted_at.isoformat() if row.submitted_at else None,
        "sentAt": row.sent_at.isoformat() if row.sent_at else None,
        "origin": row.origin,
    }


@dataclass(frozen=True, slots=True)
class ContractFilter:
    states: tuple[str, ...] = ()
    opco: str | None = None
    employer_siret: str | None = None
    apprentice: str | None = None  # name search, accent- and case-insensitive, on words' starts
    formation_rncp: str | None = None
    updated_since: datetime | None = None
    problems: bool | None = None  # True: has blocking problems; False: has none
    parked: bool | None = None
    origin: str | None = None  # "sent" or "imported"
    rupture: bool | None = None  # True: a rupture declared (not withdrawn); False: none (the ruptures read model)
    amendment: str | None = None  # an avenant in this state, or "pending", "waiting", "any", "none" (its read model)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a walk stands: pinned at `as_of`, after the row (position, contract_id) in descending order."""

    as_of: int
    position: int
    contract_id: UUID


@dataclass(frozen=True, slots=True)
class Page:
    items: list[StatusRow]
    next_cursor: Cursor | None
    as_of: int


@dataclass(frozen=True, slots=True)
class ItemPage:
    """A page as the API lists it: each dossier's list_item as the store keeps it, JSON text, ready to send."""

    items: list[str]
    next_cursor: Cursor | None
    as_of: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    counts: dict[str, dict[str, int]]  # state → opco ("none" when unknown) → count
    committed: Decimal  # sum of commitments of accepted dossiers
    parked: int
    oldest_pending: dict[str, datetime]  # state → the oldest last change among dossiers in that state
    as_of: int
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AttentionItem:
    row: StatusRow
    reasons: tuple[str, ...]  # e.g. "problems_old", "no_mandate", "parked", "refused", "deposit_deadline"


@dataclass(frozen=True, slots=True)
class HeldDossier:
    """A dossier the read model holds at its last good version: projecting one of its events failed."""

    contract_id: UUID
    cfa_siret: str | None
    position: int
    event_type: str
    error: str


class StatusView(Protocol):
    def apply(self, batch: Batch) -> None:
        """Project a batch of dossier events and write its tracking position, in one transaction; a batch read
        from another position than the view's is refused."""
        ...

    def position(self, application_name: str) -> int: ...

    def page(self, cfa_siret: str | None, where: ContractFilter, limit: int, cursor: Cursor | None) -> Page:
        """Dossiers by last change, newest first; cfa_siret None: every CFA (the operator)."""
        ...

    async def item_page(
        self, cfa_siret: str | None, where: ContractFilter, limit: int, cursor: Cursor | None
    ) -> ItemPage:
        """The same page, its dossiers as the API lists them (list_item, stored with each version), read from a
        coroutine without blocking its event loop."""
        ...

    def dashboard(self, cfa_siret: str | None) -> Dashboard: ...

    async def adashboard(self, cfa_siret: str | None) -> Dashboard:
        """dashboard, from a coroutine without blocking its event loop."""
        ...

    def held(self, cfa_siret: str | None) -> list[HeldDossier]:
        """Dossiers held because projecting one of their events failed (the others keep flowing)."""
        ...

    def current_rows(self, contract_ids: Sequence[UUID]) -> list[StatusRow]: ...

    def attention_candidates(self, cfa_siret: str | None, limit: int) -> list[StatusRow]:
        """Rows that may need a human: not closed, and problems, no mandate, parked, refused or not yet sent."""
        ...
