"""What each event changes in the invoices' read model (application/read_models/invoice_status.py): pure logic, no I/O.

Two kinds of aggregates feed it, each with a private memo (a JSON-serialisable dict) from which its rows follow:

- an invoice: its row's fields (amounts in cents). Each change shown makes a new version of its row;
- a contract: its CFA, numeroInterne, the apprentice's and employer's names, its OPCO, its state as far as
  invoicing cares (accepted or terminated: invoiceable), its échéances as the OPCO committed them and the ledger of
  the invoices drawn on it (as the aggregate keeps it, domain/invoicing/ledger.py). Its échéance rows are computed
  again from the memo by the domain's own ledger functions, and rewritten only when they changed.

The invoice's own state follows its events exactly as the aggregate does (domain/invoicing/invoice.py); one choice is
made for the lists: an invoice shows as parked only while it is submitted (a parked transmission that the OPCO's sync
later found sent is no longer waiting for anyone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from application.read_models.invoice_status import EcheanceRow, InvoiceRow
from application.topics import stored_topics
from domain.contracts.contract import Contract
from domain.contracts.contract_state import ContractState
from domain.invoicing.invoice import Invoice
from domain.invoicing.ledger import echeance_figures, new_entry, pending_invoice
from domain.invoicing.states import OPCO_INVOICE_STATES, InvoiceState
from domain.merge_patch import apply_merge_patch
from domain.money import euros
from domain.opco.transmission import OPCO_STATES

Memo = dict[str, Any]
PARIS = ZoneInfo("Europe/Paris")  # the day an invoice was sent is the day in France

INVOICE_EVENTS = (
    "Drafted",
    "SubmissionRequested",
    "Numbered",
    "DocumentAttached",
    "DocumentIssued",
    "Cancelled",
    "Sent",
    "TransmissionParked",
    "TransmissionResumed",
    "RefusedOnTransmission",
    "OpcoStateChanged",
    "PaymentRecorded",
)  # TransmissionStarted and TransmissionFailed change nothing shown: the runner does not even read them
CONTRACT_EVENTS = (
    "Drafted",
    "Imported",
    "CerfaReplaced",
    "CerfaPatched",
    "SubmissionRequested",
    "Cancelled",
    "Sent",
    "RefusedOnTransmission",
    "OpcoStateChanged",
    "FundingCommitted",
    "InvoiceAttached",
    "InvoiceReleased",
    "InvoicePaid",
    "PersonalDataErased",
)  # the others (mandate, OPCO choice, attempts, parking, NPEC forecast) change nothing an échéance shows
TOPICS = stored_topics(
    *(f"{Invoice.__module__}:Invoice.{name}" for name in INVOICE_EVENTS),
    *(f"{Contract.__module__}:Contract.{name}" for name in CONTRACT_EVENTS),
)

INVOICEABLE_CONTRACT_STATES = frozenset({ContractState.ACCEPTED.value, ContractState.TERMINATED.value})
_NAME_FIELDS = {"apprenti": ("nom", "prenom"), "employeur": ("denomination",)}


class UnknownAggregate(Exception):
    """An event of an invoice or contract whose Drafted event the projection never saw."""


@dataclass(frozen=True, slots=True)
class Projected:
    """What one event changed: the aggregate's new memo, a new version of an invoice's row, or the new échéance
    rows of a contract (all of them, replacing the previous ones); None where nothing changed."""

    memo: Memo | None
    invoice: InvoiceRow | None = None
    echeances: list[EcheanceRow] | None = None


def project(event: Any, memo: Memo | None, position: int) -> Projected:
    qualname = type(event).__qualname__
    handler = _HANDLERS.get(qualname)
    if handler is None:
        return Projected(memo)
    if memo is None and not qualname.endswith((".Drafted", ".Imported")):
        raise UnknownAggregate(f"{qualname} at position {position} for {event.originator_id} never drafted")
    after: Memo = dict(memo or {})  # a new memo (handlers copy what they change inside it): the caller's stays
    handler(after, event)
    if qualname.startswith("Invoice."):
        after["updated_at"] = event.timestamp.isoformat()
        after["position"] = position
        return Projected(after, invoice=invoice_row(event.originator_id, after))
    if after == memo:  # nothing this read model keeps changed (a patch of another Cerfa block…): nothing to write
        return Projected(memo)
    ident = event.originator_id
    rows = echeance_rows(ident, after)  # `after` still has the old stamp here: compared as it was
    if rows == echeance_rows(ident, memo):
        return Projected(after)
    after["stamp"] = {"position": position, "updated_at": event.timestamp.isoformat()}
    updated_at = datetime.fromisoformat(after["stamp"]["updated_at"])  # as echeance_rows reads it back
    return Projected(after, echeances=[replace(row, position=position, updated_at=updated_at) for row in rows])


def kind_of(event: Any) -> str:
    """ "invoice" or "contract": which kind of aggregate the event is of."""
    return "invoice" if type(event).__qualname__.startswith("Invoice.") else "contract"


# -- rows from memos ------------------------------------------------------------------------------------------


def invoice_row(invoice_id: UUID, memo: Memo) -> InvoiceRow:
    sent_at = _moment(memo["sent_at"])
    return InvoiceRow(
        invoice_id=invoice_id,
        cfa_siret=memo["cfa_siret"],
        opco=memo["opco"],
        numero_interne_facture=memo["numero_interne_facture"],
        invoice_date=date.fromisoformat(memo["invoice_date"]),
        state=memo["state"],
        amount=from_cents(memo["amount"]),
        paid=from_cents(memo["paid"]),
        numero_externe=memo["numero_externe"],
        opco_state=memo["opco_state"],
        parked=bool(memo["parked"]) and memo["state"] == InvoiceState.SUBMITTED.value,
        sent_at=sent_at,
        sent_on=sent_at.astimezone(PARIS).date() if sent_at is not None else None,
        line_count=memo["line_count"],
        contract_ids=tuple(UUID(c) for c in memo["contract_ids"]),
        created_at=datetime.fromisoformat(memo["created_at"]),
        updated_at=datetime.fromisoformat(memo["updated_at"]),
        position=memo["position"],
    )


def echeance_rows(contract_id: UUID, memo: Memo | None) -> list[EcheanceRow]:
    """The contract's échéances as rows, by the domain's ledger (what is invoiced, paid, pending, remaining)."""
    if not memo or not memo.get("echeances"):
        return []
    entries = memo["invoices"]
    names = memo["names"]
    stamp = memo.get("stamp") or {"position": 0, "updated_at": memo["created_at"]}
    rows = []
    for echeance in memo["echeances"]:
        numero = int(echeance["numero"])
        figures = echeance_figures(echeance, entries)
        rows.append(
            EcheanceRow(
                contract_id=contract_id,
                numero=numero,
                cfa_siret=memo["cfa_siret"],
                opco=memo["opco"],
                numero_interne=memo["numero_interne"],
                numero_externe=memo["numero_externe"],
                apprentice_name=_apprentice_name(names.get("apprenti", {})),
                employer_name=names.get("employeur", {}).get("denomination"),
                codification=echeance.get("codification"),
                total=figures["total"],
                settled_at_commitment=figures["settledAtCommitment"],
                invoiced=figures["invoiced"],
                paid=figures["paid"],
                remaining=figures["remaining"],
                opens_on=_opening(echeance),
                invoiceable=memo["state"] in INVOICEABLE_CONTRACT_STATES,
                pending_invoice=pending_invoice(entries, numero),
                updated_at=datetime.fromisoformat(stamp["updated_at"]),
                position=stamp["position"],
            )
        )
    return rows


def cents(amount: Decimal | str) -> int:
    """Euros (two places at most) as integer cents."""
    return int(euros(amount).scaleb(2))


def from_cents(value: int) -> Decimal:
    return Decimal(int(value)).scaleb(-2)


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _opening(echeance: dict[str, Any]) -> date | None:
    text = echeance.get("dateOuverture") or echeance.get("dateDebut")
    return date.fromisoformat(str(text)[:10]) if text else None


def _apprentice_name(apprentice: dict[str, Any]) -> str | None:
    parts = [part for part in ((apprentice.get("nom") or "").upper(), apprentice.get("prenom") or "") if part]
    return " ".join(parts) or None


# -- invoice events -------------------------------------------------------------------------------------------


def _invoice_drafted(memo: Memo, event: Any) -> None:
    memo.update(
        kind="invoice",
        cfa_siret=event.cfa_siret,
        opco=event.opco,
        numero_interne_facture=event.numero_interne_facture,
        invoice_date=event.invoice_date.isoformat(),
        state=InvoiceState.DRAFTED.value,
        amount=sum(cents(line["amount"]) for line in event.lines),
        paid=0,
        numero_externe=None,
        opco_state=None,
        parked=False,
        sent_at=None,
        line_count=len(event.lines),
        contract_ids=list(dict.fromkeys(str(line["contractId"]) for line in event.lines)),
        created_at=event.timestamp.isoformat(),
    )


def _invoice_submitted(memo: Memo, event: Any) -> None:
    memo["state"] = InvoiceState.SUBMITTED.value


def _invoice_cancelled(memo: Memo, event: Any) -> None:
    memo["state"] = InvoiceState.CANCELLED.value


def _invoice_sent(memo: Memo, event: Any) -> None:
    memo.update(
        numero_externe=event.numero_externe,
        opco_state=event.etat,
        state=_state_for(event.etat, InvoiceState.SENT.value, memo),
        sent_at=event.timestamp.isoformat(),
    )


def _invoice_parked(memo: Memo, event: Any) -> None:
    memo["parked"] = True


def _invoice_resumed(memo: Memo, event: Any) -> None:
    memo["parked"] = False


def _invoice_refused(memo: Memo, event: Any) -> None:
    memo["state"] = InvoiceState.REFUSED.value


def _invoice_opco_state(memo: Memo, event: Any) -> None:
    submitted = memo["state"] == InvoiceState.SUBMITTED.value
    fallback = InvoiceState.SENT.value if submitted else memo["state"]  # an unknown etat changes nothing else
    memo.update(
        opco_state=event.etat,
        numero_externe=event.numero_externe or memo["numero_externe"],
        state=_state_for(event.etat, fallback, memo),
    )
    if submitted and memo["sent_at"] is None:  # the OPCO has it: its sending outcome was lost, it was sent
        memo["sent_at"] = event.timestamp.isoformat()


def _invoice_paid(memo: Memo, event: Any) -> None:
    memo["paid"] = memo["paid"] + cents(event.amount)
    memo["state"] = (InvoiceState.PAID if memo["paid"] >= memo["amount"] else InvoiceState.PARTIALLY_PAID).value


def _state_for(etat: str | None, fallback: str, memo: Memo) -> str:
    """As the aggregate decides it: the OPCO's word moves the state, but payments say how much is paid."""
    known = OPCO_INVOICE_STATES.get(etat or "")
    state = known.value if known is not None else fallback
    if state in (InvoiceState.PAID.value, InvoiceState.PARTIALLY_PAID.value):
        if memo["paid"] >= memo["amount"]:
            return InvoiceState.PAID.value
        return (InvoiceState.PARTIALLY_PAID if memo["paid"] > 0 else InvoiceState.ACCEPTED).value
    return state


