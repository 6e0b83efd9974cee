"""`convergence reference idcc-refresh`: the IDCC table refreshed from France compétences' SIRO table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from domain.opco.opcos import ConventionStatus, Opco
from infrastructure.reference_data import conventions, read_rows
from interfaces.cli import cli
from interfaces.reference_cli import PACKAGED_TABLE


def siro_file(path: Path) -> Path:
    """A SIRO extract: establishments with their IDCC and OPCO (names as France compétences writes them)."""
    lines = ["SIRET|IDCC|OPCO_PROPRIETAIRE|OPCO_GESTION"]
    cases = [
        ("3248", "OPCO2I", 10),
        ("3248", "AKTO", 1),  # 10 of 11: 91 %, above the threshold
        ("1486", "ATLAS", 5),
        ("3251", "OPCO2I", 3),  # in the table without an OPCO until now
        ("0001", "AKTO", 2),  # not in the table at all
        ("1979", "AKTO", 5),
        ("1979", "ATLAS", 5),  # split: kept as it was
        ("0043", "OPCO EP", 4),  # the 2019 table said L'Opcommerce
        ("9999", "AKTO", 7),  # no agreement: never routed
        ("0016", "NOT AN OPCO", 1),
    ]
    serial = 0
    for idcc, opco, count in cases:
        for _ in range(count):
            serial += 1
            lines.append(f"{serial:014d}|{idcc}|{opco}|{opco}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_table_takes_siro_s_answer_where_one_opco_holds_the_agreement(tmp_path: Path) -> None:
    table = tmp_path / "idcc_opco.csv"
    shutil.copy(PACKAGED_TABLE, table)
    shutil.copy(PACKAGED_TABLE.with_name("idcc_opco.meta.json"), tmp_path / "idcc_opco.meta.json")
    arguments = ["reference", "idcc-refresh", str(siro_file(tmp_path / "siro.csv")), "--published", "2026-01-08"]
    result = CliRunner().invoke(cli, [*arguments, "--table", str(table)])
    assert result.exit_code == 0, result.output
    assert "0043: OPCOMMERCE → OPCOEP (100.0%)" in result.output
    assert "'1979': 0.5" in result.output
    assert "NOT AN OPCO" in result.output

    rows = {row["idcc"]: row for row in read_rows(table.read_text(encoding="utf-8"))}
    assert (rows["3248"]["opco"], rows["3248"]["opco_source"]) == ("OPCO2I", "siro-2026-01")
    assert (rows["0043"]["opco"], rows["0043"]["opco_name_in_source"]) == ("OPCOEP", "OPCO EP")
    assert (rows["1979"]["opco"], rows["1979"]["opco_source"]) == ("AKTO", "mtei-2019")
    assert rows["3251"]["opco"] == "OPCO2I"
    assert rows["3251"]["label"].startswith("Bijouterie")  # the other columns are kept
    assert (rows["0001"]["opco"], rows["0001"]["status"]) == ("AKTO", "unknown")
    assert rows["9999"]["opco"] == ""
    routed = {c.idcc: c for c in conventions(rows.values())}
    assert routed["0001"].status is ConventionStatus.UNKNOWN
    assert routed["0043"].opco is Opco.OPCOEP

    meta = json.loads((tmp_path / "idcc_opco.meta.json").read_text(encoding="utf-8"))
    assert meta["as_of"] == "2026-01-08"
    assert meta["sources"]["siro-2026-01"]["lines"] == 43


def test_a_file_that_is_not_siro_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    table = tmp_path / "idcc_opco.csv"
    shutil.copy(PACKAGED_TABLE, table)
    before = table.read_text(encoding="utf-8")
    other = tmp_path / "other.csv"
    other.write_text("a;b\n1;2\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["reference", "idcc-refresh", str(other), "--published", "2026-01-08", "--table", str(table)]
    )
    assert result.exit_code != 0
    assert "not a SIRO table" in result.output
    assert table.read_text(encoding="utf-8") == before
