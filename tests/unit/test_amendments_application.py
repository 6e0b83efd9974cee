"""Avenants through the application, in memory: one pending at a time, safe to retry, If-Match on the contract, the
Cerfa's rules on the amended contract, the mandate, withdrawal, and the history with its actors."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from application.amendments.amendments import Amendments
from application.dossiers import Dossiers
from application.errors import IdempotencyKeyReused, VersionMismatch
from domain.amendments.amendment import AmendmentState
from domain.amendments.amendment_types import AmendmentRequest
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import Contract
from domain.errors import NotAllowedInState, SubmissionBlocked
from tests.invoicing import CFA, accepted_contract
from tests.support import dossiers, principal

WHO = principal(CFA)
MASTER = AmendmentRequest(36, date(2026, 10, 5), {"maitre1": {"nom": "Bernard"}})
MANDATE = (date(2026, 10, 1), {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"})


@pytest.fixture
def app() -> Dossiers:
    return dossiers()  # today: 2026-11-27


@pytest.fixture
def amendments(app: Dossiers) -> Amendments:
    return Amendments(app)


@pytest.fixture
def contract(app: Dossiers, complete_cerfa: dict[str, Any]) -> Contract:
    return accepted_contract(app, WHO, complete_cerfa)  # at ATLAS, accepted, without a DECA number


def test_a_request_is_safe_to_retry_and_conditioned_on_the_contracts_version(
    app: Dossiers, amendments: Amendments, contract: Contract
) -> None:
    saved, first = amendments.request(WHO, contract.id, MASTER, idempotency_key="k", request_body={"a": 1})
    assert (first.number, saved.contract.version) == (1, contract.version + 1)
    again, replayed = amendments.request(WHO, contract.id, MASTER, idempotency_key="k", request_body={"a": 1})
    assert (again.replayed, replayed.id) == (True, first.id)
    with pytest.raises(IdempotencyKeyReused):
        amendments.request(WHO, contract.id, MASTER, idempotency_key="k", request_body={"a": 2})
    with pytest.raises(NotAllowedInState):  # one pending at a time
        amendments.request(WHO, contract.id, MASTER)
    amendments.withdraw(WHO, contract.id, 1, "mauvais maître")
    with pytest.raises(VersionMismatch):
        amendments.request(WHO, contract.id, MASTER, expected_version=contract.version)
    _, second = amendments.request(WHO, contract.id, MASTER, expected_version=saved.contract.version)
    assert second.number == 2
    assert [a.state for a in amendments.of_contract(app.contract(WHO, contract.id))] == [
        AmendmentState.WITHDRAWN,
        AmendmentState.DRAFTED,
    ]


def test_the_cerfa_rules_and_the_mandate_block_the_submission(amendments: Amendments, contract: Contract) -> None:
    amendments.request(WHO, contract.id, MASTER)
    with pytest.raises(SubmissionBlocked) as blocked:
        amendments.submit(WHO, contract.id, 1)
    codes = {(p.field, p.code) for p in blocked.value.problems}
    # the contract has no DECA number yet: the avenant cannot name the contract it amends
    assert ("cerfa.contrat.numeroContratPrecedent", "required") in codes
    assert ("mandate", "mandate_missing") in codes
    signed = amendments.record_mandate(WHO, contract.id, 1, *MANDATE)
    assert signed.mandate == {"signedOn": "2026-10-01", "signatory": MANDATE[1]}
    assert [p.code for p in signed.own_problems] == []
    history = amendments.history(WHO, contract.id, 1)
    assert [(e["type"], e["actor"]) for e in history] == [
        ("Requested", "token:test"),
        ("MandateRecorded", "token:test"),
    ]


def test_only_an_accepted_contract_without_rupture_is_amended(
    app: Dossiers, amendments: Amendments, complete_cerfa: dict[str, Any]
) -> None:
    draft = app.create_contract(WHO, cerfa=parse_cerfa(complete_cerfa), numero_interne="D-1", opco=None).contract
    with pytest.raises(NotAllowedInState):
        amendments.request(WHO, draft.id, MASTER)
    assert app.contract(WHO, draft.id).amendments_requested == 0
