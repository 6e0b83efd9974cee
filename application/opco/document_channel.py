"""The sender's channel for documents (application.opco.opco_documents): which route each takes, and how a lost answer
is handled without a lookup.

No route is known to look a document up at the OPCO. So where the contract and invoice channels look, this one only
knows what it recorded: an attempt that may have reached the OPCO (its answer lost, or never recorded after a crash)
parks the document for a person to check; it is never sent again by itself."""

from __future__ import annotations

import logging
import threading
from uuid import UUID

from application.access.access import WORKER
from application.opco.channels import Command
from application.opco.opco_documents import ContractDocuments
from application.opco.opco_gateway import (
    OpcoEndpoint,
    OpcoError,
    OpcoGateway,
    OutgoingCertificat,
    OutgoingConvention,
    OutgoingDocument,
    OutgoingFile,
    RefusedByOpco,
    SentDocument,
    TransientOpcoError,
)
from domain.contracts.contract import Contract
from domain.opco.opco_documents.document import OpcoDocument
from domain.opco.opco_documents.kinds import DocumentRoute

log = logging.getLogger("convergence.documents")
_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


class DocumentChannel:
    kind = "document"

    def __init__(self, documents: ContractDocuments, gateway: OpcoGateway) -> None:
        self._documents = documents
        self._gateway = gateway
        self._refused: set[UUID] = set()  # documents whose attempt in progress was answered with a refusal
        self._lock = threading.Lock()

    def load(self, ident: UUID) -> OpcoDocument:
        return self._documents.document_as_worker(ident)

    def change(self, ident: UUID, command: Command) -> None:
        self._documents.change_as_worker(ident, command)

    def change_loaded(self, item: OpcoDocument, command: Command) -> OpcoDocument:
        return self._documents.change_loaded_as_worker(item, command).document

    def start(self, item: OpcoDocument) -> Command:
        def start(document: OpcoDocument) -> None:
            document.start_transmission(WORKER.actor)

        return start

    def send(self, endpoint: OpcoEndpoint, item: OpcoDocument) -> SentDocument:
        contract = self._documents.contract_as_worker(item.contract_id)
        try:
            return self._send(endpoint, item, contract, self._file(item))
        except TransientOpcoError as error:
            if error.may_have_reached:
                message = str(error)
                self.change(item.id, lambda d: d.record_answer_lost(message, WORKER.actor))
            raise
        except RefusedByOpco:
            with self._lock:  # the Sender asks `find` next: this attempt was answered, only an earlier one may be lost
                self._refused.add(item.id)
            raise

    def record_sent(self, answer: SentDocument) -> Command:
        def sent(document: OpcoDocument) -> None:
            document.record_sent(answer=dict(answer.identifiers), etat=answer.etat, actor=WORKER.actor)

        return sent

    def find(self, endpoint: OpcoEndpoint, item: OpcoDocument) -> Command | None:
        """No lookup exists: an attempt that may have reached the OPCO parks the document instead. After a refusal,
        the refused attempt was answered: only an earlier lost answer counts (the refusal may be its duplicate)."""
        with self._lock:
            answered = item.id in self._refused
            self._refused.discard(item.id)
        if not (item.answer_lost if answered else item.unconfirmed_attempt):
            return None

        def park(document: OpcoDocument) -> None:
            document.park_unconfirmed(WORKER.actor)

        # the Sender then logs it as "already at the OPCO": it may be, and is never sent again by itself
        log.warning("document %s may be at %s already (answer lost): parked for a person to check", item.id, item.opco)
        return park

    def _send(self, endpoint: OpcoEndpoint, item: OpcoDocument, contract: Contract, file: OutgoingFile) -> SentDocument:
        route = DocumentRoute(str(item.route))
        if route is DocumentRoute.CONVENTIONS:
            convention = OutgoingConvention(
                numero_interne_dossier=contract.opco_reference,
                cerfa=contract.cerfa_model,
                mandat_employeur=True if contract.mandate is not None else None,
                file=file,
            )
            return self._gateway.send_convention(endpoint, convention)
        if route is DocumentRoute.CERTIFICATS_V2:
            return self._gateway.send_certificat(endpoint, _certificat(item, contract, file))
        objets = tuple((o["typeObjet"], o["idObjet"]) for o in item.objects)
        return self._gateway.send_document(endpoint, OutgoingDocument(item.kind, objets, file))

    def _file(self, item: OpcoDocument) -> OutgoingFile:
        found = self._documents.store.get(item.digest)
        if found is None:
            raise OpcoError(f"document {item.digest} is missing from the document store: nothing was sent")
        name = item.file_name or f"{item.kind.lower()}.{_EXTENSIONS.get(item.media_type, 'bin')}"
        return OutgoingFile(found.content, item.media_type, name)


def _certificat(item: OpcoDocument, contract: Contract, file: OutgoingFile) -> OutgoingCertificat:
    numero = int(item.details["numeroEcheance"])
    echeance = next((e for e in contract.echeances if int(e["numero"]) == numero), {"numero": numero})
    return OutgoingCertificat(
        numero_interne_dossier=contract.opco_reference,
        numero_interne_facture=item.details.get("numeroInterneFacture"),
        type_certificat=str(item.details.get("typeCertificat") or "Intermediaire"),
        echeance=echeance,
        cerfa=contract.cerfa_model,
        file=file,
    )
