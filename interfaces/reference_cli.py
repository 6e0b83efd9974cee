"""`convergence reference …`: refreshing the reference data shipped with Convergence (the IDCC → OPCO table)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

import infrastructure
from infrastructure.opco.idcc_refresh import RefreshReport, read_siro, refresh
from infrastructure.reference_data import read_rows, write_rows

PACKAGED_TABLE = Path(infrastructure.__file__).parent / "data" / "idcc_opco.csv"
SIRO_DATASET = "https://www.data.gouv.fr/fr/datasets/table-siret-opco/"

reference = typer.Typer(
    help="The reference data shipped with Convergence: the IDCC → OPCO table.", no_args_is_help=True
)


@reference.command("idcc-refresh")
def idcc_refresh(
    siro: Annotated[Path, typer.Argument(help="France compétences' SIRET → OPCO table (SIRO), as a CSV file")],
    published: Annotated[str, typer.Option(help="the day the SIRO file was published, YYYY-MM-DD")],
    url: Annotated[str, typer.Option(help="where the SIRO file was downloaded from")] = SIRO_DATASET,
    min_share: Annotated[
        float, typer.Option(min=0.5, max=1.0, help="the share of an IDCC's establishments its OPCO must hold")
    ] = 0.9,
    table: Annotated[Path, typer.Option(help="the IDCC table to refresh (its .meta.json beside it)")] = PACKAGED_TABLE,
    dry_run: Annotated[bool, typer.Option(help="report the changes without writing them")] = False,
) -> None:
    """Take each IDCC's OPCO from SIRO where one OPCO holds at least --min-share of its establishments; the other
    columns (labels, legal states) are kept, and the rows SIRO changes name it as their source."""
    try:
        day = date.fromisoformat(published)
    except ValueError:
        raise typer.BadParameter("a date YYYY-MM-DD", param_hint="--published") from None
    key = f"siro-{day:%Y-%m}"
    with siro.open(encoding="utf-8-sig", newline="") as lines:
        try:
            counts = read_siro(lines)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="SIRO") from None
    rows, report = refresh(read_rows(table.read_text(encoding="utf-8")), counts, source=key, min_share=min_share)
    _print(report, counts.lines, counts.unreadable)
    if dry_run:
        return
    table.write_text(write_rows(rows), encoding="utf-8")
    meta_path = table.with_name(f"{table.stem}.meta.json")
    meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["as_of"] = day.isoformat()
    meta["sources"][key] = {
        "name": "France compétences, table SIRET → OPCO (SIRO)",
        "url": url,
        "file": siro.name,
        "published": day.isoformat(),
        "lines": counts.lines,
        "rule": f"an IDCC's OPCO is the OPCO_PROPRIETAIRE of at least {min_share:.0%} of its establishments",
    }
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    typer.echo(f"written: {table} and {meta_path.name}")


def _print(report: RefreshReport, lines: int, unreadable: dict[str, int]) -> None:
    typer.echo(f"{lines} establishments read; {report.confirmed} IDCC confirmed")
    for title, changes in (("changed", report.changed), ("added", report.added)):
        typer.echo(f"{len(changes)} IDCC {title}")
        for change in changes:
            typer.echo(f"  {change.idcc}: {change.before or '-'} → {change.after} ({change.share:.1%})")
    typer.echo(f"{len(report.split)} IDCC split between OPCOs, kept as they were: {report.split}")
    if unreadable:
        typer.echo(f"OPCO names read as no OPCO: {dict(unreadable)}")
