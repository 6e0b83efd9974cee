"""`convergence opcos …`: a CFA's credentials at the OPCOs, set by the operator from the command line.

The secrets are read from a hidden prompt (or standard input), never from the command line where `ps` and the shell
history would keep them; they are stored sealed and never printed back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from application.access.access import OPERATOR
from application.errors import ApplicationError
from domain.errors import DomainError, InvalidValue
from domain.opco.opcos import Opco
from interfaces.api.opco.cfas import account_body
from interfaces.bootstrap import Container
from interfaces.cli_support import running_container, siret_option

opcos = typer.Typer(
    help="A CFA's credentials at the OPCOs (operator): key, OAuth client, DPoP key.", no_args_is_help=True
)

CfaSiret = Annotated[str, typer.Option("--cfa-siret", help="SIRET of the CFA")]
OpcoCode = Annotated[Opco, typer.Option("--opco", help="the OPCO's code, e.g. AKTO")]
Replace = Annotated[bool, typer.Option(help="replace what is set (If-Match on the account's current version)")]


@opcos.command("list")
def list_accounts(cfa_siret: CfaSiret) -> None:
    """Each OPCO: its dialect and address, whether the CFA's dossiers can go there (and if not, why), the
    credentials set (never a secret)."""
    with running_container() as container:
        views = container.accounts.overview(OPERATOR, siret_option(cfa_siret, "--cfa-siret"))
        typer.echo(json.dumps([account_body(view) for view in views], indent=2))


@opcos.command("set-key")
def set_key(
    cfa_siret: CfaSiret,
    opco: OpcoCode,
    api_key: Annotated[str, typer.Option(prompt="The CFA's API key", hide_input=True, help="read hidden if absent")],
    replace: Replace = False,
) -> None:
    """Set the CFA's API key at an OPCO (from the OPCO's CFA extranet)."""
    with running_container() as container:
        siret = siret_option(cfa_siret, "--cfa-siret")
        version = _version(container, siret, opco) if replace else None
        _run(
            lambda: container.accounts.set_credentials(OPERATOR, siret, opco, api_key=api_key, expected_version=version)
        )
        _show(container, siret, opco)


@opcos.command("set-oauth-client")
def set_oauth_client(
    cfa_siret: CfaSiret,
    opco: OpcoCode,
    client_id: Annotated[str, typer.Option("--client-id", help="the software's OAuth2 client id at this OPCO")],
    client_secret: Annotated[
        str, typer.Option(prompt="The client secret", hide_input=True, help="read hidden if absent")
    ],
    replace: Replace = False,
) -> None:
    """Set the software's OAuth2 client at an OPCO whose dialect asks for a token (AKTO, ATLAS, Mobilités, OPCO EP,
    AFDAS)."""
    with running_container() as container:
        siret = siret_option(cfa_siret, "--cfa-siret")
        version = _version(container, siret, opco) if replace else None
        _run(
            lambda: container.accounts.set_oauth_client(
                OPERATOR, siret, opco, client_id=client_id, client_secret=client_secret, expected_version=version
            )
        )
        _show(container, siret, opco)


@opcos.command("dpop-key")
def dpop_key(
    cfa_siret: CfaSiret,
    opco: OpcoCode,
    generate: Annotated[str | None, typer.Option(help="make a new key: RS256 or ES256")] = None,
    private_key_file: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="the CFA's own key: a PEM file or a JWK file")
    ] = None,
    replace: Replace = False,
) -> None:
    """Set the key signing the DPoP proofs at an OPCO that binds its tokens to one (AFDAS). Its public JWK is
    printed: register it with the OPCO where it asks. Replacing a key set needs --replace."""
    private_key = private_key_file.read_text() if private_key_file else None
    with running_container() as container:
        siret = siret_option(cfa_siret, "--cfa-siret")
        version = _version(container, siret, opco) if replace else None
        _run(
            lambda: container.accounts.set_dpop_key(
                OPERATOR, siret, opco, generate=generate, private_key=private_key, expected_version=version
            )
        )
        _show(container, siret, opco)


def _version(container: Container, siret: str, opco: Opco) -> int | None:
    account = container.accounts.account(siret, opco)
    return account.version if account else None


def _run(command: Any) -> None:
    """The command's refusal as the CLI's error: what is wrong, and exit code 1."""
    try:
        command()
    except InvalidValue as refused:
        raise typer.BadParameter(refused.problem.message, param_hint=refused.problem.field) from None
    except (DomainError, ApplicationError) as refused:
        typer.echo(f"refused: {refused}", err=True)
        raise typer.Exit(1) from None


def _show(container: Container, siret: str, opco: Opco) -> None:
    [view] = [v for v in container.accounts.overview(OPERATOR, siret) if v.profile.opco is opco]
    typer.echo(json.dumps(account_body(view), indent=2))
