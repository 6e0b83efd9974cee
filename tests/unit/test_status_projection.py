"""The status projection: rows derived from the events of real Contract aggregates, step by step."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from application.read_models.status import STORED_FIELDS, StatusRow, list_item, row_from_stored
from application.read_models.status_projection import (
    Memo,
    ProblemCounts,
    UnknownDossier,
    _assess,
    normalise_name,
    problem_count,
    project,
    search_column,
    search_words,
)
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import Contract
from domain.opco.opcos import Opco
from infrastructure.read_models.status_schema import VERSION_COLUMNS
from infrastructure.read_models.status_view import _record
from infrastructure.reference_data import idcc_routing
from tests.support import with_changes

ROUTING = idcc_routing()
TODAY = date(2026, 11, 27)
SIGNATORY = {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}
WORKER = "worker"
CFA = "79852413800012"  # the examples' CFA


class Feed:
    """Projects the pending events of one aggregate, numbering them as a log would, memo round-tripped as JSON."""

    def __init__(self, start: int = 100) -> None:
        self.memo: Memo | None = None
        self.position = start
        self.rows: list[StatusRow | None] = []

    def __call__(self, contract: Contract) -> StatusRow | None:
        row = None
        for event in contract.collect_events():
            self.position += 1
            memo, row = project(event, self.memo, self.position, ROUTING)
            self.memo = json.loads(json.dumps(memo))  # what the store keeps
            self.rows.append(row)
        return row


def draft(document: dict[str, Any], numero: str = "A-1", opco: Opco | None = None) -> Contract:
    return Contract.draft(
        cfa_siret=document.get("organismeFormation", {}).get("siret", CFA),
        numero_interne=numero,
        cerfa=parse_cerfa(document),
        opco=opco,
        actor="token:alice",
    )


def mandate(contract: Contract) -> None:
    contract.record_mandate(
        signed_on=date(2026, 6, 1), signatory=SIGNATORY, document_sha256=None, actor="token:alice", today=TODAY
    )


def submitted(document: dict[str, Any], feed: Feed) -> Contract:
    contract = draft(document)
    mandate(contract)
    contract.submit(ROUTING, "token:alice")
    feed(contract)
    return contract


def shown(row: StatusRow | None) -> StatusRow:
    assert row is not None
    return row


def agrees(row: StatusRow | None, contract: Contract) -> StatusRow:
    """The row says what the aggregate says: state, problems, OPCO, mandate."""
    row = shown(row)
    assert row.state == contract.state.value
    assert row.problem_count == len(contract.problems(ROUTING))
    opco = contract.effective_opco(ROUTING)
    assert row.opco == (opco.value if opco else None)
    assert row.has_mandate is (contract.mandate is not None)
    assert row.contract_id == contract.id
    return row


def test_a_draft_shows_its_cerfa_fields_its_routed_opco_and_its_problems(complete_cerfa: dict[str, Any]) -> None:
    feed = Feed()
    contract = draft(complete_cerfa)
    row = agrees(feed(contract), contract)
    assert row.apprentice_name == "MARTIN Léa"
    assert (row.employer_name, row.employer_siret) == ("Nébula Conseil", "84213657400022")
    assert row.formation_rncp == "RNCP35340"
    assert row.formation_title is not None
    assert row.formation_title.startswith("BTS Services informatiques")
    assert (row.start_date, row.end_date) == (date(2026, 9, 1), date(2028, 8, 31))
    assert (row.cfa_siret, row.numero_interne) == (CFA, "A-1")
    assert (row.state, row.opco, row.problem_count) == ("drafted", "ATLAS", 1)  # only the mandate is missing
    assert row.created_at == row.updated_at
    assert row.created_at.tzinfo is not None
    assert (row.submitted_at, row.sent_at, row.commitment, row.position) == (None, None, None, 101)


def test_the_workplace_departement_follows_the_employers_postcode(complete_cerfa: dict[str, Any]) -> None:
    """The deposit deadline counts the holidays of the employer's département: the row keeps it, past the draft
    states too (the Cerfa is then no longer in the memo)."""
    feed = Feed()
    contract = draft(complete_cerfa)  # 69002 Lyon
    assert shown(feed(contract)).workplace_departement == "69"
    contract.patch_cerfa({"employeur": {"adresse": {"codePostal": "57000", "commune": "Metz"}}}, "token:alice")
    assert shown(feed(contract)).workplace_departement == "57"
    mandate(contract)
    contract.submit(ROUTING, "token:alice")
    assert shown(feed(contract)).workplace_departement == "57"
    contract.start_transmission(WORKER)
    contract.record_sent(numero_externe="EXT-1", etat="TRANSMIS", found_by_lookup=False, actor=WORKER)
    assert shown(feed(contract)).workplace_departement == "57"


def test_no_postcode_no_departement(draft_cerfa: dict[str, Any]) -> None:
    document = with_changes(draft_cerfa, employeur={"adresse": None})
    assert shown(Feed()(draft(document))).workplace_departement is None


def test_every_draft_change_recounts_the_problems_as_the_aggregate_does(
    draft_cerfa: dict[str, Any], complete_cerfa: dict[str, Any]
) -> None:
    feed = Feed()
    contract = draft(draft_cerfa)
    first = agrees(feed(contract), contract)
    assert first.problem_count > 3
    assert first.apprentice_name == "PETIT Hugo"
    contract.replace_cerfa(parse_cerfa(complete_cerfa), "token:alice")
    assert agrees(feed(contract), contract).problem_count == 1
    contract.patch_cerfa({"apprenti": {"nom": "Dupré-Lefèvre"}, "contrat": {"dateFinContrat": "2028-07-31"}}, "t")
    patched = agrees(feed(contract), contract)
    assert (patched.apprentice_name, patched.end_date) == ("DUPRÉ-LEFÈVRE Léa", date(2028, 7, 31))
    contract.choose_opco(Opco.AKTO, "token:alice")
    assert agrees(feed(contract), contract).opco == "AKTO"
    contract.choose_opco(None, "token:alice")
    assert agrees(feed(contract), contract).opco == "ATLAS"
    mandate(contract)
    row = agrees(feed(contract), contract)
    assert (row.state, row.problem_count, row.has_mandate) == ("mandate_checked", 0, True)
    assert row.updated_at > row.created_at
    assert row.position == 106


def test_an_opco_choice_clears_an_opco_required_problem(complete_cerfa: dict[str, Any]) -> None:
    feed = Feed()
    document = {**complete_cerfa, "employeur": {**complete_cerfa["employeur"], "codeIdcc": "9999"}}
    contract = draft(document)
    before = agrees(feed(contract), contract)
    contract.choose_opco(Opco.OPCOEP, "token:alice")
    after = agrees(feed(contract), contract)
    assert (before.opco, after.opco, before.problem_count - after.problem_count) == (None, "OPCOEP", 1)


def test_the_whole_journey_to_the_funding_commitment(complete_cerfa: dict[str, Any]) -> None:
    feed = Feed()
    contract = submitted(complete_cerfa, feed)
    row = agrees(feed.rows[-1], contract)
    assert (row.state, row.problem_count, row.opco, row.submitted_at) == ("submitted", 0, "ATLAS", row.updated_at)
    assert feed.memo is not None
    assert feed.memo["cerfa"] is None
    contract.start_transmission(WORKER)
    contract.record_transmission_failure(error="timeout", transient=True, retry_at=None, actor=WORKER)
    assert feed(contract) is None
    assert feed.rows[-2:] == [None, None]
    contract.park_transmission("8 failures", WORKER)
    assert agrees(feed(contract), contract).parked is True
    contract.resume_transmission(WORKER)
    assert agrees(feed(contract), contract).parked is False
    contract.start_transmission(WORKER)
    contract.record_sent(numero_externe="EXT-1", etat=None, found_by_lookup=False, actor=WORKER)
    sent = agrees(feed(contract), contract)
    assert (sent.state, sent.numero_externe, sent.sent_at) == ("sent", "EXT-1", sent.updated_at)
    contract.record_opco_state(
        etat="EN_COURS_INSTRUCTION", commentaire=None, numero_externe=None, numero_deca=None, actor=WORKER
    )
    assert agrees(feed(contract), contract).state == "in_review"
    contract.record_opco_state(etat="MYSTERE", commentaire="?", numero_externe=None, numero_deca=None, actor=WORKER)
    odd = agrees(feed(contract), contract)
    assert (odd.state, odd.opco_state, odd.numero_externe) == ("in_review", "MYSTERE", "EXT-1")
    contract.record_opco_state(etat="ENGAGE", commentaire=None, numero_externe=None, numero_deca="DECA-9", actor=WORKER)
    contract.record_commitment(engagement="15234.50", echeances=[], actor=WORKER)
    final = agrees(feed(contract), contract)
    assert (final.state, final.numero_deca, final.opco_state) == ("accepted", "DECA-9", "ENGAGE")
    assert final.commitment == Decimal("15234.50")
    assert final.sent_at == sent.sent_at


def test_a_refusal_when_sent(complete_cerfa: dict[str, Any]) -> None:
    feed = Feed()
    contract = submitted(complete_cerfa, feed)
    contract.start_transmission(WORKER)
    contract.record_refusal(["siret inconnu"], WORKER)
    row = agrees(feed(contract), contract)
    assert (row.state, row.sent_at) == ("refused", None)


def test_an_opco_state_heals_a_lost_sending_even_unknown(complete_cerfa: dict[str, Any]) -> None:
    feed = Feed()
    contract = submitted(complete_cerfa, feed)
    contract.record_opco_state(etat="MYSTERE", commentaire=None, numero_externe="EXT-7", numero_deca=None, actor=WORKER)
    row = agrees(feed(contract), contract)
    assert (row.state, row.numero_externe, row.sent_at) == ("sent", "EXT-7", row.updated_at)


def test_a_cancelled_draft_has_no_problem_left(draft_cerfa: dict[str, Any]) -> None:
    feed = Feed()
    contract = draft(draft_cerfa)
    feed(contract)
    contract.cancel("doublon", "token:alice")
    row = agrees(feed(contract), contract)
    assert (row.state, row.problem_count) == ("cancelled", 0)


def test_problems_are_recomputed_only_when_cerfa_opco_or_mandate_change(
    complete_cerfa: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    parses: list[object] = []

    def counting(document: dict[str, Any]) -> Any:
        parses.append(document)
        return parse_cerfa(document)

    monkeypatch.setattr("application.read_models.status_projection.parse_cerfa", counting)
    feed = Feed()
    contract = draft(complete_cerfa)
    contract.choose_opco(Opco.AKTO, "token:alice")
    mandate(contract)
    feed(contract)
    assert len(parses) == 2  # the draft and the OPCO choice; the mandate's count follows from the previous one
    contract.submit(ROUTING, "token:alice")
    contract.start_transmission(WORKER)
    contract.record_sent(numero_externe="EXT-1", etat="TRANSMIS", found_by_lookup=False, actor=WORKER)
    contract.record_opco_state(etat="ENGAGE", commentaire=None, numero_externe=None, numero_deca="D", actor=WORKER)
    assert shown(feed(contract)).state == "accepted"
    assert len(parses) == 2


def test_the_callers_memo_is_left_as_it_was(complete_cerfa: dict[str, Any]) -> None:
    contract = draft(complete_cerfa)
    mandate(contract)
    drafted, mandated = contract.collect_events()
    memo, _ = project(drafted, None, 1, ROUTING)
    assert memo is not None
    before = json.dumps(memo, sort_keys=True)
    after, row = project(mandated, memo, 2, ROUTING)
    assert json.dumps(memo, sort_keys=True) == before
    assert after is not None
    assert after["has_mandate"] is True
    assert shown(row).position == 2


def test_an_event_of_a_dossier_never_drafted_is_refused(complete_cerfa: dict[str, Any]) -> None:
    contract = draft(complete_cerfa)
    mandate(contract)
    _, mandated = contract.collect_events()
    with pytest.raises(UnknownDossier):
        project(mandated, None, 7, ROUTING)


@dataclass(frozen=True)
class Drafted:
    """A Drafted event as stored under older format rules (the real class would refuse its Cerfa)."""

    originator_id: Any
    timestamp: datetime
    cfa_siret: str
    numero_interne: str
    cerfa: dict[str, Any]
    opco: str | None


def test_a_cerfa_stored_under_older_rules_counts_its_format_problems(complete_cerfa: dict[str, Any]) -> None:
    document = {**complete_cerfa, "apprenti": {**complete_cerfa["apprenti"], "nir": "not a NIR"}}
    event = Drafted(uuid4(), datetime(2026, 1, 2, tzinfo=UTC), "1", "A", document, None)
    _, row = project(event, None, 3, ROUTING)
    assert shown(row).problem_count == 2  # the NIR, and the missing mandate


def test_names_are_normalised_for_the_search() -> None:
    assert normalise_name("DUPRÉ-LEFÈVRE  Léa") == "dupre lefevre lea"
    assert normalise_name("d'Œuvre Ærø Straße") == "d oeuvre aero strasse"
    assert normalise_name(None) == ""
    assert normalise_name("42 !") == ""
    assert search_column("MARTIN Léa") == " martin lea"
    assert search_words("  lé, MAR ") == ["le", "mar"]
    assert search_words("%_") == []


def _variants(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document with each field of each section left out in turn, and a few employer and OPCO cases."""
    found = [document]
    for section, fields in document.items():
        if isinstance(fields, dict):
            for name in fields:
                found.append({**document, section: {k: v for k, v in fields.items() if k != name}})
    employer = document.get("employeur", {})
    for idcc in ("9999", "9998", "1486", "0000", "3248"):
        found.append({**document, "employeur": {**employer, "codeIdcc": idcc}})
    found.append({**document, "employeur": {**employer, "typeEmployeur": 21}})
    return found


