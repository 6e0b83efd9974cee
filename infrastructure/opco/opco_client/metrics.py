"""Prometheus figures of the calls to the OPCOs, per OPCO: calls by outcome, latency, and the refusals of the CFA's
API key and of the software's OAuth client. Process-wide (prometheus_client's default registry): served by the
process that makes the calls, `/metrics` of `serve` or the worker's metrics port (docs/operations.md)."""

from __future__ import annotations

import httpx
from prometheus_client import Counter, Histogram

OK = "ok"
NOT_FOUND = "not_found"  # 404: a lookup's "not there" is an answer, not an error (every call 404: a wrong base URL)
TRANSPORT = "transport"  # no answer: connection refused or broken, TLS, protocol
TIMEOUT = "timeout"
KEY_REJECTED = "key_rejected"  # 401, 403
REFUSED = "refused"  # any other 4xx
SERVER_ERROR = "server_error"  # 5xx

CALLS = Counter(
    "convergence_opco_calls",
    "HTTP exchanges with an OPCO (API and token endpoint), by outcome: ok, not_found, refused (4xx), key_rejected"
    " (401/403), server_error (5xx), timeout, transport",
    ["opco", "endpoint", "outcome"],
)
LATENCY = Histogram(
    "convergence_opco_call_duration_seconds",
    "time of an HTTP exchange with an OPCO, answered or not",
    ["opco", "endpoint"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
KEY_REJECTIONS = Counter(
    "convergence_opco_key_rejections",
    "calls the OPCO's API refused for the CFA's key or the software's credentials (after a token refresh)",
    ["opco"],
)
TOKEN_FAILURES = Counter(
    "convergence_opco_token_failures",
    "OAuth tokens not obtained from an OPCO's token endpoint: refused (the client credentials) or error",
    ["opco", "reason"],
)


def outcome_of(status: int) -> str:
    if status < 400:
        return OK
    if status in {401, 403}:
        return KEY_REJECTED
    if status == 404:
        return NOT_FOUND
    return REFUSED if status < 500 else SERVER_ERROR


def failure_of(error: httpx.RequestError) -> str:
    return TIMEOUT if isinstance(error, httpx.TimeoutException) else TRANSPORT


def observe_call(opco: str, endpoint: str, outcome: str, seconds: float) -> None:
    CALLS.labels(opco, endpoint, outcome).inc()
    LATENCY.labels(opco, endpoint).observe(seconds)
