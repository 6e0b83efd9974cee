"""`convergence tokens …`: the operator issues, lists, renews and revokes the CFAs' API tokens."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated
from uuid import UUID

import typer

from application.access.access import OPERATOR, Role
from infrastructure.settings import Settings
from interfaces.api.contracts.representation import token_body
from interfaces.cli_support import running_container, siret_option

tokens = typer.Typer(help="API tokens of the CFAs (operator).", no_args_is_help=True)

Days = Annotated[
    int | None,
    typer.Option("--days", min=1, max=3650, help="days it is valid from now (default CONVERGENCE_TOKEN_LIFETIME_DAYS)"),
]


def _lifetime(days: int | None, settings: Settings) -> timedelta:
    return timedelta(days=days if days is not None else settings.token_lifetime_days)


@tokens.command("create")
def create_token(
    cfa_siret: Annotated[str, typer.Option("--cfa-siret", help="SIRET of the CFA the token acts for")],
    role: Annotated[Role, typer.Option(help="frontend, auditor (read-only) or admin")] = Role.FRONTEND,
    name: Annotated[str, typer.Option(help="who or what uses it, e.g. 'Ypareo production'")] = "cli",
    days: Days = None,
) -> None:
    """Issue a token; it is printed once, only its hash is stored."""
    siret = siret_option(cfa_siret, "--cfa-siret")
    with running_container() as container:
        lifetime = _lifetime(days, container.settings)
        issued = container.dossiers.issue_token(OPERATOR, cfa_siret=siret, role=role, name=name, lifetime=lifetime)
        body = token_body(issued.token, container.dossiers.clock.now())
    typer.echo(json.dumps({**body, "token": issued.secret}, indent=2))


@tokens.command("list")
def list_tokens(
    cfa_siret: Annotated[str | None, typer.Option("--cfa-siret", help="only this CFA's tokens")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
) -> None:
    """Every token issued, revoked and expired ones included (their secrets are stored nowhere)."""
    with running_container() as container:
        now = container.dossiers.clock.now()
        found = [token_body(t, now) for t in container.dossiers.tokens(OPERATOR, cfa_siret)]
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    typer.echo(f"{'id':<36}  {'cfa':<14}  {'role':<8}  {'state':<7}  {'issued':<10}  {'expires':<10}  name")
    for token in found:
        issued, expires = token["createdAt"][:10], (token["expiresAt"] or "never")[:10]
        typer.echo(
            f"{token['id']:<36}  {token['cfaSiret']:<14}  {token['role']:<8}  {token['status']:<7}  {issued:<10}"
            f"  {expires:<10}  {token['name']}"
        )


@tokens.command("renew")
def renew_token(token_id: Annotated[UUID, typer.Argument(help="the token's id")], days: Days = None) -> None:
    """Make a token valid for --days from now (an expired one too: its secret is unchanged); not a revoked one."""
    with running_container() as container:
        token = container.dossiers.renew_token(OPERATOR, token_id, _lifetime(days, container.settings))
        body = token_body(token, container.dossiers.clock.now())
    typer.echo(json.dumps(body, indent=2))


@tokens.command("revoke")
def revoke_token(token_id: Annotated[UUID, typer.Argument(help="the token's id")]) -> None:
    """Revoke a token."""
    with running_container() as container:
        token = container.dossiers.revoke_token(OPERATOR, token_id)
        body = token_body(token, container.dossiers.clock.now())
    typer.echo(json.dumps(body, indent=2))
