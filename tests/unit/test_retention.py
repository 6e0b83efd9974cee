"""`convergence retention apply`: the personal data of the dossiers past their retention period (apprenticeship-
rules.md §1.1: five years after the contract's end; 31 Dec 2032 for a contract concluded in 2022 or before) are
erased, each once; `--dry-run` lists them and erases nothing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from application.access.access import OPERATOR
from application.privacy.retention import retention_end
from domain.contracts.cerfa_document import parse_cerfa
from interfaces.bootstrap import bootstrap
from interfaces.cli import cli
from tests.support import principal, settings, with_changes


def drafts(url: str, complete_cerfa: dict[str, Any]) -> dict[str, Any]:
    """Three dossiers: ending 2027-08-31, ending 2029-08-31, and one concluded in 2022."""
    container = bootstrap(settings(url))
    who = principal(complete_cerfa["organismeFormation"]["siret"])
    terms = complete_cerfa["contrat"]
    made = {}
    try:
        for numero, changes in {
            "R-2027": {"dateFinContrat": "2027-08-31"},
            "R-2029": {"dateFinContrat": "2029-08-31"},
            "R-2022": {"dateConclusion": "2022-08-20", "dateFinContrat": "2024-08-31"},
        }.items():
            cerfa = with_changes(complete_cerfa, contrat={**terms, **changes})
            made[numero] = container.dossiers.create_contract(
                who, cerfa=parse_cerfa(cerfa), numero_interne=numero, opco=None
            ).contract
    finally:
        container.close()
    return made


def test_the_retention_period_follows_the_rules(database: Path, complete_cerfa: dict[str, Any]) -> None:
    made = drafts(f"sqlite:///{database}", complete_cerfa)
    assert retention_end(made["R-2027"]) == date(2032, 8, 31)
    assert retention_end(made["R-2029"]) == date(2034, 8, 31)
    assert retention_end(made["R-2022"]) == date(2032, 12, 31)


def test_the_dry_run_lists_and_the_run_erases_each_once(database: Path, complete_cerfa: dict[str, Any]) -> None:
    made = drafts(f"sqlite:///{database}", complete_cerfa)

    listed = CliRunner().invoke(cli, ["retention", "apply", "--dry-run", "--today", "2033-01-15"])
    assert listed.exit_code == 0, listed.output
    due = sorted(json.loads(line)["wouldErase"]["numeroInterne"] for line in listed.output.splitlines())
    assert due == ["R-2022", "R-2027"]

    erased = CliRunner().invoke(cli, ["retention", "apply", "--today", "2033-01-15"])
    assert erased.exit_code == 0, erased.output
    assert sorted(json.loads(line)["erased"]["numeroInterne"] for line in erased.output.splitlines()) == due
    again = CliRunner().invoke(cli, ["retention", "apply", "--today", "2033-01-15"])
    assert again.output == ""

    container = bootstrap(settings(f"sqlite:///{database}", aggregate_cache_size=0))
    try:
        for numero, contract in made.items():
            apprenti = container.dossiers.contract(OPERATOR, contract.id).cerfa["apprenti"]
            assert ("nir" in apprenti) is (numero == "R-2029"), numero
    finally:
        container.close()
