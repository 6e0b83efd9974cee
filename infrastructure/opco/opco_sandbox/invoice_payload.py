"""Reading the `facture` part of a POST /v1/factures: its shape and formats (400 with every faulty field), before
any rule. The keys are those real clients send (opco-wire.md §5); any other is refused, so nothing else is taken.

Amounts are read exactly (the part is parsed with Decimal for its numbers; decimal strings are taken too): positive,
two decimals at most; kept with exactly two.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from stdnum import iban as iban_number

from infrastructure.opco.opco_sandbox.errors import ApiError
from infrastructure.opco.opco_sandbox.invoice_records import Invoice, InvoiceLine, Nature
from infrastructure.opco.opco_sandbox.schedule import money

AMOUNT: Final = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
SIRET: Final = re.compile(r"[0-9]{14}")
NATURES: Final = ", ".join(nature.value for nature in Nature)
FACTURE_KEYS: Final = frozenset(
    {"montantTotal", "numero", "dateEmission", "ibanEmetteur", "siretEmetteur", "estCertificatRealisation", "lignes"}
)
LINE_KEYS: Final = frozenset(
    {"montant", "natureLigne", "quantite", "numeroEcheance", "codificationEcheance", "numeroDeca", "numeroDossier"}
)
NOTHING: Final = Decimal(0)


class _Reader:
    """Reads fields, collecting an error for each faulty one and answering a placeholder for it."""

    def __init__(self) -> None:
        self.errors: list[ApiError] = []

    def fail(self, code: str, description: str, champ: str) -> None:
        self.errors.append(ApiError(code, description, champ))

    def only(self, item: dict[str, Any], keys: frozenset[str], where: str) -> None:
        for key in item:
            if key not in keys:
                champ = f"{where}.{key}" if where else key
                self.fail("CHAMP_INCONNU", f"Le champ {champ} n'est pas un champ de la facture", champ)

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
        text = str(value) if isinstance(value, str | int | Decimal) and not isinstance(value, bool) else None
        if value is None:
            self.fail("CHAMP_OBLIGATOIRE", f"Le champ {champ} est obligatoire", champ)
        elif text is None or not AMOUNT.fullmatch(text) or Decimal(text) <= 0:
            self.fail("MONTANT_INVALIDE", f"Le champ {champ} doit être un montant positif (2 décimales au plus)", champ)
        else:
            return money(Decimal(text))
        return NOTHING

    def moment(self, value: Any, champ: str) -> datetime:
        """ISO 8601 with its offset, as real clients send dates (opco-wire.md §8)."""
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) and "T" in value else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            description = (
                f"Le champ {champ} doit être une date ISO 8601 avec heure et décalage (2026-09-01T00:00:00+02:00)"
            )
            self.fail("FORMAT_INVALIDE", description, champ)
            return datetime.min
        return moment

    def flag(self, value: Any, champ: str) -> bool:
        if isinstance(value, bool):
            return value
        code = "CHAMP_OBLIGATOIRE" if value is None else "FORMAT_INVALIDE"
        self.fail(code, f"Le champ {champ} doit être un booléen", champ)
        return False

    def count(self, value: Any, champ: str) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        code = "CHAMP_OBLIGATOIRE" if value is None else "FORMAT_INVALIDE"
        self.fail(code, f"Le champ {champ} doit être un entier positif", champ)
        return 0

    def nature(self, value: Any, champ: str) -> Nature:
        if isinstance(value, str) and value in Nature._value2member_map_:
            return Nature(value)
        self.fail("NATURE_INCONNUE", f"Le champ {champ} doit valoir l'un de : {NATURES}", champ)
        return Nature.PEDAGOGIE

    def objects(self, value: Any, champ: str) -> list[dict[str, Any]]:
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            return value
        self.fail("CHAMP_OBLIGATOIRE", f"Le champ {champ} doit être une liste non vide d'objets", champ)
        return []


def read_facture(part: dict[str, Any]) -> tuple[Invoice, list[ApiError]]:
    """The invoice and every error of shape or format (none: the invoice is well formed)."""
    reader = _Reader()
    reader.only(part, FACTURE_KEYS, "")
    invoice = Invoice(
        numero=reader.text(part.get("numero"), "numero"),
        date_emission=reader.moment(part.get("dateEmission"), "dateEmission"),
        montant=reader.amount(part.get("montantTotal"), "montantTotal"),
        iban=_iban(reader, part.get("ibanEmetteur")),
        siret=_siret(reader, part.get("siretEmetteur")),
        est_certificat_realisation=reader.flag(part.get("estCertificatRealisation"), "estCertificatRealisation"),
        lignes=tuple(
            _line(reader, item, f"lignes[{index}]")
            for index, item in enumerate(reader.objects(part.get("lignes"), "lignes"))
        ),
    )
    return invoice, reader.errors


def _iban(reader: _Reader, value: Any) -> str:
    iban = reader.text(value, "ibanEmetteur")
    if iban and not iban_number.is_valid(iban):
        reader.fail("IBAN_INVALIDE", "Le champ ibanEmetteur n'est pas un IBAN valide", "ibanEmetteur")
    return iban


def _siret(reader: _Reader, value: Any) -> str:
    siret = reader.text(value, "siretEmetteur")
    if siret and not SIRET.fullmatch(siret):
        reader.fail("FORMAT_INVALIDE", "Le champ siretEmetteur doit compter 14 chiffres", "siretEmetteur")
    return siret


def _line(reader: _Reader, item: dict[str, Any], where: str) -> InvoiceLine:
    reader.only(item, LINE_KEYS, where)
    return InvoiceLine(
        montant=reader.amount(item.get("montant"), f"{where}.montant"),
        nature=reader.nature(item.get("natureLigne"), f"{where}.natureLigne"),
        quantite=reader.count(item.get("quantite"), f"{where}.quantite"),
        numero_echeance=reader.count(item.get("numeroEcheance"), f"{where}.numeroEcheance"),
        codification=reader.optional_text(item.get("codificationEcheance"), f"{where}.codificationEcheance"),
        numero_deca=reader.optional_text(item.get("numeroDeca"), f"{where}.numeroDeca"),
        numero_dossier=reader.text(item.get("numeroDossier"), f"{where}.numeroDossier"),
    )