def test_a_mandate_removes_exactly_the_mandate_missing_problem_on_many_documents(
    complete_cerfa: dict[str, Any], draft_cerfa: dict[str, Any]
) -> None:
    """The projection derives the count after MandateRecorded from the one before, without a check: it must stay
    what a full recount (and the aggregate) says, whatever the document, the OPCO choice or the routing."""
    checked = 0
    for document in [*_variants(complete_cerfa), *_variants(draft_cerfa)]:
        for opco in (None, Opco.AKTO):
            try:
                contract = draft(document, opco=opco)
            except Exception:  # a document the domain refuses outright makes no dossier
                continue
            feed = Feed()
            before = agrees(feed(contract), contract)
            mandate(contract)
            after = agrees(feed(contract), contract)
            assert after.problem_count == before.problem_count - 1
            assert feed.memo is not None
            recounted = dict(feed.memo)
            _assess(recounted, ROUTING)
            assert recounted["problem_count"] == after.problem_count
            checked += 1
    assert checked > 40


def test_a_mandate_on_a_cerfa_stored_under_older_rules_counts_as_a_recount(complete_cerfa: dict[str, Any]) -> None:
    feed = Feed()
    contract = draft(complete_cerfa)
    feed(contract)
    assert feed.memo is not None
    older = {**feed.memo, "cerfa": {**complete_cerfa, "apprenti": {**complete_cerfa["apprenti"], "nir": "12"}}}
    _assess(older, ROUTING)
    assert older["problem_count"] > 1
    mandate(contract)
    [event] = contract.collect_events()
    memo, row = project(event, older, 200, ROUTING)
    assert memo is not None
    recounted = dict(memo)
    _assess(recounted, ROUTING)
    assert shown(row).problem_count == recounted["problem_count"] == older["problem_count"] - 1


