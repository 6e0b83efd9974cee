"""What a document sent to an OPCO is (its `typeFichier`), and which route takes it to a given OPCO.

The routes and their sources: opco-wire.md §4.2–4.4, the catalogue's `conventions`, `documents`, `certificats_v2`."""

from __future__ import annotations

from enum import StrEnum

from domain.opco.opco_catalogue import OpcoProfile


class DocumentKind(StrEnum):
    """The `typeFichier` values of POST /v1/documents (opco-wire.md §4.3); FACTURE is the invoice's own flow."""

    CONVENTION_FORMATION = "CONVENTION_FORMATION"
    CONVENTION_REDUCTION_DUREE = "CONVENTION_REDUCTION_DUREE"
    CONVENTION_MOBILITE = "CONVENTION_MOBILITE"
    CERTIFICAT_REALISATION = "CERTIFICAT_REALISATION"


class DocumentRoute(StrEnum):
    CONVENTIONS = "conventions"  # POST /v1/conventions: `convention` JSON + `fichier`
    DOCUMENTS = "documents"  # POST /v1/documents: `infosFichier` JSON + `fichier`
    CERTIFICATS_V2 = "certificats_v2"  # POST /v2/certificats: `certificat` JSON + `fichier` (AFDAS)


class LinkedObject(StrEnum):
    """`typeObjet` of POST /v1/documents: what the document is attached to at the OPCO."""

    DOSSIER_APPRENTISSAGE = "DOSSIER_APPRENTISSAGE"  # idObjet: the dossier's numeroInterne as the OPCO knows it
    FACTURE = "FACTURE"  # idObjet: the OPCO's numeroInterneFacture of the invoice


def route_for(kind: DocumentKind, profile: OpcoProfile) -> DocumentRoute | None:
    """The convention de formation goes to /v1/conventions where the OPCO takes it, else to /v1/documents; the other
    conventions (reduction, mobility) to /v1/documents only (/v1/conventions carries the training agreement's own
    fields); the certificat to /v2/certificats at AFDAS, else to /v1/documents. None: no route to this OPCO."""
    if kind is DocumentKind.CONVENTION_FORMATION and profile.conventions:
        return DocumentRoute.CONVENTIONS
    if kind is DocumentKind.CERTIFICAT_REALISATION and profile.certificats_v2:
        return DocumentRoute.CERTIFICATS_V2
    return DocumentRoute.DOCUMENTS if profile.documents else None


def no_route_reason(kind: DocumentKind, opco: str) -> str:
    if kind is DocumentKind.CERTIFICAT_REALISATION:
        return (
            f"{opco} takes no certificat de réalisation over the API (neither POST /v1/documents nor /v2/certificats"
            " is known there): it goes with the invoice (estCertificatRealisation) or on the OPCO's extranet"
        )
    takes = (
        "neither POST /v1/conventions nor /v1/documents"
        if kind is DocumentKind.CONVENTION_FORMATION
        else ("no POST /v1/documents")
    )
    return f"{opco} takes no {kind.value} over the API ({takes} is known there): deposit it on the OPCO's extranet"
