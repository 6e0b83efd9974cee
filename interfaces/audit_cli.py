"""`convergence audit`: verify the whole store, take and print checkpoints, check an audit file offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from application.audit.audit_file import check_audit_file
from application.audit.history_check import Discrepancy
from infrastructure.audit.read_model_check import compare_read_models
from infrastructure.audit.verify import check_anchor, checkpoint_now, tables_of, verify_history
from interfaces.cli_support import running_container

audit = typer.Typer(
    help="Tamper evidence: verify the store, checkpoints, audit files (docs/audit.md).", no_args_is_help=True
)


@audit.command("verify")
def verify(
    read_models: Annotated[bool, typer.Option(help="rebuild the read models into scratch tables and compare")] = True,
    anchor: Annotated[
        list[str] | None, typer.Option(help="SEQ:DIGEST of a checkpoint kept elsewhere, to find unchanged")
    ] = None,
) -> None:
    """Replay every aggregate checking its invariants, check every event's digest and every checkpoint, compare the
    read models with a rebuild from the first event. Runs beside the service; exits 1 on any discrepancy."""
    with running_container() as container:
        store, app = container.store, container.dossiers
        with typer.progressbar(
            length=max(app.recorder.max_notification_id() or 0, 1), label="events", file=sys.stderr
        ) as bar:
            seen = [0]

            def advance(events: int) -> None:
                bar.update(events - seen[0])
                seen[0] = events

            done = verify_history(store, app, advance)
        for pinned in anchor or []:
            seq, _, digest = pinned.partition(":")
            done.discrepancies.extend(check_anchor(store, tables_of(store, app), int(seq), digest))
        if read_models:
            typer.echo("rebuilding the read models into scratch tables to compare them…", err=True)
            done.discrepancies.extend(compare_read_models(store, app))
            done.read_models = ["status", "invoice status"]
    _report(done.summary(), done.discrepancies)


@audit.command("checkpoint")
def checkpoint() -> None:
    """Take the checkpoints due up to the head now, and print the latest (JSON), to anchor it elsewhere."""
    with running_container() as container:
        latest = checkpoint_now(container.store, container.dossiers)
    if latest is None:
        typer.echo("convergence: the store holds no event yet: no checkpoint", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(latest.as_json(), indent=2))


@audit.command("check")
def check(
    file: Annotated[
        Path, typer.Argument(help="an audit file (GET /contracts/{id}/audit)", exists=True, dir_okay=False)
    ],
    anchor: Annotated[str | None, typer.Option(help="a checkpoint digest kept elsewhere, to find in the file")] = None,
) -> None:
    """Check an audit file offline: no service, no database. Exits 1 on any problem."""
    document = json.loads(file.read_text(encoding="utf-8"))
    done = check_audit_file(document, anchor)
    summary = (
        f"{done.events} events, chained; {done.covered} of them lead to a checkpoint;"
        f" latest checkpoint digest {done.latest} (compare it with the one anchored elsewhere)"
    )
    _report(summary, done.problems)


def _report(summary: str, found: list[Discrepancy] | list[str]) -> None:
    for item in found:
        typer.echo(str(item))
    typer.echo(summary)
    if found:
        typer.echo(f"FAILED: {len(found)} discrepancies", err=True)
        raise typer.Exit(1)
    typer.echo("OK")
