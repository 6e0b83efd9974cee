"""`convergence projections rebuild NAME`: rebuilds a read model from the log, showing its progress on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from application.access.access import OPERATOR, Role
from infrastructure.read_models.projection_runner import PROGRESS
from infrastructure.read_models.transmissions_view import rebuild_transmissions_view
from interfaces.cli import REBUILDS, cli
from tests.support import container

CFA = "79852413800012"


@pytest.mark.parametrize("name", sorted(REBUILDS))
def test_each_read_model_is_rebuilt_to_the_head_with_a_progress_bar(name: str, database: Path) -> None:
    runner = CliRunner()
    for n in range(3):  # a few events in the log
        created = runner.invoke(cli, ["tokens", "create", "--cfa-siret", CFA, "--name", f"t{n}"])
        assert created.exit_code == 0, created.output
    head = len(json.loads(runner.invoke(cli, ["tokens", "list", "--json"]).stdout))

    rebuilt = runner.invoke(cli, ["projections", "rebuild", name])

    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"{name} rebuilt to position {head} (log head was {head})" in rebuilt.stdout
    assert f"rebuilding {name}" in rebuilt.stderr  # the bar itself is drawn on a terminal only


def test_a_rebuild_reports_each_batchs_position_up_to_the_head(tmp_path: Path) -> None:
    services = container(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        for n in range(5):
            services.dossiers.issue_token(OPERATOR, cfa_siret=CFA, role=Role.FRONTEND, name=f"t{n}")
        head = services.dossiers.recorder.max_notification_id()
        reached: list[int] = []
        token = PROGRESS.set(reached.append)
        try:
            rebuild_transmissions_view(services.store, services.dossiers, batch_size=2)
        finally:
            PROGRESS.reset(token)
        assert reached
        assert reached == sorted(reached)
        assert reached[-1] == head
    finally:
        services.close()


def test_an_unknown_read_model_is_refused_naming_the_known_ones(database: Path) -> None:
    refused = CliRunner().invoke(cli, ["projections", "rebuild", "nope"])
    assert refused.exit_code == 2
    assert "the read models are: " in refused.output