# -- contract events ------------------------------------------------------------------------------------------


def _contract_drafted(memo: Memo, event: Any) -> None:
    memo.update(
        kind="contract",
        cfa_siret=event.cfa_siret,
        numero_interne=event.numero_interne,
        opco=None,
        state=ContractState.DRAFTED.value,
        numero_externe=None,
        echeances=[],
        invoices={},
        created_at=event.timestamp.isoformat(),
        stamp=None,
    )
    _set_names(memo, event.cerfa)


def _cerfa_replaced(memo: Memo, event: Any) -> None:
    _set_names(memo, event.cerfa)


def _cerfa_patched(memo: Memo, event: Any) -> None:
    wanted = {block: event.changes[block] for block in _NAME_FIELDS if block in event.changes}
    if wanted:
        _set_names(memo, apply_merge_patch(memo["names"], wanted))


def _personal_data_erased(memo: Memo, event: Any) -> None:
    memo["names"] = {block: part for block, part in memo["names"].items() if block != "apprenti"}


def _set_names(memo: Memo, document: dict[str, Any]) -> None:
    """Only the names a row shows are kept, not the Cerfa (merge patches of those blocks apply to them alone)."""
    names: dict[str, dict[str, Any]] = {}
    for block, fields in _NAME_FIELDS.items():
        part = document.get(block)
        if isinstance(part, dict):
            names[block] = {f: part[f] for f in fields if part.get(f) is not None}
    memo["names"] = names


