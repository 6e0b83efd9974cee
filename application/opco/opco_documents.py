"""Documents sent to the OPCOs about a contract (conventions, certificats de réalisation): kept, listed, submitted.

The content goes to the document store first (its type read from the content, its size limited); the document's
aggregate references it by digest. It is queued for its OPCO when the contract is there (sent, in review, accepted)
and the catalogue knows a route for its kind; otherwise it waits, with the reason, until the contract's sending
releases it (application.opco.document_release) or POST …/submission."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.access.access import WORKER, Principal
from application.access.idempotency import IdempotentRequest
from application.contracts.commands import Outcome, Reader
from application.documents import Document, DocumentStore
from application.dossiers import Dossiers
from application.errors import ApplicationError, NotFound
from domain.contracts.contract import Contract
from domain.contracts.contract_state import ContractState
from domain.documents import describe
from domain.errors import InvalidValue, RulesConflict
from domain.opco.opco_catalogue import OpcoProfile
from domain.opco.opco_documents.document import DocumentState, OpcoDocument, document_id
from domain.opco.opco_documents.kinds import DocumentKind, LinkedObject, no_route_reason, route_for
from domain.opco.opco_documents.shelf import DocumentShelf, shelf_id
from domain.opco.opcos import Opco
from domain.problems import Problem

# The contract is at its OPCO, under the numeroInterne the OPCO knows it by: its documents may follow.
AT_THE_OPCO = frozenset({ContractState.SENT, ContractState.IN_REVIEW, ContractState.ACCEPTED, ContractState.TERMINATED})
CERTIFICAT_TYPES = frozenset({"Intermediaire", "Final"})


@dataclass(frozen=True, slots=True)
class DocumentUpload:
    kind: DocumentKind
    content: bytes
    file_name: str | None = None
    numero_echeance: int | None = None  # certificat: the échéance it proves
    numero_interne_facture: str | None = None  # certificat: the OPCO's number of the invoice it goes with
    type_certificat: str | None = None  # certificat: Intermediaire (default) or Final

    def details(self) -> dict[str, Any]:
        if self.kind is not DocumentKind.CERTIFICAT_REALISATION:
            return {}
        return {
            "numeroEcheance": self.numero_echeance,
            "numeroInterneFacture": self.numero_interne_facture,
            "typeCertificat": self.type_certificat or "Intermediaire",
        }


@dataclass(frozen=True, slots=True)
class SavedDocument:
    document: OpcoDocument
    position: int | None
    created: bool = False
    replayed: bool = False


class _AlreadyKept(ApplicationError):
    pass


class ContractDocuments:
    def __init__(self, dossiers: Dossiers, store: DocumentStore, profiles: Mapping[Opco, OpcoProfile]) -> None:
        self._app = dossiers
        self._commands = dossiers.commands
        self.store = store
        self._profiles = profiles

    # -- commands -------------------------------------------------------------------------------------------

    def keep(
        self, principal: Principal, contract_id: UUID, upload: DocumentUpload, idempotency_key: str | None = None
    ) -> SavedDocument:
        """Store the file and create its document; the same file of the same kind again answers the first one."""
        principal.require_writer()
        self._app.contract(principal, contract_id)
        _check_details(upload)
        ref = describe(upload.content, self.store.max_bytes)
        self.store.put(upload.content)
        ident = document_id(contract_id, upload.kind, ref.digest)
        arguments = {"type": upload.kind.value, "digest": ref.digest, **upload.details()}
        request = IdempotentRequest.of(idempotency_key, principal, f"/contracts/{contract_id}/documents", arguments)

        def build() -> tuple[OpcoDocument, list[Any]]:
            if self._get(ident) is not None:
                raise _AlreadyKept
            contract = self._app.contract(principal, contract_id)
            document = OpcoDocument.keep(
                contract_id=contract_id,
                cfa_siret=contract.cfa_siret,
                kind=upload.kind,
                ref=ref,
                file_name=upload.file_name,
                details=upload.details(),
                actor=principal.actor,
            )
            self._submit_or_wait(document, contract, principal.actor)
            shelf = DocumentShelf.of(contract_id, self._get(shelf_id(contract_id)))
            shelf.add(document.id)
            return document, [shelf]

        try:
            outcome = self._commands.create(build, self._reader(principal), request=request, collided=lambda _: None)
        except _AlreadyKept:
            return SavedDocument(self.document(principal, contract_id, ident), None)
        return SavedDocument(
            outcome.aggregate, outcome.position, created=not outcome.replayed, replayed=outcome.replayed
        )

    def submit(
        self, principal: Principal, contract_id: UUID, ident: UUID, idempotency_key: str | None = None
    ) -> SavedDocument:
        """Queue a waiting (or refused) document now that its contract is at the OPCO; 409 with the reason if not."""

        def submit(document: OpcoDocument) -> None:
            self._submit_or_wait(document, self._app.contract(principal, contract_id), principal.actor)
            if document.state is DocumentState.WAITING:
                raise RulesConflict([Problem("document", "not_sendable", document.waiting_reason or "")])

        return self._change(principal, contract_id, ident, "submission", submit, idempotency_key)

    def resume(
        self, principal: Principal, contract_id: UUID, ident: UUID, idempotency_key: str | None = None
    ) -> SavedDocument:
        """Send a parked document again (after a lost answer: the person checked that the OPCO does not have it)."""

        def resume(document: OpcoDocument) -> None:
            document.resume_transmission(principal.actor)

        return self._change(principal, contract_id, ident, "transmission/retry", resume, idempotency_key)

    def confirm_received(
        self, principal: Principal, contract_id: UUID, ident: UUID, idempotency_key: str | None = None
    ) -> SavedDocument:
        """A person found the document at the OPCO: recorded as sent, never sent again."""

        def confirm(document: OpcoDocument) -> None:
            document.confirm_received(principal.actor)

        return self._change(principal, contract_id, ident, "receipt", confirm, idempotency_key)

    # -- queries --------------------------------------------------------------------------------------------

    def documents(self, principal: Principal, contract_id: UUID) -> list[OpcoDocument]:
        self._app.contract(principal, contract_id)
        shelf = self._get(shelf_id(contract_id))
        if not isinstance(shelf, DocumentShelf):
            return []
        return [self.document(principal, contract_id, ident) for ident in shelf.ids()]

    def document(
        self, principal: Principal, contract_id: UUID, ident: UUID, version: int | None = None
    ) -> OpcoDocument:
        found = self._get(ident, version)
        if not isinstance(found, OpcoDocument) or found.contract_id != contract_id:
            raise NotFound("document", ident)
        if not principal.can_see(found.cfa_siret):
            raise NotFound("document", ident)
        return found

    def content(self, principal: Principal, contract_id: UUID, ident: UUID) -> Document:
        document = self.document(principal, contract_id, ident)
        found = self.store.get(document.digest)
        if found is None and self._app.contract(principal, contract_id).personal_data_erased_at is not None:
            raise NotFound("document content (erased with the dossier's personal data)", ident)
        if found is None:
            raise LookupError(f"document {document.digest} of {ident} is missing from the store")
        return found

    # -- the worker's -----------------------------------------------------------------------------------------

    def document_as_worker(self, ident: UUID) -> OpcoDocument:
        found = self._get(ident)
        if not isinstance(found, OpcoDocument):
            raise NotFound("document", ident)
        return found

    def change_as_worker(self, ident: UUID, command: Callable[[OpcoDocument], object]) -> SavedDocument:
        outcome = self._commands.change(lambda i, _: self.document_as_worker(i), ident, command)
        return SavedDocument(outcome.aggregate, outcome.position)

    def change_loaded_as_worker(
        self, document: OpcoDocument, command: Callable[[OpcoDocument], object]
    ) -> SavedDocument:
        command(document)
        if not document.pending_events:
            return SavedDocument(document, None)
        try:
            recordings = self._app.save(document)
        except IntegrityError:  # another change was saved first: read again and retry
            return self.change_as_worker(document.id, command)
        return SavedDocument(document, recordings[-1].notification.id)

    def release_waiting(self, contract_id: UUID) -> int:
        """Submit the contract's waiting documents that can go now (the contract at its OPCO, a route known)."""
        shelf = self._get(shelf_id(contract_id))
        if not isinstance(shelf, DocumentShelf):
            return 0
        released = 0
        for ident in shelf.ids():
            if self.document_as_worker(ident).state is not DocumentState.WAITING:
                continue

            def go(document: OpcoDocument) -> None:
                if document.state is DocumentState.WAITING:
                    self._submit_or_wait(document, self._app.contract_as_worker(contract_id), WORKER.actor)

            if self.change_as_worker(ident, go).document.state is DocumentState.SUBMITTED:
                released += 1
        return released

    def contract_as_worker(self, contract_id: UUID) -> Contract:
        return self._app.contract_as_worker(contract_id)

    # -- internals ------------------------------------------------------------------------------------------

    def _submit_or_wait(self, document: OpcoDocument, contract: Contract, actor: str) -> None:
        reason = self._waiting_reason(document, contract)
        if reason is not None:
            document.wait(reason, actor)
            return
        opco = Opco(str(contract.submitted_to))
        route = route_for(document.document_kind, self._profiles[opco])
        assert route is not None  # _waiting_reason said so
        document.submit(
            opco=opco.value,
            route=route.value,
            objects=_objects(document, contract),
            reference=f"{contract.numero_interne}/{document.kind}/{document.digest[:12]}",
            actor=actor,
        )

    def _waiting_reason(self, document: OpcoDocument, contract: Contract) -> str | None:
        if contract.state not in AT_THE_OPCO or contract.submitted_to is None:
            return (
                f"the contract is {contract.state.value}: its documents go to the OPCO once it is there (sent, in"
                " review or accepted); then POST /contracts/{id}/documents/{documentId}/submission"
            )
        opco = Opco(contract.submitted_to)
        profile = self._profiles.get(opco)
        if profile is None or route_for(document.document_kind, profile) is None:
            return no_route_reason(document.document_kind, opco.value)
        return None

    def _change(
        self,
        principal: Principal,
        contract_id: UUID,
        ident: UUID,
        action: str,
        command: Callable[[OpcoDocument], object],
        idempotency_key: str | None,
    ) -> SavedDocument:
        principal.require_writer()
        route = f"/contracts/{contract_id}/documents/{ident}/{action}"
        request = IdempotentRequest.of_command(idempotency_key, principal, route, None, None)

        def reader(i: UUID, v: int | None) -> OpcoDocument:
            return self.document(principal, contract_id, i, v)

        outcome: Outcome[OpcoDocument] = self._commands.change(reader, ident, command, request=request)
        return SavedDocument(outcome.aggregate, outcome.position, replayed=outcome.replayed)

    def _reader(self, principal: Principal) -> Reader[OpcoDocument]:
        def read(ident: UUID, version: int | None) -> OpcoDocument:
            found = self._get(ident, version)
            if not isinstance(found, OpcoDocument) or not principal.can_see(found.cfa_siret):
                raise NotFound("document", ident)
            return found

        return read

    def _get(self, ident: UUID, version: int | None = None) -> Any | None:
        try:
            return self._app.repository.get(ident, version=version)
        except AggregateNotFoundError:
            return None


