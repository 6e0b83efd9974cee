"""The document sent to an OPCO: its states, and events named like the contracts' so the one queue reads them."""

from __future__ import annotations

from uuid import uuid4

import pytest

from application.opco.document_transmissions import DOCUMENT_TOPICS
from application.opco.transmissions import QueueStatus, row_changes
from domain.documents import DocumentRef, MediaType
from domain.errors import NotAllowedInState
from domain.opco.opco_documents.document import DocumentState, OpcoDocument, document_id
from domain.opco.opco_documents.kinds import DocumentKind

REF = DocumentRef.of(b"%PDF-1.4\n", MediaType.PDF)
OBJECTS = [{"typeObjet": "DOSSIER_APPRENTISSAGE", "idObjet": "NI-1"}]


def kept() -> OpcoDocument:
    return OpcoDocument.keep(
        contract_id=uuid4(),
        cfa_siret="79852413800012",
        kind=DocumentKind.CONVENTION_FORMATION,
        ref=REF,
        file_name=None,
        details={},
        actor="token:t",
    )


def submitted() -> OpcoDocument:
    document = kept()
    document.submit(opco="ATLAS", route="conventions", objects=OBJECTS, reference="C-1/CONV", actor="token:t")
    return document


def test_its_id_is_its_contract_kind_and_content() -> None:
    document = kept()
    assert document.id == document_id(document.contract_id, DocumentKind.CONVENTION_FORMATION, REF.digest)
    assert document.state is DocumentState.WAITING


def test_waiting_for_the_same_reason_twice_records_it_once() -> None:
    document = kept()
    document.wait("the contract is drafted", "token:t")
    document.wait("the contract is drafted", "token:t")
    assert [type(e).__name__ for e in document.collect_events()] == ["Kept", "Held"]


def test_its_transmission_events_feed_the_one_queue() -> None:
    document = submitted()
    document.start_transmission("worker")
    document.record_sent(answer={"numeroInterneDocument": "D-1"}, etat=None, actor="worker")
    events = document.collect_events()
    names = [type(e).__name__ for e in events]
    assert names == ["Kept", "SubmissionRequested", "TransmissionStarted", "Sent"]
    for name in ("SubmissionRequested", "Sent"):
        assert f"domain.opco.opco_documents.document:OpcoDocument.{name}" in DOCUMENT_TOPICS
    [requested] = row_changes(events[1])
    assert (requested.status, requested.new_row and requested.new_row.numero_interne) == (
        QueueStatus.PENDING,
        "C-1/CONV",
    )
    assert row_changes(events[-1])[0].status is QueueStatus.DONE
    assert document.state is DocumentState.SENT


def test_an_attempt_without_outcome_parked_ends_unconfirmed_and_a_resume_clears_it() -> None:
    document = submitted()
    document.start_transmission("worker")
    assert document.unconfirmed_attempt  # no outcome yet: after the in-flight timeout, a crash
    document.park_unconfirmed("worker")
    assert document.transmission["history"][-1]["outcome"] == "unconfirmed"
    assert "attempt 1" in document.transmission["parkedReason"]
    document.resume_transmission("token:t")
    assert not document.unconfirmed_attempt


def test_only_a_submitted_document_is_marked_received() -> None:
    with pytest.raises(NotAllowedInState):
        kept().confirm_received("token:t")
