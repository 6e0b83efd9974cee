"""The OPCO's rules for an invoice (422 with every broken one), judged against its own records and clock.

- its figures add up: the lines to montantTotal;
- frais annexes within their caps: hébergement 6 € a night, restauration 3 € a meal (× quantite), premier
  équipement 500 € per dossier over all its invoices not refused;
- each line's dossier (numeroDossier: the OPCO's numeroExterne) is this CFA's at this OPCO and engaged (no invoice
  before the accord de prise en charge), with the DECA number the OPCO knows when numeroDeca is written; one invoice
  may bill several dossiers and several échéances;
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
from infrastructure.opco.opco_sandbox.config import SandboxConfig
from infrastructure.opco.opco_sandbox.errors import ApiError
from infrastructure.opco.opco_sandbox.invoice_ledger import Ledger, ledger_of
from infrastructure.opco.opco_sandbox.invoice_records import Invoice, InvoiceLine, Nature, StoredInvoice
from infrastructure.opco.opco_sandbox.lifecycle import Progress, progress
from infrastructure.opco.opco_sandbox.records import StoredDossier
from infrastructure.opco.opco_sandbox.schedule import Instalment, Schedule

PER_NIGHT = Decimal("6.00")  # hébergement
PER_MEAL = Decimal("3.00")  # restauration
PREMIER_EQUIPEMENT_CAP = Decimal("500.00")  # per dossier
UNIT_CAPS = {Nature.HEBERGEMENT: (PER_NIGHT, "nuitée"), Nature.RESTAURATION: (PER_MEAL, "repas")}

Lines = list[tuple[int, InvoiceLine]]  # lines of one dossier, with their index in `lignes`


def invoice_errors(
    invoice: Invoice,
    dossiers: Mapping[str, StoredDossier],
    existing: Sequence[StoredInvoice],
    now: datetime,
    config: SandboxConfig,
) -> list[ApiError]:
    """`dossiers`: the CFA's dossiers at this OPCO that the invoice names, by numeroExterne; `existing`: its invoices
    already there."""
    errors = total_errors(invoice) + unit_cap_errors(invoice)
    for numero_dossier, lines in invoice.by_dossier():
        errors += dossier_errors(numero_dossier, lines, dossiers.get(numero_dossier), existing, now, config)
    return sorted(errors, key=lambda error: _line_order(error.champ))


def _line_order(champ: str | None) -> int:
    """Errors in the order of the fields they name: the invoice's own first, then line by line."""
    if not champ or not champ.startswith("lignes["):
        return -1
    return int(champ[len("lignes[") : champ.index("]")])


def total_errors(invoice: Invoice) -> list[ApiError]:
    lines = sum((line.montant for line in invoice.lignes), Decimal(0))
    if lines == invoice.montant:
        return []
    description = f"Les lignes totalisent {lines}, le montant total de la facture est {invoice.montant}"
    return [ApiError("TOTAL_INCOHERENT", description, "montantTotal")]


def unit_cap_errors(invoice: Invoice) -> list[ApiError]:
    errors = []
    for index, line in enumerate(invoice.lignes):
        if line.nature not in UNIT_CAPS:
            continue
        rate, unit = UNIT_CAPS[line.nature]
        cap = rate * line.quantite
        if line.montant > cap:
            description = (
                f"Dossier {line.numero_dossier}, {line.nature.value} : {line.montant} dépasse le plafond de "
                f"{rate} € par {unit} × {line.quantite} = {cap}"
            )
            errors.append(ApiError(f"PLAFOND_{line.nature.value}", description, f"lignes[{index}].montant"))
    return errors


