"""`convergence opco import`: import a CFA's dossiers from an OPCO (those deposited there some other way), with a
progress bar; a dry run first says what would be created, matched or is in conflict."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from application.access.access import OPERATOR
from application.errors import ApplicationError
from domain.errors import DomainError
from domain.opco.opcos import Opco
from interfaces.cli_support import running_container, siret_option

opco = typer.Typer(help="What an OPCO already holds for a CFA (operator): import it.", no_args_is_help=True)


class _Bar:
    """A progress bar made once the OPCO's list is read (its length is the number of dossiers listed)."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._shown = 0

    def __call__(self, progress: dict[str, Any]) -> None:
        if self._bar is None:
            self._bar = typer.progressbar(length=progress["total"], label="importing", file=sys.stderr).__enter__()
        self._bar.update(progress["done"] - self._shown)
        self._shown = progress["done"]

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


@opco.command("import")
def import_dossiers(
    cfa: Annotated[str, typer.Option("--cfa", help="SIRET of the CFA")],
    code: Annotated[Opco, typer.Option("--opco", help="the OPCO's code, e.g. AKTO")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="decide and count, create nothing")] = False,
) -> None:
    """Import the dossiers the OPCO holds for the CFA that are not known here; known ones are left as they are;
    conflicts are listed, never resolved. An import that stopped before its end is resumed. Prints the run's record
    (counts, conflicts) as JSON; exit code 1 if it failed."""
    with running_container() as container:
        siret = siret_option(cfa, "--cfa")
        try:
            started = container.importer.start(OPERATOR, siret, code, dry_run=dry_run)
        except (DomainError, ApplicationError) as refused:
            typer.echo(f"refused: {refused}", err=True)
            raise typer.Exit(1) from None
        bar = _Bar()
        try:
            status = container.importer.execute(started, OPERATOR.actor, on_progress=bar)
        finally:
            bar.close()
        counts = status["counts"]
        verb = "would be created" if dry_run else "created"
        summary = f"{counts['created']} {verb}, {counts['matched']} matched, {counts['conflicts']} in conflict"
        typer.echo(summary, err=True)
        typer.echo(json.dumps(status, indent=2, ensure_ascii=False))
        if status["status"] != "finished":
            typer.echo(f"stopped: {status['error']} (run it again to resume)", err=True)
            raise typer.Exit(1)
