"""Importing a CFA's dossiers from an OPCO (dossiers deposited there some other way): start a run, follow it.

A run is recorded at once and carried out after the answer (202): `GET …/imports/{id}` tells its progress and, at
its end, what was created, matched or is in conflict. A dry run first shows what a real run would do."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from application.contracts.imports.importer import OpcoImporter, Started
from domain.cerfa import Siret
from domain.opco.opcos import Opco
from interfaces.api.access.auth import CurrentPrincipal, Services
from interfaces.api.contracts.contracts import IdempotencyKey

router = APIRouter(prefix="/cfas/{siret}/opcos/{opco}/imports", tags=["imports"])


class ImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dryRun: bool = Field(default=False, description="decide and count, create nothing")


class ImportCounts(BaseModel):
    created: int
    matched: int
    conflicts: int


class ImportConflict(BaseModel):
    numeroInterne: str | None
    numeroExterne: str | None
    numeroDeca: str | None
    etat: str | None
    reason: str = Field(description="no_number, several_candidates, numbers_disagree or not_found")
    detail: str | None
    candidates: list[str] = Field(description="the ids of the dossiers here it could be")


class ImportRunOut(BaseModel):
    id: int = Field(description="the run's number, from 1, for this CFA at this OPCO")
    cfaSiret: str
    opco: str
    dryRun: bool
    status: str = Field(description="running, finished or failed (a failed run is resumed by the next real run)")
    finished: bool
    startedBy: str
    startedAt: str
    resumedAt: list[str]
    updatedAt: str
    finishedAt: str | None
    total: int | None = Field(description="the dossiers the OPCO lists (known once its list is read)")
    done: int
    counts: ImportCounts
    conflicts: list[ImportConflict] = Field(description="at most 200; `counts.conflicts` says how many")
    error: str | None


@router.post("", status_code=202, response_model=ImportRunOut)
def start_import(
    siret: Siret,
    opco: Opco,
    who: CurrentPrincipal,
    services: Services,
    background: BackgroundTasks,
    body: ImportIn | None = None,
    dry_run: Annotated[bool | None, Query(alias="dryRun", description="as the body's dryRun")] = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Import the dossiers this OPCO holds for the CFA (admin of the CFA or operator): every dossier it lists that is
    not known here is created as the OPCO holds it (Cerfa, numbers, state, commitment, échéancier), `origin:
    imported`; a known one (sent from here, or imported before) is left as it is; a conflict is reported, never
    resolved. A real run while one stopped before its end resumes it; 409 while one is running."""
    dry = bool(dry_run if dry_run is not None else body.dryRun if body else False)
    started = services.importer.start(who, siret, opco, dry_run=dry, idempotency_key=idempotency_key)
    headers = {"Location": f"/cfas/{siret}/opcos/{opco.value}/imports/{started.run}"}
    if started.replayed:
        headers["Idempotent-Replayed"] = "true"
    else:
        background.add_task(_execute, services.importer, started, who.actor)
    return JSONResponse(started.status, status_code=202, headers=headers)


@router.get("/{run}", response_model=ImportRunOut)
def import_status(siret: Siret, opco: Opco, run: int, who: CurrentPrincipal, services: Services) -> dict[str, Any]:
    """A run's progress (`done` of `total`) and counts; its conflicts once finished."""
    return services.importer.status(who, siret, opco, run)


def _execute(importer: OpcoImporter, started: Started, actor: str) -> None:
    importer.execute(started, actor)
