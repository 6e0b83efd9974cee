"""Documents as real clients send them (../shared/reference/opco-wire.md §4, docs/wire.md "Documents"): multipart,
a JSON part and a `fichier` part holding the document.

The one place where the dossier becomes the `convention` part of POST /v1/conventions and the `certificat` part of
POST /v2/certificats; the unknowns D1… are in docs/wire.md."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from domain.cerfa import Cerfa
from infrastructure.opco.opco_wire.outbound import encode

Parts = dict[str, tuple[str | None, bytes, str]]


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None  # D4: the form of dates in these parts was not observed


def _compact(block: Mapping[str, Any]) -> dict[str, Any]:
    """Without the keys we have no value for (D3: whether an OPCO wants them null or absent is unknown)."""
    return {key: value for key, value in block.items() if value is not None and value != {}}


# --- the `convention` part of POST /v1/conventions (api-convergence.md §3.3, opco-wire.md §4.2) -----------------
def convention_part(numero_interne_dossier: str, cerfa: Cerfa, mandat_employeur: bool | None) -> dict[str, Any]:
    """The starred keys of §3.3 from the dossier; the costs (`couts`), the signature date and the attestations are
    not in a Cerfa and are left out (D2)."""
    employeur, apprenti, contrat = cerfa.employeur, cerfa.apprenti, cerfa.contrat
    formation, organisme = cerfa.formation, cerfa.organismeFormation
    return _compact(
        {
            "numeroInterneDossier": numero_interne_dossier,
            "employeur": _compact({"siret": employeur.siret if employeur else None}),
            "apprenti": _compact(
                {
                    "nom": apprenti.nom if apprenti else None,
                    "prenom": apprenti.prenom if apprenti else None,
                    "nomUsage": apprenti.nomUsage if apprenti else None,
                }
            ),
            "contrat": _compact(
                {
                    "dateDebutContrat": _day(contrat.dateDebutContrat if contrat else None),
                    "dateFinContrat": _day(contrat.dateFinContrat if contrat else None),
                }
            ),
            "organismeFormation": _compact(
                {"siret": organisme.siret if organisme else None, "uaiCfa": organisme.uaiCfa if organisme else None}
            ),
            "formation": _compact(
                {
                    "dateDebutFormation": _day(formation.dateDebutFormation if formation else None),
                    "dateFinFormation": _day(formation.dateFinFormation if formation else None),
                    "dureeFormation": formation.dureeFormation if formation else None,
                    "rncp": formation.rncp if formation else None,
                    "intituleQualification": formation.intituleQualification if formation else None,
                }
            ),
            "mandatEmployeur": mandat_employeur,
        }
    )


# --- the `certificat` part of POST /v2/certificats (api-convergence.md §3.4, AFDAS) --------------------------------
def certificat_part(
    *,
    numero_interne_dossier: str,
    numero_interne_facture: str | None,
    type_certificat: str,
    echeance: Mapping[str, Any],
    cerfa: Cerfa,
) -> dict[str, Any]:
    """The starred keys of §3.4, the échéance as the OPCO's échéancier gives it; the signature, the legal
    representative and the attestations are not in a Cerfa and are left out (D2)."""
    apprenti, employeur, organisme = cerfa.apprenti, cerfa.employeur, cerfa.organismeFormation
    return _compact(
        {
            "typeCertificat": type_certificat,
            "numeroInterneDossier": numero_interne_dossier,
            "numeroInterneFacture": numero_interne_facture,
            "employeur": _compact({"siret": employeur.siret if employeur else None}),
            "apprenti": _compact(
                {
                    "nom": apprenti.nom if apprenti else None,
                    "prenom": apprenti.prenom if apprenti else None,
                    "nomUsage": apprenti.nomUsage if apprenti else None,
                }
            ),
            "organismeFormation": _compact({"siret": organisme.siret if organisme else None}),
            "echeance": _compact(
                {
                    "numero": echeance.get("numero"),
                    "codification": echeance.get("codification"),
                    "dateDebut": echeance.get("dateDebut"),
                    "dateFin": echeance.get("dateFin"),
                }
            ),
        }
    )


# --- the `infosFichier` part of POST /v1/documents (opco-wire.md §4.3) ----------------------------------------------
def infos_fichier(type_fichier: str, objets: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    return {"typeFichier": type_fichier, "objets": [{"typeObjet": kind, "idObjet": ident} for kind, ident in objets]}


def document_parts(name: str, body: Mapping[str, Any], content: bytes, file_name: str, media_type: str) -> Parts:
    """The JSON part under `name` and the document as `fichier`, as httpx's `files=` takes them."""
    return {name: (None, encode(dict(body)), "application/json"), "fichier": (file_name, content, media_type)}