def _contract_imported(memo: Memo, event: Any) -> None:
    _contract_drafted(memo, event)
    memo.update(
        opco=event.opco,
        numero_externe=event.numero_externe,
        state=OPCO_STATES.get(event.etat or "", ContractState.SENT).value,
    )


def _contract_submitted(memo: Memo, event: Any) -> None:
    memo.update(opco=event.opco, state=ContractState.SUBMITTED.value)


def _contract_cancelled(memo: Memo, event: Any) -> None:
    memo["state"] = ContractState.CANCELLED.value


def _contract_sent(memo: Memo, event: Any) -> None:
    memo.update(
        numero_externe=event.numero_externe,
        state=OPCO_STATES.get(event.etat or "", ContractState.SENT).value,
    )


def _contract_refused(memo: Memo, event: Any) -> None:
    memo["state"] = ContractState.REFUSED.value


def _contract_opco_state(memo: Memo, event: Any) -> None:
    fallback = ContractState.SENT.value if memo["state"] == ContractState.SUBMITTED.value else memo["state"]
    known = OPCO_STATES.get(event.etat)
    memo.update(
        numero_externe=event.numero_externe or memo["numero_externe"],
        state=known.value if known is not None else fallback,
    )


def _funding_committed(memo: Memo, event: Any) -> None:
    memo["echeances"] = list(event.echeances)


