"""Property-based requests generated from the OpenAPI description: whatever a client sends, no server error.

The only 5xx the API may give is the documented 503 of a list asked to wait for a log position the read model
has not reached (no worker runs here)."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from interfaces.api.app import create_app
from interfaces.api.read_models import listing
from tests.support import OPERATOR_TOKEN, container

# the document uploads: random bytes, and bytes that start as a PDF
schemathesis.openapi.media_type("application/pdf", st.binary() | st.binary().map(lambda tail: b"%PDF-1.7\n" + tail))
app = create_app(container())
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
listing.READ_YOUR_WRITES_SECONDS = 0.01  # the wait is not what is tested here


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_makes_the_service_fail(case: schemathesis.Case[Any]) -> None:
    with TestClient(app):  # runs the lifespan: the services are in place
        response = case.call(headers=AUTH)
    if response.status_code >= 500:
        assert response.status_code == 503, response.text
        assert response.json()["type"] == "urn:convergence:problem:read-model-behind"
    [content_type] = response.headers["content-type"]  # schemathesis' response keeps each header as a list
    assert content_type.startswith(("application/json", "application/problem+json")), response.text
