"""What a request body may be, checked before any route reads it: a pure ASGI middleware.

- Size: past `max_bytes` (a route may have its own limit, e.g. a future upload) the answer is 413, as soon as
  it is known: from Content-Length before anything is read, else by counting the bytes of a chunked body as they
  arrive. A body is never read further than its limit.
- JSON (a body sent as application/json or application/*+json, the bodies FastAPI parses as JSON): read whole
  (within its limit) and checked by `json_checks` before the app gets it, else 422.
- The URL, the rule of `json_checks` that no route could keep alone: no NUL character (%00), else 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field

from anyio import to_thread
from fastapi import FastAPI
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.problems import Problem
from infrastructure.settings import Settings
from interfaces.api.json_checks import json_refusal
from interfaces.api.problem_details import problem

_CHECKED_IN_LOOP = 65_536  # bytes: a Cerfa is about 4 KB
# Routes whose body is a document: CONVERGENCE_MAX_DOCUMENT_BYTES unless max_body_bytes_by_route says otherwise.
UPLOAD_ROUTES = ("/invoices/{invoice_id}/document",)
# Multipart uploads: the document and its form fields, so a document just past the limit is a 422 naming `document`.
MULTIPART_UPLOAD_ROUTES = ("/contracts/{contract_id}/documents",)
MULTIPART_SLACK = 64 * 1024
_NUL_IN_URL = Problem("url", "nul_character", "the URL holds the NUL character (%00): no text can")


class _TooLarge(Exception):
    """Raised into the app by `receive` when a streamed body passes its limit."""


@dataclass(frozen=True)
class BodyLimits:
    """`max_bytes` for every route but those of `routes` (a FastAPI path template such as
    "/contracts/{contract_id}/documents" → its own limit)."""

    max_bytes: int
    max_depth: int
    routes: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, settings: Settings) -> BodyLimits:
        uploads = dict.fromkeys(UPLOAD_ROUTES, settings.max_document_bytes)
        uploads |= dict.fromkeys(MULTIPART_UPLOAD_ROUTES, settings.max_document_bytes + MULTIPART_SLACK)
        return cls(settings.max_body_bytes, settings.max_json_depth, uploads | settings.max_body_bytes_by_route)


def install_body_limits(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits.of(settings))


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits
        self._patterns = [(compile_path(template)[0], limit) for template, limit in limits.routes.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            await _invalid(_NUL_IN_URL)(scope, receive, send)  # a filter holding one failed PostgreSQL's query (500)
            return
        limit = self._limit(scope["path"])
        headers = _headers(scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        has_body = (declared.isdigit() and int(declared) > 0) or "transfer-encoding" in headers
        if has_body and _is_json(headers.get("content-type")):
            await self._json(scope, receive, send, limit)
        else:
            await self._streamed(scope, receive, send, limit)

    def _limit(self, path: str) -> int:
        return next((limit for pattern, limit in self._patterns if pattern.fullmatch(path)), self.limits.max_bytes)

    async def _json(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Read the whole body (it is JSON: the route would), check it, and hand it to the app in one message."""
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(limit)(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        refusal = await _checked(body, self.limits.max_depth)
        if refusal is not None:
            await _invalid(refusal)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Let the app read the body as it comes, counting: past the limit, the app's answer becomes a 413."""
        size, exceeded, started = 0, False, False

        async def counted() -> Message:
            nonlocal size, exceeded
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # whatever the app makes of a body cut short, the answer is the 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        with suppress(_TooLarge):
            await self.app(scope, counted, guarded)
        if exceeded and not started:
            await _too_large(limit)(scope, receive, send)


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}


def _is_json(content_type: str | None) -> bool:
    """The bodies FastAPI parses as JSON: application/json or application/<anything>+json (a body without
    Content-Type is not parsed: FastAPI's strict content type)."""
    if content_type is None:
        return False
    media_type = content_type.split(";")[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


async def _checked(body: bytes, max_depth: int) -> Problem | None:
    """The refusal of a JSON body, if any; a large one is read off the event loop, which it would hold up."""
    if not body:
        return None
    if len(body) <= _CHECKED_IN_LOOP:
        return json_refusal(body, max_depth)
    return await to_thread.run_sync(json_refusal, body, max_depth)


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()  # what follows the body: the client's disconnection
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _too_large(limit: int) -> Response:
    return problem(
        413,
        "Content Too Large",
        f"the body is larger than {limit} bytes, the limit of this route (CONVERGENCE_MAX_BODY_BYTES)",
        "body-too-large",
        errors=[Problem("body", "body_too_large", f"at most {limit} bytes")],
        headers={"Connection": "close"},
    )


def _invalid(refusal: Problem) -> Response:
    detail = f"the request breaks a rule: {refusal.message}"
    return problem(422, "Invalid request", detail, "validation", errors=[refusal])
