"""The read side for front-ends: lists of dossiers, the dashboard, and what needs a human; live, per CFA."""

from __future__ import annotations

import asyncio
import base64
import binascii
import inspect
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import ConfigDict, ValidationError, create_model
from starlette.concurrency import run_in_threadpool

from application.read_models.status import ContractFilter, Cursor, list_item
from domain.contracts.contract import IMPORTED, SENT
from domain.contracts.contract_state import ContractState
from domain.errors import InvalidValue
from domain.opco.opcos import Opco
from interfaces.api.access.auth import CurrentPrincipal, Services
from interfaces.api.contracts.schemas import AttentionEntry, ContractPage, DashboardOut
from interfaces.api.invoices.invoice_listing import invoice_attention, invoice_dashboard, invoices_caught_up
from interfaces.api.problem_details import problem
from interfaces.api.read_models.document_attention import document_attention
from interfaces.api.ruptures.rupture_listing import rupture_attention, rupture_dashboard
from interfaces.bootstrap import Container

router = APIRouter(tags=["status"])


class AmendmentFilter(StrEnum):
    ANY = "any"
    NONE = "none"
    PENDING = "pending"
    WAITING = "waiting"
    DRAFTED = "drafted"
    SUBMITTED = "submitted"
    SENT = "sent"
    IN_REVIEW = "in_review"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class Origin(StrEnum):
    SENT = SENT
    IMPORTED = IMPORTED


READ_YOUR_WRITES_SECONDS = 2.0
CENT = Decimal("0.01")

MinPosition = Annotated[
    int | None,
    Query(alias="minPosition", ge=0, description="wait (2 s at most) until the read model has this log position"),
]


def _documented_query(
    state: Annotated[list[ContractState] | None, Query(description="repeat for several")] = None,
    opco: Opco | None = None,
    employer_siret: Annotated[str | None, Query(alias="employerSiret", pattern=r"^[0-9]{14}$")] = None,
    apprentice: Annotated[str | None, Query(min_length=2, max_length=100, description="name search")] = None,
    formation_rncp: Annotated[str | None, Query(alias="formationRncp", max_length=20)] = None,
    updated_since: Annotated[datetime | None, Query(alias="updatedSince")] = None,
    problems: Annotated[bool | None, Query(description="true: has blocking problems")] = None,
    parked: bool | None = None,
    origin: Annotated[Origin | None, Query(description="sent: made here; imported: imported from its OPCO")] = None,
    rupture: Annotated[bool | None, Query(description="true: a rupture declared (not withdrawn); false: none")] = None,
    amendment: Annotated[
        AmendmentFilter | None,
        Query(
            description="contracts with an avenant in this state (pending: not yet decided by the OPCO; waiting:"
            " waiting for a person; any), or without any (none)"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page")] = None,
    min_position: MinPosition = None,
) -> None:
    """GET /contracts' query, as documented (only this signature is used): the list is the hot path, so its query
    is validated by one model made from it (ListQuery), in one pydantic call, rather than parameter by parameter."""


_QUERY_SIGNATURE = inspect.signature(_documented_query, eval_str=True).parameters
ListQuery = create_model(  # type: ignore[call-overload]
    "ListQuery",
    __config__=ConfigDict(extra="ignore", frozen=True),
    **{name: (parameter.annotation, parameter.default) for name, parameter in _QUERY_SIGNATURE.items()},
)
_REPEATED = frozenset({"state"})  # the list-valued parameters: every value of the query string, not the last


def _documentation() -> dict[str, Any]:
    """The parameters (and the 422 answer) that FastAPI documents for _documented_query's signature."""
    route = APIRoute("/contracts", _documented_query, methods=["GET"])
    operation = get_openapi(title="", version="", routes=[route])["paths"]["/contracts"]["get"]
    return {"parameters": operation["parameters"], "responses": {"422": operation["responses"]["422"]}}


def _list_query(request: Request) -> Any:
    """The query as FastAPI would validate _documented_query's parameters: same values, same errors (422)."""
    query = request.query_params
    values: dict[str, Any] = dict(query.items())  # a parameter given twice: its last value, as FastAPI takes it
    for name in _REPEATED & values.keys():
        values[name] = query.getlist(name)
    try:
        return ListQuery.model_validate(values)
    except ValidationError as invalid:
        raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in invalid.errors()]) from None


@router.get("/contracts", response_model=ContractPage, openapi_extra=_documentation())
async def list_contracts(request: Request, who: CurrentPrincipal) -> Response:
    """The CFA's dossiers, last changed first, by keyset pages: a walk sees each dossier exactly once, as it was
    when the walk began, even while dossiers change. `Link: <…>; rel="next"` points to the next page."""
    services: Container = request.app.state.container  # what the Services dependency gives, without its solving
    q = _list_query(request)
    if not await _caught_up(services, q.min_position):
        return _not_yet()
    where = ContractFilter(
        states=tuple(s.value for s in q.state or ()),
        opco=q.opco.value if q.opco else None,
        employer_siret=q.employer_siret,
        apprentice=q.apprentice,
        formation_rncp=q.formation_rncp,
        updated_since=q.updated_since,
        problems=q.problems,
        parked=q.parked,
        origin=q.origin.value if q.origin else None,
        rupture=q.rupture,
        amendment=q.amendment.value if q.amendment else None,
    )
    page = await services.status.item_page(who, where, q.limit, _decode(q.cursor))
    next_cursor = _encode(page.next_cursor) if page.next_cursor else None
    headers = {"X-Position": str(page.as_of)}
    if next_cursor:
        headers["Link"] = _next_link(request, next_cursor)
    return Response(page_body(page.items, next_cursor), media_type="application/json", headers=headers)


