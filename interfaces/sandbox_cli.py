"""`convergence sandbox-credentials`: what the operator needs to drive this installation's OPCO sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from infrastructure.opco.opco_sandbox.sqlite_store import SqliteStore
from infrastructure.opco.sandbox_keys import sandbox_operator_token
from infrastructure.settings import Settings


def sandbox_credentials(
    standalone: Annotated[
        bool, typer.Option(help="the standalone sandbox's (`convergence sandbox`) rather than the one `serve` mounts")
    ] = False,
    state: Annotated[str | None, typer.Option(help="the sandbox's SQLite file (default: the settings')")] = None,
) -> None:
    """Print the sandbox's admin token (the Bearer of /_sandbox/*) and its OAuth client, drawn for this installation.

    Secrets: print them only where you would type the operator token."""
    settings = Settings()
    if settings.environment == "production":
        typer.echo("CONVERGENCE_ENVIRONMENT=production: there is no OPCO sandbox", err=True)
        raise typer.Exit(2)
    path = state or settings.sandbox_state_path
    client: dict[str, str] | None = None
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        store = SqliteStore(Path(path))
        try:
            client_id, secret = store.oauth_client()
        finally:
            store.close()
        client = {"clientId": client_id, "clientSecret": secret}
    body = {
        "adminToken": sandbox_operator_token(settings, mounted=not standalone),
        "oauthClient": client,  # None: a sandbox in memory draws its own; GET /_sandbox/oauth-clients tells it
        "state": path,
    }
    typer.echo(json.dumps(body, indent=2))
