"""The Contract aggregate: states, events, invariants."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.contracts.cerfa_document import InvalidCerfa, parse_cerfa
from domain.contracts.contract import Contract, contract_id
from domain.contracts.contract_state import ContractState
from domain.errors import InvalidValue, NotAllowedInState, SubmissionBlocked
from domain.opco.opcos import Opco
from infrastructure.reference_data import idcc_routing
from tests.support import with_changes

ROUTING = idcc_routing()
TODAY = date(2026, 11, 27)
SIGNATORY = {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}


def draft(document: dict[str, Any], opco: Opco | None = None) -> Contract:
    return Contract.draft(
        cfa_siret=document["organismeFormation"]["siret"],
        numero_interne="A-1",
        cerfa=parse_cerfa(document),
        opco=opco,
        actor="token:alice",
    )


def with_mandate(contract: Contract) -> Contract:
    contract.record_mandate(
        signed_on=date(2026, 6, 1),
        signatory=SIGNATORY,
        document_sha256=None,
        actor="token:alice",
        today=TODAY,
    )
    return contract


def codes(contract: Contract) -> set[str]:
    return {p.code for p in contract.problems(ROUTING)}


def test_a_new_dossier_is_a_draft_whose_event_names_the_actor(complete_cerfa: dict[str, Any]) -> None:
    contract = draft(complete_cerfa)
    [drafted] = contract.collect_events()
    assert contract.state is ContractState.DRAFTED
    assert type(drafted).__name__ == "Drafted"
    assert drafted.actor == "token:alice"  # type: ignore[attr-defined]
    assert contract.id == contract_id(complete_cerfa["organismeFormation"]["siret"], "A-1")


def test_the_complete_example_lacks_only_the_mandate(complete_cerfa: dict[str, Any]) -> None:
    contract = draft(complete_cerfa)
    assert codes(contract) == {"mandate_missing"}
    assert contract.effective_opco(ROUTING) is Opco.ATLAS


def test_submission_needs_the_mandate(complete_cerfa: dict[str, Any]) -> None:
    contract = draft(complete_cerfa)
    with pytest.raises(SubmissionBlocked) as blocked:
        contract.submit(ROUTING, "token:alice")
    assert [p.field for p in blocked.value.problems] == ["mandate"]
    assert contract.state is ContractState.DRAFTED


def test_mandate_then_submission(complete_cerfa: dict[str, Any]) -> None:
    contract = with_mandate(draft(complete_cerfa))
    assert contract.state is ContractState.MANDATE_CHECKED
    contract.submit(ROUTING, "token:bob")
    assert contract.state.value == "submitted"
    assert contract.submitted_to == "ATLAS"
    assert [type(e).__name__ for e in contract.collect_events()] == [
        "Drafted",
        "MandateRecorded",
        "SubmissionRequested",
    ]
    assert contract.problems(ROUTING) == []


def test_a_mandate_signed_tomorrow_is_refused(complete_cerfa: dict[str, Any]) -> None:
    contract = draft(complete_cerfa)
    with pytest.raises(InvalidValue) as refused:
        contract.record_mandate(
            signed_on=date(2026, 11, 28), signatory=SIGNATORY, document_sha256=None, actor="a", today=TODAY
        )
    assert refused.value.problem.code == "in_future"
    contract.record_mandate(signed_on=TODAY, signatory=SIGNATORY, document_sha256=None, actor="a", today=TODAY)
    assert contract.mandate is not None


def test_blocking_problems_prevent_submission(complete_cerfa: dict[str, Any]) -> None:
    contract = with_mandate(draft(with_changes(complete_cerfa, contrat={"dureeTravailHebdoHeures": 41})))
    with pytest.raises(SubmissionBlocked) as blocked:
        contract.submit(ROUTING, "token:alice")
    assert "weekly_hours" in {p.code for p in blocked.value.problems}


def test_patch_records_only_what_changed_and_null_removes(complete_cerfa: dict[str, Any]) -> None:
    contract = draft(complete_cerfa)
    contract.patch_cerfa({"apprenti": {"nomUsage": "Durand", "courriel": None}}, "token:alice")
    patched = contract.collect_events()[-1]
    assert patched.changes == {"apprenti": {"nomUsage": "Durand", "courriel": None}}  # type: ignore[attr-defined]
    assert contract.cerfa["apprenti"]["nomUsage"] == "Durand"
    assert "courriel" not in contract.cerfa["apprenti"]


def test_a_patch_that_changes_nothing_records_nothing(complete_cerfa: dict[str, Any]) -> None:
    contract = draft(complete_cerfa)
    contract.collect_events()
    contract.patch_cerfa({"apprenti": {"nom": complete_cerfa["apprenti"]["nom"]}}, "token:alice")
    assert contract.collect_events() == []


def test_an_invalid_patch_is_refused_whole(complete_cerfa: dict[str, Any]) -> None:
    contract = draft(complete_cerfa)
    with pytest.raises(InvalidCerfa) as refused:
        contract.patch_cerfa({"apprenti": {"nomUsage": "Durand"}, "employeur": {"siret": "12345678901234"}}, "a")
    assert [p.field for p in refused.value.problems] == ["cerfa.employeur.siret"]
    assert "nomUsage" not in contract.cerfa["apprenti"]


def test_the_cfa_of_a_dossier_cannot_change(complete_cerfa: dict[str, Any]) -> None:
    contract = draft(complete_cerfa)
    with pytest.raises(InvalidValue) as refused:
        contract.patch_cerfa({"organismeFormation": {"siret": "73282932000074"}}, "a")
    assert refused.value.problem.code == "other_cfa"


def test_nothing_changes_after_submission(complete_cerfa: dict[str, Any]) -> None:
    contract = with_mandate(draft(complete_cerfa))
    contract.submit(ROUTING, "a")
    with pytest.raises(NotAllowedInState):
        contract.patch_cerfa({"apprenti": {"nomUsage": "X"}}, "a")
    with pytest.raises(NotAllowedInState):
        contract.cancel(None, "a")
    with pytest.raises(NotAllowedInState):
        contract.choose_opco(Opco.AKTO, "a")


def test_a_draft_can_be_cancelled_once(complete_cerfa: dict[str, Any]) -> None:
    contract = draft(complete_cerfa)
    contract.cancel("duplicate of A-2", "a")
    assert contract.state is ContractState.CANCELLED
    with pytest.raises(NotAllowedInState):
        contract.cancel(None, "a")


@pytest.mark.parametrize("idcc", ["9999", "9998", "3251"])
def test_an_idcc_without_opco_needs_a_choice(complete_cerfa: dict[str, Any], idcc: str) -> None:
    contract = draft(with_changes(complete_cerfa, employeur={"codeIdcc": idcc}))
    assert "opco_required" in codes(contract)
    contract.choose_opco(Opco.AKTO, "a")
    assert "opco_required" not in codes(contract)
    assert contract.effective_opco(ROUTING) is Opco.AKTO


def test_an_explicit_opco_overrides_the_routing(complete_cerfa: dict[str, Any]) -> None:
    contract = with_mandate(draft(complete_cerfa, opco=Opco.OPCOEP))
    contract.submit(ROUTING, "a")
    assert contract.submitted_to == "OPCOEP"


@pytest.mark.parametrize(("kind", "blocked"), [(16, False), (21, True), (29, True), (30, False)])
def test_public_employers_are_not_opco_business(complete_cerfa: dict[str, Any], kind: int, blocked: bool) -> None:
    contract = draft(with_changes(complete_cerfa, employeur={"typeEmployeur": kind}))
    assert ("public_employer" in codes(contract)) is blocked


def test_replaying_the_events_rebuilds_the_same_dossier(complete_cerfa: dict[str, Any]) -> None:
    contract = with_mandate(draft(complete_cerfa))
    contract.patch_cerfa({"apprenti": {"nomUsage": "Durand"}}, "a")
    events = contract.collect_events()
    rebuilt: Contract | None = None
    for event in events:
        rebuilt = event.mutate(rebuilt)
    assert rebuilt is not None
    assert (rebuilt.cerfa, rebuilt.state, rebuilt.mandate) == (
        contract.cerfa,
        contract.state,
        contract.mandate,
    )
