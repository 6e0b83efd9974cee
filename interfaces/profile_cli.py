"""`convergence cfas profile …`: a CFA's billing profile, set and shown by the operator from the command line.

The IBAN is read from a prompt when not given (so that it need not stay in the shell history); it is stored sealed
and shown by its last 4 characters only."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from application.access.access import OPERATOR
from application.errors import ApplicationError
from domain.errors import DomainError, InvalidValue
from domain.invoicing.billing_profile import BillingDetails
from interfaces.api.invoices.billing_profile import profile_body
from interfaces.cli_support import running_container, siret_option

cfas = typer.Typer(help="The CFAs (operator): their billing profile.", no_args_is_help=True)
profile = typer.Typer(help="A CFA's billing profile: who invoices, where it is paid, how invoices are numbered.")
cfas.add_typer(profile, name="profile", no_args_is_help=True)

CfaSiret = Annotated[str, typer.Option("--siret", help="SIRET of the CFA")]
OPTION_OF = {
    "legalName": "--legal-name",
    "adresse1": "--adresse1",
    "adresse2": "--adresse2",
    "codePostal": "--code-postal",
    "commune": "--commune",
    "uai": "--uai",
    "declarationNumber": "--declaration-number",
    "iban": "--iban",
    "bic": "--bic",
    "invoicePrefix": "--invoice-prefix",
    "nextInvoiceNumber": "--next-invoice-number",
}


@profile.command("set")
def set_profile(
    siret: CfaSiret,
    legal_name: Annotated[str, typer.Option("--legal-name", help="raison sociale")],
    adresse1: Annotated[str, typer.Option(help="first address line")],
    code_postal: Annotated[str, typer.Option("--code-postal", help="5 digits")],
    commune: Annotated[str, typer.Option(help="town")],
    uai: Annotated[str, typer.Option(help="UAI of the CFA: 7 digits and a check letter")],
    declaration_number: Annotated[str, typer.Option("--declaration-number", help="NDA: 11 digits")],
    bic: Annotated[str, typer.Option(help="BIC of the account (8 or 11 characters)")],
    invoice_prefix: Annotated[str, typer.Option("--invoice-prefix", help='e.g. "FAC-2026-"')],
    iban: Annotated[str, typer.Option(prompt="The CFA's IBAN", help="read from a prompt if absent")],
    adresse2: Annotated[str | None, typer.Option(help="second address line")] = None,
    next_invoice_number: Annotated[
        int | None, typer.Option("--next-invoice-number", help="where a new prefix starts (default 1)")
    ] = None,
    replace: Annotated[bool, typer.Option(help="replace the profile set (If-Match on its current version)")] = False,
) -> None:
    """Set a CFA's billing profile: without it none of its invoices can be submitted."""
    values = {
        "legalName": legal_name,
        "adresse1": adresse1,
        "adresse2": adresse2,
        "codePostal": code_postal,
        "commune": commune,
        "uai": uai,
        "declarationNumber": declaration_number,
        "iban": iban,
        "bic": bic,
        "invoicePrefix": invoice_prefix,
        "nextInvoiceNumber": next_invoice_number,
    }
    details = _details(values)
    with running_container() as container:
        cfa = siret_option(siret, "--siret")
        current = container.invoices.billing.profile(cfa)
        if current is not None and current.details is not None and not replace:
            typer.echo("refused: the CFA has a billing profile already: --replace to change it", err=True)
            raise typer.Exit(1)
        version = current.version if current is not None and replace else None
        try:
            outcome = container.invoices.billing.set(OPERATOR, cfa, details, expected_version=version)
        except InvalidValue as refused:
            option = OPTION_OF.get(refused.problem.field, refused.problem.field)
            raise typer.BadParameter(refused.problem.message, param_hint=option) from None
        except (DomainError, ApplicationError) as refused:
            typer.echo(f"refused: {refused}", err=True)
            raise typer.Exit(1) from None
        typer.echo(json.dumps(profile_body(outcome.aggregate), indent=2))


@profile.command("show")
def show_profile(siret: CfaSiret) -> None:
    """A CFA's billing profile (the IBAN masked)."""
    with running_container() as container:
        try:
            found = container.invoices.billing.get(OPERATOR, siret_option(siret, "--siret"))
        except ApplicationError as refused:
            typer.echo(f"refused: {refused}", err=True)
            raise typer.Exit(1) from None
        typer.echo(json.dumps(profile_body(found), indent=2))


def _details(values: dict[str, Any]) -> BillingDetails:
    try:
        return BillingDetails(**values)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "profile"
        message = f"{first['msg']} ({first['type']})"
        raise typer.BadParameter(message, param_hint=OPTION_OF.get(field, field)) from None
