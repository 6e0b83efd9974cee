"""A contract's documents for its OPCO (conventions, certificats de réalisation): upload, list, read, and the
commands on their sending (submission, retry after a lost answer, receipt confirmed by a person)."""

from __future__ import annotations

import base64
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from application.invoices.certificats import CertificatRequest
from application.opco.opco_documents import DocumentUpload, SavedDocument
from domain.errors import InvalidValue
from domain.opco.opco_documents.document import DocumentState, OpcoDocument
from domain.opco.opco_documents.kinds import DocumentKind
from domain.opco.opcos import Opco
from interfaces.api.access.auth import CurrentPrincipal, Services
from interfaces.api.contracts.contracts import IdempotencyKey
from interfaces.api.contracts.representation import attempts_body, etag
from interfaces.bootstrap import Container

router = APIRouter(prefix="/contracts", tags=["documents"])
KINDS = ", ".join(kind.value for kind in DocumentKind)


class DocumentOut(BaseModel):
    id: str
    contractId: str
    type: str
    fileName: str | None
    mediaType: str
    size: int
    digest: str
    state: str
    waitingReason: str | None
    opco: str | None
    route: str | None
    objets: list[dict[str, str]]
    details: dict[str, Any]
    transmission: dict[str, Any] | None
    answerLost: bool
    parkedReason: str | None
    opcoAnswer: dict[str, Any] | None
    opcoComment: str | None
    receivedConfirmedBy: str | None
    version: int


def document_body(document: OpcoDocument, services: Container) -> dict[str, Any]:
    submitted = document.state is DocumentState.SUBMITTED
    waiting_for_key = submitted and not services.accounts.usable(document.cfa_siret, Opco(str(document.opco)))
    return {
        "id": str(document.id),
        "contractId": str(document.contract_id),
        "type": document.kind,
        "fileName": document.file_name,
        "mediaType": document.media_type,
        "size": document.size,
        "digest": document.digest,
        "state": document.state.value,
        "waitingReason": document.waiting_reason,
        "opco": document.opco,
        "route": document.route,
        "objets": document.objects,
        "details": document.details,
        "transmission": None if document.opco is None else attempts_body(document.transmission, waiting_for_key),
        "answerLost": document.answer_lost,
        "parkedReason": document.transmission.get("parkedReason"),
        "opcoAnswer": document.opco_answer,
        "opcoComment": document.opco_comment,
        "receivedConfirmedBy": document.received_confirmed_by,
        "version": document.version,
    }


def _response(saved: SavedDocument, services: Container, status: int = 200) -> JSONResponse:
    document = saved.document
    headers = {
        "ETag": etag(document.version),
        "Location": f"/contracts/{document.contract_id}/documents/{document.id}",
    }
    if saved.position is not None:
        headers["X-Position"] = str(saved.position)
    if saved.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(document_body(document, services), status_code=status, headers=headers)


