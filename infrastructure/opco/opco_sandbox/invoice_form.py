"""The body of POST /v1/factures as real clients send it (opco-wire.md §5): multipart/form-data with a `facture`
part of JSON and a `fichier` part holding the invoice's PDF, checked by its content (`%PDF-`), never by its name or
media type.

Another media type is refused 415 (as the ASP.NET hosts of the SOR family answer a body their form binding cannot
read), in the OPCO's error format; a faulty part 400, naming it (`facture`, `fichier`) or the faulty field of the
`facture` part.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox.auth import known_opco
from infrastructure.opco.opco_sandbox.errors import ApiError, SandboxRefusal
from infrastructure.opco.opco_sandbox.invoice_payload import read_facture
from infrastructure.opco.opco_sandbox.invoice_records import Invoice, ReceivedFile

MULTIPART: Final = "multipart/form-data"
PDF_SIGNATURE: Final = b"%PDF-"
PARTS: Final = ("facture", "fichier")


@dataclass(frozen=True, slots=True)
class Submission:
    """What a POST /v1/factures brought: its `numero` when it has one (for the statistics), then either the invoice
    and its file or the errors found."""

    numero: str | None
    invoice: Invoice | None = None
    document: ReceivedFile | None = None
    errors: list[ApiError] = field(default_factory=list)


async def submitted_invoice(request: Request, opco: Annotated[Opco, Depends(known_opco)]) -> Submission:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != MULTIPART:
        description = (
            f"Corps {media_type or 'sans type'} refusé : multipart/form-data attendu, avec une partie facture (JSON) "
            "et une partie fichier (la facture en PDF)"
        )
        raise SandboxRefusal(415, [ApiError("TYPE_DE_CONTENU", description, "Content-Type")], opco)
    try:
        async with request.form(max_files=len(PARTS), max_fields=len(PARTS)) as form:
            names = list(form.keys())
            facture, fichier = form.get("facture"), form.get("fichier")
            facture_bytes = None if facture is None else await _content(facture)
            fichier_bytes = None if fichier is None else await _content(fichier)
            file_name = fichier.filename if isinstance(fichier, UploadFile) else None
    except MultiPartException as error:
        unreadable = ApiError("FORMAT_INVALIDE", f"Corps multipart illisible : {error.message}")
        raise SandboxRefusal(400, [unreadable], opco) from error
    errors = [_unknown_part(name) for name in names if name not in PARTS]
    part, part_errors = _facture(facture_bytes)
    document, file_errors = _document(fichier_bytes, file_name)
    errors += part_errors + file_errors
    numero = part.get("numero") if isinstance(part.get("numero"), str) else None
    if part_errors:
        return Submission(numero, errors=errors)
    invoice, field_errors = read_facture(part)
    errors += field_errors
    return Submission(numero, errors=errors) if errors else Submission(numero, invoice, document)


async def _content(value: UploadFile | str) -> bytes:
    return await value.read() if isinstance(value, UploadFile) else value.encode("utf-8")


def _unknown_part(name: str) -> ApiError:
    return ApiError("CHAMP_INCONNU", f"Partie {name} inattendue : seules facture et fichier sont lues", name)


def _facture(content: bytes | None) -> tuple[dict[str, Any], list[ApiError]]:
    if content is None:
        return {}, [ApiError("CHAMP_OBLIGATOIRE", "La partie facture (JSON) est obligatoire", "facture")]
    try:
        part = json.loads(content, parse_float=Decimal)
    except ValueError:
        part = None
    if not isinstance(part, dict):
        return {}, [ApiError("FORMAT_INVALIDE", "La partie facture doit être un objet JSON", "facture")]
    return part, []


def _document(content: bytes | None, name: str | None) -> tuple[ReceivedFile | None, list[ApiError]]:
    if content is None:
        return None, [ApiError("CHAMP_OBLIGATOIRE", "La partie fichier (la facture en PDF) est obligatoire", "fichier")]
    if not content.startswith(PDF_SIGNATURE):
        return None, [
            ApiError("FICHIER_NON_PDF", "La partie fichier doit être un PDF (commençant par %PDF-)", "fichier")
        ]
    return ReceivedFile(hashlib.sha256(content).hexdigest(), len(content), name), []