def _invoice_attached(memo: Memo, event: Any) -> None:
    memo["invoices"] = {**memo["invoices"], event.invoice_id: new_entry(event.numero_interne_facture, event.lines)}


def _invoice_released(memo: Memo, event: Any) -> None:
    entry = memo["invoices"][event.invoice_id]
    memo["invoices"] = {**memo["invoices"], event.invoice_id: {**entry, "released": event.reason}}


def _invoice_paid_on_contract(memo: Memo, event: Any) -> None:
    entry = memo["invoices"][event.invoice_id]
    memo["invoices"] = {**memo["invoices"], event.invoice_id: {**entry, "paid": list(event.paid)}}


def _touched(memo: Memo, event: Any) -> None:
    """An invoice event that changes nothing this read model keeps but the row's last change."""


_HANDLERS: dict[str, Callable[[Memo, Any], None]] = {
    "Invoice.Drafted": _invoice_drafted,
    "Invoice.SubmissionRequested": _invoice_submitted,
    "Invoice.Numbered": _touched,  # numbered, given its PDF: shown only as a change (updated_at, position)
    "Invoice.DocumentAttached": _touched,
    "Invoice.DocumentIssued": _touched,
    "Invoice.Cancelled": _invoice_cancelled,
    "Invoice.Sent": _invoice_sent,
    "Invoice.TransmissionParked": _invoice_parked,
    "Invoice.TransmissionResumed": _invoice_resumed,
    "Invoice.RefusedOnTransmission": _invoice_refused,
    "Invoice.OpcoStateChanged": _invoice_opco_state,
    "Invoice.PaymentRecorded": _invoice_paid,
    "Contract.Drafted": _contract_drafted,
    "Contract.Imported": _contract_imported,
    "Contract.CerfaReplaced": _cerfa_replaced,
    "Contract.CerfaPatched": _cerfa_patched,
    "Contract.SubmissionRequested": _contract_submitted,
    "Contract.Cancelled": _contract_cancelled,
    "Contract.Sent": _contract_sent,
    "Contract.RefusedOnTransmission": _contract_refused,
    "Contract.OpcoStateChanged": _contract_opco_state,
    "Contract.FundingCommitted": _funding_committed,
    "Contract.InvoiceAttached": _invoice_attached,
    "Contract.InvoiceReleased": _invoice_released,
    "Contract.InvoicePaid": _invoice_paid_on_contract,
    "Contract.PersonalDataErased": _personal_data_erased,
}
assert {name.split(".", 1)[1] for name in _HANDLERS if name.startswith("Invoice.")} == set(INVOICE_EVENTS)
assert {name.split(".", 1)[1] for name in _HANDLERS if name.startswith("Contract.")} == set(CONTRACT_EVENTS)
