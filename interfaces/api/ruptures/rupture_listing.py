"""The ruptures' read side: GET /ruptures, and the rupture parts of /dashboard and /attention (listing.py calls
`rupture_dashboard` and `rupture_attention`). Follows the ruptures read model
(application.read_models.rupture_status), which may lag the log by one projection round."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from application.access.access import Principal
from interfaces.api.access.auth import CurrentPrincipal, Services
from interfaces.api.ruptures.rupture_schemas import RuptureItemOut
from interfaces.bootstrap import Container

router = APIRouter(tags=["ruptures"])
State = Literal["submitted", "to_declare", "sent", "declared", "refused"]


@router.get("/ruptures", response_model=list[RuptureItemOut])
def list_ruptures(
    who: CurrentPrincipal,
    services: Services,
    state: State | None = None,
    waiting: Annotated[bool | None, Query(description="true: waiting for a person (to declare, parked, refused)")] = (
        None
    ),
) -> list[dict[str, Any]]:
    """The CFA's contracts with a rupture (not withdrawn), latest rupture date first."""
    return [row.as_item() for row in services.ruptures.listing(who, state, waiting)]


async def rupture_dashboard(who: Principal, services: Container) -> dict[str, Any]:
    return await run_in_threadpool(services.ruptures.counts, who, services.dossiers.clock.today())


async def rupture_attention(who: Principal, services: Container) -> list[dict[str, Any]]:
    items = await run_in_threadpool(services.ruptures.attention, who, services.dossiers.clock.today())
    return [item.as_item() for item in items]
