"""The logs of a dossier's whole way, from the CFA's request to the OPCO's answer, at the most verbose level: no
personal data nor secret in them, and the request id joined to what the worker did."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.contracts.contract_state import ContractState
from domain.opco.opcos import Opco
from infrastructure.logs import configure_logging
from infrastructure.opco.opco_sandbox import SandboxConfig
from interfaces.api.app import create_app
from tests.integration.sandbox_server import running_sandbox
from tests.integration.transmission_support import round_trip, wired
from tests.support import MANDATE, OPERATOR_TOKEN, settings


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The service's logging as in production, at DEBUG, into a buffer; the previous configuration restored after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    names = ("convergence", "application", "infrastructure", "interfaces", "uvicorn", "uvicorn.error", "uvicorn.access")
    levels = {name: logging.getLogger(name).level for name in names}
    configure_logging(settings(environment="production", log_level="debug"))
    buffer = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    yield buffer
    root.handlers[:], root.level = saved
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def personal_data_and_secrets(cerfa: dict[str, Any]) -> list[str]:
    people = [cerfa["apprenti"], cerfa["maitre1"], MANDATE["signatory"]]
    found = [person[key] for person in people for key in ("nom", "prenom", "nir", "courriel") if person.get(key)]
    return [*found, cerfa["employeur"]["courriel"], cerfa["apprenti"]["telephone"], OPERATOR_TOKEN, "Bearer"]


def test_a_dossiers_way_to_the_opco_logs_no_personal_data_and_joins_the_request_to_the_send(
    sqlite_url: str, complete_cerfa: dict[str, Any], json_logs: io.StringIO
) -> None:
    with running_sandbox(SandboxConfig(instruction_delay=0, decision_delay=0)) as sandbox:
        container = wired(sqlite_url, sandbox)
        try:
            cfa = complete_cerfa["organismeFormation"]["siret"]
            with TestClient(create_app(container)) as client:
                operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
                asked = {"cfaSiret": cfa, "role": "frontend", "name": "pii"}
                issued = client.post("/admin/tokens", json=asked, headers=operator).json()
                auth = {"Authorization": f"Bearer {issued['token']}"}
                created = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=auth).json()
                ident = created["id"]
                client.post(f"/contracts/{ident}/mandate", json=MANDATE, headers=auth)
                submitted = client.post(
                    f"/contracts/{ident}/submission", headers={**auth, "X-Request-ID": "req-submit"}
                )
                assert submitted.status_code == 202
                assert round_trip(container) == 1
                container.worker.sync_once()
                assert client.get(f"/contracts/{ident}", headers=auth).json()["state"] != ContractState.SUBMITTED
            endpoint = container.accounts.endpoint(cfa, Opco(created["opco"]))
            assert endpoint is not None
            secrets = [issued["token"], endpoint.api_key, *([endpoint.client_secret] if endpoint.client_secret else [])]
        finally:
            container.close()

    text = json_logs.getvalue()
    records = [json.loads(line) for line in text.splitlines()]
    assert any(r["logger"] == "convergence.opco_client" and r["level"] == "DEBUG" for r in records)  # verbose enough
    for needle in [*personal_data_and_secrets(complete_cerfa), *secrets]:
        assert needle.lower() not in text.lower(), f"{needle!r} is in the logs"

    # what the request saved, and what the worker sent, name the same aggregate and version
    [saved] = [r for r in records if r.get("request_id") == "req-submit" and r["logger"] == "convergence.commands"]
    [sending] = [r for r in records if r["logger"] == "convergence.sender" and r["message"].startswith("sending")]
    assert saved["aggregate_id"] == sending["aggregate_id"] == ident
    assert saved["version"] == sending["version"]
    sent = [r for r in records if r.get("aggregate_id") == ident and r["logger"] == "convergence.opco_client"]
    assert sent  # the client's records during the send carry the aggregate's id too
