"""The worker's rounds and tasks: the sender's rounds take the accounts in turn (each round starts after the account
the last one took from), and a worker process runs the task groups it is given."""

from __future__ import annotations

import threading

import pytest
from typer.testing import CliRunner

from infrastructure.worker import _from_next
from interfaces.cli import cli
from tests.support import container

ACCOUNTS = [("222", "AKTO"), ("111", "ATLAS"), ("111", "AKTO"), ("333", "OCAPIAT")]


def test_a_first_round_takes_the_accounts_in_order() -> None:
    assert _from_next(ACCOUNTS, None) == [("111", "AKTO"), ("111", "ATLAS"), ("222", "AKTO"), ("333", "OCAPIAT")]


def test_the_next_round_starts_after_the_account_the_last_one_stopped_at_and_comes_round_to_it() -> None:
    assert _from_next(ACCOUNTS, ("111", "ATLAS")) == [
        ("222", "AKTO"),
        ("333", "OCAPIAT"),
        ("111", "AKTO"),
        ("111", "ATLAS"),
    ]


def test_an_account_no_longer_due_still_marks_where_the_turn_is() -> None:
    assert _from_next(ACCOUNTS, ("222", "ZZZ")) == [
        ("333", "OCAPIAT"),
        ("111", "AKTO"),
        ("111", "ATLAS"),
        ("222", "AKTO"),
    ]
    assert _from_next([], ("222", "AKTO")) == []


def test_a_worker_started_with_some_task_groups_runs_those_tasks_only() -> None:
    services = container()
    try:
        services.worker.start(["projections", "prune"])
        running = {thread.name for thread in threading.enumerate()}
        assert {f"{name}-projection" for name in services.worker.read_models} <= running
        assert "prune" in running
        assert "sender" not in running
        assert "state-sync" not in running
    finally:
        services.close()


def test_an_unknown_task_group_is_refused_by_name() -> None:
    services = container()
    try:
        with pytest.raises(ValueError, match=r"unknown task groups \['senders'\]"):
            services.worker.start(["senders"])
    finally:
        services.close()


def test_the_command_line_refuses_an_unknown_task_group() -> None:
    result = CliRunner().invoke(cli, ["worker", "--only", "senders"])
    assert result.exit_code == 2
    assert "unknown task groups ['senders']" in result.output