def journey_events(document: dict[str, Any]) -> list[Any]:
    """Every kind of event a dossier's row shows, in the order a dossier may have them (a draft that cannot be
    submitted is cancelled)."""
    contract = draft(document)
    contract.patch_cerfa({"apprenti": {"telephone": "0612345678"}}, "token:alice")
    contract.choose_opco(Opco.AKTO, "token:alice")
    mandate(contract)
    if contract.problems(ROUTING):
        contract.cancel("incomplet", "token:alice")
        return list(contract.collect_events())
    contract.submit(ROUTING, "token:alice")
    contract.start_transmission(WORKER)
    contract.record_sent(numero_externe="EXT-1", etat="TRANSMIS", found_by_lookup=False, actor=WORKER)
    contract.record_opco_state(etat="ENGAGE", commentaire=None, numero_externe=None, numero_deca="D-1", actor=WORKER)
    contract.record_commitment(engagement="1234.5", echeances=[], actor=WORKER)
    return list(contract.collect_events())


def test_the_stored_version_reads_back_as_the_row(complete_cerfa: dict[str, Any], draft_cerfa: dict[str, Any]) -> None:
    """What the view stores of a memo (infrastructure.read_models.status_view._record) reads back
    (application.read_models.status.row_from_stored) as the row the memo shows, and carries that row's list item."""
    for document in (complete_cerfa, draft_cerfa):
        memo: Memo | None = None
        for position, event in enumerate(journey_events(document), start=10):
            memo, row = project(event, memo, position, ROUTING)
            if row is None:
                continue
            assert memo is not None
            record = _record(str(event.originator_id), json.loads(json.dumps(memo)))
            assert tuple(record) == VERSION_COLUMNS
            assert record["apprentice_search"] == search_column(row.apprentice_name)
            stored = tuple(record["valid_from" if field == "position" else field] for field in STORED_FIELDS)
            assert row_from_stored(stored) == row
            assert json.loads(record["item"]) == list_item(row)  # what a page of the API sends for it


def test_problem_counts_are_memoised_by_content_and_count_as_without(
    complete_cerfa: dict[str, Any], draft_cerfa: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    parses: list[object] = []

    def counting(document: dict[str, Any]) -> Any:
        parses.append(document)
        return parse_cerfa(document)

    monkeypatch.setattr("application.read_models.status_projection.parse_cerfa", counting)
    counts = ProblemCounts(ROUTING)
    for document in (complete_cerfa, draft_cerfa):
        plain: Memo | None = None
        memoised: Memo | None = None
        for position, event in enumerate(journey_events(document), start=1):
            plain, plain_row = project(event, plain, position, ROUTING)
            memoised, memoised_row = project(event, memoised, position, ROUTING, counts)
            assert memoised_row == plain_row
    parsed = len(parses)
    for position, event in enumerate(journey_events(complete_cerfa), start=1):  # another dossier, same documents
        memoised, _ = project(event, memoised if position > 1 else None, position, ROUTING, counts)
    assert len(parses) == parsed  # every count found in the memo
    assert ProblemCounts(ROUTING, size=1).count(draft_cerfa, None, False) == problem_count(
        draft_cerfa, None, False, ROUTING
    )
