"""The operator at the command line is an actor: what a `convergence` command stores names them (user@host); outside
a command, nothing is attributed to them."""

from __future__ import annotations

import getpass
import json
import socket
from pathlib import Path
from uuid import UUID

from typer.testing import CliRunner

from application.audit.actor import current_actor
from application.audit.recording import ACTOR_KEY, ActorMapper
from interfaces.cli import cli
from tests.support import dossiers


def test_a_token_issued_at_the_command_line_is_the_operators_doing(database: Path) -> None:
    result = CliRunner().invoke(cli, ["tokens", "create", "--cfa-siret", "79852413800012", "--name", "ypareo"])
    assert result.exit_code == 0, result.output
    token_id = UUID(json.loads(result.output)["id"])
    assert current_actor() is None  # the command's actor ended with it

    app = dossiers(f"sqlite:///{database}")
    (stored,) = app.recorder.select_events(token_id)
    assert isinstance(app.mapper, ActorMapper)
    event, actor = app.mapper.with_actor(stored)
    assert actor == {"kind": "operator", "name": f"{getpass.getuser()}@{socket.gethostname()}"}
    assert ACTOR_KEY not in vars(event)
