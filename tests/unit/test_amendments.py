"""Avenants' own rules (types 31–38, the fields each may change, the effect date), their effects on the funding
(hand-computed figures) and on the OPCO, the contract as of a date, and the avenant's states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from domain.amendments.amendment import Amendment, AmendmentState, AnswerShape
from domain.amendments.amendment_effects import changes_funding, funding_effect, opco_change
from domain.amendments.amendment_types import AMENDMENT_TYPES, AmendmentRequest, changed_paths, check_request
from domain.amendments.contract_at import amended_cerfa, cerfa_at, cerfa_now
from domain.contracts.cerfa_document import parse_cerfa
from domain.errors import InvalidValues, NotAllowedInState, SubmissionBlocked
from domain.opco.opcos import IdccRouting, Opco

START, END = date(2026, 9, 1), date(2028, 8, 31)
PROLONGATION = {"contrat": {"dateFinContrat": "2029-08-31"}, "formation": {"dateFinFormation": "2029-06-30"}}


def codes(error: InvalidValues) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in error.problems]


def test_changed_paths_walk_objects_and_stop_at_arrays() -> None:
    patch = {"maitre1": {"nom": "B"}, "contrat": {"remunerationsAnnuelles": [], "x": None}, "y": {}}
    assert list(changed_paths(patch)) == ["maitre1.nom", "contrat.remunerationsAnnuelles", "contrat.x"]


def test_each_type_changes_only_its_fields() -> None:
    assert check_request(AmendmentRequest(33, date(2028, 6, 1), PROLONGATION), START, END).code == 33
    with pytest.raises(InvalidValues) as refused:
        check_request(AmendmentRequest(33, date(2028, 6, 1), {"maitre1": {"nom": "B"}}), START, END)
    assert codes(refused.value) == [("changes.maitre1.nom", "field_not_amendable")]
    with pytest.raises(InvalidValues) as refused:
        check_request(AmendmentRequest(36, date(2028, 6, 1), {"contrat": {"dateConclusion": "2026-01-01"}}), START, END)
    assert codes(refused.value) == [("changes.contrat.dateConclusion", "set_by_amendment")]


def test_the_effect_date_is_asked_for_31_to_37_and_lies_within_the_contract() -> None:
    with pytest.raises(InvalidValues) as refused:
        check_request(AmendmentRequest(36, None, {"maitre1": {"nom": "B"}}), START, END)
    assert codes(refused.value) == [("dateEffetAvenant", "required")]
    with pytest.raises(InvalidValues) as refused:
        check_request(AmendmentRequest(36, date(2028, 9, 1), {"maitre1": {"nom": "B"}}), START, END)
    assert codes(refused.value) == [("dateEffetAvenant", "outside_contract")]
    assert check_request(AmendmentRequest(36, END, {"maitre1": {"nom": "B"}}), START, END).code == 36
    assert check_request(AmendmentRequest(38, None, {"etablissementFormation": {"denomination": "X"}}), START, END)
    with pytest.raises(InvalidValues) as refused:
        check_request(AmendmentRequest(30, None, {}), START, END)
    assert codes(refused.value) == [("typeContratApp", "unknown_amendment_type"), ("changes", "no_changes")]


def test_the_amended_cerfa_carries_the_avenants_own_fields(complete_cerfa: dict[str, Any]) -> None:
    request = AmendmentRequest(33, date(2028, 6, 1), PROLONGATION)
    after = amended_cerfa(complete_cerfa, request, AMENDMENT_TYPES[33], 2, "069202609NC0001")
    assert after.contrat is not None
    assert (after.contrat.typeContratApp, after.contrat.noAvenant) == (33, "2")
    assert (after.contrat.numeroContratPrecedent, after.contrat.dateEffetAvenant) == (
        "069202609NC0001",
        date(2028, 6, 1),
    )
    assert after.contrat.dateFinContrat == date(2029, 8, 31)


def test_a_prolongation_adds_a_year_and_moves_the_last_proof_instalment(complete_cerfa: dict[str, Any]) -> None:
    """2025 regime (concluded 2026-07-10), NPEC 8,000 €, level 5 (no employer participation). Before: two full years,
    8,000 € each, E1–E8; E8 (10 %, 800 €) opens on the contract's end, 2028-08-31. After the prolongation to
    2029-08-31: E8 opens the day after year 2 ends (2028-09-01), and year 3 adds E9–E12: 40/30/20/10 % of 8,000 € =
    3,200, 2,400, 1,600, 800 €. Total 16,000 → 24,000 €."""
    before = parse_cerfa(complete_cerfa)
    after = amended_cerfa(
        complete_cerfa, AmendmentRequest(33, date(2028, 6, 1), PROLONGATION), AMENDMENT_TYPES[33], 1, None
    )
    effect = funding_effect(before, after, "8000.00", [])
    assert effect.before is not None
    assert effect.after is not None
    assert (effect.before.total, effect.after.total) == (Decimal("16000.00"), Decimal("24000.00"))
    assert effect.to_recheck == (8, 9, 10, 11, 12)
    year_3 = [i.amount for i in effect.after.instalments if i.year == 3]
    assert year_3 == [Decimal("3200.00"), Decimal("2400.00"), Decimal("1600.00"), Decimal("800.00")]
    assert effect.after.instalments[7].opens_on == date(2028, 9, 1)


def test_without_an_npec_every_echeance_of_the_opco_is_to_recheck(complete_cerfa: dict[str, Any]) -> None:
    before = parse_cerfa(complete_cerfa)
    effect = funding_effect(before, before, None, [{"numero": 2}, {"numero": 1}])
    assert (effect.after, effect.to_recheck) == (None, (1, 2))
    assert effect.missing[0]["field"] == "npec"


def test_which_avenants_change_the_funding(complete_cerfa: dict[str, Any]) -> None:
    before = parse_cerfa(complete_cerfa)
    shorter = parse_cerfa({**complete_cerfa, "contrat": {**complete_cerfa["contrat"], "dateFinContrat": "2028-06-30"}})
    assert changes_funding(AMENDMENT_TYPES[33], before, before)
    assert changes_funding(AMENDMENT_TYPES[36], before, shorter)
    assert not changes_funding(AMENDMENT_TYPES[36], before, before)
    assert not changes_funding(AMENDMENT_TYPES[37], before, shorter)


def test_an_employer_routed_to_another_opco_is_flagged(complete_cerfa: dict[str, Any]) -> None:
    routing = IdccRouting({"1486": Opco.ATLAS, "1596": Opco.CONSTRUCTYS})
    before = parse_cerfa(complete_cerfa)
    moved = parse_cerfa({**complete_cerfa, "employeur": {**complete_cerfa["employeur"], "codeIdcc": "1596"}})
    change = opco_change(AMENDMENT_TYPES[31], before, moved, "ATLAS", routing)
    assert change is not None
    assert change.as_record() == {"from": "ATLAS", "to": "CONSTRUCTYS"}
    assert opco_change(AMENDMENT_TYPES[31], before, before, "ATLAS", routing) is None
    assert opco_change(AMENDMENT_TYPES[36], before, moved, "ATLAS", routing) is None  # 36 never changes the employer


@dataclass
class Accepted:
    number: int
    changes: dict[str, Any]
    in_effect_on: date | None


def test_the_contract_at_a_date_applies_the_accepted_avenants_in_effect_then() -> None:
    initial = {"maitre1": {"nom": "A"}, "contrat": {"dateFinContrat": "2028-08-31"}}
    first = Accepted(1, {"maitre1": {"nom": "B"}}, date(2027, 1, 4))
    second = Accepted(2, {"contrat": {"dateFinContrat": "2029-08-31"}}, date(2026, 12, 1))
    pending = Accepted(3, {"maitre1": {"nom": "C"}}, None)
    assert cerfa_at(initial, [first, second, pending], date(2026, 11, 30)) == initial
    assert cerfa_at(initial, [first, second, pending], date(2027, 1, 3))["contrat"]["dateFinContrat"] == "2029-08-31"
    assert cerfa_at(initial, [first, second, pending], date(2027, 1, 4))["maitre1"] == {"nom": "B"}
    assert cerfa_now(initial, [first, second, pending])["maitre1"] == {"nom": "B"}


def amendment(effects: dict[str, Any] | None = None) -> Amendment:
    return Amendment(
        contract_id=uuid4(),
        number=1,
        cfa_siret="79852413800012",
        opco="ATLAS",
        numero_interne="C-1-AV1",
        type_code=36,
        effect_date=date(2027, 1, 4),
        changes={"maitre1": {"nom": "B"}},
        cerfa={},
        dossier={"numeroInterne": "C-1", "numeroExterne": "ATLAS-2026-000001", "numeroDeca": "069202609NC0001"},
        effects=effects or {"funding": None, "opcoChange": None},
        actor="token:t",
    )


def sent(shape_numero: str, etat: str | None = "TRANSMIS") -> Amendment:
    a = amendment()
    a.record_mandate(date(2026, 10, 1), {"nom": "M", "prenom": "C", "qualite": "G"}, "token:t", date(2026, 12, 1))
    a.submit([], "token:t")
    a.start_transmission("worker")
    a.record_sent(numero_externe=shape_numero, etat=etat, found_by_lookup=False, opco_numero_interne=None, actor="w")
    return a


def test_no_submission_without_the_mandate() -> None:
    a = amendment()
    with pytest.raises(SubmissionBlocked) as blocked:
        a.submit([], "token:t")
    assert [p.code for p in blocked.value.problems] == ["mandate_missing"]


def test_a_new_dossier_follows_its_own_states_until_accepted() -> None:
    a = sent("ATLAS-2026-000009")
    assert (a.state, a.answer_shape) == (AmendmentState.SENT, AnswerShape.NEW_DOSSIER)
    a.record_opco_state(etat="ENGAGE", commentaire=None, numero_deca="069202609NC0001", no_avenant="1", actor="w")
    assert (a.state, a.no_avenant, a.in_effect_on) == (AmendmentState.ACCEPTED, "1", date(2027, 1, 4))


def test_an_updated_first_dossier_speaks_for_the_avenant_once_it_left_engage() -> None:
    a = sent("ATLAS-2026-000001", etat="ENGAGE")
    assert (a.state, a.answer_shape) == (AmendmentState.SENT, AnswerShape.UPDATES_FIRST)
    a.record_opco_state(etat="ENGAGE", commentaire="x", numero_deca=None, no_avenant=None, actor="w")
    assert a.state is AmendmentState.SENT  # still the contract's own acceptance
    a.record_opco_state(etat="EN_COURS_INSTRUCTION", commentaire=None, numero_deca=None, no_avenant=None, actor="w")
    a.record_opco_state(etat="ENGAGE", commentaire=None, numero_deca=None, no_avenant=None, actor="w")
    assert a.state.value == "accepted"


def test_flags_wait_for_a_review_and_sending_forbids_withdrawal() -> None:
    flagged = amendment({"funding": {"echeancesToRecheck": [8]}, "opcoChange": {"from": "ATLAS", "to": None}})
    assert flagged.waiting_for == ["echeances_to_recheck", "opco_change"]
    flagged.mark_reviewed("token:t")
    assert flagged.waiting_for == []
    a = sent("ATLAS-2026-000009")
    with pytest.raises(NotAllowedInState):
        a.withdraw(None, "token:t")
