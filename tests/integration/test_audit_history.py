"""The audit history on SQLite and PostgreSQL: the actors stored with each event (a person at a front-end, the
worker), the digests of what was sent to the sandbox and of its answer, and the dossier replayed at any version."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from application.access.access import Principal, Role
from application.audit.actor import Actor, acting
from application.audit.history import History
from application.audit.recording import ACTOR_KEY
from domain.contracts.contract_state import ContractState
from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox import SandboxConfig
from infrastructure.opco.opco_wire import dossier_body, encode, wire_variant
from tests.integration.sandbox_server import SANDBOX_OPERATOR, running_sandbox
from tests.integration.transmission_support import reload, round_trip, submitted, wired

PERSON = Actor(kind="token", name="front", person="jdupont", token_id="t-1", cfa_siret="79852413800012")


@pytest.fixture
def sandbox() -> Iterator[str]:
    with running_sandbox(SandboxConfig(instruction_delay=0, decision_delay=0)) as url:
        yield url


def test_each_event_keeps_its_actor_and_each_sending_its_digests(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox)
    try:
        with acting(PERSON):
            contract = submitted(container, complete_cerfa, "A-1")
        assert round_trip(container) == 1
        sent = reload(container, contract)
        assert sent.state is ContractState.SENT

        auditor = Principal(actor="token:a", role=Role.AUDITOR, cfa_siret=complete_cerfa["organismeFormation"]["siret"])
        history = History(container.dossiers, container.invoices).of_contract(auditor, contract.id)
        kinds = [(e["type"], e["actor"]["kind"]) for e in history]
        assert kinds == [
            ("Drafted", "token"),
            ("MandateRecorded", "token"),
            ("SubmissionRequested", "token"),
            ("TransmissionStarted", "worker"),
            ("Sent", "worker"),
        ]
        assert {e["actor"].get("person") for e in history[:3]} == {"jdupont"}
        assert history[-1]["actor"]["name"] == container.worker.actor.name

        assert sent.submitted_to is not None
        body = encode(dossier_body(sent.numero_interne, sent.cerfa_model, wire_variant(Opco(sent.submitted_to))))
        answer = history[-1]["transmission"]
        assert answer["sent_sha256"] == hashlib.sha256(body).hexdigest()  # the very bytes the OPCO received
        assert len(answer["answer_sha256"]) == 64
        assert answer["numero_externe"] == sent.numero_externe
    finally:
        container.close()


def test_the_actor_is_in_the_stored_state_and_not_in_the_domain_event(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox)
    try:
        with acting(PERSON):
            contract = submitted(container, complete_cerfa, "A-2")
        app = container.dossiers
        stored = app.recorder.select_events(contract.id)
        assert len(stored) == 3
        for record in stored:
            event = app.mapper.to_domain_event(record)
            assert ACTOR_KEY not in vars(event)
            if app.mapper.cipher is None and app.mapper.compressor is None:
                assert json.loads(record.state)[ACTOR_KEY]["person"] == "jdupont"
        assert app.repository.get(contract.id).version == 3
    finally:
        container.close()


def test_every_version_replays_as_it_was(database_url: str, sandbox: str, complete_cerfa: dict[str, Any]) -> None:
    container = wired(database_url, sandbox)
    try:
        contract = submitted(container, complete_cerfa, "A-3")
        round_trip(container)
        who = Principal(actor="token:x", role=Role.FRONTEND, cfa_siret=contract.cfa_siret)
        history = History(container.dossiers, container.invoices)
        states = [history.contract_at(who, contract.id, version=v).state.value for v in range(1, 6)]
        assert states == ["drafted", "mandate_checked", "submitted", "submitted", "sent"]
        entries = history.of_contract(who, contract.id)
        at_third = history.contract_at(who, contract.id, at=entries[2]["at"])
        assert at_third.version == 3
    finally:
        container.close()


def test_a_failed_attempt_keeps_the_digest_of_what_it_sent(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox)
    try:
        contract = submitted(container, complete_cerfa, "A-4")
        faults = {"errorRate": 1.0, "afterStoreShare": 0.0, "seed": 2}
        httpx.put(f"{sandbox}/_sandbox/faults", json=faults, headers=SANDBOX_OPERATOR)
        round_trip(container)
        who = Principal(actor="token:x", role=Role.FRONTEND, cfa_siret=contract.cfa_siret)
        failed = History(container.dossiers).of_contract(who, contract.id)[-1]
        assert failed["type"] == "TransmissionFailed"
        assert contract.submitted_to is not None
        body = encode(
            dossier_body(contract.numero_interne, contract.cerfa_model, wire_variant(Opco(contract.submitted_to)))
        )
        assert failed["transmission"]["sent_sha256"] == hashlib.sha256(body).hexdigest()
        assert failed["transmission"]["error"]
    finally:
        container.close()
