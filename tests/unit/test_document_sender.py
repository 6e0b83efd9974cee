"""Documents (conventions, certificats) kept for a contract and sent by the Sender with the DocumentChannel, on the
in-memory store against a fake OPCO: each reaches the OPCO once; a lost answer parks it for a person, since no
route looks a document up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from application.access.access import OPERATOR
from application.dossiers import Dossiers
from application.opco.document_channel import DocumentChannel
from application.opco.document_transmissions import DOCUMENT_TOPICS
from application.opco.opco_accounts import OpcoAccounts
from application.opco.opco_documents import ContractDocuments, DocumentUpload
from application.opco.opco_gateway import OpcoEndpoint, RefusedByOpco, TransientOpcoError
from application.opco.sender import Sender, SenderPolicy
from application.opco.transmissions import QueuedTransmission, QueueStatus
from domain.contracts.contract import Contract
from domain.errors import NotAllowedInState, RulesConflict
from domain.opco.opco_auth import AuthFlavour
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opco_documents.document import DocumentState, OpcoDocument
from domain.opco.opco_documents.kinds import DocumentKind, DocumentRoute
from domain.opco.opcos import Opco
from infrastructure.documents.store import SqlDocumentStore
from infrastructure.store.sql_store import open_sql_store
from tests.invoicing import CFA, accepted_contract
from tests.support import dossiers, principal
from tests.unit.fakes import (
    SEND_CONVENTION,
    SEND_DOCUMENT,
    AnswerLost,
    FakeGateway,
    MemoryContactLog,
    MemoryTransmissionsView,
    MovableClock,
    PlainBox,
)

WHO = principal(CFA)
POLICY = SenderPolicy(max_failures=3, backoff_base=timedelta(seconds=2), backoff_cap=timedelta(minutes=1))
LATER = timedelta(minutes=5)
PDF = b"%PDF-1.4\n% a signed convention\n%%EOF\n"
LOST = TransientOpcoError("the exchange broke after the request was sent", may_have_reached=True)


@dataclass
class Rig:
    app: Dossiers
    documents: ContractDocuments
    gateway: FakeGateway
    clock: MovableClock
    sender: Sender
    view: MemoryTransmissionsView
    accounts: OpcoAccounts

    def endpoint(self) -> OpcoEndpoint:
        endpoint = self.accounts.endpoint(CFA, Opco.ATLAS)
        assert endpoint is not None
        return endpoint

    def send(self, document: OpcoDocument) -> OpcoDocument:
        item = QueuedTransmission(document.id, CFA, "ATLAS", str(document.reference), self.clock.now())
        self.sender.send(item, self.endpoint())
        return self.documents.document_as_worker(document.id)

    def later(self) -> None:
        self.clock.advance(LATER)


@pytest.fixture
def rig() -> Iterator[Rig]:
    app = dossiers()
    profiles = {
        opco: replace(profile, base_url="http://opco.test", auth=AuthFlavour.KEY_ONLY)
        for opco, profile in CATALOGUE.items()
    }
    accounts = OpcoAccounts(app, PlainBox(), profiles, MemoryContactLog())
    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key="atlas-key-0001")
    documents = ContractDocuments(app, SqlDocumentStore(open_sql_store("memory://"), 1_000_000), profiles)
    gateway, clock = FakeGateway(), MovableClock()
    view = MemoryTransmissionsView(DOCUMENT_TOPICS)
    sender = Sender(DocumentChannel(documents, gateway), accounts, clock, POLICY)
    yield Rig(app, documents, gateway, clock, sender, view, accounts)
    app.close()


@pytest.fixture
def contract(rig: Rig, complete_cerfa: dict[str, Any]) -> Contract:
    return accepted_contract(rig.app, WHO, complete_cerfa)


def convention(rig: Rig, contract: Contract, content: bytes = PDF) -> OpcoDocument:
    upload = DocumentUpload(DocumentKind.CONVENTION_FORMATION, content, "convention.pdf")
    return rig.documents.keep(WHO, contract.id, upload).document


def test_a_convention_on_a_contract_at_the_opco_is_queued_for_its_route(rig: Rig, contract: Contract) -> None:
    document = convention(rig, contract)
    assert (document.state, document.opco, document.route) == (DocumentState.SUBMITTED, "ATLAS", "conventions")
    assert document.objects == [{"typeObjet": "DOSSIER_APPRENTISSAGE", "idObjet": contract.opco_reference}]
    rig.view.catch_up(rig.app)
    due = rig.view.due(datetime.now(UTC) + timedelta(days=1), 10, CFA, "ATLAS")
    assert [row.contract_id for row in due] == [document.id]


def test_the_same_file_again_is_the_same_document(rig: Rig, contract: Contract) -> None:
    first = convention(rig, contract)
    again = rig.documents.keep(WHO, contract.id, DocumentUpload(DocumentKind.CONVENTION_FORMATION, PDF, "x.pdf"))
    assert (again.document.id, again.created) == (first.id, False)
    assert [d.id for d in rig.documents.documents(WHO, contract.id)] == [first.id]


def test_a_convention_is_sent_once_and_the_opco_answer_kept(rig: Rig, contract: Contract) -> None:
    sent = rig.send(convention(rig, contract))
    assert sent.state is DocumentState.SENT
    assert sent.opco_answer == {"numeroInterneDocument": "D-000001"}
    [call] = rig.gateway.calls_of(SEND_CONVENTION)
    assert call.numero_interne == contract.opco_reference
    assert rig.send(sent).state is DocumentState.SENT  # sent again: nothing happens
    assert rig.gateway.documents_received(PDF) == 1


def test_a_certificat_goes_to_v1_documents_linked_to_the_invoice_and_the_dossier(rig: Rig, contract: Contract) -> None:
    upload = DocumentUpload(
        DocumentKind.CERTIFICAT_REALISATION, PDF, "certificat.pdf", numero_echeance=2, numero_interne_facture="OF-9"
    )
    document = rig.documents.keep(WHO, contract.id, upload).document
    assert document.route == DocumentRoute.DOCUMENTS.value
    assert document.objects == [
        {"typeObjet": "FACTURE", "idObjet": "OF-9"},
        {"typeObjet": "DOSSIER_APPRENTISSAGE", "idObjet": contract.opco_reference},
    ]
    assert rig.send(document).state is DocumentState.SENT
    [call] = rig.gateway.calls_of(SEND_DOCUMENT)
    assert call.numero_interne == "CERTIFICAT_REALISATION"


def test_a_5xx_is_retried_after_its_backoff(rig: Rig, contract: Contract) -> None:
    rig.gateway.script(SEND_CONVENTION, TransientOpcoError("503", may_have_reached=False))
    failed = rig.send(convention(rig, contract))
    assert (failed.state, failed.transmission["parked"], failed.answer_lost) == (DocumentState.SUBMITTED, False, False)
    rig.later()
    assert rig.send(failed).state is DocumentState.SENT
    assert len(rig.gateway.calls_of(SEND_CONVENTION)) == 2
    assert rig.gateway.documents_received(PDF) == 1


def test_a_lost_answer_parks_the_document_and_it_is_never_resent_by_itself(rig: Rig, contract: Contract) -> None:
    rig.gateway.script(SEND_CONVENTION, AnswerLost(LOST))
    lost = rig.send(convention(rig, contract))
    assert lost.answer_lost
    assert lost.state is DocumentState.SUBMITTED
    rig.later()
    parked = rig.send(lost)
    assert parked.transmission["parked"]
    assert "check at the OPCO" in parked.transmission["parkedReason"].replace("Check", "check")
    for _ in range(3):
        rig.later()
        rig.send(parked)
    assert len(rig.gateway.calls_of(SEND_CONVENTION)) == 1
    assert rig.gateway.documents_received(PDF) == 1
    rig.view.catch_up(rig.app)
    assert rig.view.counts().get(QueueStatus.PARKED.value) == 1


def test_a_person_marks_a_lost_document_received(rig: Rig, contract: Contract) -> None:
    rig.gateway.script(SEND_CONVENTION, AnswerLost(LOST))
    document = rig.send(convention(rig, contract))
    rig.later()
    rig.send(document)
    received = rig.documents.confirm_received(WHO, contract.id, document.id).document
    assert (received.state, received.received_confirmed_by) == (DocumentState.SENT, WHO.actor)
    assert received.transmission["history"][-1]["outcome"] == "failed"
    rig.later()
    rig.send(received)
    assert len(rig.gateway.calls_of(SEND_CONVENTION)) == 1


def test_a_person_resumes_a_lost_document_and_it_is_sent_again(rig: Rig, contract: Contract) -> None:
    rig.gateway.script(SEND_CONVENTION, TransientOpcoError("timeout", may_have_reached=True))  # did not reach
    document = rig.send(convention(rig, contract))
    rig.later()
    rig.send(document)
    resumed = rig.documents.resume(WHO, contract.id, document.id).document
    assert not resumed.transmission["parked"]
    assert not resumed.answer_lost
    assert rig.send(resumed).state is DocumentState.SENT
    assert len(rig.gateway.calls_of(SEND_CONVENTION)) == 2


def test_a_crash_during_an_attempt_parks_the_document(rig: Rig, contract: Contract) -> None:
    document = convention(rig, contract)
    rig.documents.change_as_worker(document.id, lambda d: d.start_transmission("worker"))
    rig.later()  # past the in-flight timeout: the attempt's outcome will never come
    parked = rig.send(document)
    assert parked.transmission["parked"]
    assert parked.transmission["history"][-1]["outcome"] == "unconfirmed"
    assert rig.gateway.calls_of(SEND_CONVENTION) == []


def test_a_refusal_is_recorded(rig: Rig, contract: Contract) -> None:
    rig.gateway.script(SEND_CONVENTION, RefusedByOpco(400, ["fichier: illisible"]))
    refused = rig.send(convention(rig, contract))
    assert (refused.state, refused.opco_comment) == (DocumentState.REFUSED, "fichier: illisible")


def test_a_document_of_a_contract_not_at_its_opco_waits_with_the_reason(
    rig: Rig, complete_cerfa: dict[str, Any]
) -> None:
    from domain.contracts.cerfa_document import parse_cerfa

    draft = rig.app.create_contract(WHO, cerfa=parse_cerfa(complete_cerfa), numero_interne="C-9", opco=None).contract
    document = convention(rig, draft)
    assert document.state is DocumentState.WAITING
    assert "drafted" in str(document.waiting_reason)
    with pytest.raises(RulesConflict):
        rig.documents.submit(WHO, draft.id, document.id)


def test_no_route_at_opco_sante_keeps_the_document_waiting(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    contract = accepted_contract(rig.app, WHO, complete_cerfa, "C-2", opco=Opco.SANTE)
    document = convention(rig, contract)
    assert document.state is DocumentState.WAITING
    assert "SANTE takes no CONVENTION_FORMATION" in str(document.waiting_reason)


def test_only_a_parked_document_can_be_resumed(rig: Rig, contract: Contract) -> None:
    document = convention(rig, contract)
    with pytest.raises(NotAllowedInState):
        rig.documents.resume(WHO, contract.id, document.id)
