"""Every answer carries the security headers; personal data is never cached; CORS only for the configured origins."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from interfaces.api.app import create_app
from interfaces.bootstrap import Container, bootstrap
from tests.support import MANDATE, OPERATOR_TOKEN, settings

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
FRONT = "https://app.cfa.example"


def assert_secured(response: Any, html: bool = False) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert ("default-src 'none'" in headers["content-security-policy"]) is not html


def test_every_answer_carries_the_headers_and_personal_data_is_never_stored_by_a_cache(
    client: TestClient, complete_cerfa: dict[str, Any]
) -> None:
    created = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=OPERATOR)
    ident = created.json()["id"]
    answers = [
        created,
        client.get(f"/contracts/{ident}", headers=OPERATOR),
        client.get("/contracts", params={"apprentice": "Dupont"}, headers=OPERATOR),
        client.get(f"/contracts/{ident}/events", headers=OPERATOR),
        client.post(f"/contracts/{ident}/mandate", json=MANDATE, headers=OPERATOR),
        client.get("/invoices", headers=OPERATOR),
        client.get("/contracts/4b0c1f0e-2f57-4a59-9b55-6a2b1a5b5d11", headers=OPERATOR),  # 404
        client.get("/contracts"),  # 401
        client.post("/contracts", content=b"{", headers={**OPERATOR, "Content-Type": "application/json"}),  # 422
        client.get("/healthz"),
    ]
    for answer in answers:
        assert_secured(answer)
        assert answer.headers["cache-control"] == "no-store", answer.request.url
    for page in ("/docs", "/redoc"):
        answer = client.get(page)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        assert_secured(answer, html=True)


def test_without_configured_origins_no_cors_header_is_ever_given(client: TestClient) -> None:
    asked = client.get("/healthz", headers={"Origin": FRONT})
    assert "access-control-allow-origin" not in asked.headers
    preflight = client.options("/contracts", headers={"Origin": FRONT, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


@pytest.fixture
def cors_client() -> Iterator[TestClient]:
    services = bootstrap(settings(cors_allow_origins=[FRONT]))
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        yield client
    services.close()


def test_a_configured_origin_may_call_the_api_from_a_browser_and_another_may_not(cors_client: TestClient) -> None:
    preflight = cors_client.options(
        "/contracts",
        headers={
            "Origin": FRONT,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == FRONT
    assert "idempotency-key" in preflight.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in preflight.headers
    assert_secured(preflight)

    answer = cors_client.get("/contracts", headers={**OPERATOR, "Origin": FRONT})
    assert answer.headers["access-control-allow-origin"] == FRONT
    assert "etag" in answer.headers["access-control-expose-headers"].lower()

    stranger = "https://evil.example"
    refused = cors_client.options("/contracts", headers={"Origin": stranger, "Access-Control-Request-Method": "POST"})
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    answer = cors_client.get("/contracts", headers={**OPERATOR, "Origin": stranger})
    assert "access-control-allow-origin" not in answer.headers


def test_the_answer_to_an_unexpected_error_carries_them_too(services: Container) -> None:
    app = create_app(services)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/boom")
    assert answer.status_code == 500
    assert_secured(answer)
    assert answer.headers["cache-control"] == "no-store"