def _objects(document: OpcoDocument, contract: Contract) -> list[dict[str, str]]:
    """What the document is attached to at the OPCO (opco-wire.md §4.3): the invoice where the CFA named the OPCO's
    number of it (a certificat), and the dossier, always."""
    objects = []
    facture = document.details.get("numeroInterneFacture")
    if facture:
        objects.append({"typeObjet": LinkedObject.FACTURE.value, "idObjet": str(facture)})
    objects.append({"typeObjet": LinkedObject.DOSSIER_APPRENTISSAGE.value, "idObjet": contract.opco_reference})
    return objects


def _check_details(upload: DocumentUpload) -> None:
    if upload.kind is not DocumentKind.CERTIFICAT_REALISATION:
        for name, value in (
            ("numeroEcheance", upload.numero_echeance),
            ("numeroInterneFacture", upload.numero_interne_facture),
            ("typeCertificat", upload.type_certificat),
        ):
            if value is not None:
                raise InvalidValue(name, "certificat_only", f"{name} is given for a certificat de réalisation only")
        return
    if upload.numero_echeance is None or upload.numero_echeance < 1:
        raise InvalidValue(
            "numeroEcheance", "required", "a certificat de réalisation names the échéance it proves (1, 2, …)"
        )
    if upload.type_certificat is not None and upload.type_certificat not in CERTIFICAT_TYPES:
        raise InvalidValue("typeCertificat", "unknown", "typeCertificat is Intermediaire or Final")
