"""The body of POST /v1/factures, and how a payment spreads over the lines of an invoice.

The norm's invoice body was not found (../shared/reference/api-convergence.md §3.2): this one mirrors the invoice
state item (`numeroInterneFacture`, `montantFacture`, `organismeFormation`, `dossiers[{numeroInterneDossier,
numeroExterneDossier, montant}]`) and adds each dossier's lines by échéance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.invoicing.lines import InvoiceLine, total
from domain.money import ZERO, money_text


def invoice_payload(
    numero_interne_facture: str, invoice_date: date, cfa_siret: str, lines: list[InvoiceLine]
) -> dict[str, Any]:
    dossiers: dict[str, list[InvoiceLine]] = {}
    for line in lines:
        dossiers.setdefault(line.numero_interne, []).append(line)
    return {
        "numeroInterneFacture": numero_interne_facture,
        "dateFacture": invoice_date.isoformat(),
        "montantFacture": money_text(total(lines)),
        "organismeFormation": {"siret": cfa_siret},
        "dossiers": [_dossier(numero, its_lines) for numero, its_lines in dossiers.items()],
    }


def _dossier(numero_interne: str, lines: list[InvoiceLine]) -> dict[str, Any]:
    return {
        "numeroInterneDossier": numero_interne,
        "numeroExterneDossier": lines[0].numero_externe,
        "montant": money_text(total(lines)),
        "lignes": [
            {
                "numeroEcheance": line.numero_echeance,
                "codification": line.codification,
                "nature": line.kind.nature,
                "quantite": line.quantity if line.quantity is not None else 1,
                "montant": money_text(line.amount),
            }
            for line in lines
        ],
    }


def allocate(lines: list[InvoiceLine], paid: Decimal) -> list[Decimal]:
    """What a cumulated payment covers of each line, in the invoice's order (the OPCO reports one amount)."""
    left, shares = paid, []
    for line in lines:
        share = min(line.amount, max(ZERO, left))
        shares.append(share)
        left -= share
    return shares
