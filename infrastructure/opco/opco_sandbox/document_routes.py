"""Documents at the OPCO, under /opcos/{CODE}: POST /v1/conventions, /v1/documents and /v2/certificats.

Only where the catalogue says the OPCO takes them (`conventions`, `documents`, `certificats_v2`); elsewhere 501.
The multipart parts are checked strictly (document_parts); the dossier and invoice they name must be known here.
A second identical document is answered with the first one's identifier (document_inbox)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox.auth import Caller, caller, known_opco
from infrastructure.opco.opco_sandbox.context import Sandbox, current_sandbox
from infrastructure.opco.opco_sandbox.document_parts import (
    CERTIFICAT_KEYS,
    CERTIFICAT_REQUIRED,
    CONVENTION_KEYS,
    CONVENTION_REQUIRED,
    TYPES_CERTIFICAT,
    file_part,
    infos_errors,
    json_part,
    key_errors,
)
from infrastructure.opco.opco_sandbox.errors import ApiError, SandboxRefusal
from infrastructure.opco.opco_sandbox.invoice_routes import not_supported
from infrastructure.opco.opco_sandbox.opco_routes import api_version
from infrastructure.opco.opco_sandbox.wire import SandboxJSON

router = APIRouter()
CallerDep = Annotated[Caller, Depends(caller)]
SandboxDep = Annotated[Sandbox, Depends(current_sandbox)]


def _taking(capability: str, what: str) -> Any:
    def check(opco: Annotated[Opco, Depends(known_opco)]) -> Opco:
        if not getattr(CATALOGUE[opco], capability):
            raise not_supported(opco, what)
        return opco

    return check


@router.post("/{code}/{version}/conventions", dependencies=[Depends(api_version)])
async def receive_convention(
    request: Request,
    who: CallerDep,
    sandbox: SandboxDep,
    _: Annotated[Opco, Depends(_taking("conventions", "les conventions"))],
) -> SandboxJSON:
    form = await request.form()
    convention, errors = await json_part(form, "convention")
    received, file_errors = await file_part(form)
    errors += file_errors
    if convention is not None:
        errors += key_errors(convention, "convention", CONVENTION_KEYS, CONVENTION_REQUIRED)
        errors += _unknown_dossier(sandbox, who, convention, "convention")
    return _received(sandbox, who, "conventions", convention, received, errors)


@router.post("/{code}/{version}/documents", dependencies=[Depends(api_version)])
async def receive_document(
    request: Request,
    who: CallerDep,
    sandbox: SandboxDep,
    _: Annotated[Opco, Depends(_taking("documents", "le dépôt de documents"))],
) -> SandboxJSON:
    form = await request.form()
    infos, errors = await json_part(form, "infosFichier")
    received, file_errors = await file_part(form)
    errors += file_errors
    if infos is not None:
        found = infos_errors(infos)
        errors += found or _unknown_objects(sandbox, who, infos["objets"])
    return _received(sandbox, who, "documents", infos, received, errors)


@router.post("/{code}/{version}/certificats", dependencies=[Depends(api_version)])
async def receive_certificat(
    request: Request,
    who: CallerDep,
    sandbox: SandboxDep,
    _: Annotated[Opco, Depends(_taking("certificats_v2", "les certificats de réalisation"))],
) -> SandboxJSON:
    if request.path_params.get("version") != "v2":
        raise SandboxRefusal(404, [ApiError("VERSION_INCONNUE", "Les certificats sont en v2")], who.opco)
    form = await request.form()
    certificat, errors = await json_part(form, "certificat")
    received, file_errors = await file_part(form)
    errors += file_errors
    if certificat is not None:
        errors += key_errors(certificat, "certificat", CERTIFICAT_KEYS, CERTIFICAT_REQUIRED)
        if certificat.get("typeCertificat") not in TYPES_CERTIFICAT:
            errors.append(
                ApiError("CHAMP_INVALIDE", "typeCertificat : Intermediaire ou Final", "certificat.typeCertificat")
            )
        errors += _unknown_dossier(sandbox, who, certificat, "certificat")
    return _received(sandbox, who, "certificats", certificat, received, errors)


def _received(
    sandbox: Sandbox, who: Caller, route: str, payload: dict[str, Any] | None, received: Any, errors: list[ApiError]
) -> SandboxJSON:
    if errors or payload is None or received is None:
        raise SandboxRefusal(422, errors, who.opco)
    stored = sandbox.documents.receive(
        opco=who.opco,
        siren=who.key.siren,
        route=route,
        payload=payload,
        content=received.content,
        media_type=received.media_type,
        file_name=received.file_name,
        now=sandbox.now(),
    )
    return SandboxJSON({"numeroInterneDocument": stored.identifiant})


def _unknown_dossier(sandbox: Sandbox, who: Caller, part: dict[str, Any], name: str) -> list[ApiError]:
    return _unknown_numero(sandbox, who, part.get("numeroInterneDossier"), f"{name}.numeroInterneDossier")


def _unknown_numero(sandbox: Sandbox, who: Caller, numero: Any, field: str) -> list[ApiError]:
    if not isinstance(numero, str) or not numero:
        return []  # said by the required keys
    if sandbox.store.find_dossier(who.opco, who.key.siren, "numeroInterne", numero) is None:
        return [ApiError("DOSSIER_INCONNU", f"Aucun dossier de numéro interne {numero} pour ce CFA", field)]
    return []


def _unknown_objects(sandbox: Sandbox, who: Caller, objets: list[dict[str, str]]) -> list[ApiError]:
    errors: list[ApiError] = []
    for index, item in enumerate(objets):
        field = f"infosFichier.objets.{index}.idObjet"
        if item["typeObjet"] == "DOSSIER_APPRENTISSAGE":
            errors += _unknown_numero(sandbox, who, item["idObjet"], field)
        elif sandbox.store.find_invoice(who.opco, who.key.siren, "numeroInterneFacture", item["idObjet"]) is None:
            errors.append(ApiError("FACTURE_INCONNUE", f"Aucune facture de numéro interne {item['idObjet']}", field))
    return errors
