"""Ruptures at the sandbox: POST /opcos/{CODE}/v2/dossiers/rupture/employeur (opco-wire.md §1.1) at the OPCOs whose
catalogue entry takes them, and /_sandbox/ruptures to observe what was received.

The real body is not public: the sandbox reads the keys we write (infrastructure/opco/opco_wire/rupture.py, docs/wire.md
R1…). A dossier the OPCO received a rupture for reads `RUPTU` from then on (its échéancier is left as it was: the
sandbox does not recompute it). A second rupture of the same dossier is refused (400 RUPTURE_EXISTANTE), as a
duplicate dossier is; the faults of the sandbox apply, after the store too (faults.SUBMISSIONS)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from domain.opco.opco_catalogue import CATALOGUE
from infrastructure.opco.opco_sandbox.admin_auth import operator
from infrastructure.opco.opco_sandbox.auth import Caller, caller
from infrastructure.opco.opco_sandbox.context import Sandbox, current_sandbox
from infrastructure.opco.opco_sandbox.errors import ApiError, SandboxRefusal
from infrastructure.opco.opco_sandbox.lifecycle import progress
from infrastructure.opco.opco_sandbox.records import StoredDossier
from infrastructure.opco.opco_sandbox.rupture_book import RUPTURE_ETAT
from infrastructure.opco.opco_sandbox.wire import SandboxJSON
from infrastructure.opco.opco_wire import read_date

ACTIVE = frozenset({"TRANSMIS", "EN_COURS_INSTRUCTION", "ENGAGE"})

router = APIRouter()
admin_router = APIRouter(prefix="/_sandbox", dependencies=[Depends(operator)])
CallerDep = Annotated[Caller, Depends(caller)]
SandboxDep = Annotated[Sandbox, Depends(current_sandbox)]


@router.post("/{code}/v2/dossiers/rupture/employeur")
def receive_rupture(who: CallerDep, sandbox: SandboxDep, payload: Annotated[dict[str, Any], Body()]) -> SandboxJSON:
    sandbox.ruptures.count_post()
    if not CATALOGUE[who.opco].ruptures:
        raise SandboxRefusal(404, [ApiError("RESSOURCE_INCONNUE", "Ressource inconnue")], who.opco)
    errors = _errors(payload)
    if errors:
        raise SandboxRefusal(400, errors, who.opco)
    dossier = _dossier(sandbox, who, payload)
    now = sandbox.now()
    state = progress(dossier, now, sandbox.config)
    if state.etat not in ACTIVE:
        error = ApiError("DOSSIER_NON_ACTIF", f"Le dossier est à l'état {state.etat} : il ne peut être rompu")
        raise SandboxRefusal(400, [error], who.opco)
    if sandbox.ruptures.receive(dossier, payload, now) is None:
        raise SandboxRefusal(400, [ApiError("RUPTURE_EXISTANTE", "Une rupture est déjà enregistrée")], who.opco)
    return SandboxJSON(
        {"numeroInterne": dossier.numero_interne, "numeroExterne": dossier.numero_externe, "etat": RUPTURE_ETAT}
    )


@admin_router.get("/ruptures")
def received_ruptures(sandbox: SandboxDep) -> SandboxJSON:
    return SandboxJSON(
        {
            "posts": sandbox.ruptures.posts,
            "ruptures": [
                {
                    "opco": r.opco.value,
                    "numeroInterne": r.numero_interne,
                    "receivedAt": r.received_at.isoformat(),
                    "body": r.body,
                }
                for r in sandbox.ruptures.all()
            ],
        }
    )


def _errors(payload: dict[str, Any]) -> list[ApiError]:
    errors = []
    if read_date(payload.get("dateEffetRupture")) is None:
        errors.append(ApiError("DATE_EFFET_RUPTURE_OBLIGATOIRE", "dateEffetRupture : date obligatoire"))
    if not isinstance(payload.get("codeMotifRupture"), str) or not payload["codeMotifRupture"]:
        errors.append(ApiError("MOTIF_RUPTURE_OBLIGATOIRE", "codeMotifRupture : obligatoire"))
    if not any(isinstance(payload.get(k), str) and payload[k] for k in ("numeroInterne", "numeroExterne")):
        errors.append(ApiError("NUMERO_OBLIGATOIRE", "numeroInterne ou numeroExterne : obligatoire"))
    return errors


def _dossier(sandbox: Sandbox, who: Caller, payload: dict[str, Any]) -> StoredDossier:
    for key in ("numeroInterne", "numeroExterne"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            found = sandbox.store.find_dossier(who.opco, who.key.siren, key, value)
            if found is not None:
                return found
    raise SandboxRefusal(404, [ApiError("DOSSIER_INCONNU", "Aucun dossier ne correspond à ce numéro")], who.opco)
