"""The sandbox keeps what it receives (NIRs included) to the operator: its /_sandbox/* routes want the operator's
token, its OAuth client is drawn per installation, and production mode never mounts it."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import ValidationError
from typer.testing import CliRunner

from infrastructure.opco.opco_sandbox import SandboxConfig, create_sandbox_app
from infrastructure.opco.opco_sandbox.admin_routes import router as admin_router
from infrastructure.opco.opco_sandbox.invoice_admin_routes import router as invoice_admin_router
from infrastructure.opco.opco_sandbox.sqlite_store import SqliteStore
from infrastructure.opco.sandbox_keys import installation_token, sandbox_operator_token
from infrastructure.settings import Settings
from interfaces.api.app import create_app
from interfaces.bootstrap import bootstrap, sandbox_config
from interfaces.cli import cli
from tests.support import DATA_KEYS, OPERATOR_TOKEN, SECRET_KEY, settings

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_CODE = ("domain", "application", "infrastructure", "interfaces")
CFA_SIRET = "79852413800012"


def admin_routes() -> list[tuple[str, str]]:
    """(method, path) of every /_sandbox/* route, path parameters filled in."""
    return sorted(
        (method, re.sub(r"\{[^}]+\}", "x", route.path))
        for router in (admin_router, invoice_admin_router)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    )


@pytest.fixture
def sandbox() -> Iterator[tuple[TestClient, SandboxConfig]]:
    config = SandboxConfig()
    with TestClient(create_sandbox_app(config)) as client:
        yield client, config


def test_every_admin_route_wants_the_operator_token(sandbox: tuple[TestClient, SandboxConfig]) -> None:
    client, config = sandbox
    routes = admin_routes()
    assert ("GET", "/_sandbox/dossiers") in routes
    assert len(routes) >= 12  # keys, faults, dossiers, factures, stats, reset, settings, OAuth clients

    for method, path in routes:
        missing = client.request(method, path, json={})
        assert (missing.status_code, missing.headers.get("WWW-Authenticate")) == (401, 'Bearer realm="opco-sandbox"')
        assert missing.json()["errors"][0]["code"] == "JETON_OPERATEUR_MANQUANT", (method, path)
        wrong = client.request(method, path, json={}, headers={"Authorization": "Bearer not-the-operator"})
        assert wrong.status_code == 403, (method, path)
        assert client.request(method, path, headers={"Authorization": config.admin_token}).status_code == 401

    operator = {"Authorization": f"Bearer {config.admin_token}"}
    assert client.get("/_sandbox/dossiers", headers=operator).json() == []
    issued = client.post("/_sandbox/keys", json={"opco": "ATLAS", "siret": CFA_SIRET}, headers=operator)
    assert issued.status_code == 201


def test_each_sandbox_run_draws_its_own_admin_token() -> None:
    assert SandboxConfig().admin_token != SandboxConfig().admin_token
    assert len(SandboxConfig().admin_token) >= 32


def test_the_oauth_client_is_drawn_per_installation_and_kept_by_its_store(tmp_path: Path) -> None:
    first, second = SqliteStore(tmp_path / "one.db"), SqliteStore(tmp_path / "two.db")
    try:
        drawn = first.oauth_client()
        assert drawn != second.oauth_client()
        assert len(drawn[1]) >= 32
        first.clear()  # POST /_sandbox/reset forgets dossiers and keys, not the installation's client
        assert first.oauth_client() == drawn
    finally:
        first.close()
        second.close()
    reopened = SqliteStore(tmp_path / "one.db")
    try:
        assert reopened.oauth_client() == drawn  # across restarts, and for every process sharing the file
    finally:
        reopened.close()


def test_the_sandbox_answers_tokens_to_its_installations_client_only(tmp_path: Path) -> None:
    config = SandboxConfig(state_path=tmp_path / "sandbox.db")
    with TestClient(create_sandbox_app(config)) as client:
        operator = {"Authorization": f"Bearer {config.admin_token}"}
        [listed] = client.get("/_sandbox/oauth-clients", headers=operator).json()
        token = "/opcos/AKTO/SorApiIdentityServer/connect/token"
        form = {"grant_type": "client_credentials", "client_id": listed["clientId"], "scope": "api.read api.write"}
        granted = client.post(token, data={**form, "client_secret": listed["clientSecret"]})
        assert granted.status_code == 200
        former = {
            "grant_type": "client_credentials",
            "client_id": "convergence-sandbox",
            "client_secret": "sandbox-secret",
            "scope": "api.read api.write",
        }
        assert client.post(token, data=former).status_code == 401


def test_no_secret_is_written_in_the_code() -> None:
    """Neither the former sandbox secret nor any string literal bound to a name that ends in secret, password or
    token (`client_secret = "…"`, `admin_token="…"`, `{"clientSecret": "…"}`)."""
    offending = []
    for folder in PRODUCTION_CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if "sandbox-secret" in text:
                offending.append(f"{path.relative_to(ROOT)}: sandbox-secret")
            offending += [f"{path.relative_to(ROOT)}:{line}" for line in _secret_literals(ast.parse(text))]
    assert offending == []


def _secret_literals(tree: ast.AST) -> list[int]:
    def secret_name(name: str) -> bool:
        return re.search(r"(secret|password|passwd|token)$", name, re.IGNORECASE) is not None

    def literal(value: ast.AST | None) -> bool:
        return isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value.strip() != ""

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id if isinstance(t, ast.Name) else getattr(t, "attr", "") for t in targets]
            if any(secret_name(name) for name in names) and literal(node.value):
                lines.append(node.lineno)
        elif isinstance(node, ast.keyword) and node.arg and secret_name(node.arg) and literal(node.value):
            lines.append(node.lineno)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and secret_name(str(key.value)) and literal(value):
                    lines.append(node.lineno)
    return lines


# --- mounted in `convergence serve` ----------------------------------------------------------------------------


def mounted(tmp_path: Path, **overrides: Any) -> TestClient:
    values: dict[str, Any] = {"sandbox": "on", "sandbox_state_path": str(tmp_path / "sandbox.db"), **overrides}
    services = bootstrap(settings(f"sqlite:///{tmp_path / 'convergence.db'}", **values))
    return TestClient(create_app(services))


def test_mounted_in_serve_its_admin_routes_want_the_operators_token(tmp_path: Path) -> None:
    with mounted(tmp_path) as client:
        stored = "/sandbox/_sandbox/dossiers"
        assert client.get(stored).status_code == 401
        cfa_token = client.post(
            "/admin/tokens",
            json={"cfaSiret": CFA_SIRET, "role": "admin", "name": "a CFA"},
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        ).json()["token"]
        assert client.get(stored, headers={"Authorization": f"Bearer {cfa_token}"}).status_code == 403
        assert client.get(stored, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}).json() == []
        keys = client.post("/sandbox/_sandbox/keys", json={"opco": "ATLAS", "siret": CFA_SIRET})
        assert keys.status_code == 401  # nobody mints OPCO keys without the operator's token


def test_without_an_operator_token_the_installation_token_drives_the_mounted_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CONVERGENCE_ADMIN_TOKEN", raising=False)
    installation = Settings(database_url="sqlite:///c.db", secret_key=SECRET_KEY, sandbox="on", _env_file=None)
    token = installation_token(installation)
    assert sandbox_config(installation).admin_token == token
    assert sandbox_operator_token(installation, mounted=True) == token
    other = Settings(database_url="sqlite:///c.db", secret_key="A" * 43 + "=", sandbox="on", _env_file=None)
    assert installation_token(other) != token  # another installation, another token
    standalone = settings(sandbox_admin_token="the-standalone-token")
    assert sandbox_config(standalone, standalone=True).admin_token == "the-standalone-token"
    assert sandbox_config(standalone).admin_token == OPERATOR_TOKEN


# --- production mode -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("asked", [{"sandbox": "on"}, {"sandbox_url": "http://127.0.0.1:8100"}])
def test_production_refuses_the_sandbox_even_when_asked(asked: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="CONVERGENCE_ENVIRONMENT=production never mounts nor uses the OPCO"):
        settings("sqlite:///./never.db", environment="production", **asked)


def test_production_on_sqlite_mounts_no_sandbox(tmp_path: Path) -> None:
    production = settings(f"sqlite:///{tmp_path / 'c.db'}", environment="production", sandbox="auto")
    assert production.sandbox_mounted() is False
    services = bootstrap(production)
    assert services.sandbox_url is None  # no OPCO is pointed at a sandbox either
    with TestClient(create_app(services)) as client:
        operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        assert client.get("/sandbox/_sandbox/dossiers", headers=operator).status_code == 404


def test_production_start_up_fails_with_a_clear_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONVERGENCE_ENVIRONMENT", "production")
    monkeypatch.setenv("CONVERGENCE_SANDBOX", "on")
    monkeypatch.setenv("CONVERGENCE_ADMIN_TOKEN", "an-operator-token-that-must-not-be-printed")

    result = CliRunner().invoke(cli, ["serve"])

    assert isinstance(result.exception, ValidationError)
    assert "never mounts nor uses the OPCO sandbox" in str(result.exception)
    assert "an-operator-token" not in str(result.exception)  # the settings' inputs stay out of the message
    monkeypatch.setenv("CONVERGENCE_SANDBOX", "off")
    monkeypatch.setenv("CONVERGENCE_SECRET_KEY", SECRET_KEY)  # production needs it, before judging the sandbox
    monkeypatch.setenv("CONVERGENCE_DATA_KEYS", DATA_KEYS)  # and the keyring
    standalone = CliRunner().invoke(cli, ["sandbox"])
    assert standalone.exit_code == 2
    assert "does not run in production" in standalone.output


def test_the_operator_gets_the_credentials_from_the_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("ADMIN_TOKEN", "SECRET_KEY", "SANDBOX_STATE_PATH"):
        monkeypatch.delenv(f"CONVERGENCE_{name}", raising=False)
    config = SandboxConfig(state_path=tmp_path / "var" / "sandbox.db")
    (tmp_path / "var").mkdir()
    with TestClient(create_sandbox_app(config)) as running:
        drawn = running.app.state.sandbox.config.oauth_clients  # type: ignore[attr-defined]

    printed = CliRunner().invoke(cli, ["sandbox-credentials"])

    assert printed.exit_code == 0, printed.output
    body = httpx.Response(200, content=printed.output).json()
    assert {body["oauthClient"]["clientId"]: body["oauthClient"]["clientSecret"]} == drawn
    assert body["adminToken"] == installation_token(
        settings(secret_key=None, secret_key_file=tmp_path / "var/secret.key")
    )
