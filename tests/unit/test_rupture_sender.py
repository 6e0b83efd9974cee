"""A rupture goes to the OPCO exactly once, whatever the OPCO does: the Sender with the TerminationChannel against a
fake OPCO. A lost answer is proven only by the dossier's state (RUPTU/RUPTURE); else a person decides."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest

from application.access.access import OPERATOR
from application.dossiers import Dossiers
from application.opco.channels import TerminationChannel
from application.opco.opco_accounts import OpcoAccounts
from application.opco.opco_gateway import NotSupported, RefusedByOpco, TransientOpcoError
from application.opco.sender import Sender, SenderPolicy
from application.opco.transmissions import QueuedTransmission
from application.ruptures.terminations import Terminations
from domain.opco.opco_auth import AuthFlavour
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from domain.ruptures.rupture import RuptureRequest
from domain.ruptures.termination import Termination, TerminationState
from tests.invoicing import CFA, accepted_contract
from tests.support import dossiers, principal
from tests.unit.fakes import (
    FIND,
    SEND_RUPTURE,
    AnswerLost,
    FakeGateway,
    MemoryContactLog,
    MovableClock,
    PlainBox,
    opco_dossier,
)

WHO = principal(CFA)
POLICY = SenderPolicy(max_failures=3, backoff_base=timedelta(seconds=2), in_flight_timeout=timedelta(minutes=2))
LATER = timedelta(minutes=15)
RUPTURE = RuptureRequest(date(2026, 11, 20), "commun_accord", "commun", date(2026, 11, 21), None)


@dataclass
class Rig:
    app: Dossiers
    terminations: Terminations
    gateway: FakeGateway
    clock: MovableClock
    sender: Sender
    accounts: OpcoAccounts

    def declared(self, cerfa: dict[str, Any]) -> Termination:
        contract = accepted_contract(self.app, WHO, cerfa)
        self.gateway.put(Opco.ATLAS, opco_dossier("C-1", "ENGAGE", numero_externe="EXT-C-1"))
        saved = self.terminations.declare(WHO, contract.id, RUPTURE)
        termination = self.terminations.of_contract(saved.contract)
        assert termination is not None
        return termination

    def send(self, termination: Termination) -> Termination:
        item = QueuedTransmission(termination.id, CFA, Opco.ATLAS.value, "C-1", self.clock.now())
        endpoint = self.accounts.endpoint(CFA, Opco.ATLAS)
        assert endpoint is not None
        self.sender.send(item, endpoint)
        return self.terminations.termination_as_worker(termination.id)


@pytest.fixture
def rig() -> Iterator[Rig]:
    app = dossiers()
    profiles = {
        opco: replace(p, base_url="http://opco.test", auth=AuthFlavour.KEY_ONLY) for opco, p in CATALOGUE.items()
    }
    accounts = OpcoAccounts(app, PlainBox(), profiles, MemoryContactLog())
    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key="atlas-key-0001-ZYX")
    terminations = Terminations(app, profiles)
    gateway, clock = FakeGateway(), MovableClock()
    yield Rig(
        app,
        terminations,
        gateway,
        clock,
        Sender(TerminationChannel(terminations, gateway), accounts, clock, POLICY),
        accounts,
    )
    assert all(count <= 1 for count in gateway.ruptures.values())  # never two ruptures of one dossier at the OPCO
    app.close()


def test_a_rupture_is_one_post_with_the_dossiers_numbers(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    sent = rig.send(rig.declared(complete_cerfa))

    assert rig.gateway.methods() == [SEND_RUPTURE]
    [call] = rig.gateway.calls
    assert call.rupture is not None
    assert (call.rupture.numero_interne, call.rupture.numero_externe) == ("C-1", "EXT-C-1")
    assert (call.rupture.date_effet, call.rupture.motif) == (date(2026, 11, 20), "commun_accord")
    assert (sent.state, sent.opco_state) == (TerminationState.SENT, "RUPTU")
    rig.clock.advance(LATER)
    assert rig.send(sent).version == sent.version  # sent: never again
    assert rig.gateway.ruptures[(Opco.ATLAS, "C-1")] == 1


def test_a_lost_answer_is_proven_by_the_dossiers_state(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    rig.gateway.script(SEND_RUPTURE, AnswerLost(TransientOpcoError("read timeout", may_have_reached=True)))
    failed = rig.send(rig.declared(complete_cerfa))
    assert failed.answer_lost
    assert not failed.withdrawable

    rig.clock.advance(LATER)
    found = rig.send(failed)
    assert rig.gateway.methods() == [SEND_RUPTURE, FIND]
    assert (found.state, found.opco_state) == (TerminationState.SENT, "RUPTU")
    assert found.transmission["history"][-1]["outcome"] == "found"


def test_a_lost_answer_the_dossier_does_not_confirm_waits_for_a_person(
    rig: Rig, complete_cerfa: dict[str, Any]
) -> None:
    rig.gateway.script(SEND_RUPTURE, TransientOpcoError("read timeout", may_have_reached=True))  # never reached
    failed = rig.send(rig.declared(complete_cerfa))

    rig.clock.advance(LATER)
    parked = rig.send(failed)
    assert rig.gateway.methods() == [SEND_RUPTURE, FIND]  # looked, did not send again
    assert parked.transmission["parked"]
    assert "does not show it" in parked.transmission["lastError"]
    assert parked.waiting_for_person == "parked"

    rig.terminations.resume_transmission(WHO, parked.contract_id)  # a person checked: not there
    sent = rig.send(rig.terminations.termination_as_worker(parked.id))
    assert sent.state is TerminationState.SENT
    assert rig.gateway.methods() == [SEND_RUPTURE, FIND, FIND, SEND_RUPTURE]


def test_without_a_lookup_a_lost_answer_is_parked(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    rig.gateway.script(SEND_RUPTURE, AnswerLost(TransientOpcoError("502", may_have_reached=True)))
    rig.gateway.script(FIND, NotSupported("no lookup here"))
    failed = rig.send(rig.declared(complete_cerfa))
    rig.clock.advance(LATER)
    parked = rig.send(failed)
    assert parked.transmission["parked"]
    assert "offers no lookup" in parked.transmission["lastError"]
    assert len(rig.gateway.calls_of(SEND_RUPTURE)) == 1
    declared = rig.terminations.mark_declared(WHO, parked.contract_id)  # the CFA saw it on the OPCO's site
    assert declared.state is TerminationState.DECLARED


def test_a_failure_before_the_opco_is_sent_again(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    rig.gateway.script(SEND_RUPTURE, TransientOpcoError("connection refused"))
    failed = rig.send(rig.declared(complete_cerfa))
    assert failed.withdrawable  # the OPCO surely does not have it

    rig.clock.advance(LATER)
    sent = rig.send(failed)
    assert rig.gateway.methods() == [SEND_RUPTURE, FIND, SEND_RUPTURE]
    assert sent.state is TerminationState.SENT


def test_an_attempt_left_in_flight_is_never_sent_again_blindly(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    termination = rig.declared(complete_cerfa)
    rig.terminations.change_as_worker(termination.id, lambda t: t.start_transmission("worker"))  # then a crash
    rig.clock.advance(LATER)
    parked = rig.send(rig.terminations.termination_as_worker(termination.id))
    assert rig.gateway.methods() == [FIND]
    assert parked.transmission["parked"]


def test_a_refusal_is_recorded_for_a_person(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    rig.gateway.script(SEND_RUPTURE, RefusedByOpco(400, ["codeMotifRupture inconnu"]))
    refused = rig.send(rig.declared(complete_cerfa))
    assert (refused.state, refused.waiting_for_person) == (TerminationState.REFUSED, "refused")
    assert refused.opco_comment == "codeMotifRupture inconnu"