def page_body(items: list[str], next_cursor: str | None) -> bytes:
    """ContractPage, as documented, from the items as stored (already JSON): no object per row, no validation."""
    return f'{{"items":[{",".join(items)}],"nextCursor":{orjson.dumps(next_cursor).decode()}}}'.encode()


@router.get("/dashboard", response_model=DashboardOut)
async def dashboard(request: Request, who: CurrentPrincipal, min_position: MinPosition = None) -> Response:
    """Counts by state and OPCO, amounts committed, dossiers waiting for a key, parked transmissions, and the
    oldest last change per pending state; `invoices`: invoiced, paid, overdue, échéances not invoiced yet."""
    services: Container = request.app.state.container  # what the Services dependency gives, without its solving
    if not await _caught_up(services, min_position) or not await invoices_caught_up(services, min_position):
        return _not_yet()
    board, invoices, ruptures = await asyncio.gather(
        services.status.dashboard(who), invoice_dashboard(who, services), rupture_dashboard(who, services)
    )
    body = {
        "counts": board.counts,
        "committed": _euros(board.committed),
        "parked": board.parked,
        "waitingForKey": board.extra.get("waitingForKey", 0),
        "oldestPending": {state: at.isoformat() for state, at in board.oldest_pending.items()},
        "asOf": board.as_of,
        "invoices": invoices,
        "ruptures": ruptures,
        "amendments": await run_in_threadpool(services.amendment_status.counts, who),
    }
    return Response(orjson.dumps(body), media_type="application/json", headers={"X-Position": str(board.as_of)})


@router.get("/attention", response_model=list[AttentionEntry])
async def attention(who: CurrentPrincipal, services: Services, min_position: MinPosition = None) -> Response:
    """The dossiers that need a human, oldest first, each with its reasons: problems_old (blocking problems on a
    dossier older than 7 days), no_mandate, parked, refused, deposit_deadline_near / deposit_deadline_passed (5
    jours ouvrables after the contract start, Monday to Saturday without the public holidays of the employer's
    département; not yet sent), projection_error (the read model could not follow this
    dossier's events: it shows its last good state until the read model is rebuilt). Then the invoices (`kind`
    "invoice": invoice_refused, invoice_parked, invoice_unpaid 30 days after its sending) and the échéances (`kind`
    "echeance": echeance_not_invoiced, open for more than CONVERGENCE_ATTENTION_INVOICE_DAYS days), the parked
    documents (`kind` "document": document_answer_lost, to check at the OPCO, or document_parked). Then the ruptures
    (`kind` "rupture": rupture_to_declare, rupture_parked, rupture_refused, last_invoice_deadline_near /
    last_invoice_deadline_passed: 4 months after the rupture, shown 30 days before and after). Then the avenants
    (`kind` "amendment": amendment_refused, amendment_parked, amendment_echeances_to_recheck, amendment_opco_change;
    until POST /contracts/{id}/amendments/{n}/review)."""
    if not await _caught_up(services, min_position) or not await invoices_caught_up(services, min_position):
        return _not_yet()
    items = await run_in_threadpool(services.status.attention, who)
    invoices = await invoice_attention(who, services)
    invoices += await document_attention(who, services)  # then the parked documents (`kind` "document")
    ruptures = await rupture_attention(who, services)
    ruptures += await run_in_threadpool(services.amendment_status.attention, who)
    body = orjson.dumps([*({**list_item(i.row), "reasons": list(i.reasons)} for i in items), *invoices, *ruptures])
    return Response(body, media_type="application/json")


async def _caught_up(services: Services, position: int | None) -> bool:
    if position is None:
        return True
    return await run_in_threadpool(services.status.wait_for, position, READ_YOUR_WRITES_SECONDS)


def _not_yet() -> JSONResponse:
    return problem(
        503,
        "Read model behind",
        f"the read model has not reached that position within {READ_YOUR_WRITES_SECONDS:.0f} s: retry",
        "read-model-behind",
        headers={"Retry-After": "1"},
    )


def _next_link(request: Request, cursor: str) -> str:
    """The request's URL with `cursor` set (last), as URL.include_query_params makes it, from the parsed query."""
    query = [(key, value) for key, value in request.query_params.multi_items() if key != "cursor"]
    query.append(("cursor", cursor))
    return f'<{request.url.replace(query=urlencode(query))}>; rel="next"'


def _encode(cursor: Cursor) -> str:
    raw = f"{cursor.as_of}.{cursor.position}.{cursor.contract_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(value: str | None) -> Cursor | None:
    if value is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        as_of, position, ident = raw.split(".")
        return Cursor(int(as_of), int(position), UUID(ident))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidValue("cursor", "cursor_invalid", "not a cursor of this API: use nextCursor as given") from None


def _euros(amount: Decimal) -> str:
    return str(amount.quantize(CENT))
