"""The Contract aggregate's transmission: attempts, outcomes, parking, the OPCO's states, and their replay."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import Contract
from domain.contracts.contract_state import ContractState
from domain.errors import NotAllowedInState
from infrastructure.reference_data import idcc_routing
from tests.support import dossiers

ROUTING = idcc_routing()
TODAY = date(2026, 11, 27)
SIGNATORY = {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}
WORKER = "worker"
RETRY_AT = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)

# The API Convergence `etat` values and the dossier state each one means, as the reference lists them.
API_STATES = {
    "TRANSMIS": ContractState.SENT,
    "EN_COURS_INSTRUCTION": ContractState.IN_REVIEW,
    "ENGAGE": ContractState.ACCEPTED,
    "REFUSE": ContractState.REFUSED,
    "ANNULE": ContractState.CANCELLED,
    "RUPTU": ContractState.TERMINATED,
    "RUPTURE": ContractState.TERMINATED,
    "SOLDE": ContractState.CLOSED,
}


def draft(document: dict[str, Any]) -> Contract:
    return Contract.draft(
        cfa_siret=document["organismeFormation"]["siret"],
        numero_interne="T-1",
        cerfa=parse_cerfa(document),
        opco=None,
        actor="token:alice",
    )


def submitted(document: dict[str, Any]) -> Contract:
    contract = draft(document)
    contract.record_mandate(
        signed_on=date(2026, 6, 1), signatory=SIGNATORY, document_sha256=None, actor="token:alice", today=TODAY
    )
    contract.submit(ROUTING, "token:alice")
    return contract


def sent(document: dict[str, Any], etat: str | None = "TRANSMIS") -> Contract:
    contract = submitted(document)
    contract.start_transmission(WORKER)
    contract.record_sent(numero_externe="EXT-1", etat=etat, found_by_lookup=False, actor=WORKER)
    return contract


def failed(contract: Contract, *, transient: bool = True, error: str = "timeout") -> None:
    contract.start_transmission(WORKER)
    contract.record_transmission_failure(error=error, transient=transient, retry_at=RETRY_AT, actor=WORKER)


def opco_state(contract: Contract, etat: str, **fields: str | None) -> None:
    values: dict[str, str | None] = {"commentaire": None, "numero_externe": None, "numero_deca": None, **fields}
    contract.record_opco_state(
        etat=etat,
        commentaire=values["commentaire"],
        numero_externe=values["numero_externe"],
        numero_deca=values["numero_deca"],
        actor=WORKER,
    )


def state_of(contract: Contract) -> ContractState:
    """The state now (a call, so that the type checker does not hold on to an earlier assertion)."""
    return contract.state


def names(events: Sequence[object]) -> list[str]:
    return [type(e).__name__ for e in events]


def new_events(contract: Contract, command: Callable[[Contract], object]) -> list[str]:
    contract.collect_events()
    command(contract)
    return names(contract.collect_events())


def outcomes(contract: Contract) -> list[tuple[int, str | None]]:
    return [(h["attempt"], h["outcome"]) for h in contract.transmission["history"]]


# -- start, sent, failed ------------------------------------------------------------------------------------


def test_an_attempt_is_recorded_before_the_call_then_its_outcome(complete_cerfa: dict[str, Any]) -> None:
    contract = submitted(complete_cerfa)
    contract.collect_events()
    assert contract.start_transmission(WORKER) == 1
    [started] = contract.collect_events()
    assert type(started).__name__ == "TransmissionStarted"
    assert contract.transmission["inFlightSince"] == started.timestamp
    assert outcomes(contract) == [(1, None)]
    assert contract.state is ContractState.SUBMITTED

    contract.record_sent(numero_externe="EXT-1", etat="TRANSMIS", found_by_lookup=False, actor=WORKER)
    [sent_event] = contract.collect_events()
    assert type(sent_event).__name__ == "Sent"
    assert sent_event.actor == WORKER  # type: ignore[attr-defined]
    assert state_of(contract) is ContractState.SENT
    assert (contract.numero_externe, contract.opco_state) == ("EXT-1", "TRANSMIS")
    assert contract.transmission["inFlightSince"] is None
    assert contract.transmission["history"] == [
        {
            "attempt": 1,
            "startedAt": started.timestamp,
            "outcome": "sent",
            "error": None,
            "endedAt": sent_event.timestamp,
        }
    ]


def test_sent_without_a_state_is_sent_and_found_by_lookup_takes_the_opcos_state(
    complete_cerfa: dict[str, Any],
) -> None:
    plain = sent(complete_cerfa, etat=None)
    assert plain.state is ContractState.SENT
    assert plain.opco_state is None

    found = submitted(complete_cerfa)
    found.record_sent(numero_externe="EXT-9", etat="EN_COURS_INSTRUCTION", found_by_lookup=True, actor=WORKER)
    assert found.state is ContractState.IN_REVIEW
    # no attempt was in flight: the lookup's finding is a history entry of its own
    assert outcomes(found) == [(0, "found")]
    assert found.transmission["history"][0]["startedAt"] is None


def test_a_transient_failure_sets_the_next_attempt_and_counts(complete_cerfa: dict[str, Any]) -> None:
    contract = submitted(complete_cerfa)
    failed(contract, error="read timeout")
    tx = contract.transmission
    assert contract.state is ContractState.SUBMITTED
    assert (tx["failures"], tx["nextAttemptAt"], tx["lastError"], tx["inFlightSince"]) == (
        1,
        RETRY_AT,
        "read timeout",
        None,
    )
    assert outcomes(contract) == [(1, "failed")]

    assert contract.start_transmission(WORKER) == 2
    assert contract.transmission["nextAttemptAt"] is None
    contract.record_transmission_failure(error="503", transient=True, retry_at=None, actor=WORKER)
    assert contract.transmission["failures"] == 2
    assert outcomes(contract) == [(1, "failed"), (2, "failed")]


def test_a_failure_that_time_will_not_cure_does_not_count(complete_cerfa: dict[str, Any]) -> None:
    contract = submitted(complete_cerfa)
    failed(contract, transient=False, error="API key rejected")
    assert contract.transmission["failures"] == 0
    assert contract.transmission["lastError"] == "API key rejected"
    assert contract.state is ContractState.SUBMITTED


# -- park, resume, refusal ----------------------------------------------------------------------------------


def test_a_parked_dossier_is_not_sent_until_resumed(complete_cerfa: dict[str, Any]) -> None:
    contract = submitted(complete_cerfa)
    failed(contract)
    failed(contract)
    assert new_events(contract, lambda c: c.park_transmission("parked after 2 failures", WORKER)) == [
        "TransmissionParked"
    ]
    assert contract.transmission["parked"] is True
    assert contract.transmission["lastError"] == "parked after 2 failures"
    assert new_events(contract, lambda c: c.park_transmission("again", WORKER)) == []  # already parked
    with pytest.raises(NotAllowedInState):
        contract.start_transmission(WORKER)

    assert new_events(contract, lambda c: c.resume_transmission("token:admin")) == ["TransmissionResumed"]
    tx = contract.transmission
    assert (tx["parked"], tx["failures"], tx["nextAttemptAt"]) == (False, 0, None)
    assert contract.start_transmission(WORKER) == 3  # attempts go on counting: the history is kept
    with pytest.raises(NotAllowedInState):
        contract.resume_transmission("token:admin")  # not parked


def test_a_refusal_keeps_the_opcos_messages(complete_cerfa: dict[str, Any]) -> None:
    contract = submitted(complete_cerfa)
    contract.start_transmission(WORKER)
    contract.record_refusal(["siret employeur inconnu", "rncp invalide"], WORKER)
    assert contract.state is ContractState.REFUSED
    assert contract.opco_comment == "siret employeur inconnu; rncp invalide"
    assert contract.transmission["lastError"] == "siret employeur inconnu; rncp invalide"
    assert outcomes(contract) == [(1, "refused")]
    with pytest.raises(NotAllowedInState):
        contract.start_transmission(WORKER)


# -- the OPCO's states --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("etat", "state"), sorted(API_STATES.items()))
def test_each_api_state_maps_to_a_dossier_state(
    complete_cerfa: dict[str, Any], etat: str, state: ContractState
) -> None:
    contract = sent(complete_cerfa, etat=None)
    assert new_events(contract, lambda c: opco_state(c, etat, commentaire="vu")) == ["OpcoStateChanged"]
    assert contract.state is state
    assert (contract.opco_state, contract.opco_comment) == (etat, "vu")
    assert contract.unknown_opco_state is False


def test_an_unknown_state_is_kept_verbatim_and_changes_nothing_else(complete_cerfa: dict[str, Any]) -> None:
    contract = sent(complete_cerfa)
    opco_state(contract, "EN_COURS_INSTRUCTION")
    assert new_events(contract, lambda c: opco_state(c, "SUSPENDU", commentaire="pièce manquante")) == [
        "OpcoStateChanged"
    ]
    assert contract.state is ContractState.IN_REVIEW
    assert contract.opco_state == "SUSPENDU"
    assert contract.opco_comment == "pièce manquante"
    assert contract.unknown_opco_state is True

    opco_state(contract, "ENGAGE")
    assert state_of(contract) is ContractState.ACCEPTED
    assert contract.unknown_opco_state is False


def test_a_terminated_contract_is_closed_when_the_opco_settles_it(complete_cerfa: dict[str, Any]) -> None:
    contract = sent(complete_cerfa)
    opco_state(contract, "ENGAGE")
    opco_state(contract, "RUPTURE")
    assert contract.state is ContractState.TERMINATED
    opco_state(contract, "SOLDE")
    assert state_of(contract) is ContractState.CLOSED


def test_the_sync_heals_a_dossier_whose_sending_outcome_was_lost(complete_cerfa: dict[str, Any]) -> None:
    contract = submitted(complete_cerfa)
    contract.start_transmission(WORKER)  # then the process died before recording the outcome
    opco_state(contract, "TRANSMIS", numero_externe="EXT-7")
    assert contract.state is ContractState.SENT
    assert contract.numero_externe == "EXT-7"
    assert contract.transmission["inFlightSince"] is None
    assert outcomes(contract) == [(1, "found")]

    unknown = submitted(complete_cerfa)
    opco_state(unknown, "RECU")  # unknown, but the OPCO has it: at least sent
    assert unknown.state is ContractState.SENT
    assert unknown.unknown_opco_state is True
    assert outcomes(unknown) == []  # no attempt was in flight


def test_a_state_read_again_records_nothing(complete_cerfa: dict[str, Any]) -> None:
    contract = sent(complete_cerfa)
    opco_state(contract, "ENGAGE", commentaire="ok", numero_deca="02B202212000000")
    assert (
        new_events(contract, lambda c: opco_state(c, "ENGAGE", commentaire="ok", numero_deca="02B202212000000")) == []
    )
    # numbers the OPCO leaves out are not a change, and are kept
    assert new_events(contract, lambda c: opco_state(c, "ENGAGE", commentaire="ok")) == []
    assert (contract.numero_externe, contract.numero_deca) == ("EXT-1", "02B202212000000")
    # a new comment is a change
    assert new_events(contract, lambda c: opco_state(c, "ENGAGE", commentaire="révisé")) == ["OpcoStateChanged"]


def test_the_commitment_is_recorded_once(complete_cerfa: dict[str, Any]) -> None:
    contract = sent(complete_cerfa)
    opco_state(contract, "ENGAGE")
    echeances = [{"numero": 1, "montantTotal": "2500.00"}, {"numero": 2, "montantTotal": "2500.50"}]

    def commit(c: Contract) -> None:
        c.record_commitment(engagement="5000.50", echeances=echeances, actor=WORKER)

    assert new_events(contract, commit) == ["FundingCommitted"]
    assert (contract.commitment, contract.echeances) == ("5000.50", echeances)
    assert new_events(contract, commit) == []


def test_commands_refused_in_the_wrong_states(complete_cerfa: dict[str, Any]) -> None:
    commands: dict[str, Callable[[Contract], object]] = {
        "start": lambda c: c.start_transmission(WORKER),
        "sent": lambda c: c.record_sent(numero_externe="E", etat=None, found_by_lookup=False, actor=WORKER),
        "failure": lambda c: c.record_transmission_failure(error="x", transient=True, retry_at=None, actor=WORKER),
        "park": lambda c: c.park_transmission("x", WORKER),
        "resume": lambda c: c.resume_transmission(WORKER),
        "refusal": lambda c: c.record_refusal(["x"], WORKER),
        "opco_state": lambda c: opco_state(c, "TRANSMIS"),
        "commitment": lambda c: c.record_commitment(engagement="1", echeances=[], actor=WORKER),
    }
    cancelled = draft(complete_cerfa)
    cancelled.cancel(None, "token:alice")
    refused_in_states: list[tuple[Contract, set[str]]] = [
        (draft(complete_cerfa), set(commands)),
        (cancelled, set(commands)),
        (submitted(complete_cerfa), {"commitment", "resume"}),  # resume: not parked
        (sent(complete_cerfa), {"start", "sent", "failure", "park", "resume", "refusal"}),
    ]
    for contract, refused in refused_in_states:
        contract.collect_events()
        version = contract.version
        for name in sorted(refused):
            with pytest.raises(NotAllowedInState):
                commands[name](contract)
        assert contract.version == version
        assert contract.collect_events() == []
    # parked is a state of its own for the transmission: only a resumption lets it go on
    parked = submitted(complete_cerfa)
    parked.park_transmission("x", WORKER)
    with pytest.raises(NotAllowedInState):
        commands["start"](parked)
    commands["resume"](parked)
    commands["start"](parked)


# -- replay -------------------------------------------------------------------------------------------------


def a_long_history(document: dict[str, Any]) -> Contract:
    contract = submitted(document)
    failed(contract, error="timeout")
    failed(contract, transient=False, error="API key rejected")
    failed(contract, error="503")
    contract.park_transmission("parked after 2 failures", WORKER)
    contract.resume_transmission("token:admin")
    contract.start_transmission(WORKER)
    opco_state(contract, "TRANSMIS", numero_externe="EXT-3")
    opco_state(contract, "ENGAGE", numero_deca="02B202212000000", commentaire="financé")
    contract.record_commitment(engagement="6000.00", echeances=[{"numero": 1, "montantTotal": "6000.00"}], actor=WORKER)
    return contract


def observed(contract: Contract) -> dict[str, Any]:
    return {
        "state": contract.state,
        "transmission": contract.transmission,
        "numero_externe": contract.numero_externe,
        "numero_deca": contract.numero_deca,
        "opco_state": contract.opco_state,
        "opco_comment": contract.opco_comment,
        "commitment": contract.commitment,
        "echeances": contract.echeances,
        "version": contract.version,
    }


def test_replaying_the_events_rebuilds_the_same_transmission_record(complete_cerfa: dict[str, Any]) -> None:
    contract = a_long_history(complete_cerfa)
    expected = observed(contract)
    assert [(h["attempt"], h["outcome"]) for h in expected["transmission"]["history"]] == [
        (1, "failed"),
        (2, "failed"),
        (3, "failed"),
        (4, "found"),
    ]
    assert expected["transmission"]["failures"] == 0  # reset by the resumption

    events: list[Any] = list(contract.collect_events())
    rebuilt: Any = None
    for domain_event in events:
        rebuilt = domain_event.mutate(rebuilt)
    assert isinstance(rebuilt, Contract)
    assert observed(rebuilt) == expected

    # and through the store, where every value is written out and read back
    app = dossiers()
    app.save(*events)
    stored: Contract = app.repository.get(contract.id)
    assert observed(stored) == expected
    read_back: Any = None
    stored_events: list[Any] = list(app.repository.event_store.get(contract.id))
    for domain_event in stored_events:
        read_back = domain_event.mutate(read_back)
    assert observed(read_back) == expected
    started = [e for e in events if type(e).__name__ == "TransmissionStarted"]
    assert [h["startedAt"] for h in stored.transmission["history"]] == [e.timestamp for e in started]


def test_a_dossier_found_after_a_failure_has_no_error_nor_next_attempt_pending(complete_cerfa: dict[str, Any]) -> None:
    contract = submitted(complete_cerfa)
    failed(contract, error="read timeout")
    contract.record_sent(numero_externe="EXT-9", etat="TRANSMIS", found_by_lookup=True, actor=WORKER)
    tx = contract.transmission
    assert (tx["lastError"], tx["nextAttemptAt"], tx["inFlightSince"]) == (None, None, None)
    assert outcomes(contract) == [(1, "failed"), (1, "found")]
    assert tx["history"][0]["error"] == "read timeout"  # the failure stays in the history
