"""The Sender on the in-memory store against a fake OPCO: exactly one dossier at the OPCO, whatever happens."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from application.access.access import OPERATOR, WORKER, Role
from application.dossiers import Dossiers
from application.opco.opco_accounts import OpcoAccounts
from application.opco.opco_gateway import (
    Echeance,
    KeyRejected,
    OpcoEndpoint,
    RefusedByOpco,
    SentDossier,
    TransientOpcoError,
)
from application.opco.sender import Sender, SenderPolicy
from application.opco.transmissions import QueuedTransmission
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import Contract
from domain.contracts.contract_state import ContractState
from domain.opco.opco_account import KeyStatus
from domain.opco.opco_auth import AuthFlavour
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from tests.support import dossiers, principal
from tests.unit.fakes import FIND, SEND, AnswerLost, FakeGateway, MemoryContactLog, MovableClock, PlainBox, opco_dossier

CFA = "79852413800012"  # the CFA of docs/examples/cerfa-complete.json, whose employer goes to ATLAS
API_KEY = "atlas-key-0001-ZYX"
NUMERO = "S-1"
SIGNATORY = {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}
POLICY = SenderPolicy(
    max_failures=3,
    backoff_base=timedelta(seconds=2),
    backoff_cap=timedelta(minutes=1),
    in_flight_timeout=timedelta(minutes=2),
)
LATER = timedelta(minutes=5)  # past any retry of POLICY


@dataclass
class Rig:
    app: Dossiers
    accounts: OpcoAccounts
    contacts: MemoryContactLog
    gateway: FakeGateway
    clock: MovableClock
    sender: Sender

    def endpoint(self) -> OpcoEndpoint:
        endpoint = self.accounts.endpoint(CFA, Opco.ATLAS)
        assert endpoint is not None
        return endpoint

    def send(self, contract: Contract, endpoint: OpcoEndpoint | None = None) -> Contract:
        """What the worker does for a due row: one call of the sender, then the dossier as it is now."""
        item = QueuedTransmission(contract.id, CFA, Opco.ATLAS.value, contract.numero_interne, self.clock.now())
        self.sender.send(item, endpoint or self.endpoint())
        return self.reload(contract)

    def reload(self, contract: Contract) -> Contract:
        return self.app.contract_as_worker(contract.id)

    def last_error(self) -> str | None:
        contact = self.contacts.get(CFA, Opco.ATLAS.value)
        assert contact is not None
        return contact.last_error


@pytest.fixture
def rig() -> Iterator[Rig]:
    app = dossiers()
    contacts = MemoryContactLog()
    profiles = {  # key only: the sending is under test here, not the OPCOs' authentication dialects
        opco: replace(profile, base_url="http://opco.test", auth=AuthFlavour.KEY_ONLY)
        for opco, profile in CATALOGUE.items()
    }
    accounts = OpcoAccounts(app, PlainBox(), profiles, contacts)
    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key=API_KEY)
    gateway = FakeGateway()
    clock = MovableClock()
    yield Rig(app, accounts, contacts, gateway, clock, Sender.for_contracts(app, accounts, gateway, clock, POLICY))
    # whatever a test did, the OPCO never holds two dossiers for one numeroInterne
    assert all(gateway.created(numero) <= 1 for _, numero in gateway.dossiers)
    app.close()


def drafted(rig: Rig, cerfa: dict[str, Any], numero: str = NUMERO) -> Contract:
    return rig.app.create_contract(principal(CFA), cerfa=parse_cerfa(cerfa), numero_interne=numero, opco=None).contract


def submitted(rig: Rig, cerfa: dict[str, Any], numero: str = NUMERO) -> Contract:
    who = principal(CFA)
    ident = drafted(rig, cerfa, numero).id
    rig.app.record_mandate(who, ident, signed_on=date(2026, 6, 15), signatory=SIGNATORY, document_sha256=None)
    contract = rig.app.submit(who, ident).contract
    assert contract.submitted_to == Opco.ATLAS.value
    return contract


def outcomes(contract: Contract) -> list[tuple[int, str | None]]:
    return [(h["attempt"], h["outcome"]) for h in contract.transmission["history"]]


def next_attempt(contract: Contract) -> datetime:
    moment = contract.transmission["nextAttemptAt"]
    assert isinstance(moment, datetime)
    return moment


# -- the first sending --------------------------------------------------------------------------------------


def test_a_first_sending_is_one_post_and_the_dossier_is_sent(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    contract = submitted(rig, complete_cerfa)
    sent = rig.send(contract)
    assert rig.gateway.methods() == [SEND]  # no lookup before a first attempt
    [post] = rig.gateway.calls
    assert post.api_key == API_KEY  # the sealed key, opened for the call
    assert post.numero_interne == NUMERO
    assert post.cerfa == contract.cerfa_model  # the gateway translates it to the OPCO's wire
    assert sent.state is ContractState.SENT
    assert sent.numero_externe == rig.gateway.dossiers[(Opco.ATLAS, NUMERO)].numero_externe
    assert sent.numero_externe is not None
    assert sent.opco_numero_interne == NUMERO  # as the OPCO answered
    assert sent.opco_state == "TRANSMIS"
    assert outcomes(sent) == [(1, "sent")]
    assert [e.actor for e in rig.app.repository.event_store.get(contract.id)][-2:] == [WORKER.actor] * 2  # type: ignore[attr-defined]
    assert rig.last_error() is None
    assert rig.gateway.created(NUMERO) == 1


def test_the_numero_interne_the_opco_answers_with_is_kept(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    rig.gateway.script(SEND, SentDossier(numero_externe="CA-0150926-1", etat=None, numero_interne="NI-42"))

    sent = rig.send(submitted(rig, complete_cerfa))

    assert (sent.state, sent.numero_externe, sent.opco_numero_interne) == (ContractState.SENT, "CA-0150926-1", "NI-42")
    assert (sent.numero_interne, sent.opco_reference) == (NUMERO, "NI-42")


def test_a_sent_refused_or_cancelled_dossier_is_never_posted(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    sent = rig.send(submitted(rig, complete_cerfa))
    rig.clock.advance(LATER)
    assert rig.send(sent).version == sent.version
    assert rig.gateway.posts(NUMERO) == 1

    cancelled = drafted(rig, complete_cerfa, "S-2")
    rig.app.cancel(principal(CFA), cancelled.id, "doublon")
    assert rig.send(cancelled).state is ContractState.CANCELLED

    rig.gateway.script(SEND, RefusedByOpco(422, ["rncp invalide"]))
    refused = rig.send(submitted(rig, complete_cerfa, "S-3"))
    assert refused.state is ContractState.REFUSED
    rig.clock.advance(LATER)
    rig.send(refused)
    assert [(c.method, c.numero_interne) for c in rig.gateway.calls] == [
        (SEND, NUMERO),
        (SEND, "S-3"),
        (FIND, "S-3"),  # the refusal's double check
    ]


# -- transient failures -------------------------------------------------------------------------------------


def test_a_lost_answer_is_looked_up_and_not_posted_again(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    contract = submitted(rig, complete_cerfa)
    rig.gateway.script(SEND, AnswerLost(TransientOpcoError("read timeout", may_have_reached=True)))
    failed = rig.send(contract)
    now = rig.clock.now()
    assert failed.state is ContractState.SUBMITTED
    assert failed.transmission["failures"] == 1
    assert failed.transmission["lastError"] == "read timeout"
    assert now + timedelta(seconds=1) <= next_attempt(failed) <= now + timedelta(seconds=3)  # 2 s, jittered
    assert outcomes(failed) == [(1, "failed")]
    assert rig.last_error() == "read timeout"

    rig.clock.advance(LATER)
    found = rig.send(failed)
    assert rig.gateway.methods() == [SEND, FIND]
    assert rig.gateway.posts(NUMERO) == 1
    assert found.state is ContractState.SENT
    assert found.numero_externe == rig.gateway.dossiers[(Opco.ATLAS, NUMERO)].numero_externe
    assert outcomes(found) == [(1, "failed"), (1, "found")]
    assert found.transmission["failures"] == 1  # kept for the record; no new attempt was started


def test_retry_after_is_honoured(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    rig.gateway.script(SEND, TransientOpcoError("429 too many requests", retry_after=120))
    failed = rig.send(submitted(rig, complete_cerfa))
    assert next_attempt(failed) == rig.clock.now() + timedelta(seconds=120)


def test_the_backoff_doubles_up_to_its_cap() -> None:
    policy = SenderPolicy(backoff_base=timedelta(seconds=2), backoff_cap=timedelta(seconds=30))
    now = datetime(2026, 11, 27, 12, 0)
    rng = random.Random(7)
    for failures, delay in [(1, 2), (2, 4), (3, 8), (4, 16), (5, 30), (9, 30)]:
        for _ in range(20):
            retry = policy.retry_at(now, failures, None, rng) - now
            assert timedelta(seconds=delay * 0.5) <= retry <= timedelta(seconds=delay * 1.5), failures


def test_not_found_after_a_failure_is_posted_again(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    contract = submitted(rig, complete_cerfa)
    rig.gateway.script(SEND, TransientOpcoError("connection reset", may_have_reached=True))  # never arrived
    failed = rig.send(contract)
    rig.clock.advance(LATER)
    sent = rig.send(failed)
    assert rig.gateway.methods() == [SEND, FIND, SEND]
    assert rig.gateway.posts(NUMERO) == 2
    assert rig.gateway.created(NUMERO) == 1
    assert sent.state is ContractState.SENT
    assert outcomes(sent) == [(1, "failed"), (2, "sent")]


def test_a_failed_lookup_is_a_failure_and_nothing_is_posted(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    rig.gateway.script(SEND, AnswerLost(TransientOpcoError("502", may_have_reached=True)))
    failed = rig.send(submitted(rig, complete_cerfa))
    rig.clock.advance(LATER)
    rig.gateway.script(FIND, TransientOpcoError("lookup timed out"))
    again = rig.send(failed)
    assert rig.gateway.methods() == [SEND, FIND]
    assert again.state is ContractState.SUBMITTED
    assert again.transmission["failures"] == 2
    assert again.transmission["lastError"] == "lookup timed out"


# -- refusals -----------------------------------------------------------------------------------------------


def test_a_refusal_of_a_dossier_the_opco_has_is_recorded_as_sent(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    contract = submitted(rig, complete_cerfa)
    rig.gateway.put(Opco.ATLAS, opco_dossier(NUMERO, "EN_COURS_INSTRUCTION", numero_externe="ATLAS-EARLIER"))
    rig.gateway.script(SEND, RefusedByOpco(409, ["numeroInterne déjà utilisé"]))
    found = rig.send(contract)
    assert rig.gateway.methods() == [SEND, FIND]
    assert found.state is ContractState.IN_REVIEW
    assert (found.numero_externe, found.opco_state) == ("ATLAS-EARLIER", "EN_COURS_INSTRUCTION")
    assert outcomes(found) == [(1, "found")]
    assert rig.gateway.created(NUMERO) == 0


def test_a_dossier_found_accepted_keeps_the_commitment(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    echeance = Echeance(1, "E1", Decimal("3000.50"), Decimal("0"), Decimal("3000.50"), None, date(2026, 9, 1), None)
    rig.gateway.put(Opco.ATLAS, opco_dossier(NUMERO, "ENGAGE", engagement=Decimal("3000.50"), echeances=[echeance]))
    rig.gateway.script(SEND, RefusedByOpco(409, ["doublon"]))
    accepted = rig.send(submitted(rig, complete_cerfa))
    assert accepted.state is ContractState.ACCEPTED
    assert accepted.commitment == "3000.50"
    assert accepted.echeances == [echeance.as_record()]
    assert accepted.echeances[0]["montantTotal"] == "3000.50"


def test_a_refusal_not_found_at_the_opco_is_a_refusal(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    rig.gateway.script(SEND, RefusedByOpco(422, ["siret employeur inconnu", "rncp invalide"]))
    refused = rig.send(submitted(rig, complete_cerfa))
    assert rig.gateway.methods() == [SEND, FIND]
    assert refused.state is ContractState.REFUSED
    assert refused.opco_comment == "siret employeur inconnu; rncp invalide"
    assert outcomes(refused) == [(1, "refused")]
    assert refused.transmission["failures"] == 0


# -- the CFA's key ------------------------------------------------------------------------------------------


def test_a_rejected_key_marks_the_account_and_the_dossier_waits(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    contract = submitted(rig, complete_cerfa)
    rig.gateway.script(SEND, KeyRejected("403: clé API expirée"))
    waiting = rig.send(contract)
    account = rig.accounts.account(CFA, Opco.ATLAS)
    assert account is not None
    assert (account.key_status, account.key_comment) == (KeyStatus.REJECTED, "403: clé API expirée")
    assert rig.accounts.endpoint(CFA, Opco.ATLAS) is None
    assert waiting.state is ContractState.SUBMITTED
    assert waiting.transmission["failures"] == 0
    assert waiting.transmission["parked"] is False
    assert waiting.transmission["lastError"] == "API key rejected: 403: clé API expirée"
    assert rig.last_error() == "403: clé API expirée"

    rig.accounts.set_credentials(principal(CFA, Role.ADMIN), CFA, Opco.ATLAS, api_key="atlas-key-0002-NEW")
    sent = rig.send(waiting)
    assert rig.gateway.methods() == [SEND, FIND, SEND]
    assert rig.gateway.calls[-1].api_key == "atlas-key-0002-NEW"
    assert sent.state is ContractState.SENT


def test_a_rejected_key_on_the_double_check_of_a_refusal_marks_the_account(
    rig: Rig, complete_cerfa: dict[str, Any]
) -> None:
    rig.gateway.script(SEND, RefusedByOpco(409, ["doublon"]))
    rig.gateway.script(FIND, KeyRejected("403: clé révoquée"))
    waiting = rig.send(submitted(rig, complete_cerfa))
    assert waiting.state is ContractState.SUBMITTED
    assert rig.accounts.endpoint(CFA, Opco.ATLAS) is None
    assert waiting.transmission["failures"] == 0


# -- parking ------------------------------------------------------------------------------------------------


def test_parked_after_max_failures_then_resumed_by_the_cfa(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    contract = submitted(rig, complete_cerfa)
    rig.gateway.script(SEND, *(TransientOpcoError(f"connection refused #{n}") for n in (1, 2, 3)))
    for _ in range(POLICY.max_failures):
        contract = rig.send(contract)
        rig.clock.advance(LATER)
    assert contract.transmission["parked"] is True
    assert contract.transmission["failures"] == 3
    assert contract.transmission["lastError"] == "parked after 3 failures; last: connection refused #3"
    assert contract.state is ContractState.SUBMITTED
    calls = len(rig.gateway.calls)
    assert rig.gateway.methods() == [SEND, FIND, SEND, FIND, SEND]

    assert rig.send(contract).version == contract.version  # parked: not touched
    assert len(rig.gateway.calls) == calls

    resumed = rig.app.resume_transmission(principal(CFA), contract.id).contract
    assert (resumed.transmission["parked"], resumed.transmission["failures"]) == (False, 0)
    sent = rig.send(resumed)
    assert rig.gateway.methods()[calls:] == [FIND, SEND]
    assert sent.state is ContractState.SENT
    assert rig.gateway.posts(NUMERO) == 4
    assert rig.gateway.created(NUMERO) == 1


# -- crash recovery -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("reached", [True, False], ids=["the-opco-has-it", "the-opco-never-got-it"])
def test_an_attempt_left_in_flight_is_left_alone_then_looked_up(
    rig: Rig, complete_cerfa: dict[str, Any], reached: bool
) -> None:
    contract = submitted(rig, complete_cerfa)
    # a sender started an attempt and died before recording its outcome
    crashed = rig.app.change_as_worker(contract.id, lambda c: c.start_transmission(WORKER.actor)).contract
    if reached:
        rig.gateway.put(Opco.ATLAS, opco_dossier(NUMERO, numero_externe="ATLAS-CRASH"))

    started = crashed.transmission["inFlightSince"]
    assert isinstance(started, datetime)
    rig.clock.set(started + POLICY.in_flight_timeout - timedelta(seconds=1))
    assert rig.send(crashed).version == crashed.version  # maybe still running elsewhere: not touched
    assert rig.gateway.calls == []

    rig.clock.advance(timedelta(seconds=2))
    recovered = rig.send(crashed)
    assert recovered.state is ContractState.SENT
    assert rig.gateway.created(NUMERO) == (0 if reached else 1)
    if reached:
        assert rig.gateway.methods() == [FIND]
        assert recovered.numero_externe == "ATLAS-CRASH"
        assert outcomes(recovered) == [(1, "found")]
    else:
        assert rig.gateway.methods() == [FIND, SEND]
        assert recovered.transmission["attempts"] == 2
        assert outcomes(recovered)[-1] == (2, "sent")
