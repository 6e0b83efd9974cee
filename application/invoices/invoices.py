"""Invoice commands and queries, in the same application (and event log) as the contracts.

Every change to an invoice is saved together with the contracts its lines are booked on, in one transaction:
a refused or cancelled invoice frees its échéances, a payment is spread over its lines, and the contracts'
ledgers always agree with their invoices."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.access.access import WORKER, Principal
from application.access.idempotency import IdempotentRequest
from application.contracts.commands import Outcome, Reader
from application.dossiers import Dossiers, event_record
from application.errors import ApplicationError, DuplicateInvoiceNumber, NotFound
from application.invoices.billing_profiles import BillingProfiles
from application.ports import Clock
from domain.contracts.contract import Contract
from domain.documents import DocumentRef
from domain.errors import InvalidValue, RulesConflict, SubmissionBlocked
from domain.invoicing.billing_profile import BillingProfile
from domain.invoicing.invoice import Invoice
from domain.invoicing.lines import LineRequest
from domain.invoicing.rules import check_invoice
from domain.invoicing.wire import allocate
from domain.money import money_text
from domain.opco.opco_catalogue import OpcoProfile
from domain.opco.opcos import Opco
from domain.problems import Problem


@dataclass(frozen=True, slots=True)
class SavedInvoice:
    invoice: Invoice
    position: int | None
    replayed: bool = False


class Invoices:
    def __init__(
        self, dossiers: Dossiers, profiles: Mapping[Opco, OpcoProfile], clock: Clock, billing: BillingProfiles
    ) -> None:
        self._app = dossiers
        self._commands = dossiers.commands
        self._profiles = profiles
        self._clock = clock
        self.billing = billing

    # -- commands -------------------------------------------------------------------------------------------

    def create(
        self,
        principal: Principal,
        *,
        numero_interne_facture: str,
        invoice_date: date,
        lines: Sequence[LineRequest],
        idempotency_key: str | None = None,
        request_body: Any = None,
    ) -> SavedInvoice:
        """Draft an invoice and book its lines on their contracts. A save lost to another invoice booked on one of
        these contracts is checked again against the rules on the contracts' new versions."""
        principal.require_writer()

        def collided(invoice: Invoice) -> ApplicationError | None:
            return DuplicateInvoiceNumber(numero_interne_facture) if self._exists(invoice.id) else None

        outcome = self._commands.create(
            lambda: self._draft(principal, numero_interne_facture, invoice_date, lines),
            self._reader(principal),
            request=IdempotentRequest.of(idempotency_key, principal, "/invoices", request_body),
            collided=collided,
        )
        return _saved(outcome)

    def submit(
        self,
        principal: Principal,
        ident: UUID,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> SavedInvoice:
        """Needs the CFA's billing profile: the invoice's number is allocated from its sequence in the same
        transaction as the submission, so that two submissions never share a number and a failed one leaves no gap."""
        request = _request(idempotency_key, principal, ident, "submission", None, expected_version)
        numbering: list[BillingProfile] = []

        def submit(invoice: Invoice) -> None:
            invoice.submit(principal.actor)
            profile = self.billing.profile(invoice.cfa_siret)
            if profile is None or profile.incomplete() is not None:
                raise SubmissionBlocked(self.billing.problems(invoice.cfa_siret))
            invoice.assign_number(profile.allocate_number(invoice.id, principal.actor), principal.actor)
            numbering[:] = [profile]

        def with_profile(invoice: Invoice) -> list[Any]:
            return [*self._ledgers_for(invoice, principal.actor), *numbering]

        return self._change(principal, ident, expected_version, submit, request, with_profile)

    def cancel(
        self,
        principal: Principal,
        ident: UUID,
        reason: str | None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> SavedInvoice:
        request = _request(idempotency_key, principal, ident, "cancellation", {"reason": reason}, expected_version)
        return self._change(principal, ident, expected_version, lambda i: i.cancel(reason, principal.actor), request)

    def resume_transmission(
        self,
        principal: Principal,
        ident: UUID,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> SavedInvoice:
        request = _request(idempotency_key, principal, ident, "transmission/retry", None, expected_version)
        return self._change(
            principal, ident, expected_version, lambda i: i.resume_transmission(principal.actor), request
        )

    def record_payment(
        self,
        principal: Principal,
        ident: UUID,
        *,
        amount: Decimal,
        paid_on: date,
        reference_virement: str | None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> SavedInvoice:
        """A payment recorded by hand: only where the OPCO does not report its payments over the API."""
        today = self._clock.today()
        payment = {"amount": money_text(amount), "paidOn": paid_on, "referenceVirement": reference_virement}
        request = _request(idempotency_key, principal, ident, "payments", payment, expected_version)

        def record(invoice: Invoice) -> None:
            if self.payments_from_opco(invoice):
                raise RulesConflict(
                    [
                        Problem(
                            "amount",
                            "payments_from_opco",
                            f"{invoice.opco} reports its payments over the API (factures/etats): they are recorded"
                            " from there, not by hand",
                        )
                    ]
                )
            invoice.record_payment(
                amount=amount,
                paid_on=paid_on,
                reference_virement=reference_virement,
                source="cfa",
                actor=principal.actor,
                today=today,
            )

        return self._change(principal, ident, expected_version, record, request)

    def attach_document(
        self,
        principal: Principal,
        ident: UUID,
        ref: DocumentRef,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> SavedInvoice:
        """Record the CFA's own PDF of the invoice, already kept in the document store under `ref.digest`."""
        request = _request(idempotency_key, principal, ident, "document", {"digest": ref.digest}, expected_version)

        def attach(invoice: Invoice) -> None:
            invoice.attach_document(
                digest=ref.digest, size=ref.size, media_type=ref.media_type.value, actor=principal.actor
            )

        return self._change(principal, ident, expected_version, attach, request)

    def change_as_worker(self, ident: UUID, command: Callable[[Invoice], object]) -> SavedInvoice:
        return self._change(WORKER, ident, None, command)

    def change_loaded_as_worker(self, invoice: Invoice, command: Callable[[Invoice], object]) -> SavedInvoice:
        """A worker change to an invoice it has just read: saved without reading it again, unless another change
        was saved in between (then read again and retried)."""
        command(invoice)
        if not invoice.pending_events:
            return SavedInvoice(invoice, None)
        try:
            recordings = self._app.save(invoice, *self._ledgers_for(invoice, WORKER.actor))
        except IntegrityError:
            return self.change_as_worker(invoice.id, command)
        return SavedInvoice(invoice, recordings[-1].notification.id)

    # -- queries --------------------------------------------------------------------------------------------

    def invoice(self, principal: Principal, ident: UUID, version: int | None = None) -> Invoice:
        try:
            invoice: Invoice = self._app.repository.get(ident, version=version)
        except AggregateNotFoundError:
            raise NotFound("invoice", ident) from None
        if not isinstance(invoice, Invoice) or not principal.can_see(invoice.cfa_siret):
            raise NotFound("invoice", ident)
        return invoice

    def invoice_as_worker(self, ident: UUID) -> Invoice:
        return self.invoice(WORKER, ident)

    def contracts_as_worker(self, invoice: Invoice) -> dict[UUID, Contract]:
        """The contracts the invoice's lines are booked on."""
        return {ident: self._app.contract_as_worker(ident) for ident in invoice.contract_ids}

    def history(self, principal: Principal, ident: UUID) -> list[dict[str, Any]]:
        self.invoice(principal, ident)
        return [event_record(e) for e in self._app.repository.event_store.get(ident)]

    def payments_from_opco(self, invoice: Invoice) -> bool:
        profile = self._profiles.get(Opco(invoice.opco))
        return bool(profile and profile.invoice_states)

    # -- internals ------------------------------------------------------------------------------------------

    def _draft(
        self, principal: Principal, numero: str, invoice_date: date, requests: Sequence[LineRequest]
    ) -> tuple[Invoice, list[Any]]:
        contracts = self._contracts(principal, {r.contract_id for r in requests})
        lines = check_invoice(requests, contracts, invoice_date=invoice_date, today=self._clock.today())
        opco = next(c.submitted_to for c in contracts.values() if c.submitted_to)
        self._require_invoices_at(opco)
        owner = principal.cfa_siret or next(iter(contracts.values())).cfa_siret
        invoice = Invoice.draft(
            cfa_siret=owner,
            numero_interne_facture=numero,
            invoice_date=invoice_date,
            opco=opco,
            lines=lines,
            actor=principal.actor,
        )
        touched = []
        for contract in contracts.values():
            records = [line.as_record() for line in lines if line.contract_id == contract.id]
            contract.attach_invoice(str(invoice.id), numero, records, principal.actor)
            touched.append(contract)
        return invoice, touched

    def _contracts(self, principal: Principal, ids: set[UUID]) -> dict[UUID, Contract]:
        found: dict[UUID, Contract] = {}
        for ident in ids:
            try:
                found[ident] = self._app.contract(principal, ident)
            except NotFound:
                continue
        owners = {c.cfa_siret for c in found.values()}
        if len(owners) > 1:  # only the operator sees several CFAs
            raise InvalidValue("lines", "several_cfas", "an invoice is one CFA's: its contracts belong to several")
        return found

    def _require_invoices_at(self, opco: str) -> None:
        profile = self._profiles.get(Opco(opco))
        if profile is not None and not profile.invoices:
            raise RulesConflict(
                [Problem("lines", "opco_takes_no_invoices", f"{opco} takes no invoices over the API Convergence")]
            )

    def _change(
        self,
        principal: Principal,
        ident: UUID,
        expected_version: int | None,
        command: Callable[[Invoice], object],
        request: IdempotentRequest | None = None,
        with_it: Callable[[Invoice], Sequence[Any]] | None = None,
    ) -> SavedInvoice:
        principal.require_writer()
        outcome = self._commands.change(
            self._reader(principal),
            ident,
            command,
            expected_version=expected_version,
            request=request,
            with_it=with_it or (lambda invoice: self._ledgers_for(invoice, principal.actor)),
        )
        return _saved(outcome)

    def _reader(self, principal: Principal) -> Reader[Invoice]:
        return lambda ident, version: self.invoice(principal, ident, version)

    def _ledgers_for(self, invoice: Invoice, actor: str) -> list[Contract]:
        """The contracts whose ledger must follow this invoice's change: released, or paid some more."""
        changed = []
        lines = invoice.invoice_lines
        shares = allocate(lines, invoice.paid)
        for ident in invoice.contract_ids:
            contract: Contract = self._app.repository.get(ident)
            if invoice.released:
                reason = invoice.state.value
                contract.release_invoice(str(invoice.id), reason, actor)
            else:
                paid = [str(s) for line, s in zip(lines, shares, strict=True) if line.contract_id == ident]
                contract.record_invoice_payment(str(invoice.id), paid, actor)
            if contract.pending_events:
                changed.append(contract)
        return changed

    def _exists(self, ident: UUID) -> bool:
        try:
            self._app.repository.get(ident)
        except AggregateNotFoundError:
            return False
        return True


def _saved(outcome: Outcome[Invoice]) -> SavedInvoice:
    return SavedInvoice(outcome.aggregate, outcome.position, outcome.replayed)


def _request(
    key: str | None, principal: Principal, ident: UUID, action: str, arguments: Any, expected_version: int | None
) -> IdempotentRequest | None:
    return IdempotentRequest.of_command(key, principal, f"/invoices/{ident}/{action}", arguments, expected_version)