def dossier_errors(
    numero_dossier: str,
    lines: Lines,
    stored: StoredDossier | None,
    existing: Sequence[StoredInvoice],
    now: datetime,
    config: SandboxConfig,
) -> list[ApiError]:
    first = f"lignes[{lines[0][0]}]"
    if stored is None:
        description = f"Aucun dossier de numéro externe {numero_dossier} pour ce CFA"
        return [ApiError("DOSSIER_INCONNU", description, f"{first}.numeroDossier")]
    state = progress(stored, now, config)
    errors = deca_errors(numero_dossier, lines, state)
    if state.schedule is None:
        description = (
            f"Le dossier {numero_dossier} n'est pas engagé (état {state.etat}) : "
            "pas de facture avant l'accord de prise en charge"
        )
        return [*errors, ApiError("DOSSIER_NON_ENGAGE", description, f"{first}.numeroDossier")]
    ledger = ledger_of(numero_dossier, existing, now, config)
    today = now.astimezone(PARIS).date()
    errors += echeance_errors(numero_dossier, lines, state.schedule, today, ledger)
    return errors + equipment_errors(numero_dossier, lines, ledger)


def deca_errors(numero_dossier: str, lines: Lines, state: Progress) -> list[ApiError]:
    return [
        ApiError(
            "NUMERO_DECA_INCOHERENT",
            f"Le dossier {numero_dossier} a pour numéro DECA {state.numero_deca or '(aucun encore)'}",
            f"lignes[{index}].numeroDeca",
        )
        for index, line in lines
        if line.numero_deca is not None and line.numero_deca != state.numero_deca
    ]


def echeance_errors(
    numero_dossier: str, lines: Lines, schedule: Schedule, today: date, ledger: Ledger
) -> list[ApiError]:
    instalments = {instalment.numero: instalment for instalment in schedule.instalments}
    errors, pedagogie = [], defaultdict[int, list[tuple[int, Decimal]]](list)
    for index, line in lines:
        error = _line_error(numero_dossier, line, instalments.get(line.numero_echeance), today, f"lignes[{index}]")
        if error is not None:
            errors.append(error)
        elif line.nature is Nature.PEDAGOGIE:
            pedagogie[line.numero_echeance].append((index, line.montant))
    for numero, billed_lines in pedagogie.items():
        billed = sum((amount for _, amount in billed_lines), Decimal(0))
        left = instalments[numero].montant_total - ledger.billed(numero)
        if billed > left:
            description = (
                f"Dossier {numero_dossier}, échéance {numero} : la pédagogie facturée ({billed}) dépasse "
                f"le reste à facturer ({left})"
            )
            errors.append(ApiError("MONTANT_ECHEANCE_DEPASSE", description, f"lignes[{billed_lines[0][0]}].montant"))
    return errors


def _line_error(
    numero_dossier: str, line: InvoiceLine, instalment: Instalment | None, today: date, champ: str
) -> ApiError | None:
    numero = line.numero_echeance
    if instalment is None:
        description = f"Le dossier {numero_dossier} n'a pas d'échéance {numero}"
        return ApiError("ECHEANCE_INCONNUE", description, f"{champ}.numeroEcheance")
    if line.codification not in (None, instalment.codification):
        description = (
            f"Dossier {numero_dossier} : l'échéance {numero} a pour codification {instalment.codification}, "
            f"pas {line.codification}"
        )
        return ApiError("ECHEANCE_INCONNUE", description, f"{champ}.codificationEcheance")
    if instalment.date_ouverture > today:
        opens = instalment.date_ouverture.isoformat()
        description = f"Dossier {numero_dossier} : l'échéance {numero} n'ouvre à la facturation que le {opens}"
        return ApiError("ECHEANCE_NON_OUVERTE", description, f"{champ}.numeroEcheance")
    return None


def equipment_errors(numero_dossier: str, lines: Lines, ledger: Ledger) -> list[ApiError]:
    equipment = [(index, line.montant) for index, line in lines if line.nature is Nature.PREMIER_EQUIPEMENT]
    billed = sum((amount for _, amount in equipment), Decimal(0))
    before = ledger.frais_factures[Nature.PREMIER_EQUIPEMENT]
    if not equipment or before + billed <= PREMIER_EQUIPEMENT_CAP:
        return []
    description = (
        f"Dossier {numero_dossier} : premier équipement {billed} (déjà facturé : {before}) au-delà du "
        f"plafond de {PREMIER_EQUIPEMENT_CAP} €"
    )
    return [ApiError("PLAFOND_PREMIER_EQUIPEMENT", description, f"lignes[{equipment[0][0]}].montant")]
