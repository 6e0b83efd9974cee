"""The invoices the sandbox stores: the `facture` part as received (amounts exact), what it received of the PDF
(`fichier`), and the OPCO's own numbers of both; kept as JSON in SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from domain.opco.opcos import Opco


class Nature(StrEnum):
    """What an invoice line bills (`natureLigne`, the values CerFacil sends, opco-wire.md §5)."""

    PEDAGOGIE = "PEDAGOGIE"
    PREMIER_EQUIPEMENT = "PREMIEREQUIPEMENT"
    RESTAURATION = "RESTAURATION"
    HEBERGEMENT = "HEBERGEMENT"
    MOBILITE = "MOBILITE"
    MAJORATION_RQTH = "MAJORATION_RQTH"


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """A line of `lignes[]`: one nature billed on one échéance of one dossier, named by the OPCO's numeroExterne."""

    montant: Decimal
    nature: Nature
    quantite: int
    numero_echeance: int
    codification: str | None  # codificationEcheance
    numero_deca: str | None
    numero_dossier: str  # numeroDossier: the dossier's numeroExterne at this OPCO
    numero_interne_dossier: str | None = None  # the dossier's numeroInterne, once the OPCO found it

    def to_record(self) -> dict[str, Any]:
        return {
            "montant": str(self.montant),
            "natureLigne": self.nature.value,
            "quantite": self.quantite,
            "numeroEcheance": self.numero_echeance,
            "codificationEcheance": self.codification,
            "numeroDeca": self.numero_deca,
            "numeroDossier": self.numero_dossier,
            "numeroInterneDossier": self.numero_interne_dossier,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> InvoiceLine:
        return cls(
            Decimal(record["montant"]),
            Nature(record["natureLigne"]),
            record["quantite"],
            record["numeroEcheance"],
            record["codificationEcheance"],
            record["numeroDeca"],
            record["numeroDossier"],
            record["numeroInterneDossier"],
        )


@dataclass(frozen=True, slots=True)
class Invoice:
    """The `facture` part of a POST /v1/factures, read."""

    numero: str  # the CFA's invoice number
    date_emission: datetime  # with its offset, as sent
    montant: Decimal  # montantTotal
    iban: str  # ibanEmetteur
    siret: str  # siretEmetteur
    est_certificat_realisation: bool
    lignes: tuple[InvoiceLine, ...]

    def to_record(self) -> dict[str, Any]:
        return {
            "numero": self.numero,
            "dateEmission": self.date_emission.isoformat(),
            "montantTotal": str(self.montant),
            "ibanEmetteur": self.iban,
            "siretEmetteur": self.siret,
            "estCertificatRealisation": self.est_certificat_realisation,
            "lignes": [line.to_record() for line in self.lignes],
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Invoice:
        return cls(
            record["numero"],
            datetime.fromisoformat(record["dateEmission"]),
            Decimal(record["montantTotal"]),
            record["ibanEmetteur"],
            record["siretEmetteur"],
            record["estCertificatRealisation"],
            tuple(InvoiceLine.from_record(line) for line in record["lignes"]),
        )

    def lines_of(self, numero_externe_dossier: str) -> list[InvoiceLine]:
        return [line for line in self.lignes if line.numero_dossier == numero_externe_dossier]

    def by_dossier(self) -> Iterator[tuple[str, list[tuple[int, InvoiceLine]]]]:
        """Its lines (with their index in `lignes`) grouped by dossier, in order of first appearance."""
        groups: dict[str, list[tuple[int, InvoiceLine]]] = {}
        for index, line in enumerate(self.lignes):
            groups.setdefault(line.numero_dossier, []).append((index, line))
        yield from groups.items()


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """What the OPCO received in `fichier`: only its digest, size and name are kept, not its bytes."""

    sha256: str
    size: int
    name: str | None


@dataclass(frozen=True, slots=True)
class StoredInvoice:
    opco: Opco
    siren: str
    numero_interne_facture: str  # the OPCO's own number of the invoice
    numero_interne_document: str  # the OPCO's number of the stored PDF
    sequence: int  # per OPCO, from 1, in order of receipt
    submitted_at: datetime
    partial: bool  # paid in two steps (the sandbox's setting when it was received)
    invoice: Invoice
    document: ReceivedFile

    @property
    def numero(self) -> str:
        """The CFA's number of the invoice."""
        return self.invoice.numero


def opco_numbers(opco: Opco, submitted_at: datetime, sequence: int) -> tuple[str, str]:
    """(numeroInterneFacture, numeroInterneDocument) of the `sequence`-th invoice the OPCO receives."""
    suffix = f"{opco.value}-{submitted_at.year}-{sequence:06d}"
    return f"FAC-{suffix}", f"DOC-{suffix}"
