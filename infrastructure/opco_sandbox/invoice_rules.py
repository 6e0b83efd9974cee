"""The OPCO's rules for an invoice (422 with every broken one), judged against its own records and clock.

- its figures add up: the lines of a dossier to the dossier's montant, the dossiers to montantFacture;
- frais annexes within their caps: hébergement 6 € a night, restauration 3 € a meal (× quantite), premier
  équipement 500 € per dossier over all its invoices not refused;
- each dossier is this CFA's at this OPCO and engaged (no invoice before the accord de prise en charge), with the
  numeroExterneDossier the OPCO gave it when one is written;
- each line's échéance is in the dossier's échéancier (same codification when one is written) and open on the
  sandbox's day (its dateOuverture reached, Paris time);
- the pédagogie billed on an échéance is at most what is left of it: montantTotal − montantRegle −
  montantEnCoursInstruction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from infrastructure.clock import PARIS
from infrastructure.opco_sandbox.config import SandboxConfig
from infrastructure.opco_sandbox.errors import ApiError
from infrastructure.opco_sandbox.invoice_ledger import Ledger, ledger_of
from infrastructure.opco_sandbox.invoice_records import Invoice, InvoicedDossier, InvoiceLine, Nature, StoredInvoice
from infrastructure.opco_sandbox.lifecycle import progress
from infrastructure.opco_sandbox.records import StoredDossier
from infrastructure.opco_sandbox.schedule import Instalment, Schedule

PER_NIGHT = Decimal("6.00")  # hébergement
PER_MEAL = Decimal("3.00")  # restauration
PREMIER_EQUIPEMENT_CAP = Decimal("500.00")  # per dossier
UNIT_CAPS = {Nature.HEBERGEMENT: (PER_NIGHT, "nuitée"), Nature.RESTAURATION: (PER_MEAL, "repas")}


def invoice_errors(
    invoice: Invoice,
    dossiers: Mapping[str, StoredDossier],
    existing: Sequence[StoredInvoice],
    now: datetime,
    config: SandboxConfig,
) -> list[ApiError]:
    """`dossiers`: the CFA's dossiers at this OPCO that the invoice names; `existing`: its invoices already there."""
    errors = total_errors(invoice)
    for index, item in enumerate(invoice.dossiers):
        where = f"dossiers[{index}]"
        errors += unit_cap_errors(item, where)
        errors += dossier_errors(item, where, dossiers.get(item.numero_interne), existing, now, config)
    return errors


def total_errors(invoice: Invoice) -> list[ApiError]:
    errors = []
    for index, item in enumerate(invoice.dossiers):
        lines = sum((line.montant for line in item.lignes), Decimal(0))
        if lines != item.montant:
            description = (
                f"Dossier {item.numero_interne} : les lignes totalisent {lines}, le montant est {item.montant}"
            )
            errors.append(ApiError("TOTAL_INCOHERENT", description, f"dossiers[{index}].montant"))
    dossiers = sum((item.montant for item in invoice.dossiers), Decimal(0))
    if dossiers != invoice.montant:
        description = f"Les dossiers totalisent {dossiers}, le montant de la facture est {invoice.montant}"
        errors.append(ApiError("TOTAL_INCOHERENT", description, "montantFacture"))
    return errors


def unit_cap_errors(item: InvoicedDossier, where: str) -> list[ApiError]:
    errors = []
    for index, line in enumerate(item.lignes):
        if line.nature not in UNIT_CAPS:
            continue
        rate, unit = UNIT_CAPS[line.nature]
        cap = rate * line.quantite
        if line.montant > cap:
            description = (
                f"Dossier {item.numero_interne}, {line.nature.value} : {line.montant} dépasse le plafond de "
                f"{rate} € par {unit} × {line.quantite} = {cap}"
            )
            errors.append(ApiError(f"PLAFOND_{line.nature.value}", description, f"{where}.lignes[{index}].montant"))
    return errors


