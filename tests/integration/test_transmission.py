"""Dossiers sent to the reference sandbox over loopback, on SQLite and PostgreSQL: states, keys, faults."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from application.access.access import OPERATOR
from domain.contracts.contract_state import AT_OPCO_STATES, ContractState
from domain.opco.opco_account import KeyStatus
from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox import SandboxConfig
from tests.integration.sandbox_server import SANDBOX_OPERATOR, oauth_client, running_sandbox
from tests.integration.transmission_support import reload, round_trip, submitted, wired


@pytest.fixture
def sandbox() -> Iterator[str]:
    with running_sandbox(SandboxConfig(instruction_delay=0, decision_delay=0)) as url:
        yield url


def stats(sandbox: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{sandbox}/_sandbox/stats", headers=SANDBOX_OPERATOR).json()
    return answer


def test_submitted_to_accepted_with_the_opco_numbers_and_schedule(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox)
    try:
        contract = submitted(container, complete_cerfa, "T-1")
        assert round_trip(container) == 1
        sent = reload(container, contract)
        assert sent.state is ContractState.SENT
        assert sent.numero_externe
        assert [h["outcome"] for h in sent.transmission["history"]] == ["sent"]

        report = container.worker.sync_once()
        assert report.changes == 1
        accepted = reload(container, contract)
        assert accepted.state is ContractState.ACCEPTED
        assert accepted.opco_state == "ENGAGE"
        assert accepted.numero_deca is not None
        assert len(accepted.numero_deca) == 15
        total = sum(Decimal(e["montantTotal"]) for e in accepted.echeances)
        assert accepted.commitment is not None
        assert total == Decimal(accepted.commitment) > 0
        assert container.worker.sync_once().changes == 0  # nothing new: nothing recorded
    finally:
        container.close()


def test_a_dossier_waits_for_a_key_and_goes_once_it_is_set(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    atlas = f"{sandbox}/opcos/ATLAS"
    container = wired(database_url, sandbox, sandbox_url=None, opco_atlas_url=atlas)
    cfa = complete_cerfa["organismeFormation"]["siret"]
    try:
        contract = submitted(container, complete_cerfa, "T-2")
        assert round_trip(container) == 0
        assert reload(container, contract).state is ContractState.SUBMITTED
        assert not container.accounts.usable(cfa, Opco.ATLAS)
        assert reload(container, contract).transmission["attempts"] == 0  # waiting is not failing

        key = httpx.post(
            f"{sandbox}/_sandbox/keys", json={"opco": "ATLAS", "siret": cfa}, headers=SANDBOX_OPERATOR
        ).json()["apiKey"]
        container.accounts.set_credentials(OPERATOR, cfa, Opco.ATLAS, api_key=key)
        assert round_trip(container) == 0  # ATLAS speaks the SOR dialect: the software's OAuth client is missing
        client_id, secret = oauth_client(httpx.Client(base_url=sandbox))
        container.accounts.set_oauth_client(OPERATOR, cfa, Opco.ATLAS, client_id=client_id, client_secret=secret)
        assert round_trip(container) == 1
        assert reload(container, contract).state is ContractState.SENT
    finally:
        container.close()


def test_a_rejected_key_holds_the_dossier_without_counting_failures(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox, sandbox_url=None, opco_atlas_url=f"{sandbox}/opcos/ATLAS")
    cfa = complete_cerfa["organismeFormation"]["siret"]
    try:
        contract = submitted(container, complete_cerfa, "T-3")
        client_id, secret = oauth_client(httpx.Client(base_url=sandbox))
        container.accounts.set_credentials(
            OPERATOR, cfa, Opco.ATLAS, api_key="not-a-sandbox-key", client_id=client_id, client_secret=secret
        )
        assert round_trip(container) == 1
        held = reload(container, contract)
        assert held.state is ContractState.SUBMITTED
        assert held.transmission["failures"] == 0
        assert "rejected" in held.transmission["lastError"]
        account = container.accounts.account(cfa, Opco.ATLAS)
        assert account is not None
        assert account.key_status is KeyStatus.REJECTED
        assert round_trip(container) == 0  # not retried in a loop
    finally:
        container.close()


def test_faults_after_the_opco_stored_the_dossier_do_not_duplicate_it(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox)
    try:
        contract = submitted(container, complete_cerfa, "T-4")
        container.worker.project_once()
        container.worker.send_once()  # provisions the key; this round's send may already run
        httpx.put(
            f"{sandbox}/_sandbox/faults",
            json={"errorRate": 1.0, "afterStoreShare": 1.0, "seed": 1},
            headers=SANDBOX_OPERATOR,
        )
        rounds = 0
        while reload(container, contract).state is ContractState.SUBMITTED and rounds < 3:
            round_trip(container)
            rounds += 1
        httpx.put(f"{sandbox}/_sandbox/faults", json={"errorRate": 0.0}, headers=SANDBOX_OPERATOR)
        while reload(container, contract).state is ContractState.SUBMITTED and rounds < 10:
            time.sleep(0.06)
            round_trip(container)
            rounds += 1
        final = reload(container, contract)
        assert final.state in AT_OPCO_STATES
        assert stats(sandbox)["stored"] == {"ATLAS/T-4": 1}
        outcomes = [h["outcome"] for h in final.transmission["history"]]
        assert outcomes[-1] in {"found", "sent"}
    finally:
        container.close()


def test_the_opco_refusal_is_recorded_with_its_reason(database_url: str, complete_cerfa: dict[str, Any]) -> None:
    config = SandboxConfig(instruction_delay=0, decision_delay=0, ineligible_rncp={complete_cerfa["formation"]["rncp"]})
    with running_sandbox(config) as sandbox:
        container = wired(database_url, sandbox)
        try:
            contract = submitted(container, complete_cerfa, "T-5")
            round_trip(container)
            container.worker.sync_once()
            refused = reload(container, contract)
            assert refused.state is ContractState.REFUSED
            assert refused.opco_state == "REFUSE"
            assert refused.opco_comment
        finally:
            container.close()


def test_parked_after_repeated_failures_then_retried(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox, max_failures=2)
    try:
        contract = submitted(container, complete_cerfa, "T-6")
        httpx.put(
            f"{sandbox}/_sandbox/faults",
            json={"errorRate": 1.0, "afterStoreShare": 0.0, "seed": 2},
            headers=SANDBOX_OPERATOR,
        )
        for _ in range(6):
            round_trip(container)
            time.sleep(0.06)  # past the backoff (capped at 0.05 s here)
        parked = reload(container, contract)
        assert parked.transmission["parked"] is True
        assert parked.transmission["failures"] == 2
        assert round_trip(container) == 0  # parked: the others keep flowing, this one waits

        httpx.put(f"{sandbox}/_sandbox/faults", json={"errorRate": 0.0}, headers=SANDBOX_OPERATOR)
        container.dossiers.resume_transmission(OPERATOR, contract.id)
        round_trip(container)
        assert reload(container, contract).state in AT_OPCO_STATES
        assert stats(sandbox)["stored"] == {"ATLAS/T-6": 1}
    finally:
        container.close()


def test_faults_leave_other_dossiers_flowing(database_url: str, sandbox: str, complete_cerfa: dict[str, Any]) -> None:
    container = wired(database_url, sandbox, max_failures=50)
    try:
        contracts = [submitted(container, complete_cerfa, f"F-{n}") for n in range(20)]
        httpx.put(
            f"{sandbox}/_sandbox/faults",
            json={"errorRate": 0.2, "rateLimitRate": 0.1, "retryAfterSeconds": 0, "resetRate": 0.1, "seed": 3},
        )
        for _ in range(40):
            if all(reload(container, c).state in AT_OPCO_STATES for c in contracts):
                break
            round_trip(container)
            time.sleep(0.06)
        # those found by a lookup after a lost answer may already be further on at the OPCO
        assert all(reload(container, c).state in AT_OPCO_STATES for c in contracts)
        assert set(stats(sandbox)["stored"].values()) == {1}
        assert len(stats(sandbox)["stored"]) == 20
    finally:
        container.close()


def test_the_sync_confirms_the_key_with_its_expiry(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox)
    cfa = complete_cerfa["organismeFormation"]["siret"]
    try:
        submitted(container, complete_cerfa, "K-1")
        round_trip(container)
        account = container.accounts.account(cfa, Opco.ATLAS)
        assert account is not None
        assert account.key_status is KeyStatus.UNCHECKED
        container.worker.sync_once()
        account = container.accounts.account(cfa, Opco.ATLAS)
        assert account is not None
        assert account.key_status is KeyStatus.VALID
        assert account.key_expires_on is not None  # ATLAS speaks protocol v2: cfakeyinfo tells the expiry
    finally:
        container.close()


def test_an_oauth_opco_is_reached_with_a_token(database_url: str, sandbox: str, complete_cerfa: dict[str, Any]) -> None:
    container = wired(database_url, sandbox)
    try:
        contract = submitted(container, complete_cerfa, "O-1", opco=Opco.AKTO)
        assert contract.submitted_to == "AKTO"
        round_trip(container)
        assert reload(container, contract).state in AT_OPCO_STATES
        assert stats(sandbox)["stored"] == {"AKTO/O-1": 1}
    finally:
        container.close()
