"""Every error as application/problem+json (RFC 9457), with an `errors` list of {field, code, message}."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from application.errors import (
    ConcurrentChange,
    DuplicateInvoiceNumber,
    DuplicateNumeroInterne,
    Forbidden,
    IdempotencyKeyReused,
    NotFound,
    PreconditionRequired,
    TokenAlreadyIssued,
    TokenRevoked,
    VersionMismatch,
)
from application.privacy.sealing import PersonalDataErasedError
from application.read_models.invoice_status import InvoiceCursorExpired
from application.read_models.status_projection import CursorExpired
from domain.contracts.cerfa_document import InvalidCerfa, validation_problems
from domain.errors import InvalidValue, InvalidValues, NotAllowedInState, RulesConflict, SubmissionBlocked
from domain.problems import Problem
from infrastructure.store.store_errors import store_unavailable
from interfaces.api.access.rate_limits import RateLimited
from interfaces.api.security_headers import security_header_values

log = logging.getLogger("convergence.api")

MEDIA_TYPE = "application/problem+json"


def problem(
    status: int,
    title: str,
    detail: str,
    slug: str,
    *,
    errors: Iterable[Problem] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": f"urn:convergence:problem:{slug}", "title": title, "status": status}
    body["detail"] = detail
    if errors is not None:
        body["errors"] = [e.as_dict() for e in errors]
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _invalid(errors: list[Problem]) -> JSONResponse:
    fields = ", ".join(sorted({e.field for e in errors}))
    return problem(
        422, "Invalid request", f"{len(errors)} field(s) break a rule: {fields}", "validation", errors=errors
    )


def _request_field(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return loc[1:] if loc and loc[0] == "body" else loc


# Refusals whose answer is their message alone: class → (status, title, type slug).
_REFUSALS: dict[type[Exception], tuple[int, str, str]] = {
    IdempotencyKeyReused: (422, "Idempotency-Key reused", "idempotency-key-reused"),
    NotFound: (404, "Not found", "not-found"),
    Forbidden: (403, "Forbidden", "forbidden"),
    VersionMismatch: (412, "Precondition failed", "stale-version"),
    PreconditionRequired: (428, "Precondition required", "precondition-required"),
    ConcurrentChange: (409, "Concurrent change", "concurrent-change"),
    NotAllowedInState: (409, "Not allowed in this state", "state-conflict"),
    PersonalDataErasedError: (409, "Personal data erased", "personal-data-erased"),
    DuplicateNumeroInterne: (409, "Duplicate numeroInterne", "duplicate-numero-interne"),
    DuplicateInvoiceNumber: (409, "Duplicate numeroInterneFacture", "duplicate-invoice-number"),
    TokenRevoked: (409, "Token revoked", "token-revoked"),
    # a walk older than the read model's pruned horizon, or made on tables a rebuild replaced: start it again
    CursorExpired: (410, "Cursor expired", "cursor-expired"),
    InvoiceCursorExpired: (410, "Cursor expired", "cursor-expired"),
}


def _refusal_handler(status: int, title: str, slug: str) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(_: Request, exc: Exception) -> Response:
        return problem(status, title, str(exc), slug)

    return handle


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{**e, "loc": _request_field(tuple(e["loc"]))} for e in exc.errors()]
        return _invalid(validation_problems(errors))

    @app.exception_handler(InvalidCerfa)
    async def cerfa_invalid(_: Request, exc: InvalidCerfa) -> JSONResponse:
        return _invalid(exc.problems)

    @app.exception_handler(InvalidValue)
    async def value_invalid(_: Request, exc: InvalidValue) -> JSONResponse:
        return _invalid([exc.problem])

    @app.exception_handler(InvalidValues)
    async def values_invalid(_: Request, exc: InvalidValues) -> JSONResponse:
        return _invalid(exc.problems)

    @app.exception_handler(RulesConflict)
    async def rules_conflict(_: Request, exc: RulesConflict) -> JSONResponse:
        return problem(409, "Refused by a rule", str(exc), "rule-conflict", errors=exc.problems)

    for error_class, (status, title, slug) in _REFUSALS.items():
        app.add_exception_handler(error_class, _refusal_handler(status, title, slug))

    @app.exception_handler(TokenAlreadyIssued)
    async def token_issued(_: Request, exc: TokenAlreadyIssued) -> JSONResponse:
        return problem(409, "Token already issued", str(exc), "token-already-issued", tokenId=str(exc.token_id))

    @app.exception_handler(RateLimited)
    async def rate_limited(_: Request, exc: RateLimited) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)}
        return problem(429, "Too many requests", str(exc), "rate-limited", headers=headers)

    @app.exception_handler(SubmissionBlocked)
    async def blocked(_: Request, exc: SubmissionBlocked) -> JSONResponse:
        return problem(409, "Submission blocked", str(exc), "submission-blocked", errors=exc.problems)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, _title(exc.status_code), str(exc.detail), "http", headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # handled outside the request's context (Starlette's outermost middleware): its request id given here
        ident = getattr(request.state, "request_id", None)
        extra, traced = {"request_id": ident}, {"X-Request-ID": ident} if ident else {}
        if store_unavailable(exc):
            log.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc, extra=extra)
            detail = "the database does not answer right now: retry (with the same Idempotency-Key or If-Match)"
            headers = {"Retry-After": "5", **traced}
            return problem(503, "Store unavailable", detail, "store-unavailable", headers=headers)
        log.exception("unexpected error on %s %s", request.method, request.url.path, extra=extra)
        detail = "the service failed unexpectedly; the error is logged"
        # answered outside the middlewares, the security headers' too
        return problem(500, "Internal error", detail, "internal", headers={**traced, **security_header_values()})


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
