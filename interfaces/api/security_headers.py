"""The headers every response carries, and CORS for browser front-ends (off unless origins are configured).

- `Cache-Control: no-store` unless the route set its own: dossiers, invoices and their documents hold personal
  data, and no answer of this API is meant for a shared cache (the docs' static assets set their own).
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY`.
- `Content-Security-Policy`: `frame-ancestors 'none'` on the HTML pages (/docs, /redoc: their own scripts still
  load); `default-src 'none'; frame-ancestors 'none'` on every other answer, which no browser should render.

HSTS belongs to the TLS-terminating proxy in front of the service, which knows whether it speaks HTTPS.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infrastructure.settings import Settings

ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
HTML_POLICY = b"frame-ancestors 'none'"
API_POLICY = b"default-src 'none'; frame-ancestors 'none'"

# What a browser front-end sends, and what it must be able to read, beyond the CORS-safelisted headers.
CORS_REQUEST_HEADERS = ("Authorization", "Content-Type", "If-Match", "Idempotency-Key", "X-Request-ID")
CORS_RESPONSE_HEADERS = (
    "ETag",
    "Location",
    "Link",
    "X-Position",
    "Idempotent-Replayed",
    "Retry-After",
    "X-Request-ID",
    "Content-Disposition",
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, answer)


def with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {name.lower(): value for name, value in headers}
    added = [(name, value) for name, value in ALWAYS if name not in present]
    if b"cache-control" not in present:
        added.append((b"cache-control", b"no-store"))
    if b"content-security-policy" not in present:
        html = present.get(b"content-type", b"").startswith(b"text/html")
        added.append((b"content-security-policy", HTML_POLICY if html else API_POLICY))
    return headers + added


def security_header_values(html: bool = False) -> dict[str, str]:
    """The headers, for an answer made outside the middleware (the 500 of an unexpected error)."""
    values = {name.decode(): value.decode() for name, value in ALWAYS}
    policy = HTML_POLICY if html else API_POLICY
    return {**values, "cache-control": "no-store", "content-security-policy": policy.decode()}


def install_security_headers(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(security_layers, settings=settings)


def security_layers(app: ASGIApp, settings: Settings) -> ASGIApp:
    """CORS inside the security headers, so that its preflight answers carry them too."""
    if settings.cors_allow_origins:
        app = CORSMiddleware(
            app,
            allow_origins=settings.cors_allow_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=list(CORS_REQUEST_HEADERS),
            expose_headers=list(CORS_RESPONSE_HEADERS),
            allow_credentials=False,  # bearer tokens, never cookies
            max_age=600,
        )
    return SecurityHeaders(app)
