"""`convergence audit verify` and `convergence audit checkpoint` as an operator runs them, on both stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from interfaces.cli import cli
from tests.integration.audit_support import db_id, populated, raw, tables
from tests.support import DATA_KEYS, OPERATOR_TOKEN, SECRET_KEY


@pytest.fixture
def environment(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "CONVERGENCE_DATABASE_URL": database_url,
        "CONVERGENCE_SECRET_KEY": SECRET_KEY,
        "CONVERGENCE_DATA_KEYS": DATA_KEYS,  # the keyring the dossiers were written under
        "CONVERGENCE_ADMIN_TOKEN": OPERATOR_TOKEN,
        "CONVERGENCE_SANDBOX": "off",
        "CONVERGENCE_WORKER_IN_SERVE": "false",
    }.items():
        monkeypatch.setenv(name, value)
    return database_url


def test_verify_passes_then_names_what_was_rewritten(environment: str, complete_cerfa: dict[str, Any]) -> None:
    with populated(environment, complete_cerfa) as (built, (first, _)):
        taken = CliRunner().invoke(cli, ["audit", "checkpoint"])
        assert taken.exit_code == 0, taken.output
        latest = json.loads(taken.output)
        assert latest["seq"] == 1
        passed = CliRunner().invoke(cli, ["audit", "verify", "--anchor", f"1:{latest['digest']}"])
        assert passed.exit_code == 0, passed.output
        assert "2 Contract" in passed.output
        assert "1 Invoice" in passed.output
        assert "read models compared: status, invoice status; no discrepancy" in passed.output
        t = tables(built)
        raw(
            built, f"DELETE FROM {t.events} WHERE originator_id = %s AND originator_version = 2", (db_id(built, first),)
        )
        failed = CliRunner().invoke(cli, ["audit", "verify", "--no-read-models"])
    assert failed.exit_code == 1
    assert f"[gap] {first} v3: follows version 1: versions 2–2 are missing" in failed.output
    assert f"[orphan-digest] {first} v2" in failed.output
    assert "[checkpoint] checkpoint #1" in failed.output


def test_an_anchor_the_store_no_longer_has_fails_verify(environment: str, complete_cerfa: dict[str, Any]) -> None:
    with populated(environment, complete_cerfa) as (built, _):
        latest = json.loads(CliRunner().invoke(cli, ["audit", "checkpoint"]).output)
        raw(built, f"DELETE FROM {tables(built).checkpoints}")  # an intruder covering his tracks
        failed = CliRunner().invoke(cli, ["audit", "verify", "--no-read-models", "--anchor", f"1:{latest['digest']}"])
    assert failed.exit_code == 1
    assert "[checkpoint] anchored checkpoint #1: is no longer in the store" in failed.output
