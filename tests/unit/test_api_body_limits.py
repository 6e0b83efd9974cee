"""Request bodies: 413 past the size limit (declared or streamed), 422 for JSON nested too deep or not strict."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from domain.cerfa import formats
from interfaces.api.app import create_app
from interfaces.api.body_limits import BodyLimitMiddleware, BodyLimits
from interfaces.bootstrap import Container, bootstrap
from tests.support import OPERATOR_TOKEN, settings
from tests.unit.cerfa_strategies import FIELDS, with_mutation

MIB = 1_048_576


def auth_for(client: TestClient, cfa_siret: str) -> dict[str, str]:
    issued = client.post(
        "/admin/tokens",
        json={"cfaSiret": cfa_siret, "role": "admin", "name": "limits"},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    return {"Authorization": f"Bearer {issued.json()['token']}", "Content-Type": "application/json"}


@pytest.fixture
def cfa(client: TestClient, complete_cerfa: dict[str, Any]) -> dict[str, str]:
    return auth_for(client, complete_cerfa["organismeFormation"]["siret"])


@pytest.fixture
def draft(client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]) -> str:
    created = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=cfa)
    assert created.status_code == 201, created.text
    return f"{created.headers['Location']}/cerfa"


def problem_of(answer: Any, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("body", code)]
    return body


def chunks(total: int, size: int = 65_536) -> Iterator[bytes]:
    """A JSON body sent chunked (no Content-Length), `total` bytes in all."""
    yield b'{"cerfa": {}, "pad": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


def deep_patch(depth: int) -> bytes:
    return b'{"apprenti":' * depth + b"1" + b"}" * depth


# -- size ---------------------------------------------------------------------------------------------------------


def test_a_body_declared_over_the_limit_is_413(
    client: TestClient, services: Container, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    head = services.dossiers.recorder.max_notification_id()
    body = json.dumps({"cerfa": complete_cerfa, "numeroInterne": "BIG-1", "pad": "x" * MIB}).encode()
    answer = client.post("/contracts", content=body, headers=cfa)

    refusal = problem_of(answer, 413, "body_too_large")
    assert refusal["type"] == "urn:convergence:problem:body-too-large"
    assert str(MIB) in refusal["detail"]
    assert services.dossiers.recorder.max_notification_id() == head


def test_a_chunked_body_over_the_limit_is_413(client: TestClient, cfa: dict[str, str]) -> None:
    answer = client.post("/contracts", content=chunks(2 * MIB), headers=cfa)
    problem_of(answer, 413, "body_too_large")


def test_a_chunked_body_under_the_limit_goes_through(client: TestClient, cfa: dict[str, str]) -> None:
    answer = client.post("/contracts", content=chunks(MIB // 2), headers=cfa)
    assert [e["code"] for e in answer.json()["errors"]] == ["unknown_field"]  # "pad": read and judged


def test_a_non_json_body_is_counted_as_the_route_reads_it(client: TestClient, cfa: dict[str, str]) -> None:
    headers = {**cfa, "Content-Type": "text/plain"}
    too_large = client.post("/contracts", content=(b"x" * 65_536 for _ in range(20)), headers=headers)
    problem_of(too_large, 413, "body_too_large")
    assert client.post("/contracts", content=(b"x" * 1000 for _ in range(2)), headers=headers).status_code == 422


class Recorder:
    """An ASGI app behind the middleware, and the client side of the connection: what each saw."""

    def __init__(self, body: list[bytes]) -> None:
        last = len(body) - 1
        self.pending = [{"type": "http.request", "body": c, "more_body": i < last} for i, c in enumerate(body)]
        self.pulled = 0
        self.app_called = False
        self.sent: list[Message] = []

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.app_called = True
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive(self) -> Message:
        self.pulled += 1
        return self.pending.pop(0) if self.pending else {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    def status(self) -> int:
        status: int = self.sent[0]["status"]
        return status


LIMITS = BodyLimits(max_bytes=100, max_depth=8, routes={"/contracts/{contract_id}/documents": 1000})


def through_middleware(body: list[bytes], headers: dict[str, str], path: str = "/contracts") -> Recorder:
    recorder = Recorder(body)
    middleware = BodyLimitMiddleware(recorder.app, LIMITS)
    encoded = [(k.encode(), v.encode()) for k, v in headers.items()]
    scope: Scope = {"type": "http", "method": "POST", "path": path, "headers": encoded}
    asyncio.run(middleware(scope, recorder.receive, recorder.send))
    return recorder


def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read() -> None:
    recorder = through_middleware([b"x" * 101], {"content-length": "101"})
    assert (recorder.status(), recorder.pulled, recorder.app_called) == (413, 0, False)


@pytest.mark.parametrize("content_type", ["application/json", "application/octet-stream"])
def test_a_streamed_body_is_read_no_further_than_its_limit(content_type: str) -> None:
    body = [b"[" + b"1," * 20, b"1," * 20, b"1," * 20, b"1]"]
    recorder = through_middleware(body, {"transfer-encoding": "chunked", "content-type": content_type})
    assert (recorder.status(), recorder.pulled) == (413, 3)


def test_a_route_may_have_its_own_limit() -> None:
    for path, status in [("/contracts/42/documents", 204), ("/contracts/42/cerfa", 413), ("/contracts", 413)]:
        assert through_middleware([b"x" * 500], {"content-length": "500"}, path).status() == status, path


def test_the_limits_are_settings(complete_cerfa: dict[str, Any]) -> None:
    configured = bootstrap(settings(max_body_bytes=70_000, max_body_bytes_by_route={"/contracts": 200_000}))
    try:
        with TestClient(create_app(configured), raise_server_exceptions=False) as client:
            auth = auth_for(client, complete_cerfa["organismeFormation"]["siret"])
            padded = {"cerfa": complete_cerfa, "pad": "x" * 100_000}
            assert client.post("/contracts", json=padded, headers=auth).status_code == 422  # read: unknown "pad"
            problem_of(client.post("/invoices", json=padded, headers=auth), 413, "body_too_large")
    finally:
        configured.close()


def test_the_largest_legitimate_bodies_are_far_under_the_default(
    client: TestClient, cfa: dict[str, str], complete_cerfa: dict[str, Any]
) -> None:
    """Every text of a Cerfa at its longest, in characters JSON escapes as surrogate pairs (12 bytes each), and
    8 pay periods; an invoice of 500 lines (the most it may have) at the longest amounts."""
    longest = "𝔸" * 255
    cerfa = complete_cerfa
    for path, declared in FIELDS:
        if declared is formats.Text and not any(isinstance(step, int) for step in path):
            cerfa = with_mutation(cerfa, path, longest)
    cerfa["contrat"]["remunerationsAnnuelles"] *= 3
    cerfa_body = json.dumps({"numeroInterne": "N" * 100, "cerfa": cerfa}, indent=2).encode()
    line = {"contractId": "4b0c1f0e-2f57-4a59-9b55-6a2b1a5b5d11", "numeroEcheance": 99, "kind": "pedagogie"}
    invoice = {
        "numeroInterneFacture": "F" * 100,
        "date": "2026-11-27",
        "lines": [{**line, "amount": "9999999999.99"}] * 500,
    }
    invoice_body = json.dumps(invoice, indent=2).encode()

    assert max(len(cerfa_body), len(invoice_body)) < MIB // 4
    assert client.post("/contracts", content=cerfa_body, headers=cfa).status_code == 422  # 10 periods: too many
    assert client.post("/invoices", content=invoice_body, headers=cfa).status_code in {404, 409, 422}


# -- JSON ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 1000, 50_000])
def test_a_merge_patch_nested_too_deep_is_422_and_changes_nothing(
    client: TestClient, cfa: dict[str, str], draft: str, depth: int
) -> None:
    headers = {**cfa, "If-Match": '"1"', "Content-Type": "application/merge-patch+json"}
    refusal = problem_of(client.patch(draft, content=deep_patch(depth), headers=headers), 422, "json_too_deep")

    assert "32 levels" in refusal["errors"][0]["message"]
    assert client.get(draft.removesuffix("/cerfa"), headers=cfa).headers["ETag"] == '"1"'


def test_a_patch_nested_within_the_limit_reaches_the_cerfa_rules(
    client: TestClient, cfa: dict[str, str], draft: str
) -> None:
    headers = {**cfa, "If-Match": '"1"', "Content-Type": "application/merge-patch+json"}
    answer = client.patch(draft, content=deep_patch(32), headers=headers)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"].startswith("cerfa.apprenti.apprenti")


@pytest.mark.parametrize(
    "body",
    [
        b'{"cerfa": [' * 40 + b"]}" * 40,
        b'{"cerfa": {}, "x": "' + b"]" * 100 + b'", "y": ' + b"[" * 32 + b"]" * 32 + b"}",
    ],
)
def test_any_json_body_nested_too_deep_is_422(client: TestClient, cfa: dict[str, str], body: bytes) -> None:
    problem_of(client.post("/contracts", content=body, headers=cfa), 422, "json_too_deep")


def test_brackets_inside_strings_do_not_count(client: TestClient, cfa: dict[str, str]) -> None:
    body = json.dumps({"cerfa": {"apprenti": {"nom": '\\"[[[{' * 50}}}).encode()
    assert [e["code"] for e in client.post("/contracts", content=body, headers=cfa).json()["errors"]] == ["name_format"]


def test_a_nul_character_is_refused_as_no_text_can_hold_it(client: TestClient, cfa: dict[str, str]) -> None:
    nul = json.dumps({"cerfa": {"employeur": {"denomination": "Né\x00bula"}}}).encode()
    problem_of(client.post("/contracts", content=nul, headers=cfa), 422, "json_nul_character")
    backslash_then_u0000 = json.dumps({"cerfa": {"employeur": {"denomination": "Né\\u0000bula"}}}).encode()
    assert client.post("/contracts", content=backslash_then_u0000, headers=cfa).status_code == 201


@pytest.mark.parametrize(
    "url",
    [
        "/contracts?formationRncp=RNCP%00",
        "/invoices?numeroInterneFacture=F%00",
        "/contracts?apprentice=ab%00",
        "/contracts/%00",
    ],
)
def test_a_nul_character_in_the_url_is_422(client: TestClient, cfa: dict[str, str], url: str) -> None:
    refusal = client.get(url, headers=cfa)
    assert refusal.status_code == 422, refusal.text
    assert [(e["field"], e["code"]) for e in refusal.json()["errors"]] == [("url", "nul_character")]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"cerfa": {', "unexpected end of data"),
        (b'{"cerfa": {}, "npec": NaN}', "unexpected character"),
        (b'{"cerfa": {"employeur": {"denomination": "N\\ud800"}}}', "surrogate"),
        (b'{"cerfa": {"employeur": {"denomination": "N\xff"}}}', "utf-8"),
    ],
)
def test_a_body_that_is_not_strict_json_is_422(client: TestClient, cfa: dict[str, str], body: bytes, why: str) -> None:
    refusal = problem_of(client.post("/contracts", content=body, headers=cfa), 422, "json_invalid")
    assert why in refusal["errors"][0]["message"].lower()
