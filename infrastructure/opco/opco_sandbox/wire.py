"""The JSON the sandbox answers: amounts as numbers with exactly two decimals, never through a float."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from starlette.responses import JSONResponse

from infrastructure.opco.opco_sandbox.annex import frais_annexes_wire
from infrastructure.opco.opco_sandbox.invoice_ledger import Ledger
from infrastructure.opco.opco_sandbox.invoice_records import Nature
from infrastructure.opco.opco_sandbox.invoice_rules import PREMIER_EQUIPEMENT_CAP
from infrastructure.opco.opco_sandbox.lifecycle import Progress
from infrastructure.opco.opco_sandbox.records import StoredDossier, shown_numero_interne, wire_blocks
from infrastructure.opco.opco_sandbox.schedule import Instalment


def to_json(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        items = (f"{json.dumps(str(key), ensure_ascii=False)}:{to_json(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(to_json(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


class SandboxJSON(JSONResponse):
    """Return it from every handler: FastAPI's own encoding would turn the Decimals into floats first."""

    def render(self, content: Any) -> bytes:
        return to_json(content).encode("utf-8")


def dossier_wire(dossier: StoredDossier, state: Progress, ledger: Ledger | None = None) -> dict[str, Any]:
    """`ledger`: what the dossier's invoices amount to (its échéances' montantRegle and montantEnCoursInstruction)."""
    schedule, ledger = state.schedule, ledger or Ledger()
    return {
        "cerfa": {**wire_blocks(dossier), **etat_wire(dossier, state)},
        "engagement": schedule.engagement if schedule else None,
        "echeances": [echeance_wire(item, ledger) for item in schedule.instalments] if schedule else [],
        "detailsFacturation": {
            "iban": None,
            "plafondFraisPremierEquipement": PREMIER_EQUIPEMENT_CAP,
            "fraisPremierEquipementRegles": ledger.frais_regles[Nature.PREMIER_EQUIPEMENT],
            "fraisMobiliteRegles": ledger.frais_regles[Nature.MOBILITE],
            "periodesFraisAnnexes": [],
        },
        "engagementsFraisAnnexe": frais_annexes_wire(dossier.cerfa) if schedule else [],
    }


def etat_wire(dossier: StoredDossier, state: Progress) -> dict[str, Any]:
    return {
        "numeroInterne": shown_numero_interne(dossier),
        "numeroExterne": dossier.numero_externe,
        "numeroDeca": state.numero_deca,
        "etat": state.etat,
        "commentaireEtat": state.commentaire,
    }


def echeance_wire(instalment: Instalment, ledger: Ledger) -> dict[str, Any]:
    return {
        "numero": instalment.numero,
        "codification": instalment.codification,
        "montantTotal": instalment.montant_total,
        "montantRegle": ledger.regle[instalment.numero],
        "montantEnCoursInstruction": ledger.en_cours[instalment.numero],
        "dateOuverture": instalment.date_ouverture.isoformat(),
        "dateDebut": instalment.date_debut.isoformat(),
        "dateFin": instalment.date_fin.isoformat(),
        "iban": None,
    }
