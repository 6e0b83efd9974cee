"""`convergence tokens …` and the CLI's own manners: the operator lists the tokens it issued, a refusal is one line
on stderr (never a traceback), and `--version` says which release runs."""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interfaces.cli import cli, main

CFA = "79852413800012"
OTHER_CFA = "13002526500013"


def run(*arguments: str) -> str:
    result = CliRunner().invoke(cli, list(arguments))
    assert result.exit_code == 0, result.output
    return result.output


def test_tokens_are_listed_with_their_cfa_role_and_state_never_their_secret(database: Path) -> None:
    first = json.loads(run("tokens", "create", "--cfa-siret", CFA, "--name", "Ypareo production"))
    second = json.loads(run("tokens", "create", "--cfa-siret", OTHER_CFA, "--role", "auditor", "--name", "audit"))
    run("tokens", "revoke", second["id"])

    listed = json.loads(run("tokens", "list", "--json"))
    assert [(t["id"], t["cfaSiret"], t["role"], t["revoked"]) for t in listed] == [
        (first["id"], CFA, "frontend", False),
        (second["id"], OTHER_CFA, "auditor", True),
    ]
    table = run("tokens", "list", "--cfa-siret", CFA)
    assert first["id"] in table
    assert second["id"] not in table
    assert "Ypareo production" in table
    assert first["token"] not in table + json.dumps(listed)


def test_an_unknown_token_is_one_line_on_stderr_and_exit_code_1(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["convergence", "tokens", "revoke", "00000000-0000-4000-8000-000000000000"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err == "convergence: no token 00000000-0000-4000-8000-000000000000\n"


def test_the_version_is_printed() -> None:
    assert run("--version") == f"convergence {version('convergence')}\n"
