"""An invoice as real clients send it to POST /v1/factures (../shared/reference/opco-wire.md §5, docs/wire.md
"Invoice body"): multipart/form-data, a `facture` part of JSON and a `fichier` part holding the invoice's PDF.

The one place where our invoice line kinds become the OPCO's `natureLigne`; the unknowns I1… are in docs/wire.md."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final
from uuid import UUID

from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.lines import InvoiceLine, total
from domain.money import money
from infrastructure.opco.opco_wire.dates import write_date
from infrastructure.opco.opco_wire.outbound import encode
from infrastructure.opco.opco_wire.variants import DateForm

# The values CerFacil sends (§5 [C3]).
OBSERVED_NATURES: Final = frozenset(
    {"PEDAGOGIE", "PREMIEREQUIPEMENT", "RESTAURATION", "HEBERGEMENT", "MOBILITE", "MAJORATION_RQTH"}
)
NATURE_LIGNE: Final[Mapping[InvoiceKind, str]] = {
    InvoiceKind.PEDAGOGIE: "PEDAGOGIE",
    InvoiceKind.PREMIER_EQUIPEMENT: "PREMIEREQUIPEMENT",
    InvoiceKind.RESTAURATION: "RESTAURATION",
    InvoiceKind.HEBERGEMENT: "HEBERGEMENT",
    InvoiceKind.MOBILITE_INTERNATIONALE: "MOBILITE",
    InvoiceKind.MAJORATION_RQTH: "MAJORATION_RQTH",
}


@dataclass(frozen=True, slots=True)
class Issuer:
    """The CFA that bills, as its billing profile gives it."""

    siret: str
    iban: str


def facture_part(
    *,
    numero: str,
    issued_on: date,
    issuer: Issuer,
    lines: Sequence[InvoiceLine],
    numeros_deca: Mapping[UUID, str | None],
    est_certificat_realisation: bool = False,
) -> dict[str, Any]:
    """The `facture` part: amounts as decimals with two places, the date as midnight in France with its offset (I2),
    each line's échéance codified as the OPCO's échéancier codifies it (I3)."""
    return {
        "montantTotal": money(total(list(lines))),
        "numero": numero,
        "dateEmission": write_date(issued_on, DateForm.PARIS),
        "ibanEmetteur": issuer.iban,
        "siretEmetteur": issuer.siret,
        "estCertificatRealisation": est_certificat_realisation,
        "lignes": [_line(line, numeros_deca.get(line.contract_id)) for line in lines],
    }


def _line(line: InvoiceLine, numero_deca: str | None) -> dict[str, Any]:
    return {
        "montant": money(line.amount),
        "natureLigne": NATURE_LIGNE[line.kind],
        "quantite": line.quantity if line.quantity is not None else 1,  # I4
        "numeroEcheance": line.numero_echeance,
        "codificationEcheance": line.codification,
        "numeroDeca": numero_deca,
        "numeroDossier": line.numero_externe,
    }


def multipart_files(facture: Mapping[str, Any], pdf: bytes, numero: str) -> dict[str, tuple[str | None, bytes, str]]:
    """The two parts as httpx's `files=` takes them; the PDF is named after the invoice number, as CerFacil names it."""
    return {
        "facture": (None, encode(facture), "application/json"),
        "fichier": (f"{numero}.pdf", pdf, "application/pdf"),
    }