@router.post(
    "/{contract_id}/documents",
    status_code=201,
    response_model=DocumentOut,
    responses={200: {"model": DocumentOut, "description": "the same file of the same type, kept already"}},
)
async def upload_document(
    contract_id: UUID,
    who: CurrentPrincipal,
    services: Services,
    document: Annotated[UploadFile, File(description="the document: PDF, JPEG or PNG (read from its content)")],
    type: Annotated[str, Form(description=f"its typeFichier: {KINDS}")],
    numeroEcheance: Annotated[int | None, Form(description="certificat: the échéance it proves")] = None,  # noqa: N803
    numeroInterneFacture: Annotated[  # noqa: N803
        str | None, Form(description="certificat: the OPCO's number of the invoice it goes with")
    ] = None,
    typeCertificat: Annotated[str | None, Form(description="certificat: Intermediaire (default) or Final")] = None,  # noqa: N803
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Keep a signed convention or a certificat de réalisation (multipart/form-data) and send it to the contract's
    OPCO by the route the catalogue gives, once the contract is there (sent, in review, accepted: the worker queues it
    then); until then, or
    where the OPCO takes no such document over the API, it waits with `waitingReason`. 422 names the field: `type`,
    `document` (type read from the content, size at most CONVERGENCE_MAX_DOCUMENT_BYTES), `numeroEcheance`. The same
    file of the same type again answers 200 with the document kept."""
    if type not in DocumentKind.__members__:
        raise InvalidValue("type", "unknown_type", f"type is one of {KINDS}, not {type!r}")
    upload = DocumentUpload(
        kind=DocumentKind(type),
        content=await document.read(),
        file_name=document.filename,
        numero_echeance=numeroEcheance,
        numero_interne_facture=numeroInterneFacture or None,
        type_certificat=typeCertificat or None,
    )
    saved = services.contract_documents.keep(who, contract_id, upload, idempotency_key)
    return _response(saved, services, status=201 if saved.created or saved.replayed else 200)


class CertificatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    numeroEcheance: int = Field(ge=1, description="the échéance the certificat proves")
    heuresRealisees: int | None = Field(None, ge=0, le=9999, description="hours of training done in its period")
    numeroInterneFacture: str | None = Field(
        None, min_length=1, max_length=64, description="the OPCO's number of the invoice it goes with"
    )
    final: bool = Field(False, description="the last certificat of the contract (typeCertificat Final)")


@router.post(
    "/{contract_id}/documents/certificat",
    status_code=201,
    response_model=DocumentOut,
    responses={200: {"model": DocumentOut, "description": "the same certificat, kept already"}},
)
def make_certificat(
    contract_id: UUID,
    body: CertificatIn,
    who: CurrentPrincipal,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Make the certificat de réalisation of an échéance from the dossier (training, dates, hours of the Cerfa; the
    échéance's period as the OPCO's échéancier gives it) as a PDF, keep it and send it like an uploaded one."""
    request = CertificatRequest(body.numeroEcheance, body.heuresRealisees, body.numeroInterneFacture, body.final)
    saved = services.certificats.make(who, contract_id, request, idempotency_key)
    return _response(saved, services, status=201 if saved.created or saved.replayed else 200)


@router.get("/{contract_id}/documents", response_model=list[DocumentOut])
def list_documents(contract_id: UUID, who: CurrentPrincipal, services: Services) -> list[dict[str, Any]]:
    """The contract's documents, oldest first, each with its sending to the OPCO."""
    return [document_body(d, services) for d in services.contract_documents.documents(who, contract_id)]


@router.get(
    "/{contract_id}/documents/{document_id}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}}},
)
def get_document(contract_id: UUID, document_id: UUID, who: CurrentPrincipal, services: Services) -> Response:
    """The document as kept and sent. Repr-Digest holds its SHA-256."""
    found = services.contract_documents.content(who, contract_id, document_id)
    digest = base64.b64encode(bytes.fromhex(found.ref.digest)).decode()
    headers = {"Repr-Digest": f"sha-256=:{digest}:", "Content-Disposition": f'inline; filename="{document_id}"'}
    return Response(found.content, media_type=found.ref.media_type.value, headers=headers)


@router.post("/{contract_id}/documents/{document_id}/submission", status_code=202, response_model=DocumentOut)
def submit_document(
    contract_id: UUID,
    document_id: UUID,
    who: CurrentPrincipal,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Send a waiting document now that its contract is at the OPCO; 409 with the reason when it still cannot go."""
    saved = services.contract_documents.submit(who, contract_id, document_id, idempotency_key)
    return _response(saved, services, status=202)


@router.post("/{contract_id}/documents/{document_id}/transmission/retry", status_code=202, response_model=DocumentOut)
def retry_document(
    contract_id: UUID,
    document_id: UUID,
    who: CurrentPrincipal,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Send a parked document again. After a lost answer (`answerLost`), first check at the OPCO that it does not
    have it: no lookup of documents exists, so this sends it once more whatever the OPCO holds."""
    saved = services.contract_documents.resume(who, contract_id, document_id, idempotency_key)
    return _response(saved, services, status=202)


@router.post("/{contract_id}/documents/{document_id}/receipt", response_model=DocumentOut)
def confirm_document_received(
    contract_id: UUID,
    document_id: UUID,
    who: CurrentPrincipal,
    services: Services,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record that the OPCO has the document (found on its extranet after a lost answer): `sent`, never sent again."""
    saved = services.contract_documents.confirm_received(who, contract_id, document_id, idempotency_key)
    return _response(saved, services)
