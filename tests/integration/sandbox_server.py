"""Serves an ASGI app (the OPCO sandbox by default) with a real uvicorn on a free loopback port, in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta

import httpx
import uvicorn
from starlette.types import ASGIApp

from application.opco.opco_gateway import OpcoEndpoint
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from infrastructure.opco.opco_client.dpop import DpopSigner, JoseDpopKeys
from infrastructure.opco.opco_sandbox import SandboxConfig, create_sandbox_app

START_TIMEOUT = 10.0
SANDBOX_IDENTITY = {"EDITEUR": "Convergence", "LOGICIEL": "convergence", "VERSION": "0.1.0"}
ADMIN_TOKEN = "the-tests-sandbox-operator-token"  # the sandboxes `running_sandbox` serves require it on /_sandbox/*
SANDBOX_OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
DPOP_KEY = JoseDpopKeys().generate("ES256")  # the tests' DPoP key at the OPCOs that bind tokens to one (AFDAS)
_SIGNER = DpopSigner(DPOP_KEY.private_jwk)


@contextmanager
def running_app(app: ASGIApp) -> Iterator[str]:
    """Yields the base URL (http://127.0.0.1:PORT) while the server runs; stops it on exit."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # the server takes the bound socket: no race for the port
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_until_started(server, thread)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@contextmanager
def running_sandbox(config: SandboxConfig | None = None) -> Iterator[str]:
    """The sandbox's root URL; an OPCO's base URL is f"{url}/opcos/{CODE}". Its /_sandbox/* take `SANDBOX_OPERATOR` (the
    config's admin token is set to the tests' one)."""
    config = config or SandboxConfig()
    config.admin_token = ADMIN_TOKEN
    with running_app(create_sandbox_app(config)) as url:
        yield url


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)


class ManualClock:
    """A sandbox clock (`SandboxConfig(clock=...)`) that moves only when told."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def sandbox_key(client: httpx.Client, opco: str, siret: str) -> str:
    """A new CFA key at `opco` from the sandbox (client: on the sandbox's root URL)."""
    response = client.post("/_sandbox/keys", json={"opco": opco, "siret": siret}, headers=SANDBOX_OPERATOR)
    assert response.status_code == 201, response.text
    key: str = response.json()["apiKey"]
    return key


def oauth_client(client: httpx.Client) -> tuple[str, str]:
    """The software's OAuth client at the sandbox, drawn for its installation (client: on the sandbox's root URL)."""
    [first] = client.get("/_sandbox/oauth-clients", headers=SANDBOX_OPERATOR).json()
    return first["clientId"], first["clientSecret"]


def sandbox_headers(client: httpx.Client, opco: str, siret: str) -> dict[str, str]:
    """Everything a call to `opco` needs: identity headers, a new key and, where the OPCO's dialect wants one, a
    token. A token bound to a DPoP key (AFDAS) also needs a proof per request: `client` is taught to add it."""
    headers = {**SANDBOX_IDENTITY, "X-API-KEY": sandbox_key(client, opco, siret)}
    scheme_token = sandbox_token(client, opco)
    if scheme_token is not None:
        headers["Authorization"] = " ".join(scheme_token)
    return headers


def sandbox_token(client: httpx.Client, opco: str) -> tuple[str, str] | None:
    """(scheme, token) from the OPCO's token endpoint in its own dialect; None for a key-only OPCO."""
    profile = CATALOGUE[Opco(opco)]
    path = profile.dialect.token_path
    if path is None:
        return None
    url = f"{client.base_url}".rstrip("/") + f"/opcos/{opco}" + path.format(server="sandbox")
    client_id, secret = oauth_client(client)
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    if profile.oauth_scope:
        form["scope"] = profile.oauth_scope
    answer = client.post(url, data=form, headers=_proof("POST", url) if profile.dpop else {})
    if answer.status_code == 400 and answer.json().get("error") == "use_dpop_nonce":
        answer = client.post(url, data=form, headers=_proof("POST", url, answer.headers["DPoP-Nonce"]))
    assert answer.status_code == 200, answer.text
    if profile.dpop:
        _sign_dpop_requests(client)
    return ("DPoP" if answer.json()["token_type"] == "DPoP" else "Bearer"), answer.json()["access_token"]


def sandbox_endpoint(url: str, admin: httpx.Client, opco: Opco, siret: str) -> OpcoEndpoint:
    """The CFA's endpoint at `opco` as OpcoAccounts gives it: a new key and, in the OPCO's dialect, the software's
    OAuth client, its token endpoint and scope, and a DPoP key (url: the sandbox's root URL)."""
    profile = CATALOGUE[opco]
    base = f"{url}/opcos/{opco.value}"
    endpoint = OpcoEndpoint(
        opco=opco,
        base_url=base,
        protocol=profile.protocol,
        api_key=sandbox_key(admin, opco.value, siret),
        errors=profile.errors,
        invoice_path=profile.invoice_path,
    )
    path = profile.dialect.token_path
    if path is None:
        return endpoint
    client_id, secret = oauth_client(admin)
    return replace(
        endpoint,
        client_id=client_id,
        client_secret=secret,
        token_url=base + path.format(server="sandbox"),
        scope=profile.oauth_scope,
        dpop_key=DPOP_KEY.private_jwk if profile.dpop else None,
    )


def _proof(method: str, url: str, nonce: str | None = None) -> dict[str, str]:
    return {"DPoP": _SIGNER.proof(method, url, nonce=nonce)}


def _sign_dpop_requests(client: httpx.Client) -> None:
    """Every request of `client` carrying `Authorization: DPoP <token>` gets a fresh proof for it (RFC 9449 §7)."""

    def sign(request: httpx.Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme == "DPoP":
            request.headers["DPoP"] = _SIGNER.proof(request.method, str(request.url), access_token=token)

    hooks = client.event_hooks
    if sign.__qualname__ not in {hook.__qualname__ for hook in hooks["request"]}:
        client.event_hooks = {**hooks, "request": [*hooks["request"], sign]}
