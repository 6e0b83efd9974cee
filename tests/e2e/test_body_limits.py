"""Body limits over a real HTTP connection: the 413 comes before the body is sent (declared length) or while it is
being sent (chunked), and the service goes on answering."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.service import Service
from tests.e2e.test_service import cfa_client

MIB = 1_048_576


@pytest.fixture
def service(sqlite_url: str, tmp_path: Path) -> Iterator[Service]:
    """The limits are the same on every store: SQLite only."""
    running = Service(sqlite_url, tmp_path, env={"CONVERGENCE_WORKER_IN_SERVE": "false"})
    running.start()
    try:
        yield running
    finally:
        running.stop()


def raw_post(service: Service, token: str, headers: str, body_chunks: Iterator[bytes]) -> bytes:
    """POST /contracts on a socket of our own: send the head, then body chunks until the server answers; the
    answer as read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", service.port), timeout=30) as sock:
        head = f"POST /contracts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n{headers}\r\n"
        sock.sendall(head.encode())
        for chunk in body_chunks:
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break  # and closed the connection
        answer = b""
        try:
            while received := sock.recv(65_536):
                answer += received
        except ConnectionResetError:
            # The server closed with some of our body unread, so its kernel reset the connection, which may discard
            # its answer before we read it (uvicorn does no lingering close). What was read is still returned.
            pass
        return answer


def token_of(client: Any) -> str:
    return str(client.headers["Authorization"].removeprefix("Bearer "))


def test_a_declared_50_mb_body_is_refused_before_it_is_sent(service: Service, complete_cerfa: dict[str, Any]) -> None:
    http = cfa_client(service, complete_cerfa["organismeFormation"]["siret"])
    headers = f"Content-Type: application/json\r\nContent-Length: {50 * MIB}\r\n"
    answer = raw_post(service, token_of(http), headers, iter([]))

    assert answer.startswith(b"HTTP/1.1 413")
    assert b"application/problem+json" in answer
    assert b"body_too_large" in answer
    assert http.get("/healthz").status_code == 200


def test_a_chunked_body_is_cut_at_the_limit(service: Service, complete_cerfa: dict[str, Any]) -> None:
    http = cfa_client(service, complete_cerfa["organismeFormation"]["siret"])
    chunk = b"x" * 65_536
    sent = [0]

    def chunks() -> Iterator[bytes]:
        yield b"16\r\n" + b'{"cerfa": {}, "pad": "' + b"\r\n"
        for _ in range(50 * MIB // len(chunk)):
            sent[0] += len(chunk)
            yield f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"

    answer = raw_post(
        service, token_of(http), "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", chunks()
    )

    # The 413 itself may be lost to the connection's reset (see raw_post; the in-process tests read it every time):
    # what must hold over a real connection is that the server stopped reading at the limit, long before 50 MB.
    assert answer == b"" or answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert answer == b"" or b"body_too_large" in answer
    # Not after 50 MB: the server answered or cut while the body was still being sent. What was handed to the kernel
    # includes what the loopback's buffers hold (autotuned: up to 6.6 MB seen under load), hence the margin.
    assert sent[0] < 16 * MIB
    normal = http.post("/contracts", json={"cerfa": complete_cerfa})
    assert normal.status_code == 201, normal.text
    assert json.loads(normal.text)["problems"]
