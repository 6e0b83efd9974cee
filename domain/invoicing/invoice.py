"""The invoice: an event-sourced aggregate, from the CFA's draft to the OPCO's payment.

Its lines are booked on their contracts in the same transaction as its creation (see domain.invoicing.ledger),
so that each échéance's remaining amount is decided under the contract's version."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.copying import CopiedByPickle
from domain.errors import InvalidValue, NotAllowedInState, RulesConflict
from domain.ids import named_id
from domain.invoicing.lines import InvoiceLine, total
from domain.invoicing.states import OPCO_INVOICE_STATES, RELEASED_STATES, InvoiceState
from domain.invoicing.transfers import Transfer
from domain.money import ZERO, euros, money_text
from domain.opco.transmission import attempt_ended, new_transmission
from domain.opco.transmission_commands import (
    TransmissionCommands,
    TransmissionFailedEvent,
    TransmissionParkedEvent,
    TransmissionResumedEvent,
    TransmissionStartedEvent,
)
from domain.problems import Problem

PAYABLE_STATES = frozenset({InvoiceState.SENT, InvoiceState.ACCEPTED, InvoiceState.PARTIALLY_PAID})


def invoice_id(cfa_siret: str, numero_interne_facture: str) -> UUID:
    """numeroInterneFacture is unique per CFA: a second invoice with it collides in the store."""
    return named_id("cfas", cfa_siret, "invoices", numero_interne_facture)


class Invoice(CopiedByPickle, TransmissionCommands, Aggregate):
    @staticmethod
    def create_id(cfa_siret: str, numero_interne_facture: str) -> UUID:
        return invoice_id(cfa_siret, numero_interne_facture)

    @classmethod
    def draft(
        cls,
        *,
        cfa_siret: str,
        numero_interne_facture: str,
        invoice_date: date,
        opco: str,
        lines: list[InvoiceLine],
        actor: str,
    ) -> Invoice:
        return cls(
            cfa_siret=cfa_siret,
            numero_interne_facture=numero_interne_facture,
            invoice_date=invoice_date,
            opco=opco,
            lines=[line.as_record() for line in lines],
            actor=actor,
        )

    @event("Drafted")
    def __init__(
        self,
        cfa_siret: str,
        numero_interne_facture: str,
        invoice_date: date,
        opco: str,
        lines: list[dict[str, Any]],
        actor: str,
    ) -> None:
        self.cfa_siret = cfa_siret
        self.numero_interne_facture = numero_interne_facture
        self.invoice_date = invoice_date
        self.opco = opco
        self.lines = lines
        self.state = InvoiceState.DRAFTED
        self.transmission = new_transmission()
        self.numero_externe: str | None = None
        self.opco_state: str | None = None
        self.opco_comment: str | None = None
        self.payments: list[dict[str, Any]] = []
        self.cancel_reason: str | None = None
        self.document: dict[str, Any] | None = None
        self.numero: str | None = None  # the CFA's invoice number, from its sequence, once submitted
        self.opco_numero_interne: str | None = None  # the OPCO's numeroInterneFacture, once it has the invoice
        self.numero_interne_document: str | None = None  # the OPCO's number of the invoice's PDF

    # -- queries --------------------------------------------------------------------------------------------

    @property
    def invoice_lines(self) -> list[InvoiceLine]:
        return [InvoiceLine.from_record(r) for r in self.lines]

    @property
    def amount(self) -> Decimal:
        return total(self.invoice_lines)

    @property
    def paid(self) -> Decimal:
        return sum((euros(p["amount"]) for p in self.payments), ZERO)

    @property
    def contract_ids(self) -> list[UUID]:
        return list(dict.fromkeys(UUID(r["contractId"]) for r in self.lines))

    @property
    def released(self) -> bool:
        return self.state in RELEASED_STATES

    def payment_by_reference(self, reference_virement: str) -> dict[str, Any] | None:
        """The payment recorded under this transfer reference (compared without case or surrounding spaces)."""
        wanted = reference_virement.strip().casefold()
        if not wanted:
            return None
        for payment in self.payments:
            if (payment["referenceVirement"] or "").strip().casefold() == wanted:
                return payment
        return None

    # -- the CFA's commands ---------------------------------------------------------------------------------

    def submit(self, actor: str) -> None:
        self._require_state("submit", frozenset({InvoiceState.DRAFTED}))
        self._submission_requested(
            opco=self.opco, cfa_siret=self.cfa_siret, numero_interne=self.numero_interne_facture, actor=actor
        )

    def assign_number(self, numero: str, actor: str) -> None:
        """Its number in the CFA's sequence, given once, at submission (the billing profile allocates it)."""
        self._require_state("number", frozenset({InvoiceState.SUBMITTED}))
        if self.numero is not None and self.numero != numero:
            raise RulesConflict([Problem("numero", "already_numbered", f"the invoice is numbered {self.numero}")])
        if self.numero is None:
            self.trigger_event(self.Numbered, numero=numero, actor=actor)

    def cancel(self, reason: str | None, actor: str) -> None:
        """Before it may have reached the OPCO only: afterwards the OPCO must refuse or cancel it itself."""
        never_sent = self.state is InvoiceState.SUBMITTED and self.transmission["attempts"] == 0
        if self.state is not InvoiceState.DRAFTED and not never_sent:
            raise NotAllowedInState("cancel", self.state, frozenset({"drafted", "submitted, not yet sent"}))
        self._cancelled(reason=reason, actor=actor)

    def attach_document(self, *, digest: str, size: int, media_type: str, actor: str) -> None:
        """The CFA's own PDF of this invoice, sent instead of the one Convergence makes; before submission only.
        The same document again changes nothing."""
        self._require_state("attach a document to", frozenset({InvoiceState.DRAFTED}))
        if self.document is None or self.document["digest"] != digest:
            self.trigger_event(self.DocumentAttached, digest=digest, size=size, media_type=media_type, actor=actor)

    def record_payment(
        self, *, amount: Decimal, paid_on: date, reference_virement: str | None, source: str, actor: str, today: date
    ) -> None:
        """A payment received. One transfer is one payment: a referenceVirement already recorded on this invoice
        is refused, whatever the amount, so that a payment sent twice is not counted twice."""
        if reference_virement is not None and (known := self.payment_by_reference(reference_virement)):
            raise RulesConflict(
                [
                    Problem(
                        "referenceVirement",
                        "payment_already_recorded",
                        f"the transfer {known['referenceVirement']!r} is already recorded on this invoice"
                        f" ({known['amount']} € paid on {known['paidOn']}, by {known['recordedBy']})",
                    )
                ]
            )
        self._require_state("record a payment of", PAYABLE_STATES)
        if amount <= 0:
            raise InvalidValue("amount", "not_positive", f"a payment is a positive amount, not {amount}")
        if paid_on > today:
            raise InvalidValue("paidOn", "in_future", f"the payment date {paid_on} is after today ({today})")
        if self.paid + amount > self.amount:
            raise InvalidValue(
                "amount",
                "exceeds_invoice",
                f"{self.paid} € of {self.amount} € are already paid: at most {self.amount - self.paid} € remain,"
                f" {amount} € given",
            )
        self.trigger_event(
            self.PaymentRecorded,
            amount=money_text(amount),
            paid_on=paid_on,
            reference_virement=reference_virement,
            source=source,
            actor=actor,
        )

    # -- transmission and the OPCO's answers ------------------------------------------------------------

    def start_transmission(self, actor: str) -> int:
        self._require_state("send", frozenset({InvoiceState.SUBMITTED}))
        if self.transmission["parked"]:
            raise NotAllowedInState("send", "parked", frozenset({"submitted, not parked"}))
        attempt = int(self.transmission["attempts"]) + 1
        self.trigger_event(self.TransmissionStarted, attempt=attempt, actor=actor)
        return attempt

    def issue_document(self, *, digest: str, size: int, media_type: str, actor: str) -> None:
        """The PDF Convergence made of the invoice, fixed when it is first sent: every attempt sends these bytes."""
        self._require_state("issue the document of", frozenset({InvoiceState.SUBMITTED}))
        if self.document is None:
            self.trigger_event(self.DocumentIssued, digest=digest, size=size, media_type=media_type, actor=actor)

    def record_sent(
        self,
        *,
        numero_externe: str | None,
        etat: str | None,
        found_by_lookup: bool,
        actor: str,
        opco_numero_interne: str | None = None,
        numero_interne_document: str | None = None,
    ) -> None:
        """What the OPCO answered (or what a lookup found): its own numbers of the invoice and of its PDF."""
        self._require_state("record the sending of", frozenset({InvoiceState.SUBMITTED}))
        self.trigger_event(
            self.Sent,
            numero_externe=numero_externe,
            etat=etat,
            found_by_lookup=found_by_lookup,
            opco_numero_interne=opco_numero_interne,
            numero_interne_document=numero_interne_document,
            actor=actor,
        )

    def record_opco_state(self, *, etat: str, commentaire: str | None, numero_externe: str | None, actor: str) -> None:
        if self.state in (InvoiceState.DRAFTED, InvoiceState.CANCELLED):
            raise NotAllowedInState("record an OPCO state of", self.state, frozenset({"sent to the OPCO"}))
        incoming = (etat, commentaire, numero_externe or self.numero_externe)
        if incoming != (self.opco_state, self.opco_comment, self.numero_externe):
            self.trigger_event(
                self.OpcoStateChanged, etat=etat, commentaire=commentaire, numero_externe=numero_externe, actor=actor
            )

    def record_opco_payment(
        self, *, paid_total: Decimal, paid_on: date | None, reference_virement: str | None, actor: str
    ) -> None:
        """The OPCO reports what it paid in all: only what is new is recorded, as one payment. So a report read
        twice, or a transfer already recorded by hand, adds nothing: the total, not the reference, decides."""
        new = min(paid_total, self.amount) - self.paid
        if reference_virement is not None and self.payment_by_reference(reference_virement):
            reference_virement = None  # that transfer is recorded: what is new came by another
        if new > 0:
            self._opco_paid(new, paid_on, reference_virement, actor)

    def record_opco_transfers(self, transfers: Sequence[Transfer], actor: str) -> None:
        """The OPCO lists its transfers: each one not recorded yet (by its reference) is a payment of its own, for
        bank reconciliation. So a list read twice, or a transfer already recorded by hand, adds nothing."""
        for transfer in transfers:
            new = min(transfer.amount, self.amount - self.paid)
            if new > 0 and self.payment_by_reference(transfer.reference) is None:
                self._opco_paid(new, transfer.paid_on, transfer.reference, actor)

    def _opco_paid(self, amount: Decimal, paid_on: date | None, reference_virement: str | None, actor: str) -> None:
        self.trigger_event(
            self.PaymentRecorded,
            amount=money_text(amount),
            paid_on=paid_on,
            reference_virement=reference_virement,
            source="opco",
            actor=actor,
        )

    def _require_submitted(self, action: str) -> None:
        self._require_state(action, frozenset({InvoiceState.SUBMITTED}))

    # -- events ---------------------------------------------------------------------------------------------

    @event("SubmissionRequested")
    def _submission_requested(self, opco: str, cfa_siret: str, numero_interne: str, actor: str) -> None:
        # named like the contract's, so that one transmission queue reads both (numero_interne: the invoice's)
        self.state = InvoiceState.SUBMITTED

    @event("Cancelled")
    def _cancelled(self, reason: str | None, actor: str) -> None:
        self.cancel_reason = reason
        self.state = InvoiceState.CANCELLED

    def _require_state(self, action: str, allowed: frozenset[InvoiceState]) -> None:
        if self.state not in allowed:
            raise NotAllowedInState(action, self.state, frozenset(s.value for s in allowed))

    class DocumentAttached(Aggregate.Event):
        digest: str  # SHA-256 of the content, kept in the document store
        size: int
        media_type: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.document = {
                "digest": self.digest,
                "size": self.size,
                "mediaType": self.media_type,
                "source": "cfa",
            }

    class DocumentIssued(Aggregate.Event):
        digest: str  # SHA-256 of the PDF Convergence made, kept in the document store
        size: int
        media_type: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.document = {
                "digest": self.digest,
                "size": self.size,
                "mediaType": self.media_type,
                "source": "convergence",
            }

    class Numbered(Aggregate.Event):
        numero: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.numero = self.numero

    class TransmissionStarted(TransmissionStartedEvent):
        """An attempt to send it began."""

    class Sent(Aggregate.Event):
        numero_externe: str | None
        etat: str | None
        found_by_lookup: bool
        opco_numero_interne: str | None
        numero_interne_document: str | None
        actor: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["opco_numero_interne"] = None  # the OPCO's numbers were not kept before version 2
            state["numero_interne_document"] = None

        def apply(self, aggregate: Any) -> None:
            attempt_ended(aggregate.transmission, "found" if self.found_by_lookup else "sent", self.timestamp)
            aggregate.numero_externe = self.numero_externe
            aggregate.opco_numero_interne = self.opco_numero_interne
            aggregate.numero_interne_document = self.numero_interne_document
            aggregate.opco_state = self.etat
            aggregate.state = _state_for(self.etat, InvoiceState.SENT, aggregate)

    class TransmissionFailed(TransmissionFailedEvent):
        """An attempt failed; `transient`: worth another, at `retry_at`."""

    class TransmissionParked(TransmissionParkedEvent):
        """No more attempts until a person resumes them."""

    class TransmissionResumed(TransmissionResumedEvent):
        """A person resumed the attempts."""

    class RefusedOnTransmission(Aggregate.Event):
        messages: list[str]
        actor: str

        def apply(self, aggregate: Any) -> None:
            attempt_ended(aggregate.transmission, "refused", self.timestamp, "; ".join(self.messages))
            aggregate.opco_comment = "; ".join(self.messages)
            aggregate.state = InvoiceState.REFUSED

    class OpcoStateChanged(Aggregate.Event):
        etat: str
        commentaire: str | None
        numero_externe: str | None
        actor: str

        def apply(self, aggregate: Any) -> None:
            if aggregate.state is InvoiceState.SUBMITTED:  # the OPCO has it: whatever attempt was pending ended
                attempt_ended(aggregate.transmission, "found", self.timestamp)
            aggregate.opco_state = self.etat
            aggregate.opco_comment = self.commentaire
            aggregate.numero_externe = self.numero_externe or aggregate.numero_externe
            fallback = InvoiceState.SENT if aggregate.state is InvoiceState.SUBMITTED else aggregate.state
            aggregate.state = _state_for(self.etat, fallback, aggregate)

    class PaymentRecorded(Aggregate.Event):
        amount: str
        paid_on: date | None
        reference_virement: str | None
        source: str  # "opco" (read from its invoice states) or "cfa" (recorded by hand)
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.payments.append(
                {
                    "amount": self.amount,
                    "paidOn": self.paid_on,
                    "referenceVirement": self.reference_virement,
                    "source": self.source,
                    "recordedAt": self.timestamp,
                    "recordedBy": self.actor,
                }
            )
            aggregate.state = InvoiceState.PAID if aggregate.paid >= aggregate.amount else InvoiceState.PARTIALLY_PAID


def _state_for(etat: str | None, fallback: InvoiceState, invoice: Invoice) -> InvoiceState:
    """The OPCO's word moves the state, except that payments, not states, say how much is paid."""
    state = OPCO_INVOICE_STATES.get(etat or "", fallback)
    if state in (InvoiceState.PAID, InvoiceState.PARTIALLY_PAID):
        if invoice.paid >= invoice.amount:
            return InvoiceState.PAID
        return InvoiceState.PARTIALLY_PAID if invoice.paid > 0 else InvoiceState.ACCEPTED
    return state
