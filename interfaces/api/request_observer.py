"""Every request, observed once: its request id (taken from `X-Request-ID` when sane, else made), bound to every
record logged while it runs and returned in the response; its access record (convergence.access: method, path,
route, status, duration, and the query with the values of personal parameters masked); its count and latency by
route template (Prometheus).

The mounted sandbox's requests (the worker polling the OPCO sandbox in the same process) are access-logged at DEBUG,
so that at INFO the access log holds the CFAs' requests only; they are counted all the same.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from urllib.parse import parse_qsl, urlencode

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from application.log_context import bound

log = logging.getLogger("convergence.access")

_SANE = re.compile(r"[A-Za-z0-9._:;=/+-]{1,128}")  # what a proxy or a client's tracer sends; nothing to inject
QUIET_PREFIX = "/sandbox"
UNMATCHED = "unmatched"  # the route label of a request no route answers: never the raw path (unbounded labels)
# The query parameters whose values are ids, codes, numbers or dates: logged as sent. The other values are not.
LOGGED_VALUES = frozenset(
    {"state", "opco", "limit", "parked", "problems", "origin", "updatedSince", "minPosition", "waiting", "dryRun"}
    | {"contractId", "cfaSiret", "formationRncp", "numeroInterneFacture", "kind"}
)
KNOWN_PARAMETERS = LOGGED_VALUES | {"apprentice", "employerSiret", "cursor"}
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # any other is labelled OTHER

REQUESTS = Counter(
    "convergence_http_requests", "HTTP requests answered, by route template and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "convergence_http_request_duration_seconds",
    "time to answer an HTTP request (to its last body byte), by route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def logged_query(raw: bytes) -> str:
    """The query string as the access log keeps it: only the values of the parameters that hold no personal data
    (`LOGGED_VALUES`) are kept; any other value is `*` (a name searched with `apprentice=`, a cursor, an employer's
    SIRET, which may be a person's), and a parameter the API does not know is `*=*` (its name may be anything)."""
    logged = []
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if name in LOGGED_VALUES:
            logged.append(urlencode({name: value}))
        else:
            logged.append(f"{name}=*" if name in KNOWN_PARAMETERS else "*=*")
    return "&".join(logged)


def request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if _SANE.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def route_template(scope: Scope, root_path: str) -> str:
    """The template of the route that answered (`/contracts/{contract_id}`), behind the mount that holds it."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    mounted = scope.get("root_path", "")[len(root_path) :]
    return f"{mounted}{path}"


class RequestObserver:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ident, root_path = request_id(scope), scope.get("root_path", "")
        scope.setdefault("state", {})["request_id"] = ident
        status = 500  # unless the app answers
        started = time.perf_counter()

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", ident.encode("latin-1"))]
            await send(message)

        with bound(request_id=ident):
            try:
                await self.app(scope, receive, answer)
            finally:
                self._observe(scope, root_path, status, time.perf_counter() - started)

    @staticmethod
    def _observe(scope: Scope, root_path: str, status: int, seconds: float) -> None:
        method, route, path = scope["method"], route_template(scope, root_path), scope["path"]
        label = method if method in _METHODS else "OTHER"
        REQUESTS.labels(label, route, str(status)).inc()
        LATENCY.labels(label, route).observe(seconds)
        level = logging.DEBUG if path == QUIET_PREFIX or path.startswith(QUIET_PREFIX + "/") else logging.INFO
        if log.isEnabledFor(level):
            duration_ms = round(seconds * 1000, 1)
            fields = {"method": method, "route": route, "path": path, "status": status, "duration_ms": duration_ms}
            if scope.get("query_string"):
                fields["query"] = logged_query(scope["query_string"])
            log.log(level, "%s %s %s %.0f ms", method, path, status, duration_ms, extra=fields)
