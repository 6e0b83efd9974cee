"""How a dossier is written on the wire: JSON body plus ETag, Location and X-Position headers."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from application.access import ApiToken
from application.assessment import Assessment, Assessments
from application.dossiers import Saved
from domain.contract import Contract


def contract_body(contract: Contract, assessment: Assessment) -> dict[str, Any]:
    mandate = contract.mandate
    return {
        "id": str(contract.id),
        "numeroInterne": contract.numero_interne,
        "cfaSiret": contract.cfa_siret,
        "state": contract.state.value,
        "opco": assessment.opco.value if assessment.opco else None,
        "opcoSource": assessment.opco_source,
        "cerfa": contract.cerfa,
        "mandate": {**mandate, "signedOn": mandate["signedOn"].isoformat()} if mandate else None,
        "problems": [p.as_dict() for p in assessment.problems],
        "version": contract.version,
        "createdAt": contract.created_on.isoformat(),
        "updatedAt": contract.modified_on.isoformat(),
    }


def etag(version: int) -> str:
    return f'"{version}"'


def contract_response(
    contract: Contract, assessments: Assessments, *, status: int = 200, position: int | None = None
) -> JSONResponse:
    headers = {"ETag": etag(contract.version), "Location": f"/contracts/{contract.id}"}
    if position is not None:
        headers["X-Position"] = str(position)
    return JSONResponse(contract_body(contract, assessments.of(contract)), status_code=status, headers=headers)


def saved_response(saved: Saved, assessments: Assessments, status: int = 200) -> JSONResponse:
    response = contract_response(saved.contract, assessments, status=status, position=saved.position)
    if saved.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def token_body(token: ApiToken) -> dict[str, Any]:
    return {
        "id": str(token.id),
        "cfaSiret": token.cfa_siret,
        "role": token.role.value,
        "name": token.name,
        "revoked": token.revoked,
        "createdAt": token.created_on.isoformat(),
    }
