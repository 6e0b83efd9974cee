"""Ruptures sent to the reference sandbox over loopback, on SQLite and PostgreSQL: each reaches the OPCO exactly
once through its faults, the dossier reads RUPTU there, and the state sync terminates the contract."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from application.access.access import Principal, Role
from domain.contracts.contract import Contract
from domain.contracts.contract_state import ContractState
from domain.ruptures.rupture import RuptureRequest
from domain.ruptures.termination import Termination, TerminationState
from infrastructure.opco.opco_sandbox import SandboxConfig
from interfaces.bootstrap import Container
from tests.integration.sandbox_server import SANDBOX_OPERATOR, running_sandbox
from tests.integration.transmission_support import reload, round_trip, submitted, wired

RUPTURE = RuptureRequest(date(2026, 11, 20), "commun_accord", "commun", date(2026, 11, 21), "accord écrit")


@pytest.fixture
def sandbox() -> Iterator[str]:
    with running_sandbox(SandboxConfig(instruction_delay=0, decision_delay=0)) as url:
        yield url


def received(sandbox: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{sandbox}/_sandbox/ruptures", headers=SANDBOX_OPERATOR).json()
    return answer


def faults(sandbox: str, **values: Any) -> None:
    httpx.put(f"{sandbox}/_sandbox/faults", json=values, headers=SANDBOX_OPERATOR).raise_for_status()


def accepted(container: Container, cerfa: dict[str, Any], numero: str) -> Contract:
    contract = submitted(container, cerfa, numero)
    round_trip(container)
    container.worker.sync_once()
    accepted = reload(container, contract)
    assert accepted.state is ContractState.ACCEPTED
    return accepted


def terminated(container: Container, contract: Contract) -> Termination:
    who = Principal(actor="token:test", role=Role.FRONTEND, cfa_siret=contract.cfa_siret)
    saved = container.terminations.declare(who, contract.id, RUPTURE)
    termination = container.terminations.of_contract(saved.contract)
    assert termination is not None
    return termination


def current(container: Container, termination: Termination) -> Termination:
    return container.terminations.termination_as_worker(termination.id)


def test_a_rupture_reaches_the_opco_once_and_the_contract_ends_terminated(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox)
    try:
        contract = accepted(container, complete_cerfa, "R-1")
        termination = terminated(container, contract)
        assert round_trip(container) == 1
        sent = current(container, termination)
        assert (sent.state, sent.opco_state) == (TerminationState.SENT, "RUPTU")
        assert round_trip(container) == 0  # sent: never again

        [rupture] = received(sandbox)["ruptures"]
        assert rupture["numeroInterne"] == "R-1"
        assert rupture["body"]["numeroExterne"] == contract.numero_externe
        assert rupture["body"]["numeroDeca"] == contract.numero_deca
        assert rupture["body"]["codeMotifRupture"] == "ACCORD_PARTIES"
        assert rupture["body"]["dateEffetRupture"].startswith("2026-11-20T00:00:00")

        assert container.worker.sync_once().changes == 1
        ended = reload(container, contract)
        assert (ended.state, ended.opco_state) == (ContractState.TERMINATED, "RUPTU")
    finally:
        container.close()


def test_a_lost_answer_is_found_by_the_dossiers_state_not_sent_again(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox)
    try:
        termination = terminated(container, accepted(container, complete_cerfa, "R-2"))
        faults(sandbox, errorRate=1.0, afterStoreShare=1.0, seed=4)  # stored, then a 5xx
        round_trip(container)
        lost = current(container, termination)
        assert lost.state is TerminationState.SUBMITTED
        assert lost.answer_lost
        faults(sandbox, errorRate=0.0)
        for _ in range(10):
            if current(container, termination).state is not TerminationState.SUBMITTED:
                break
            time.sleep(0.06)  # past the backoff
            round_trip(container)
        found = current(container, termination)
        assert found.state is TerminationState.SENT
        assert found.transmission["history"][-1]["outcome"] == "found"
        assert (received(sandbox)["posts"], len(received(sandbox)["ruptures"])) == (1, 1)
    finally:
        container.close()


def test_faults_before_the_opco_only_delay_the_rupture(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox, max_failures=50)
    try:
        termination = terminated(container, accepted(container, complete_cerfa, "R-3"))
        faults(sandbox, errorRate=0.3, rateLimitRate=0.2, retryAfterSeconds=0, afterStoreShare=0.0, seed=5)
        for _ in range(40):
            if current(container, termination).state is not TerminationState.SUBMITTED:
                break
            round_trip(container)
            time.sleep(0.06)
        assert current(container, termination).state is TerminationState.SENT
        assert len(received(sandbox)["ruptures"]) == 1
        assert received(sandbox)["posts"] == 1  # only the call that reached the OPCO counts: it was the only one
    finally:
        container.close()
