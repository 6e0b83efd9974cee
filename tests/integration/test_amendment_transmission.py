"""Avenants sent to the reference sandbox over loopback, on SQLite and PostgreSQL: each reaches the OPCO exactly once
through its faults (a lost answer is found by the lookup, never sent again), the sandbox answers with a new dossier
that keeps the contract's DECA number and gives its noAvenant, and the avenants' state sync makes it accepted."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from application.access.access import OPERATOR, Principal, Role
from domain.amendments.amendment import Amendment, AmendmentState, AnswerShape
from domain.amendments.amendment_types import AmendmentRequest
from domain.contracts.contract import Contract
from domain.contracts.contract_state import ContractState
from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox import SandboxConfig
from interfaces.bootstrap import Container
from tests.integration.sandbox_server import SANDBOX_OPERATOR, running_sandbox
from tests.integration.transmission_support import reload, round_trip, submitted, wired

NEW_MASTER = {"maitre1": {"nom": "Bernard", "prenom": "Luc"}}
MANDATE = (date(2026, 10, 1), {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"})


@pytest.fixture
def sandbox() -> Iterator[str]:
    with running_sandbox(SandboxConfig(instruction_delay=0, decision_delay=0)) as url:
        yield url


def faults(sandbox: str, **values: Any) -> None:
    httpx.put(f"{sandbox}/_sandbox/faults", json=values, headers=SANDBOX_OPERATOR).raise_for_status()


def posts(sandbox: str, numero: str) -> int:
    stats = httpx.get(f"{sandbox}/_sandbox/stats", headers=SANDBOX_OPERATOR).json()
    return int(stats["stored"].get(f"ATLAS/{numero}", 0))


def accepted(container: Container, cerfa: dict[str, Any], numero: str) -> Contract:
    contract = submitted(container, cerfa, numero)
    round_trip(container)
    container.worker.sync_once()
    done = reload(container, contract)
    assert done.state is ContractState.ACCEPTED
    return done


def amended(container: Container, contract: Contract) -> Amendment:
    who = Principal(actor="token:test", role=Role.FRONTEND, cfa_siret=contract.cfa_siret)
    request = AmendmentRequest(36, date(2027, 1, 4), NEW_MASTER)
    _, amendment = container.amendments.request(who, contract.id, request, MANDATE)
    assert amendment.state is AmendmentState.DRAFTED
    return container.amendments.submit(who, contract.id, amendment.number)


def current(container: Container, amendment: Amendment) -> Amendment:
    return container.amendments.amendment_as_worker(amendment.id)


def test_an_avenant_reaches_the_opco_once_as_a_new_dossier_and_is_accepted(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox)
    try:
        contract = accepted(container, complete_cerfa, "AV-1")
        amendment = amended(container, contract)
        assert amendment.state is AmendmentState.SUBMITTED
        assert round_trip(container) == 1
        sent = current(container, amendment)
        assert sent.state is AmendmentState.SENT
        assert sent.answer_shape is AnswerShape.NEW_DOSSIER
        assert sent.numero_externe not in (None, contract.numero_externe)
        assert round_trip(container) == 0  # sent: never again
        assert posts(sandbox, "AV-1-AV1") == 1
        [sent_event] = [
            e for e in container.dossiers.repository.event_store.get(amendment.id) if type(e).__name__ == "Sent"
        ]
        digests = (vars(sent_event)["sent_sha256"], vars(sent_event)["answer_sha256"])
        assert [len(d or "") for d in digests] == [64, 64]  # what went, what came

        container.worker.sync_once()
        done = current(container, amendment)
        assert done.state is AmendmentState.ACCEPTED
        assert (done.numero_deca, done.no_avenant) == (contract.numero_deca, "1")
        assert done.in_effect_on == date(2027, 1, 4)
        before = container.amendments.as_of(reload(container, contract), date(2027, 1, 3))["cerfa"]
        after = container.amendments.as_of(reload(container, contract), date(2027, 1, 4))["cerfa"]
        assert before["maitre1"]["nom"] != "Bernard"
        assert after["maitre1"]["nom"] == "Bernard"
        assert after["contrat"]["typeContratApp"] == 11  # the contract's own, not the avenant's
    finally:
        container.close()


def test_a_lost_answer_is_found_by_the_lookup_not_sent_again(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox)
    try:
        amendment = amended(container, accepted(container, complete_cerfa, "AV-2"))
        faults(sandbox, errorRate=1.0, afterStoreShare=1.0, seed=4)  # stored, then a 5xx
        round_trip(container)
        assert current(container, amendment).state is AmendmentState.SUBMITTED
        faults(sandbox, errorRate=0.0)
        for _ in range(10):
            if current(container, amendment).state is not AmendmentState.SUBMITTED:
                break
            time.sleep(0.06)  # past the backoff
            round_trip(container)
        found = current(container, amendment)
        assert found.state in (AmendmentState.SENT, AmendmentState.ACCEPTED)  # the lookup reads its etat too
        assert found.transmission["history"][-1]["outcome"] == "found"
        assert posts(sandbox, "AV-2-AV1") == 1
    finally:
        container.close()


def test_faults_before_the_opco_only_delay_the_avenant(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox, max_failures=50)
    try:
        amendment = amended(container, accepted(container, complete_cerfa, "AV-3"))
        faults(sandbox, errorRate=0.3, rateLimitRate=0.2, retryAfterSeconds=0, afterStoreShare=0.0, seed=5)
        for _ in range(40):
            if current(container, amendment).state is not AmendmentState.SUBMITTED:
                break
            round_trip(container)
            time.sleep(0.06)
        assert current(container, amendment).state in (AmendmentState.SENT, AmendmentState.ACCEPTED)
        assert posts(sandbox, "AV-3-AV1") == 1
        faults(sandbox, errorRate=0.0, rateLimitRate=0.0)
        container.worker.sync_once()
        assert current(container, amendment).state is AmendmentState.ACCEPTED
    finally:
        container.close()


def test_an_import_does_not_take_an_avenants_dossier_for_a_contract(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox)
    try:
        contract = accepted(container, complete_cerfa, "AV-4")
        amendment = amended(container, contract)
        round_trip(container)
        assert current(container, amendment).state is not AmendmentState.SUBMITTED
        started = container.importer.start(OPERATOR, contract.cfa_siret, Opco.ATLAS, dry_run=False)
        report = container.importer.execute(started, OPERATOR.actor)
        assert report["counts"] == {"created": 0, "matched": 1, "conflicts": 1}
        assert report["conflicts"][0]["reason"] == "avenant"
    finally:
        container.close()
