"""Tokens expire (a default lifetime, or the one asked at issue), the operator lists and renews them, and tokens
issued before they expired (version 1 of `Issued`) still load, without an expiry."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from application.access.access import OPERATOR as THE_OPERATOR
from application.access.access import ApiToken, Role, token_hash
from application.dossiers import Dossiers
from interfaces.bootstrap import Container
from interfaces.cli import cli
from tests.support import OPERATOR_TOKEN, FixedClock, dossiers, opened

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
CFA = "79852413800012"
SOME_DOSSIER = "/contracts/4b0c1f0e-2f57-4a59-9b55-6a2b1a5b5d11"  # 404 to a valid token, 401 to any other


def issue(client: TestClient, **asked: Any) -> dict[str, Any]:
    body = {"cfaSiret": CFA, "role": "frontend", "name": "front", **asked}
    response = client.post("/admin/tokens", json=body, headers=OPERATOR)
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def bearer(issued: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {issued['token']}"}


def test_a_token_is_valid_for_the_default_lifetime_unless_another_is_asked(
    client: TestClient, services: Container
) -> None:
    services.dossiers.clock = FixedClock(date(2026, 11, 27))
    default, short = issue(client), issue(client, expiresInDays=7)
    assert services.settings.token_lifetime_days == 90
    assert datetime.fromisoformat(default["expiresAt"]) == datetime(2027, 2, 25, tzinfo=UTC)
    assert datetime.fromisoformat(short["expiresAt"]) == datetime(2026, 12, 4, tzinfo=UTC)
    assert default["status"] == short["status"] == "active"
    refused = client.post("/admin/tokens", json={"cfaSiret": CFA, "role": "frontend", "name": "x", "expiresInDays": 0})
    assert refused.status_code == 401  # no token: the body is never looked at
    refused = client.post(
        "/admin/tokens", json={"cfaSiret": CFA, "role": "frontend", "name": "x", "expiresInDays": 0}, headers=OPERATOR
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["expiresInDays"]


def test_an_expired_token_is_refused_until_the_operator_renews_it(client: TestClient, services: Container) -> None:
    services.dossiers.clock = FixedClock(date(2026, 11, 27))
    issued = issue(client, expiresInDays=1)
    assert client.get(SOME_DOSSIER, headers=bearer(issued)).status_code == 404  # valid, and now in the cache

    services.dossiers.clock = FixedClock(date(2026, 11, 28))
    refused = client.get(SOME_DOSSIER, headers=bearer(issued))
    assert refused.status_code == 401, "the cache does not outlive the expiry"
    assert refused.headers["content-type"] == "application/problem+json"
    [listed] = client.get("/admin/tokens", headers=OPERATOR).json()
    assert (listed["id"], listed["status"]) == (issued["id"], "expired")

    renewed = client.post(f"/admin/tokens/{issued['id']}/renewal", json={"expiresInDays": 30}, headers=OPERATOR)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["status"] == "active"
    assert datetime.fromisoformat(renewed.json()["expiresAt"]) == datetime(2026, 12, 28, tzinfo=UTC)
    assert client.get(SOME_DOSSIER, headers=bearer(issued)).status_code == 404, "the same secret works again"
    history = [type(e).__name__ for e in services.dossiers.repository.event_store.get(UUID(issued["id"]))]
    assert history == ["Issued", "Renewed"]


def test_a_revoked_token_is_not_renewed_and_only_the_operator_renews_or_lists(
    client: TestClient, services: Container
) -> None:
    issued = issue(client)
    assert client.post(f"/admin/tokens/{issued['id']}/revocation", headers=OPERATOR).status_code == 200
    refused = client.post(f"/admin/tokens/{issued['id']}/renewal", headers=OPERATOR)
    assert refused.status_code == 409
    assert refused.json()["type"] == "urn:convergence:problem:token-revoked"

    other = issue(client, role="admin")
    assert client.get("/admin/tokens", headers=bearer(other)).status_code == 403
    assert client.post(f"/admin/tokens/{other['id']}/renewal", headers=bearer(other)).status_code == 403
    unknown = client.post("/admin/tokens/4b0c1f0e-2f57-4a59-9b55-6a2b1a5b5d11/renewal", headers=OPERATOR)
    assert unknown.status_code == 404


def test_the_list_filters_by_cfa_and_never_shows_a_secret(client: TestClient) -> None:
    mine, theirs = issue(client), issue(client, cfaSiret="13002526500013")
    listed = client.get("/admin/tokens", params={"cfaSiret": CFA}, headers=OPERATOR)
    assert [t["id"] for t in listed.json()] == [mine["id"]]
    every = client.get("/admin/tokens", headers=OPERATOR).text
    assert theirs["id"] in every
    assert mine["token"] not in every
    assert theirs["token"] not in every


def _as_version_1(dossiers: Dossiers, token: ApiToken) -> None:
    """Store `token`'s Issued event as the release before expiry wrote it: no `expires_at`, no class_version."""
    [event] = token.collect_events()
    stored = dossiers.mapper.to_stored_event(event)
    state = dossiers.mapper.transcoder.decode(opened(dossiers, stored.state))
    del state["expires_at"]
    state.pop("class_version", None)
    encoded = dossiers.mapper.transcoder.encode(state)
    cipher = dossiers.mapper.cipher
    dossiers.recorder.insert_events([dataclasses.replace(stored, state=cipher.encrypt(encoded) if cipher else encoded)])


def test_a_token_issued_before_tokens_expired_loads_without_expiry_and_still_authenticates() -> None:
    app = dossiers()
    secret = "cvg_issued-by-the-previous-release"
    old = ApiToken(
        secret_hash=token_hash(secret), cfa_siret=CFA, role="frontend", name="old", actor="operator", expires_at=None
    )
    _as_version_1(app, old)
    loaded: ApiToken = app.repository.get(old.id)
    assert loaded.expires_at is None
    found = app.authenticate(secret)
    assert found is not None
    assert found.role is Role.FRONTEND
    app.renew_token(THE_OPERATOR, old.id, timedelta(days=10))
    assert app.repository.get(old.id).expires_at == app.clock.now() + timedelta(days=10)


def test_the_command_line_renews_and_lists_with_the_expiry(database: Path) -> None:
    def run(*arguments: str) -> str:
        result = CliRunner().invoke(cli, list(arguments))
        assert result.exit_code == 0, result.output
        return result.output

    created = json.loads(run("tokens", "create", "--cfa-siret", CFA, "--days", "3"))
    expires = datetime.fromisoformat(created["expiresAt"])
    assert timedelta(days=2, hours=23) < expires - datetime.now(UTC) <= timedelta(days=3)
    renewed = json.loads(run("tokens", "renew", created["id"], "--days", "200"))
    assert datetime.fromisoformat(renewed["expiresAt"]) - expires > timedelta(days=196)
    table = run("tokens", "list")
    assert renewed["expiresAt"][:10] in table
    assert "active" in table
