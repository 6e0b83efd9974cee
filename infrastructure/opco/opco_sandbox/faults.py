"""Fault injection on the OPCO calls, as an ASGI middleware: what a client meets on a bad day.

One `random.Random(seed)` draws, for each call in arrival order, whether a fault happens and which one, so a
run with a seed and a sequential client is reproducible. For POST /dossiers and POST /factures, `afterStoreShare`
of the faults happen after the dossier or the invoice was stored: the client cannot tell whether the OPCO received
it.

What an httpx client sees (uvicorn, loopback):
- error      → a 500, 502 or 503 JSON answer;
- rateLimit  → 429 with `Retry-After: <retryAfterSeconds>`;
- timeout    → nothing for `timeoutSeconds` (httpx.ReadTimeout when its read timeout is shorter); a client that
               waits gets 504 (before store) or the real answer (after store);
- reset      → a 200 status line, headers with Content-Length and a few bytes of body, then the connection is
               closed: httpx.RemoteProtocolError ("peer closed connection without sending complete message
               body", received 19 bytes, expected 4096). uvicorn logs it as "Exception in ASGI application"
               (SimulatedConnectionReset). The request body is read first: closing a socket with unread
               bytes sends a RST instead, reported by httpx as httpx.ReadError (ECONNRESET).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from dataclasses import dataclass, replace

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox.config import Faults
from infrastructure.opco.opco_sandbox.errors import ApiError, error_body
from infrastructure.opco.opco_sandbox.stats import SandboxStats
from infrastructure.opco.opco_sandbox.wire import to_json

ERROR, RATE_LIMIT, TIMEOUT, RESET = "error", "rateLimit", "timeout", "reset"
ERROR_STATUSES = (500, 502, 503)
DECLARED_LENGTH = 4096  # the Content-Length announced before the connection is dropped
SUBMISSIONS = ("/dossiers", "/factures", "/rupture/employeur")  # the POSTs whose faults may happen after the store
# Documents: only the faults that lose the answer (timeout, reset) may happen after the store; a 5xx is the OPCO
# saying it kept nothing (docs/wire.md D6).
DOCUMENTS = ("/conventions", "/documents", "/certificats")


class SimulatedConnectionReset(Exception):
    """Raised after part of a response was sent, so that the server closes the connection."""


@dataclass(frozen=True, slots=True)
class Plan:
    latency: float  # seconds
    kind: str | None = None
    status: int = 200
    after_store: bool = False


class FaultInjector:
    def __init__(self, faults: Faults) -> None:
        self._lock = threading.Lock()
        self._faults = faults
        self._random = random.Random(faults.seed)

    @property
    def faults(self) -> Faults:
        return self._faults

    def configure(self, faults: Faults) -> None:
        with self._lock:
            self._faults = faults
            self._random = random.Random(faults.seed)

    def plan(self, submission: bool) -> Plan:
        with self._lock:
            faults, draw = self._faults, self._random.random()
            kind = _kind(faults, draw)
            status = self._random.choice(ERROR_STATUSES) if kind == ERROR else 200
            after = submission and kind is not None and self._random.random() < faults.after_store_share
        return Plan(faults.latency_ms / 1000, kind, status, after)


def _kind(faults: Faults, draw: float) -> str | None:
    threshold = 0.0
    rates = {ERROR: faults.error_rate, RATE_LIMIT: faults.rate_limit_rate, TIMEOUT: faults.timeout_rate}
    for kind, rate in {**rates, RESET: faults.reset_rate}.items():
        threshold += rate
        if draw < threshold:
            return kind
    return None


class FaultMiddleware:
    def __init__(self, app: ASGIApp, injector: FaultInjector, stats: SandboxStats) -> None:
        self.app = app
        self.injector = injector
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        plan = self.injector.plan(_is_submission(scope) or _is_document(scope))
        if plan.after_store and plan.kind in (ERROR, RATE_LIMIT) and _is_document(scope):
            plan = replace(plan, after_store=False)
        if plan.latency:
            await asyncio.sleep(plan.latency)
        if plan.kind is None:
            await self.app(scope, receive, send)
            return
        self.stats.fault_injected(plan.kind, plan.after_store)
        answer: list[Message] | None = None
        if plan.after_store:
            answer = []
            await self.app(scope, receive, _recorder(answer))
        await self._misbehave(plan, _opco_in_path(scope), receive, send, answer)

    async def _misbehave(
        self, plan: Plan, opco: Opco | None, receive: Receive, send: Send, answer: list[Message] | None
    ) -> None:
        faults = self.injector.faults
        if plan.kind == ERROR:
            await _send_error(
                send, opco, plan.status, "ERREUR_SERVEUR", "Erreur technique (simulée par le bac à sable)"
            )
        elif plan.kind == RATE_LIMIT:
            retry_after = {"retry-after": str(faults.retry_after_seconds)}
            await _send_error(send, opco, 429, "TROP_DE_REQUETES", "Trop de requêtes, réessayez plus tard", retry_after)
        elif plan.kind == TIMEOUT:
            if await _client_gone_within(receive, faults.timeout_seconds):
                return
            if answer is not None:
                for message in answer:
                    await send(message)
            else:
                await _send_error(send, opco, 504, "DELAI_DEPASSE", "Délai de traitement dépassé")
        else:
            if answer is None:
                await _drain_request_body(receive)
            await _drop_connection(send)


def _recorder(messages: list[Message]) -> Send:
    async def record(message: Message) -> None:
        messages.append(message)

    return record


async def _send_error(
    send: Send, opco: Opco | None, status: int, code: str, description: str, headers: dict[str, str] | None = None
) -> None:
    body = to_json(error_body(opco, [ApiError(code, description)])).encode()
    await _start(send, status, {**(headers or {}), "content-length": str(len(body))})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _drop_connection(send: Send) -> None:
    await _start(send, 200, {"content-length": str(DECLARED_LENGTH)})
    await send({"type": "http.response.body", "body": b'{"numeroInterne": "', "more_body": True})
    raise SimulatedConnectionReset("sandbox fault injection: connection dropped on purpose")


async def _drain_request_body(receive: Receive) -> None:
    """Unread request bytes would make the kernel answer the close with a RST (httpx.ReadError, maybe before the
    headers are read); read them all so that the client always sees the truncated body."""
    message = await receive()
    while message["type"] == "http.request" and message.get("more_body", False):
        message = await receive()


async def _start(send: Send, status: int, headers: dict[str, str]) -> None:
    raw = [(b"content-type", b"application/json")] + [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})


async def _client_gone_within(receive: Receive, seconds: float) -> bool:
    """Waits `seconds`, or less if the client disconnects first (so a server shutdown is not held up)."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(disconnected(), seconds)
        return True
    return False


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root + "/") else path


def _is_submission(scope: Scope) -> bool:
    """POST /dossiers or POST /factures (/Factures on the SOR hosts): a call that stores something."""
    return bool(scope["method"] == "POST" and _route_path(scope).rstrip("/").lower().endswith(SUBMISSIONS))


def _is_document(scope: Scope) -> bool:
    return bool(scope["method"] == "POST" and _route_path(scope).rstrip("/").lower().endswith(DOCUMENTS))


def _opco_in_path(scope: Scope) -> Opco | None:
    code = _route_path(scope).strip("/").split("/")[0]
    return Opco(code) if code in Opco.__members__ else None
