"""The invoices the sandbox stores: as received (amounts exact), numbered by the OPCO, kept as JSON in SQLite."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from domain.opcos import Opco


class Nature(StrEnum):
    """What an invoice line bills: the training itself or one of the frais annexes."""

    PEDAGOGIE = "PEDAGOGIE"
    HEBERGEMENT = "HEBERGEMENT"
    RESTAURATION = "RESTAURATION"
    PREMIER_EQUIPEMENT = "PREMIER_EQUIPEMENT"
    MOBILITE_INTERNATIONALE = "MOBILITE_INTERNATIONALE"


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    numero_echeance: int
    codification: str | None
    nature: Nature
    quantite: int
    montant: Decimal

    def to_record(self) -> dict[str, Any]:
        return {
            "numeroEcheance": self.numero_echeance,
            "codification": self.codification,
            "nature": self.nature.value,
            "quantite": self.quantite,
            "montant": str(self.montant),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> InvoiceLine:
        return cls(
            record["numeroEcheance"],
            record["codification"],
            Nature(record["nature"]),
            record["quantite"],
            Decimal(record["montant"]),
        )


@dataclass(frozen=True, slots=True)
class InvoicedDossier:
    """One dossier of an invoice (an invoice may cover several): what is billed on it, line by line."""

    numero_interne: str
    numero_externe: str | None  # as the CFA wrote it
    montant: Decimal
    lignes: tuple[InvoiceLine, ...]

    def to_record(self) -> dict[str, Any]:
        return {
            "numeroInterneDossier": self.numero_interne,
            "numeroExterneDossier": self.numero_externe,
            "montant": str(self.montant),
            "lignes": [line.to_record() for line in self.lignes],
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> InvoicedDossier:
        lines = tuple(InvoiceLine.from_record(line) for line in record["lignes"])
        return cls(record["numeroInterneDossier"], record["numeroExterneDossier"], Decimal(record["montant"]), lines)


@dataclass(frozen=True, slots=True)
class Invoice:
    """A POST /v1/factures body, read."""

    numero_interne: str  # numeroInterneFacture
    reference_cfa: str  # referenceFactureCFA: the number printed on the invoice; numeroInterneFacture by default
    date_facture: date
    montant: Decimal
    siret: str  # organismeFormation.siret
    dossiers: tuple[InvoicedDossier, ...]

    def to_record(self) -> dict[str, Any]:
        return {
            "numeroInterneFacture": self.numero_interne,
            "referenceFactureCFA": self.reference_cfa,
            "dateFacture": self.date_facture.isoformat(),
            "montantFacture": str(self.montant),
            "siret": self.siret,
            "dossiers": [dossier.to_record() for dossier in self.dossiers],
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Invoice:
        return cls(
            record["numeroInterneFacture"],
            record["referenceFactureCFA"],
            date.fromisoformat(record["dateFacture"]),
            Decimal(record["montantFacture"]),
            record["siret"],
            tuple(InvoicedDossier.from_record(dossier) for dossier in record["dossiers"]),
        )

    def lines_of(self, numero_interne_dossier: str) -> list[InvoiceLine]:
        return [line for d in self.dossiers if d.numero_interne == numero_interne_dossier for line in d.lignes]


@dataclass(frozen=True, slots=True)
class StoredInvoice:
    opco: Opco
    siren: str
    numero_externe: str  # numeroExterneFacture
    sequence: int  # per OPCO, from 1, in order of receipt
    submitted_at: datetime
    partial: bool  # paid in two steps (the sandbox's setting when it was received)
    invoice: Invoice

    @property
    def numero_interne(self) -> str:
        return self.invoice.numero_interne


def numero_externe_facture(opco: Opco, submitted_at: datetime, sequence: int) -> str:
    return f"FAC-{opco.value}-{submitted_at.year}-{sequence:06d}"
