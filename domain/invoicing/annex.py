"""The annex costs (frais annexes) the OPCO engaged with its commitment, one record per nature, kept on the contract
(`FundingCommitted.frais_annexes`) so that the invoice rules hold each kind to what the OPCO engaged.

A record: `kind` (an `InvoiceKind` value; None for a nature we do not invoice), `natureFrais` (the OPCO's word,
verbatim), and `quantite`, `prixUnitaire`, `montantTotal` (decimal strings, None where the OPCO gave none). Where the
OPCO engaged nothing of a kind, only the legal ceilings apply (`kinds.py`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from domain.invoicing.kinds import InvoiceKind
from domain.money import money

Record = Mapping[str, Any]


def annex_record(
    *,
    kind: InvoiceKind | None,
    nature: str,
    quantite: Decimal | None,
    prix_unitaire: Decimal | None,
    montant_total: Decimal | None,
) -> dict[str, Any]:
    return {
        "kind": None if kind is None else kind.value,
        "natureFrais": nature,
        "quantite": _text(quantite),
        "prixUnitaire": _text(prix_unitaire),
        "montantTotal": _text(montant_total),
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _of(records: Iterable[Record], kind: InvoiceKind) -> list[Record]:
    return [record for record in records if record.get("kind") == kind.value]


def engaged_amount(records: Iterable[Record], kind: InvoiceKind) -> Decimal | None:
    """What the OPCO engaged for `kind` over the contract: its montantTotal (else quantite × prixUnitaire), summed
    over the records of that kind; None when it engaged nothing of that kind, or gave no amount for it."""
    amounts = [_amount(record) for record in _of(records, kind)]
    known = [amount for amount in amounts if amount is not None]
    return money(sum(known, Decimal(0))) if known else None


def _amount(record: Record) -> Decimal | None:
    if record.get("montantTotal") is not None:
        return Decimal(record["montantTotal"])
    if record.get("quantite") is not None and record.get("prixUnitaire") is not None:
        return Decimal(record["quantite"]) * Decimal(record["prixUnitaire"])
    return None


def engaged_unit_price(records: Iterable[Record], kind: InvoiceKind) -> Decimal | None:
    """The lowest prixUnitaire the OPCO engaged for `kind` (a night, a meal); None where it gave none."""
    prices = [Decimal(record["prixUnitaire"]) for record in _of(records, kind) if record.get("prixUnitaire")]
    return min(prices) if prices else None
