"""Reading a POST /v1/factures body: its shape and formats (400 with every faulty field), before any rule.

Amounts are decimal strings ("2450.00"); JSON numbers are read through their text, never through float arithmetic.
Either way: positive, two decimals at most; kept with exactly two.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from domain.opcos import Opco
from infrastructure.opco_sandbox.errors import ApiError, SandboxRefusal
from infrastructure.opco_sandbox.invoice_records import Invoice, InvoicedDossier, InvoiceLine, Nature
from infrastructure.opco_sandbox.schedule import money
from infrastructure.opco_wire import read_sent_date

AMOUNT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
SIRET = re.compile(r"[0-9]{14}")
NATURES = ", ".join(nature.value for nature in Nature)
NOTHING = Decimal(0)


class _Reader:
    """Reads fields, collecting an error for each faulty one and answering a placeholder for it."""

    def __init__(self) -> None:
        self.errors: list[ApiError] = []

    def fail(self, code: str, description: str, champ: str) -> None:
        self.errors.append(ApiError(code, description, champ))

    def text(self, value: Any, champ: str) -> str:
        if value is None or value == "":
            self.fail("CHAMP_OBLIGATOIRE", f"Le champ {champ} est obligatoire", champ)
        elif not isinstance(value, str):
            self.fail("FORMAT_INVALIDE", f"Le champ {champ} doit être une chaîne", champ)
        else:
            return value
        return ""

    def optional_text(self, value: Any, champ: str) -> str | None:
        return None if value is None or value == "" else self.text(value, champ)

    def amount(self, value: Any, champ: str) -> Decimal:
        text = None if isinstance(value, bool) or not isinstance(value, str | int | float) else str(value)
        if value is None:
            self.fail("CHAMP_OBLIGATOIRE", f"Le champ {champ} est obligatoire", champ)
        elif text is None or not AMOUNT.fullmatch(text) or Decimal(text) <= 0:
            self.fail("MONTANT_INVALIDE", f"Le champ {champ} doit être un montant positif (2 décimales au plus)", champ)
        else:
            return money(Decimal(text))
        return NOTHING

    def day(self, value: Any, champ: str) -> date:
        day = read_sent_date(value)
        if day is None:
            self.fail("FORMAT_INVALIDE", f"Le champ {champ} doit être une date (AAAA-MM-JJ, avec ou sans heure)", champ)
        return day or date.min

    def count(self, value: Any, champ: str, *, default: int | None = None) -> int:
        if value is None and default is not None:
            return default
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        self.fail("FORMAT_INVALIDE", f"Le champ {champ} doit être un entier positif", champ)
        return 0

    def nature(self, value: Any, champ: str) -> Nature:
        if isinstance(value, str) and value in Nature.__members__:
            return Nature(value)
        self.fail("NATURE_INCONNUE", f"Le champ {champ} doit valoir l'un de : {NATURES}", champ)
        return Nature.PEDAGOGIE

    def objects(self, value: Any, champ: str) -> list[dict[str, Any]]:
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            return value
        self.fail("CHAMP_OBLIGATOIRE", f"Le champ {champ} doit être une liste non vide d'objets", champ)
        return []


def read_invoice(body: dict[str, Any], opco: Opco) -> Invoice:
    """The invoice, or SandboxRefusal(400) naming every faulty field."""
    reader = _Reader()
    numero = reader.text(body.get("numeroInterneFacture"), "numeroInterneFacture")
    reference = reader.optional_text(body.get("referenceFactureCFA"), "referenceFactureCFA")
    invoice = Invoice(
        numero_interne=numero,
        reference_cfa=reference or numero,
        date_facture=reader.day(body.get("dateFacture"), "dateFacture"),
        montant=reader.amount(body.get("montantFacture"), "montantFacture"),
        siret=_siret(reader, body.get("organismeFormation")),
        dossiers=tuple(
            _dossier(reader, item, f"dossiers[{index}]")
            for index, item in enumerate(reader.objects(body.get("dossiers"), "dossiers"))
        ),
    )
    _no_repeated_dossier(reader, invoice)
    if reader.errors:
        raise SandboxRefusal(400, reader.errors, opco)
    return invoice


def _siret(reader: _Reader, organisme: Any) -> str:
    champ = "organismeFormation.siret"
    siret = reader.text(organisme.get("siret") if isinstance(organisme, dict) else None, champ)
    if siret and not SIRET.fullmatch(siret):
        reader.fail("FORMAT_INVALIDE", f"Le champ {champ} doit compter 14 chiffres", champ)
    return siret


def _dossier(reader: _Reader, item: dict[str, Any], where: str) -> InvoicedDossier:
    return InvoicedDossier(
        numero_interne=reader.text(item.get("numeroInterneDossier"), f"{where}.numeroInterneDossier"),
        numero_externe=reader.optional_text(item.get("numeroExterneDossier"), f"{where}.numeroExterneDossier"),
        montant=reader.amount(item.get("montant"), f"{where}.montant"),
        lignes=tuple(
            _line(reader, line, f"{where}.lignes[{index}]")
            for index, line in enumerate(reader.objects(item.get("lignes"), f"{where}.lignes"))
        ),
    )


def _line(reader: _Reader, item: dict[str, Any], where: str) -> InvoiceLine:
    return InvoiceLine(
        numero_echeance=reader.count(item.get("numeroEcheance"), f"{where}.numeroEcheance"),
        codification=reader.optional_text(item.get("codification"), f"{where}.codification"),
        nature=reader.nature(item.get("nature"), f"{where}.nature"),
        quantite=reader.count(item.get("quantite"), f"{where}.quantite", default=1),
        montant=reader.amount(item.get("montant"), f"{where}.montant"),
    )


def _no_repeated_dossier(reader: _Reader, invoice: Invoice) -> None:
    seen: set[str] = set()
    for index, dossier in enumerate(invoice.dossiers):
        if dossier.numero_interne and dossier.numero_interne in seen:
            champ = f"dossiers[{index}].numeroInterneDossier"
            reader.fail("DOSSIER_EN_DOUBLE", f"Le dossier {dossier.numero_interne} figure deux fois", champ)
        seen.add(dossier.numero_interne)
