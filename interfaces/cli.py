"""The `convergence` command line."""

from __future__ import annotations

import json
from typing import Annotated
from uuid import UUID

import typer
import uvicorn
from pydantic import TypeAdapter, ValidationError

from application.access import OPERATOR, Role
from domain.cerfa import Siret
from infrastructure.settings import Settings
from interfaces.api.representation import token_body
from interfaces.bootstrap import bootstrap

cli = typer.Typer(
    help="Convergence: apprenticeship contract dossiers between a CFA and its OPCOs.", no_args_is_help=True
)
tokens = typer.Typer(help="API tokens of the CFAs (operator).", no_args_is_help=True)
cli.add_typer(tokens, name="tokens")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Run the REST API (on the store named by CONVERGENCE_DATABASE_URL; SQLite under ./var by default)."""
    settings = Settings()
    typer.echo(f"Convergence on http://{host}:{port} (store: {_redacted(settings.database_url)}); docs at /docs")
    uvicorn.run(
        "interfaces.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
    )


@tokens.command("create")
def create_token(
    cfa_siret: Annotated[str, typer.Option("--cfa-siret", help="SIRET of the CFA the token acts for")],
    role: Annotated[Role, typer.Option(help="frontend, auditor (read-only) or admin")] = Role.FRONTEND,
    name: Annotated[str, typer.Option(help="who or what uses it, e.g. 'Ypareo production'")] = "cli",
) -> None:
    """Issue a token; it is printed once, only its hash is stored."""
    try:
        siret = TypeAdapter(Siret).validate_python(cfa_siret)
    except ValidationError as error:
        raise typer.BadParameter(error.errors()[0]["msg"], param_hint="--cfa-siret") from None
    container = bootstrap()
    try:
        issued = container.dossiers.issue_token(OPERATOR, cfa_siret=siret, role=role, name=name)
    finally:
        container.close()
    typer.echo(json.dumps({**token_body(issued.token), "token": issued.secret}, indent=2))


@tokens.command("revoke")
def revoke_token(token_id: Annotated[UUID, typer.Argument(help="the token's id")]) -> None:
    """Revoke a token."""
    container = bootstrap()
    try:
        token = container.dossiers.revoke_token(OPERATOR, token_id)
    finally:
        container.close()
    typer.echo(json.dumps(token_body(token), indent=2))


def _redacted(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, location = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}@{location}"


def main() -> None:
    cli()
