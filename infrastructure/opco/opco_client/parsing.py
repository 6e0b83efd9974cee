"""The OPCOs' JSON → the port's dataclasses. Liberal in what it reads; amounts are exact (Decimal from str)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from application.opco.opco_gateway import (
    DossierState,
    Echeance,
    InvoiceState,
    KeyInfo,
    ListedDossier,
    OpcoDossier,
    OpcoError,
    SentDossier,
    SentInvoice,
)
from domain.invoicing.transfers import Transfer
from infrastructure.opco.opco_client.annex import parse_frais_annexes
from infrastructure.opco.opco_client.paging import INVOICE_LIST_KEYS, page_items
from infrastructure.opco.opco_wire import cerfa_from_wire, read_date

log = logging.getLogger("convergence.opco_client")

_DOSSIER_KEYS = ("numeroInterne", "numeroExterne", "numeroDeca", "etat")
_INVOICE_KEYS = ("numeroInterneFacture", "numeroExterneFacture", "etatFacture", "montantFacture")


def parse_sent(body: Any) -> SentDossier:
    """POST /dossiers: `{numeroExterne, numeroInterne}` (opco-wire.md §2.2; `etat` where an OPCO adds it), possibly
    under `cerfa`, possibly absent."""
    cerfa = _cerfa(_first_object(body))
    return SentDossier(
        numero_externe=_str(cerfa.get("numeroExterne")),
        etat=_str(cerfa.get("etat")),
        numero_interne=_str(cerfa.get("numeroInterne")),
    )


def parse_dossier(body: Any, numero_interne: str) -> OpcoDossier | None:
    """GET /dossiers?numeroInterne=: None for `null`, `{}` or `[]`.

    A document with none of the dossier's fields raises rather than meaning "not found": the sender sends a dossier
    the OPCO does not know, so a false "not found" would make a duplicate."""
    document = _first_object(body)
    if not document:
        return None
    cerfa = _cerfa(document)
    if not any(key in cerfa for key in _DOSSIER_KEYS) and "echeances" not in document:
        raise OpcoError(f"unrecognised dossier in the OPCO's answer (keys: {', '.join(sorted(document)[:10])})")
    echeances = document.get("echeances")
    ours = cerfa_from_wire(cerfa)
    return OpcoDossier(
        numero_interne=_str(cerfa.get("numeroInterne")) or numero_interne,
        numero_externe=_str(cerfa.get("numeroExterne")),
        numero_deca=_str(cerfa.get("numeroDeca")) or _str(ours.get("contrat", {}).get("noContrat")),
        etat=_str(cerfa.get("etat")),
        commentaire_etat=_str(cerfa.get("commentaireEtat")),
        engagement=amount(document.get("engagement"), "engagement"),
        echeances=tuple(
            _echeance(item, n) for n, item in enumerate(_list(echeances), start=1) if isinstance(item, dict)
        ),
        premier_equipement_ceiling=_equipment_ceiling(document),
        frais_annexes=parse_frais_annexes(document, amount),
        cerfa=ours,
        raw=document,
    )


def _equipment_ceiling(document: Mapping[str, Any]) -> Decimal | None:
    details = document.get("detailsFacturation")
    if not isinstance(details, dict):
        return None
    where = "detailsFacturation.plafondFraisPremierEquipement"
    return amount(details.get("plafondFraisPremierEquipement"), where)


def _echeance(item: Mapping[str, Any], position: int) -> Echeance:
    where = f"echeances[{position}]"
    numero = _int(item.get("numero"))
    return Echeance(
        numero=position if numero is None else numero,
        codification=_str(item.get("codification")),
        montant_total=amount(item.get("montantTotal"), f"{where}.montantTotal") or Decimal(0),
        montant_regle=amount(item.get("montantRegle"), f"{where}.montantRegle") or Decimal(0),
        montant_en_cours_instruction=amount(item.get("montantEnCoursInstruction"), f"{where}.montantEnCoursInstruction")
        or Decimal(0),
        date_ouverture=parse_date(item.get("dateOuverture"), f"{where}.dateOuverture"),
        date_debut=parse_date(item.get("dateDebut"), f"{where}.dateDebut"),
        date_fin=parse_date(item.get("dateFin"), f"{where}.dateFin"),
    )


def parse_state(item: Mapping[str, Any]) -> DossierState | None:
    numero_interne, etat = _str(item.get("numeroInterne")), _str(item.get("etat"))
    if numero_interne is None or etat is None:
        log.warning("dossier state skipped: no numeroInterne or no etat (numeroExterne=%s)", item.get("numeroExterne"))
        return None
    return DossierState(
        numero_interne=numero_interne,
        numero_externe=_str(item.get("numeroExterne")),
        numero_deca=_str(item.get("numeroDeca")),
        etat=etat,
        commentaire_etat=_str(item.get("commentaireEtat")),
    )


def parse_listed(item: Mapping[str, Any]) -> ListedDossier:
    """An item of /dossiers/etats for an import: every number may be missing."""
    return ListedDossier(
        numero_interne=_str(item.get("numeroInterne")),
        numero_externe=_str(item.get("numeroExterne")),
        numero_deca=_str(item.get("numeroDeca")),
        etat=_str(item.get("etat")),
        commentaire_etat=_str(item.get("commentaireEtat")),
    )


def parse_sent_invoice(body: Any) -> SentInvoice:
    """POST /v1/factures: `{numeroInterneFacture, numeroInterneDocument}` (opco-wire.md §5; `numeroExterneFacture`,
    `etatFacture` where an OPCO adds them), possibly under `facture`, possibly absent."""
    document = _first_object(body)
    nested = document.get("facture")
    invoice: dict[str, Any] = nested if isinstance(nested, dict) else document
    return SentInvoice(
        numero_externe=_str(invoice.get("numeroExterneFacture")),
        etat=_str(invoice.get("etatFacture")),
        numero_interne_facture=_str(invoice.get("numeroInterneFacture")),
        numero_interne_document=_str(invoice.get("numeroInterneDocument")),
    )


def parse_invoice(body: Any, numero: str) -> InvoiceState | None:
    """GET /v1/factures?numero=: the invoice the CFA numbered `numero`, from the invoice, a list of invoices or a
    page of them; None for `null`, `{}` or `[]`.

    An answer that is not about this invoice raises rather than meaning "found" or "not found": a false "found"
    would leave the invoice unsent, a false "not found" would send it twice. So every item must say its `numero`."""
    candidates = _invoice_candidates(body)
    if not candidates:
        return None
    unnumbered = [item for item in candidates if _str(item.get("numero")) is None]
    if unnumbered:
        keys = ", ".join(sorted(unnumbered[0])[:10])
        raise OpcoError(f"the OPCO's answer does not say which invoice it is about (no `numero`; keys: {keys})")
    mine = [item for item in candidates if _str(item.get("numero")) == numero]
    if not mine:
        raise OpcoError(f"the OPCO answered about other invoices than {numero}")
    item = mine[0]
    opco_number, etat = _str(item.get("numeroInterneFacture")), _str(item.get("etatFacture"))
    if opco_number is None or etat is None:
        raise OpcoError(f"the OPCO's answer about invoice {numero} has no numeroInterneFacture or no etatFacture")
    return _invoice_state(item, opco_number, etat)


def parse_invoice_state(item: Mapping[str, Any]) -> InvoiceState | None:
    """An item of /v2/factures/etats; None (with a warning) without numeroInterneFacture or etatFacture."""
    numero, etat = _str(item.get("numeroInterneFacture")), _str(item.get("etatFacture"))
    if numero is None or etat is None:
        external = item.get("numeroExterneFacture")
        log.warning(
            "invoice state skipped: no numeroInterneFacture or no etatFacture (numeroExterneFacture=%s)", external
        )
        return None
    return _invoice_state(item, numero, etat)


def _invoice_candidates(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict) and any(isinstance(body.get(key), list) for key in INVOICE_LIST_KEYS):
        body = page_items(body, INVOICE_LIST_KEYS)[0]
    if isinstance(body, list):
        return [item for item in body if isinstance(item, dict) and item]
    return [body] if isinstance(body, dict) and body else []


def _invoice_state(item: Mapping[str, Any], numero: str, etat: str) -> InvoiceState:
    where = f"factures[{numero}]"
    return InvoiceState(
        numero_interne_facture=numero,
        etat=etat,
        numero=_str(item.get("numero")),
        numero_interne_document=_str(item.get("numeroInterneDocument")),
        montant_facture=amount(item.get("montantFacture"), f"{where}.montantFacture"),
        montant_regle=amount(item.get("montantRegle"), f"{where}.montantRegle"),
        reference_virement=_str(item.get("referenceVirement")),
        date_reglement=parse_date(item.get("dateReglement"), f"{where}.dateReglement"),
        commentaire=_str(item.get("commentaire")),
        numero_externe=_str(item.get("numeroExterneFacture")),
        transfers=_transfers(item.get("reglements") or item.get("virements"), where),
    )


def _transfers(value: Any, where: str) -> tuple[Transfer, ...]:
    """Each transfer listed, where the OPCO details them. If one lacks its amount or its reference the list is not
    used at all (the invoice's cumulative montantRegle is), so that no transfer is silently left out."""
    found = []
    for position, item in enumerate(_list(value)):
        at = f"{where}.reglements[{position}]"
        paid = amount(item.get("montant"), f"{at}.montant") if isinstance(item, dict) else None
        reference = _str(item.get("referenceVirement")) if isinstance(item, dict) else None
        if paid is None or reference is None:
            return ()
        found.append(Transfer(paid, parse_date(item.get("dateReglement"), f"{at}.dateReglement"), reference))
    return tuple(found)


def parse_key_info(body: Any) -> KeyInfo:
    document = _first_object(body)
    status = _str(document.get("status"))
    return KeyInfo(
        valid=status is not None and status.lower() == "success",
        expires_on=parse_date(document.get("dateFinValidite"), "dateFinValidite"),
        comment=_str(document.get("comment")),
    )


def amount(value: Any, where: str) -> Decimal | None:
    """A JSON number or a numeric string (also "1 234,50") as an exact Decimal; None when absent.

    An unreadable amount raises: a wrong figure in a payment schedule is worse than a failed read."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise OpcoError(f"unreadable amount in the OPCO's answer at {where}: {type(value).__name__}")
    text = str(value).replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise OpcoError(f"unreadable amount in the OPCO's answer at {where}: {text[:40]!r}") from None
    if not result.is_finite():
        raise OpcoError(f"unreadable amount in the OPCO's answer at {where}: {text[:40]!r}")
    return result


def parse_date(value: Any, where: str) -> date | None:
    """Every form of §8 (opco_wire.read_date): a day, a datetime without an offset, one with an offset (the day it
    is in France then), or dd/mm/yyyy; None otherwise, with a warning when there was something to read."""
    if not isinstance(value, str) or not value.strip():
        return None
    day = read_date(value)
    if day is None:
        log.warning("unreadable date in the OPCO's answer at %s: %r", where, value.strip()[:40])
    return day


def _first_object(body: Any) -> dict[str, Any]:
    if isinstance(body, list):
        body = next((item for item in body if isinstance(item, dict)), None)
    return body if isinstance(body, dict) else {}


def _cerfa(document: dict[str, Any]) -> dict[str, Any]:
    cerfa = document.get("cerfa")
    return cerfa if isinstance(cerfa, dict) else document


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return int(number) if number.is_finite() and number == number.to_integral_value() else None
