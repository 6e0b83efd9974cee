"""`convergence cfas profile …`: the operator sets and shows a CFA's billing profile; the IBAN is stored sealed and
printed masked; a bad value names its option and rule and leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from interfaces.cli import cli
from tests.support import raw_store

CFA = "79852413800012"
IBAN = "FR7630006000011234567890189"
OPTIONS = [
    "--siret", CFA,
    "--legal-name", "CFA des Métiers de Lyon",
    "--adresse1", "12 rue de la Part-Dieu",
    "--code-postal", "69003",
    "--commune", "Lyon",
    "--uai", "0690001B",
    "--declaration-number", "82690000169",
    "--bic", "AGRIFRPP",
    "--invoice-prefix", "FAC-2026-",
]  # fmt: skip


def run(*arguments: str, iban: str | None = None) -> Any:
    return CliRunner().invoke(cli, ["cfas", "profile", *arguments], input=None if iban is None else f"{iban}\n")


def test_the_operator_sets_the_profile_with_the_iban_from_a_prompt(database: Path) -> None:
    answer = run("set", *OPTIONS, iban=IBAN)
    assert answer.exit_code == 0, answer.output
    shown = run("show", "--siret", CFA)
    assert shown.exit_code == 0, shown.output
    profile = json.loads(shown.output)
    assert (profile["ibanMasked"], profile["legalName"], profile["invoiceNumbering"]["nextNumber"]) == (
        "****0189",
        "CFA des Métiers de Lyon",
        1,
    )
    assert IBAN not in shown.output
    assert IBAN.encode() not in raw_store(database)


def test_a_bad_iban_names_its_option_and_rule_and_nothing_is_stored(database: Path) -> None:
    answer = run("set", *OPTIONS, "--iban", "FR7630006000011234567890188")
    assert answer.exit_code == 2
    assert "--iban" in answer.output
    assert "iban_invalid" in answer.output
    shown = run("show", "--siret", CFA)
    assert shown.exit_code == 1
    assert "billing profile" in shown.output


def test_a_profile_set_is_replaced_only_when_asked(database: Path) -> None:
    assert run("set", *OPTIONS, "--iban", IBAN).exit_code == 0
    again = run("set", *OPTIONS, "--iban", IBAN, "--commune", "Bron")
    assert (again.exit_code, "--replace" in again.output) == (1, True)
    replaced = run("set", *OPTIONS, "--iban", IBAN, "--commune", "Bron", "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert json.loads(run("show", "--siret", CFA).output)["commune"] == "Bron"
