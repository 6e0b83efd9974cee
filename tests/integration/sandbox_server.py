"""Serves an ASGI app (the OPCO sandbox by default) with a real uvicorn on a free loopback port, in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import httpx
import uvicorn
from starlette.types import ASGIApp

from infrastructure.opco_sandbox import SandboxConfig, create_sandbox_app

START_TIMEOUT = 10.0
SANDBOX_IDENTITY = {"EDITEUR": "Convergence", "LOGICIEL": "convergence", "VERSION": "0.1.0"}
ADMIN_TOKEN = "the-tests-sandbox-operator-token"  # the sandboxes `running_sandbox` serves require it on /_sandbox/*
SANDBOX_OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


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
    """Everything a call to `opco` needs: identity headers, a new key and, where the OPCO wants one, a Bearer."""
    headers = {**SANDBOX_IDENTITY, "X-API-KEY": sandbox_key(client, opco, siret)}
    if opco in {"AKTO", "AFDAS", "OPCOEP"}:
        client_id, secret = oauth_client(client)
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        answer = client.post(f"/opcos/{opco}/oauth/token", data=form)
        assert answer.status_code == 200, answer.text
        headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return headers
