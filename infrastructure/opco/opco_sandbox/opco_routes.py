"""The OPCO half of the API Convergence, under /opcos/{CODE}: dossiers, their states, status and key info.

Invoices are in `invoice_routes`; a dossier read shows what its invoices amount to on its échéances."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request

from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox.amendment_rules import is_avenant, numbered_avenant
from infrastructure.opco.opco_sandbox.auth import Caller, caller, identified_opco, valid_key
from infrastructure.opco.opco_sandbox.context import Sandbox, current_sandbox
from infrastructure.opco.opco_sandbox.errors import ApiError, SandboxRefusal
from infrastructure.opco.opco_sandbox.invoice_ledger import ledger_of
from infrastructure.opco.opco_sandbox.records import StoredDossier
from infrastructure.opco.opco_sandbox.rupture_book import progress_of
from infrastructure.opco.opco_sandbox.validation import dossier_errors, field_at, received_cerfa
from infrastructure.opco.opco_sandbox.wire import SandboxJSON, dossier_wire, etat_wire

router = APIRouter()
VERSIONS = ("v1", "v2")
NOT_FOUND_AS_400 = frozenset({Opco.OPCOEP})  # as the real OPCO EP answers
CallerDep = Annotated[Caller, Depends(caller)]
SandboxDep = Annotated[Sandbox, Depends(current_sandbox)]


def api_version(version: str) -> str:
    if version not in VERSIONS:
        raise SandboxRefusal(404, [ApiError("VERSION_INCONNUE", f"Version de protocole inconnue : {version}")])
    return version


@router.get("/{code}/v1/status")
def service_status(who: CallerDep) -> SandboxJSON:
    return SandboxJSON({"status": "OK", "version": "sandbox", "opco": who.opco.value})


@router.get("/{code}/v2/cfakeyinfo")
def key_info(
    request: Request,
    opco: Annotated[Opco, Depends(identified_opco)],
    sandbox: SandboxDep,
    siren: Annotated[str, Query()] = "",
    xapikey: Annotated[str | None, Query(alias="XAPIKEY")] = None,
) -> SandboxJSON:
    """Judges the key in XAPIKEY (else X-API-KEY): answers status error rather than 403 for a bad one."""
    api_key = xapikey or request.headers.get("X-API-KEY")
    key = sandbox.store.find_key(api_key) if api_key else None
    if key is None or key.opco != opco or key.siren != siren:
        return SandboxJSON({"status": "error", "dateFinValidite": None, "comment": "Clé inconnue pour ce SIREN"})
    expires_on = key.expires_on.isoformat()
    if valid_key(api_key, opco, sandbox) is None:
        return SandboxJSON({"status": "error", "dateFinValidite": expires_on, "comment": "Clé expirée"})
    return SandboxJSON({"status": "success", "dateFinValidite": expires_on, "comment": "Clé valide"})


@router.post("/{code}/{version}/dossiers", dependencies=[Depends(api_version)])
def submit_dossier(who: CallerDep, sandbox: SandboxDep, payload: Annotated[dict[str, Any], Body()]) -> SandboxJSON:
    """Answers 200 with `numeroExterne` and `numeroInterne` (opco-wire.md §2.2): the CFA's own numeroInterne when
    it sent one, else one the OPCO assigns (CerFacil sends none and keeps what comes back)."""
    errors = dossier_errors(payload, sandbox.config.strict_dossiers)
    if not isinstance(payload.get("cerfa"), dict):
        raise SandboxRefusal(400, errors, who.opco)
    cerfa = received_cerfa(payload)
    numero = cerfa.get("numeroInterne") if isinstance(cerfa.get("numeroInterne"), str) else None
    if numero is not None:
        sandbox.stats.post_received(who.opco, numero)
    if errors:
        raise SandboxRefusal(400, errors, who.opco)
    if not str(field_at(cerfa, "organismeFormation.siret") or "").startswith(who.key.siren):
        raise SandboxRefusal(
            403, [ApiError("CLE_API_INVALIDE", "Ce dossier n'est pas celui du CFA de la clé API")], who.opco
        )
    numero = numero or _assigned_numero()
    if is_avenant(cerfa):
        cerfa = numbered_avenant(sandbox, who, cerfa)
    stored = sandbox.store.add_dossier(who.opco, who.key.siren, numero, cerfa, sandbox.now())
    if stored is None:
        sandbox.stats.duplicate_refused()
        error = ApiError("DOSSIER_EXISTANT", "Un dossier avec ce numéro interne existe déjà")
        raise SandboxRefusal(400, [error], who.opco)
    sandbox.stats.stored(who.opco, stored.numero_interne)
    return SandboxJSON({"numeroExterne": stored.numero_externe, "numeroInterne": stored.numero_interne})


def _assigned_numero() -> str:
    return "NI-" + secrets.token_hex(6).upper()


@router.get("/{code}/{version}/dossiers", dependencies=[Depends(api_version)])
def read_dossier(
    who: CallerDep,
    sandbox: SandboxDep,
    numero_interne: Annotated[str | None, Query(alias="numeroInterne")] = None,
    numero_externe: Annotated[str | None, Query(alias="numeroExterne")] = None,
    numero_deca: Annotated[str | None, Query(alias="numeroDeca")] = None,
) -> SandboxJSON:
    if numero_interne:
        dossier = sandbox.store.find_dossier(who.opco, who.key.siren, "numeroInterne", numero_interne)
    elif numero_externe:
        dossier = sandbox.store.find_dossier(who.opco, who.key.siren, "numeroExterne", numero_externe)
    elif numero_deca:
        dossier = _by_deca(sandbox, who, numero_deca)
    else:
        error = ApiError("PARAMETRE_MANQUANT", "Indiquez numeroInterne, numeroExterne ou numeroDeca")
        raise SandboxRefusal(400, [error], who.opco)
    if dossier is None:
        raise _unknown_dossier(who.opco)
    now, invoices = sandbox.now(), sandbox.store.invoices(who.opco, who.key.siren)
    ledger = ledger_of(dossier.numero_externe, invoices, now, sandbox.config)
    return SandboxJSON(dossier_wire(dossier, progress_of(sandbox, dossier, now), ledger))


def _by_deca(sandbox: Sandbox, who: Caller, numero_deca: str) -> StoredDossier | None:
    now = sandbox.now()
    candidates = sandbox.store.dossiers(who.opco, who.key.siren)
    return next((d for d in candidates if progress_of(sandbox, d, now).numero_deca == numero_deca), None)


def _unknown_dossier(opco: Opco) -> SandboxRefusal:
    status = 400 if opco in NOT_FOUND_AS_400 else 404
    return SandboxRefusal(status, [ApiError("DOSSIER_INCONNU", "Aucun dossier ne correspond à ce numéro")], opco)


@router.get("/{code}/{version}/dossiers/etats", dependencies=[Depends(api_version)])
def dossier_states(
    who: CallerDep,
    sandbox: SandboxDep,
    version: str,
    page: Annotated[int | None, Query(alias="numeroPage", ge=1)] = None,
) -> SandboxJSON:
    """v2: the envelope `{total, count, page, EtatDossierResult}`, page 1 by default. v1: a bare array of the items
    (LGX-PHP reads it so): every dossier without numeroPage, the page asked for with it (opco-wire.md §8)."""
    size, now = sandbox.config.page_size, sandbox.now()
    whole = version == "v1" and page is None
    offset, limit = (0, None) if whole else (((page or 1) - 1) * size, size)
    dossiers = sandbox.store.dossiers(who.opco, who.key.siren, offset=offset, limit=limit)
    items = [etat_wire(dossier, progress_of(sandbox, dossier, now)) for dossier in dossiers]
    if version == "v1":
        return SandboxJSON(items)
    total = sandbox.store.count(who.opco, who.key.siren)
    return SandboxJSON({"total": total, "count": len(items), "page": page or 1, "EtatDossierResult": items})


@router.get("/{code}/{version}/dossiers/liste", dependencies=[Depends(api_version)])
def listed_dossiers(
    who: CallerDep,
    sandbox: SandboxDep,
    numeros: Annotated[list[str] | None, Query(alias="numerosInternes")] = None,
) -> SandboxJSON:
    """The dossiers of these numeroInterne, as GET /dossiers shows each, in the order asked; those the OPCO does not
    know are left out. `numerosInternes` repeated, or its values separated by commas (the portal's curl example
    shows one value; the answer's shape is not public: a bare array is the sandbox's choice)."""
    wanted = [numero.strip() for value in numeros or [] for numero in value.split(",") if numero.strip()]
    if not wanted:
        error = ApiError("PARAMETRE_MANQUANT", "Indiquez numerosInternes", "numerosInternes")
        raise SandboxRefusal(400, [error], who.opco)
    now, invoices = sandbox.now(), sandbox.store.invoices(who.opco, who.key.siren)
    found = (sandbox.store.find_dossier(who.opco, who.key.siren, "numeroInterne", n) for n in dict.fromkeys(wanted))
    return SandboxJSON(
        [
            dossier_wire(
                dossier,
                progress_of(sandbox, dossier, now),
                ledger_of(dossier.numero_externe, invoices, now, sandbox.config),
            )
            for dossier in found
            if dossier is not None
        ]
    )
