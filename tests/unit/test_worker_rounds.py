"""The worker's rounds and tasks: the sender's rounds take the accounts in turn (each round starts after the account
the last one took from), and a worker process runs the task groups it is given."""

from __future__ import annotations

import threading

import pytest
from typer.testing import CliRunner

from application.access.access import OPERATOR
from application.opco.opco_gateway import OpcoEndpoint
from domain.opco.opcos import Opco
from infrastructure.worker import _from_next
from interfaces.bootstrap import bootstrap
from interfaces.cli import cli
from tests.support import container, settings

CFA = "79852413800012"

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


def test_the_sender_reuses_an_accounts_endpoint_until_its_credentials_change(monkeypatch: pytest.MonkeyPatch) -> None:
    services = bootstrap(settings(opco_atlas_url="http://atlas.test", opco_overrides={"ATLAS": {"oauth": False}}))
    accounts, worker = services.accounts, services.worker
    try:
        accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key="atlas-key-0001")
        reads: list[tuple[str, Opco]] = []
        read = accounts.endpoint

        def counted(cfa_siret: str, opco: Opco) -> OpcoEndpoint | None:
            reads.append((cfa_siret, opco))
            return read(cfa_siret, opco)

        monkeypatch.setattr(accounts, "endpoint", counted)

        first = worker._endpoint(CFA, "ATLAS", lambda opco: True)
        assert first is not None
        assert first.api_key == "atlas-key-0001"
        assert worker._endpoint(CFA, "ATLAS", lambda opco: True) == first
        assert len(reads) == 1  # the next round's, from what the last one read

        accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key="atlas-key-0002")
        again = worker._endpoint(CFA, "ATLAS", lambda opco: True)
        assert again is not None
        assert again.api_key == "atlas-key-0002"
        assert len(reads) == 2
    finally:
        services.close()
