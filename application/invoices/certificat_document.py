"""What a certificat de réalisation shows, as a plain value built from the dossier: the apprentice, the employer,
the training (title, RNCP, dates, hours from the Cerfa's `formation`), the period it proves (the échéance as the
OPCO's échéancier gives it, else the training's dates) and the hours done. The renderer
(infrastructure.documents.certificat_pdf) only lays it out; the CFA's legal representative signs the printed copy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.contracts.contract import Contract
from domain.errors import InvalidValue
from domain.opco.opcos import OPCO_NAMES, Opco

# Apprenticeship is an action of training of its own kind (Code du travail, L6313-1 4°).
NATURE_ACTION = "Action de formation par apprentissage (article L6313-1, 4° du Code du travail)"


@dataclass(frozen=True, slots=True)
class CertificatDocument:
    cfa_name: str
    cfa_siret: str
    cfa_uai: str | None
    apprentice: str
    employer: str
    employer_siret: str | None
    training: str
    rncp: str | None
    training_from: date | None
    training_to: date | None
    planned_hours: int | None
    period_from: date | None
    period_to: date | None
    hours_done: int | None
    numero_echeance: int
    final: bool
    numero_dossier: str
    opco_name: str | None
    issued_on: date


def certificat_document(
    contract: Contract, *, numero_echeance: int, hours_done: int | None, final: bool, issued_on: date
) -> CertificatDocument:
    cerfa = contract.cerfa_model
    apprenti, employeur, formation = cerfa.apprenti, cerfa.employeur, cerfa.formation
    organisme = cerfa.organismeFormation
    echeance = next((e for e in contract.echeances if int(e["numero"]) == numero_echeance), None)
    if contract.echeances and echeance is None:
        known = ", ".join(str(e["numero"]) for e in contract.echeances)
        raise InvalidValue("numeroEcheance", "unknown_echeance", f"the OPCO's échéancier has échéances {known}")
    names = (apprenti.prenom, apprenti.nom) if apprenti else ()
    period_from = date.fromisoformat(echeance["dateDebut"]) if echeance and echeance.get("dateDebut") else None
    period_to = date.fromisoformat(echeance["dateFin"]) if echeance and echeance.get("dateFin") else None
    return CertificatDocument(
        cfa_name=str(organisme.denomination or "") if organisme else "",
        cfa_siret=contract.cfa_siret,
        cfa_uai=str(organisme.uaiCfa) if organisme and organisme.uaiCfa else None,
        apprentice=" ".join(str(name) for name in names if name) or contract.numero_interne,
        employer=str(employeur.denomination or "") if employeur else "",
        employer_siret=str(employeur.siret) if employeur and employeur.siret else None,
        training=str(formation.intituleQualification or "") if formation else "",
        rncp=str(formation.rncp) if formation and formation.rncp else None,
        training_from=formation.dateDebutFormation if formation else None,
        training_to=formation.dateFinFormation if formation else None,
        planned_hours=int(formation.dureeFormation) if formation and formation.dureeFormation else None,
        period_from=period_from or (formation.dateDebutFormation if formation else None),
        period_to=period_to or (formation.dateFinFormation if formation else None),
        hours_done=hours_done,
        numero_echeance=numero_echeance,
        final=final,
        numero_dossier=contract.numero_externe or contract.opco_reference,
        opco_name=OPCO_NAMES.get(Opco(contract.submitted_to)) if contract.submitted_to else None,
        issued_on=issued_on,
    )
