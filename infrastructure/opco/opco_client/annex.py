"""`engagementsFraisAnnexe` of a dossier the OPCO returns: the annex costs it engaged, per nature.

Items observed: `{natureFrais, quantite, prixUnitaire, montantTotal}`, the nature spelt `Premierequipement`,
`Restauration`, `RESTAURATION`, ... (opco-wire.md §8, api-convergence.md §3.1; WEDOF-TEST, AKTO-PY). The nature is
matched without regard to case, accents or separators; one we do not invoice is kept with no kind."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from application.opco.opco_gateway import FraisAnnexe
from domain.invoicing.kinds import InvoiceKind

log = logging.getLogger("convergence.opco_client")
AmountReader = Callable[[Any, str], Decimal | None]  # parsing.amount: exact, and raising on an unreadable one

_KINDS = {
    "premierequipement": InvoiceKind.PREMIER_EQUIPEMENT,
    "equipement": InvoiceKind.PREMIER_EQUIPEMENT,
    "restauration": InvoiceKind.RESTAURATION,
    "repas": InvoiceKind.RESTAURATION,
    "hebergement": InvoiceKind.HEBERGEMENT,
    "mobilite": InvoiceKind.MOBILITE_INTERNATIONALE,
    "mobiliteinternationale": InvoiceKind.MOBILITE_INTERNATIONALE,
    "majorationrqth": InvoiceKind.MAJORATION_RQTH,
    "rqth": InvoiceKind.MAJORATION_RQTH,
}


def parse_frais_annexes(document: Mapping[str, Any], amount: AmountReader) -> tuple[FraisAnnexe, ...]:
    items = document.get("engagementsFraisAnnexe")
    if not isinstance(items, list):
        return ()
    return tuple(
        _frais(item, f"engagementsFraisAnnexe[{index}]", amount)
        for index, item in enumerate(items)
        if isinstance(item, dict) and isinstance(item.get("natureFrais"), str) and item["natureFrais"].strip()
    )


def _frais(item: Mapping[str, Any], where: str, amount: AmountReader) -> FraisAnnexe:
    nature = str(item["natureFrais"]).strip()
    kind = kind_of_nature(nature)
    if kind is None:
        log.info("annex cost of nature %r kept without an invoice kind", nature)
    return FraisAnnexe(
        nature=nature,
        kind=kind,
        quantite=amount(item.get("quantite"), f"{where}.quantite"),
        prix_unitaire=amount(item.get("prixUnitaire"), f"{where}.prixUnitaire"),
        montant_total=amount(item.get("montantTotal"), f"{where}.montantTotal"),
    )


def kind_of_nature(nature: str) -> InvoiceKind | None:
    """`Premierequipement`, `PREMIER_EQUIPEMENT`, `Premier équipement` → premierEquipement; None when unknown."""
    plain = unicodedata.normalize("NFKD", nature).encode("ascii", "ignore").decode("ascii")
    return _KINDS.get(re.sub(r"[^a-z]", "", plain.lower()))
