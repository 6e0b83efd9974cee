"""Avenants at the sandbox (opco-wire.md §2): a dossier of typeContratApp 31–38 sent to `POST /dossiers` amends the
dossier whose DECA number it names (`numeroContratPrecedent`). The sandbox answers as a NEW dossier (its own
numeroExterne, the shape the State's DECA suggests: §2.3), keeps the amended contract's DECA number and gives the
avenant its own `noAvenant` (1, 2, … per DECA number), written into the stored Cerfa: kept with the dossier, on disk
too. It refuses (400) an avenant naming no DECA number, an unknown one, or a contract not engaged. Its lifecycle is a
dossier's (TRANSMIS, EN_COURS_INSTRUCTION, ENGAGE), with the same faults."""

from __future__ import annotations

from typing import Any

from infrastructure.opco.opco_sandbox.auth import Caller
from infrastructure.opco.opco_sandbox.context import Sandbox
from infrastructure.opco.opco_sandbox.errors import ApiError, SandboxRefusal
from infrastructure.opco.opco_sandbox.lifecycle import numero_deca
from infrastructure.opco.opco_sandbox.rupture_book import progress_of

AVENANT_TYPES = range(31, 39)


def is_avenant(cerfa: dict[str, Any]) -> bool:
    contrat = cerfa.get("contrat")
    code = contrat.get("typeContratApp") if isinstance(contrat, dict) else None
    return str(code) in {str(n) for n in AVENANT_TYPES}


def precedent_of(cerfa: dict[str, Any]) -> str | None:
    contrat = cerfa.get("contrat")
    value = contrat.get("numeroContratPrecedent") if isinstance(contrat, dict) else None
    return value if isinstance(value, str) and value else None


def numbered_avenant(sandbox: Sandbox, who: Caller, cerfa: dict[str, Any]) -> dict[str, Any]:
    """The avenant's Cerfa as the OPCO keeps it, with its noAvenant; SandboxRefusal when it amends nothing known."""
    deca = precedent_of(cerfa)
    if deca is None:
        error = ApiError("NUMERO_CONTRAT_PRECEDENT_OBLIGATOIRE", "numeroContratPrecedent : obligatoire pour un avenant")
        raise SandboxRefusal(400, [error], who.opco)
    now = sandbox.now()
    dossiers = sandbox.store.dossiers(who.opco, who.key.siren)
    amended = [d for d in dossiers if not is_avenant(d.cerfa) and numero_deca(d) == deca]  # the one it has or will have
    if not amended:
        error = ApiError("CONTRAT_PRECEDENT_INCONNU", f"Aucun contrat de numéro DECA {deca}")
        raise SandboxRefusal(400, [error], who.opco)
    if progress_of(sandbox, amended[0], now).etat != "ENGAGE":
        error = ApiError("CONTRAT_PRECEDENT_NON_ENGAGE", "Le contrat modifié n'est pas engagé")
        raise SandboxRefusal(400, [error], who.opco)
    earlier = sum(1 for d in dossiers if is_avenant(d.cerfa) and precedent_of(d.cerfa) == deca)
    contrat = dict(cerfa["contrat"])
    contrat["noAvenant"] = str(earlier + 1)
    return {**cerfa, "contrat": contrat}
