"""What the sandbox checks of a document's multipart body, strictly: the JSON part's keys (the observed ones only,
the required ones present), and the file's type by its content (PDF, JPEG, PNG). Each problem names its field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData, UploadFile

from domain.documents import media_type_of
from infrastructure.opco.opco_sandbox.errors import ApiError

MAX_FILE_BYTES = 10 * 1024 * 1024

# Every key observed, by block (api-convergence.md §3.3, §3.4; opco-wire.md §4.2–4.3); a key elsewhere is refused.
CONVENTION_KEYS: Mapping[str, frozenset[str]] = {
    "": frozenset(
        {
            "numeroInterneDossier",
            "employeur",
            "apprenti",
            "contrat",
            "organismeFormation",
            "formation",
            "couts",
            "mandatEmployeur",
            "dateSignature",
            "attestationConventionSigneeEntreprise",
            "attestationConventionSigneeCFA",
            "attestationConventionSignatureProbante",
            "attestationConventionConformeJSON",
        }
    ),
    "employeur": frozenset({"siret"}),
    "apprenti": frozenset({"nom", "prenom", "nomUsage"}),
    "contrat": frozenset({"dateDebutContrat", "dateFinContrat"}),
    "organismeFormation": frozenset({"siret", "uaiCfa"}),
    "formation": frozenset(
        {"dateDebutFormation", "dateFinFormation", "dureeFormation", "rncp", "intituleQualification"}
    ),
    "couts": frozenset(
        {
            "coutTotalPedagogieCFA",
            "montantRQTHAnnee1",
            "montantRQTHAnnee2",
            "montantRQTHAnnee3",
            "montantRQTHAnnee4",
            "nombreRepasTotaux",
            "nombreHebergementTotaux",
            "montantPremierEquipement",
            "mentionMobiliteInternationale",
            "mentionMobilitéInternationale",
            "accompagnementDROM",
        }
    ),
}
CONVENTION_REQUIRED = (
    "numeroInterneDossier",
    "employeur.siret",
    "apprenti.nom",
    "apprenti.prenom",
    "contrat.dateDebutContrat",
    "contrat.dateFinContrat",
    "organismeFormation.siret",
    "formation.dateDebutFormation",
    "formation.dateFinFormation",
    "formation.dureeFormation",
)
CERTIFICAT_KEYS: Mapping[str, frozenset[str]] = {
    "": frozenset(
        {
            "typeCertificat",
            "numeroInterneDossier",
            "numeroInterneFacture",
            "dateSignature",
            "lieuSignatureContrat",
            "representantLegal",
            "attestationConservationPieces",
            "natureAction",
            "employeur",
            "apprenti",
            "organismeFormation",
            "echeance",
        }
    ),
    "representantLegal": frozenset({"nom", "prenom", "qualite"}),
    "employeur": frozenset({"siret"}),
    "apprenti": frozenset({"nom", "prenom", "nomUsage"}),
    "organismeFormation": frozenset({"siret"}),
    "echeance": frozenset({"numero", "codification", "duree", "dateDebut", "dateFin", "echeancePartielle"}),
}
CERTIFICAT_REQUIRED = (
    "typeCertificat",
    "numeroInterneDossier",
    "employeur.siret",
    "apprenti.nom",
    "apprenti.prenom",
    "organismeFormation.siret",
    "echeance.numero",
)
TYPES_FICHIER = frozenset(
    {"CERTIFICAT_REALISATION", "CONVENTION_FORMATION", "CONVENTION_REDUCTION_DUREE", "CONVENTION_MOBILITE", "FACTURE"}
)
TYPES_OBJET = frozenset({"FACTURE", "DOSSIER_APPRENTISSAGE"})
TYPES_CERTIFICAT = frozenset({"Intermediaire", "Final"})


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    content: bytes
    media_type: str
    file_name: str | None


def _invalid(field: str, description: str, code: str = "CHAMP_INVALIDE") -> ApiError:
    return ApiError(code, description, field)


async def json_part(form: FormData, name: str) -> tuple[dict[str, Any] | None, list[ApiError]]:
    value = form.get(name)
    if value is None:
        return None, [_invalid(name, f"Partie {name} (JSON) manquante", "PARTIE_MANQUANTE")]
    raw = await value.read() if isinstance(value, UploadFile) else value.encode()
    try:
        document = json.loads(raw)
    except ValueError:
        return None, [_invalid(name, f"La partie {name} n'est pas du JSON")]
    if not isinstance(document, dict):
        return None, [_invalid(name, f"La partie {name} est un objet JSON")]
    return document, []


async def file_part(form: FormData) -> tuple[ReceivedFile | None, list[ApiError]]:
    value = form.get("fichier")
    if not isinstance(value, UploadFile):
        return None, [_invalid("fichier", "Partie fichier (le document) manquante", "PARTIE_MANQUANTE")]
    content = await value.read()
    media_type = media_type_of(content)
    if not content or len(content) > MAX_FILE_BYTES:
        return None, [_invalid("fichier", f"Le fichier est vide ou dépasse {MAX_FILE_BYTES} octets")]
    if media_type is None:
        return None, [_invalid("fichier", "Le fichier n'est ni un PDF, ni un JPEG, ni un PNG (par son contenu)")]
    return ReceivedFile(content, media_type.value, value.filename), []


def key_errors(
    document: Mapping[str, Any], part: str, known: Mapping[str, frozenset[str]], required: tuple[str, ...]
) -> list[ApiError]:
    errors = [
        _invalid(f"{part}.{key}", f"Champ inconnu : {key}", "CHAMP_INCONNU") for key in document if key not in known[""]
    ]
    for block, keys in known.items():
        value = document.get(block) if block else None
        if block and value is not None:
            if not isinstance(value, dict):
                errors.append(_invalid(f"{part}.{block}", f"{block} est un objet"))
                continue
            errors += [
                _invalid(f"{part}.{block}.{key}", f"Champ inconnu : {block}.{key}", "CHAMP_INCONNU")
                for key in value
                if key not in keys
            ]
    for path in required:
        if _at(document, path) in (None, ""):
            errors.append(_invalid(f"{part}.{path}", f"Champ obligatoire : {path}", "CHAMP_OBLIGATOIRE"))
    return errors


def infos_errors(infos: Mapping[str, Any]) -> list[ApiError]:
    errors = [
        _invalid(f"infosFichier.{key}", f"Champ inconnu : {key}", "CHAMP_INCONNU")
        for key in infos
        if key not in {"typeFichier", "objets"}
    ]
    if infos.get("typeFichier") not in TYPES_FICHIER:
        errors.append(_invalid("infosFichier.typeFichier", f"typeFichier parmi {', '.join(sorted(TYPES_FICHIER))}"))
    objets = infos.get("objets")
    if not isinstance(objets, list) or not objets:
        return [*errors, _invalid("infosFichier.objets", "objets : au moins un {typeObjet, idObjet}")]
    for index, item in enumerate(objets):
        where = f"infosFichier.objets.{index}"
        if not isinstance(item, dict) or set(item) != {"typeObjet", "idObjet"}:
            errors.append(_invalid(where, "Chaque objet a exactement typeObjet et idObjet"))
        elif item["typeObjet"] not in TYPES_OBJET:
            errors.append(_invalid(f"{where}.typeObjet", "typeObjet : FACTURE ou DOSSIER_APPRENTISSAGE"))
        elif not isinstance(item["idObjet"], str) or not item["idObjet"].strip():
            errors.append(_invalid(f"{where}.idObjet", "idObjet : le numéro de l'objet, en texte"))
    return errors


def _at(document: Mapping[str, Any], path: str) -> Any:
    value: Any = document
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return value