def dossier_errors(
    item: InvoicedDossier,
    where: str,
    stored: StoredDossier | None,
    existing: Sequence[StoredInvoice],
    now: datetime,
    config: SandboxConfig,
) -> list[ApiError]:
    if stored is None:
        description = f"Aucun dossier de numéro interne {item.numero_interne} pour ce CFA"
        return [ApiError("DOSSIER_INCONNU", description, f"{where}.numeroInterneDossier")]
    errors = []
    if item.numero_externe is not None and item.numero_externe != stored.numero_externe:
        description = f"Le dossier {item.numero_interne} a pour numéro externe {stored.numero_externe}"
        errors.append(ApiError("NUMERO_EXTERNE_INCOHERENT", description, f"{where}.numeroExterneDossier"))
    state = progress(stored, now, config)
    if state.schedule is None:
        description = (
            f"Le dossier {item.numero_interne} n'est pas engagé (état {state.etat}) : "
            "pas de facture avant l'accord de prise en charge"
        )
        return [*errors, ApiError("DOSSIER_NON_ENGAGE", description, f"{where}.numeroInterneDossier")]
    ledger = ledger_of(item.numero_interne, existing, now, config)
    today = now.astimezone(PARIS).date()
    return errors + echeance_errors(item, where, state.schedule, today, ledger) + equipment_errors(item, where, ledger)


def echeance_errors(
    item: InvoicedDossier, where: str, schedule: Schedule, today: date, ledger: Ledger
) -> list[ApiError]:
    instalments = {instalment.numero: instalment for instalment in schedule.instalments}
    errors, pedagogie = [], defaultdict[int, Decimal](Decimal)
    for index, line in enumerate(item.lignes):
        error = _line_error(item, line, instalments.get(line.numero_echeance), today, f"{where}.lignes[{index}]")
        if error is not None:
            errors.append(error)
        elif line.nature is Nature.PEDAGOGIE:
            pedagogie[line.numero_echeance] += line.montant
    for numero, billed in pedagogie.items():
        left = instalments[numero].montant_total - ledger.billed(numero)
        if billed > left:
            description = (
                f"Dossier {item.numero_interne}, échéance {numero} : la pédagogie facturée ({billed}) dépasse "
                f"le reste à facturer ({left})"
            )
            errors.append(ApiError("MONTANT_ECHEANCE_DEPASSE", description, f"{where}.lignes"))
    return errors


def _line_error(
    item: InvoicedDossier, line: InvoiceLine, instalment: Instalment | None, today: date, champ: str
) -> ApiError | None:
    numero = line.numero_echeance
    if instalment is None or line.codification not in (None, instalment.codification):
        label = f"{numero}" + (f" ({line.codification})" if line.codification else "")
        description = f"Le dossier {item.numero_interne} n'a pas d'échéance {label}"
        return ApiError("ECHEANCE_INCONNUE", description, f"{champ}.numeroEcheance")
    if instalment.date_ouverture > today:
        opens = instalment.date_ouverture.isoformat()
        description = f"Dossier {item.numero_interne} : l'échéance {numero} n'ouvre à la facturation que le {opens}"
        return ApiError("ECHEANCE_NON_OUVERTE", description, f"{champ}.numeroEcheance")
    return None


def equipment_errors(item: InvoicedDossier, where: str, ledger: Ledger) -> list[ApiError]:
    billed = sum((line.montant for line in item.lignes if line.nature is Nature.PREMIER_EQUIPEMENT), Decimal(0))
    before = ledger.frais_factures[Nature.PREMIER_EQUIPEMENT]
    if billed == 0 or before + billed <= PREMIER_EQUIPEMENT_CAP:
        return []
    description = (
        f"Dossier {item.numero_interne} : premier équipement {billed} (déjà facturé : {before}) au-delà du "
        f"plafond de {PREMIER_EQUIPEMENT_CAP} €"
    )
    return [ApiError("PLAFOND_PREMIER_EQUIPEMENT", description, f"{where}.lignes")]
