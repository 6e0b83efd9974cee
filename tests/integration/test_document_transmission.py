"""Documents sent to the reference sandbox over loopback, on SQLite and PostgreSQL, through its faults: a convention
reaches the OPCO once; a 5xx is retried; a lost answer parks the document, which is never sent again by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from application.access.access import Principal, Role
from application.opco.opco_documents import DocumentUpload
from domain.contracts.contract import Contract
from domain.contracts.contract_state import ContractState
from domain.opco.opco_documents.document import DocumentState, OpcoDocument
from domain.opco.opco_documents.kinds import DocumentKind
from infrastructure.opco.opco_sandbox import SandboxConfig
from interfaces.bootstrap import Container
from tests.integration.sandbox_server import SANDBOX_OPERATOR, running_sandbox
from tests.integration.transmission_support import reload, round_trip, submitted, wired

INSTANT = SandboxConfig(instruction_delay=0, decision_delay=0)
PDF = b"%PDF-1.4\n% convention de formation, signee\n%%EOF\n"
NO_FAULTS = {"errorRate": 0.0, "rateLimitRate": 0.0, "timeoutRate": 0.0, "resetRate": 0.0}


@pytest.fixture
def sandbox() -> Iterator[str]:
    with running_sandbox(INSTANT) as url:
        yield url


def who(contract: Contract) -> Principal:
    return Principal(actor="token:test", role=Role.FRONTEND, cfa_siret=contract.cfa_siret)


def at_the_opco(container: Container, cerfa: dict[str, Any], numero: str) -> Contract:
    contract = submitted(container, cerfa, numero)
    round_trip(container)
    container.worker.sync_once()
    found = reload(container, contract)
    assert found.state in (ContractState.SENT, ContractState.IN_REVIEW, ContractState.ACCEPTED), found.opco_comment
    return found


def keep(
    container: Container, contract: Contract, kind: DocumentKind = DocumentKind.CONVENTION_FORMATION
) -> OpcoDocument:
    upload = DocumentUpload(kind, PDF, "convention.pdf", numero_echeance=1 if kind.name.startswith("CERT") else None)
    return container.contract_documents.keep(who(contract), contract.id, upload).document


def document(container: Container, kept: OpcoDocument) -> OpcoDocument:
    return container.contract_documents.document_as_worker(kept.id)


def received(sandbox: str) -> list[dict[str, Any]]:
    answer: list[dict[str, Any]] = httpx.get(f"{sandbox}/_sandbox/documents", headers=SANDBOX_OPERATOR).json()
    return answer


def faults(sandbox: str, **rates: float) -> None:
    changes = {**NO_FAULTS, "afterStoreShare": 1.0, "seed": 3, **rates}
    httpx.put(f"{sandbox}/_sandbox/faults", json=changes, headers=SANDBOX_OPERATOR).raise_for_status()


def rounds(container: Container, count: int = 3) -> None:
    for _ in range(count):
        time.sleep(0.06)  # past the backoff (at most 0.05 s here)
        round_trip(container)


def test_a_convention_reaches_the_opco_once(database_url: str, sandbox: str, complete_cerfa: dict[str, Any]) -> None:
    container = wired(database_url, sandbox)
    try:
        contract = at_the_opco(container, complete_cerfa, "DOC-1")
        kept = keep(container, contract)
        rounds(container)
        sent = document(container, kept)
        assert sent.state is DocumentState.SENT, sent.transmission
        [item] = received(sandbox)
        assert (item["route"], item["receipts"], item["opco"]) == ("conventions", 1, contract.submitted_to)
        assert item["payload"]["numeroInterneDossier"] == contract.opco_reference
        assert sent.opco_answer == {"numeroInterneDocument": item["identifiant"]}
    finally:
        container.close()


def test_a_5xx_is_retried_and_the_document_arrives_once(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox)
    try:
        contract = at_the_opco(container, complete_cerfa, "DOC-2")
        kept = keep(container, contract)
        container.worker.project_once()
        faults(sandbox, errorRate=1.0)
        round_trip(container)
        failed = document(container, kept)
        assert (failed.state, failed.answer_lost) == (DocumentState.SUBMITTED, False)
        assert failed.transmission["failures"] == 1
        faults(sandbox)
        rounds(container)
        assert document(container, kept).state is DocumentState.SENT
        assert [item["receipts"] for item in received(sandbox)] == [1]
    finally:
        container.close()


def test_a_lost_answer_parks_the_document_never_sent_twice(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    """The connection drops after the sandbox stored it: parked; a person finds it there and marks it received."""
    container = wired(database_url, sandbox)
    try:
        contract = at_the_opco(container, complete_cerfa, "DOC-3")
        kept = keep(container, contract)
        container.worker.project_once()
        faults(sandbox, resetRate=1.0)
        round_trip(container)
        faults(sandbox)
        rounds(container, 4)
        parked = document(container, kept)
        assert parked.transmission["parked"], parked.transmission
        assert "Check at the OPCO" in parked.transmission["parkedReason"]
        assert [item["receipts"] for item in received(sandbox)] == [1]
        confirmed = container.contract_documents.confirm_received(who(contract), contract.id, kept.id).document
        assert confirmed.state is DocumentState.SENT
        rounds(container)
        assert [item["receipts"] for item in received(sandbox)] == [1]
    finally:
        container.close()


def test_a_lost_request_parks_the_document_and_a_person_resumes_it(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    """The connection drops before the sandbox stored it: parked all the same (nobody can tell); resumed, it goes."""
    container = wired(database_url, sandbox)
    try:
        contract = at_the_opco(container, complete_cerfa, "DOC-4")
        kept = keep(container, contract)
        container.worker.project_once()
        faults(sandbox, resetRate=1.0, afterStoreShare=0.0)
        round_trip(container)
        faults(sandbox)
        rounds(container)
        assert document(container, kept).transmission["parked"]
        assert received(sandbox) == []
        container.contract_documents.resume(who(contract), contract.id, kept.id)
        rounds(container)
        assert document(container, kept).state is DocumentState.SENT
        assert [item["receipts"] for item in received(sandbox)] == [1]
    finally:
        container.close()


def test_a_document_kept_before_the_contract_is_at_its_opco_goes_once_it_is(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox)
    try:
        contract = submitted(container, complete_cerfa, "DOC-5")
        kept = keep(container, contract)
        assert kept.state is DocumentState.WAITING
        assert "submitted" in str(kept.waiting_reason)
        rounds(container)  # the contract is sent; its Sent releases the document, which is sent in turn
        rounds(container)
        sent = document(container, kept)
        assert sent.state is DocumentState.SENT, (sent.state, sent.waiting_reason, sent.transmission)
        assert [item["receipts"] for item in received(sandbox)] == [1]
    finally:
        container.close()
