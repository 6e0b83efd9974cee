"""What the sender needs to know of each kind of thing it sends: how to load and change one, how to send it, and
how to look it up at the OPCO. Contracts and invoices share the transmission commands and the sender's policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from application.access.access import WORKER
from application.dossiers import Dossiers
from application.invoices.invoice_documents import InvoiceDocuments
from application.invoices.invoices import Invoices
from application.opco.opco_gateway import (
    NotSupported,
    OpcoEndpoint,
    OpcoError,
    OpcoGateway,
    OutgoingInvoice,
    OutgoingRupture,
    RefusedByOpco,
    SentDocument,
    SentDossier,
    SentInvoice,
    SentRupture,
    TransientOpcoError,
)
from application.ruptures.terminations import Terminations
from domain.contracts.contract import Contract
from domain.invoicing.invoice import Invoice
from domain.ruptures.termination import RUPTURE_STATES, Termination

Command = Callable[[Any], object]


class TransmissionChannel(Protocol):
    kind: str  # "dossier", "invoice" or "document", for the logs

    def load(self, ident: UUID) -> Any: ...

    def change(self, ident: UUID, command: Command) -> None:
        """Apply a worker command and save it (re-read and retried on a lost race); domain or application errors
        when the thing moved on meanwhile."""
        ...

    def change_loaded(self, item: Any, command: Command) -> Any:
        """Like change, on the thing in hand: no re-read unless another change was saved first. Returns it as saved."""
        ...

    def start(self, item: Any) -> Command:
        """The command that records the start of an attempt (and whatever must be fixed before the first one)."""
        ...

    def send(self, endpoint: OpcoEndpoint, item: Any) -> SentDossier | SentInvoice | SentDocument | SentRupture: ...

    def record_sent(self, answer: Any) -> Command:
        """The command that records what the OPCO answered to `send`."""
        ...

    def find(self, endpoint: OpcoEndpoint, item: Any) -> Command | None:
        """Look the thing up at the OPCO; when it is there, the command that records it as sent (and what else the
        OPCO said of it)."""
        ...


class ContractChannel:
    kind = "dossier"

    def __init__(self, dossiers: Dossiers, gateway: OpcoGateway) -> None:
        self._app = dossiers
        self._gateway = gateway

    def load(self, ident: UUID) -> Contract:
        return self._app.contract_as_worker(ident)

    def change(self, ident: UUID, command: Command) -> None:
        self._app.change_as_worker(ident, command)

    def change_loaded(self, item: Contract, command: Command) -> Contract:
        return self._app.change_loaded_as_worker(item, command).contract

    def start(self, item: Contract) -> Command:
        return _start

    def send(self, endpoint: OpcoEndpoint, item: Contract) -> SentDossier:
        return self._gateway.send_contract(endpoint, item.numero_interne, item.cerfa_model)

    def record_sent(self, answer: SentDossier) -> Command:
        def sent(contract: Contract) -> None:
            contract.record_sent(
                numero_externe=answer.numero_externe,
                etat=answer.etat,
                found_by_lookup=False,
                opco_numero_interne=answer.numero_interne,
                sent_sha256=answer.sent_sha256,
                answer_sha256=answer.answer_sha256,
                actor=WORKER.actor,
            )

        return sent

    def find(self, endpoint: OpcoEndpoint, item: Contract) -> Command | None:
        found = self._gateway.find_dossier(endpoint, item.opco_reference)
        if found is None:
            return None

        def found_there(contract: Contract) -> None:
            contract.record_sent(
                numero_externe=found.numero_externe,
                etat=found.etat,
                found_by_lookup=True,
                opco_numero_interne=found.numero_interne,
                actor=WORKER.actor,
            )
            found.record_commitment_on(contract, WORKER.actor)

        return found_there


class InvoiceChannel:
    """An invoice leaves as multipart: its `facture` part, made from the invoice, its number in the CFA's sequence,
    the CFA's IBAN and its contracts' DECA numbers; and its PDF, fixed before the first attempt."""

    kind = "invoice"

    def __init__(self, invoices: Invoices, gateway: OpcoGateway, documents: InvoiceDocuments) -> None:
        self._invoices = invoices
        self._gateway = gateway
        self._documents = documents

    def load(self, ident: UUID) -> Invoice:
        return self._invoices.invoice_as_worker(ident)

    def change(self, ident: UUID, command: Command) -> None:
        self._invoices.change_as_worker(ident, command)

    def change_loaded(self, item: Invoice, command: Command) -> Invoice:
        return self._invoices.change_loaded_as_worker(item, command).invoice

    def start(self, item: Invoice) -> Command:
        issued = self._documents.issue(item)
        if issued is None:
            return _start

        def start(invoice: Invoice) -> None:
            invoice.issue_document(
                digest=issued.digest, size=issued.size, media_type=issued.media_type.value, actor=WORKER.actor
            )
            invoice.start_transmission(WORKER.actor)

        return start

    def send(self, endpoint: OpcoEndpoint, item: Invoice) -> SentInvoice:
        return self._gateway.send_invoice(endpoint, self._outgoing(item))

    def record_sent(self, answer: SentInvoice) -> Command:
        def sent(invoice: Invoice) -> None:
            invoice.record_sent(
                numero_externe=answer.numero_externe,
                etat=answer.etat,
                found_by_lookup=False,
                opco_numero_interne=answer.numero_interne_facture,
                numero_interne_document=answer.numero_interne_document,
                actor=WORKER.actor,
            )

        return sent

    def find(self, endpoint: OpcoEndpoint, item: Invoice) -> Command | None:
        if item.numero is None:
            return None  # never numbered, so never sent
        found = self._gateway.find_invoice(endpoint, item.numero)
        if found is None:
            return None

        def found_there(invoice: Invoice) -> None:
            invoice.record_sent(
                numero_externe=found.numero_externe,
                etat=found.etat,
                found_by_lookup=True,
                opco_numero_interne=found.numero_interne_facture,
                numero_interne_document=found.numero_interne_document,
                actor=WORKER.actor,
            )
            if self._invoices.payments_from_opco(invoice):  # elsewhere the CFA records payments by hand
                found.record_payment_on(invoice, WORKER.actor)

        return found_there

    def _outgoing(self, invoice: Invoice) -> OutgoingInvoice:
        issuer = self._invoices.billing.issuer(invoice.cfa_siret)
        if issuer is None or invoice.numero is None:
            raise OpcoError(f"invoice {invoice.id}: the CFA's billing profile is incomplete; it cannot be sent")
        contracts = self._invoices.contracts_as_worker(invoice)
        return OutgoingInvoice(
            numero=invoice.numero,
            issued_on=invoice.invoice_date,
            issuer_siret=invoice.cfa_siret,
            iban=issuer.iban,
            lines=tuple(invoice.invoice_lines),
            numeros_deca={ident: contract.numero_deca for ident, contract in contracts.items()},
            pdf=self._documents.to_send(invoice).content,
        )


def _start(item: Any) -> None:
    item.start_transmission(WORKER.actor)


class TerminationChannel:
    """A rupture leaves for POST /v2/dossiers/rupture/employeur. Its body is not public and no lookup of a rupture
    is known: the dossier's state at the OPCO (RUPTU, RUPTURE) is the only proof it arrived. So an attempt that may
    have reached the OPCO without its answer coming back is never sent again by itself: unless the dossier shows the
    rupture, it waits (parked) for a person, who checks on the OPCO's site and marks it declared or sends it again."""

    kind = "rupture"

    def __init__(self, terminations: Terminations, gateway: OpcoGateway) -> None:
        self._terminations = terminations
        self._gateway = gateway
        self._refused: set[UUID] = set()  # answered with a refusal just now: its attempt in flight was not lost

    def load(self, ident: UUID) -> Termination:
        return self._terminations.termination_as_worker(ident)

    def change(self, ident: UUID, command: Command) -> None:
        self._terminations.change_as_worker(ident, command)

    def change_loaded(self, item: Termination, command: Command) -> Termination:
        return self._terminations.change_loaded_as_worker(item, command)

    def start(self, item: Termination) -> Command:
        return _start

    def send(self, endpoint: OpcoEndpoint, item: Termination) -> SentRupture:
        try:
            return self._gateway.send_rupture(endpoint, outgoing_rupture(item))
        except RefusedByOpco:
            self._refused.add(item.id)  # the sender looks it up before recording the refusal (a duplicate?)
            raise
        except TransientOpcoError as failure:
            if failure.may_have_reached:
                error = str(failure)
                self.change(item.id, lambda t: t.record_answer_lost(error, WORKER.actor))
            raise

    def record_sent(self, answer: SentRupture) -> Command:
        def sent(termination: Termination) -> None:
            termination.record_sent(
                numero_externe=answer.numero_externe,
                etat=answer.etat,
                found_by_lookup=False,
                sent_sha256=answer.sent_sha256,
                answer_sha256=answer.answer_sha256,
                actor=WORKER.actor,
            )

        return sent

    def find(self, endpoint: OpcoEndpoint, item: Termination) -> Command | None:
        try:
            found = self._gateway.find_dossier(endpoint, str(item.dossier["numeroInterne"]))
        except NotSupported:
            found, lookup = None, False
        else:
            lookup = True
        if found is not None and found.etat in RUPTURE_STATES:
            etat, numero_externe = found.etat, found.numero_externe

            def found_there(termination: Termination) -> None:
                termination.record_sent(
                    numero_externe=numero_externe, etat=etat, found_by_lookup=True, actor=WORKER.actor
                )

            return found_there
        answered = item.id in self._refused
        self._refused.discard(item.id)
        in_flight = item.transmission["inFlightSince"] is not None and not answered  # left so by a crash
        if not (item.answer_lost or in_flight):
            return None  # every earlier attempt surely failed before the OPCO: sending again is safe
        reason = (
            "the answer to the rupture was lost and "
            + ("the OPCO's dossier does not show it (RUPTU/RUPTURE)" if lookup else "this OPCO offers no lookup")
            + ": check on the OPCO's site, then mark it declared or send it again"
        )
        return lambda termination: termination.park_transmission(reason, WORKER.actor)


def outgoing_rupture(termination: Termination) -> OutgoingRupture:
    rupture, dossier = termination.rupture, termination.dossier
    return OutgoingRupture(
        numero_interne=str(dossier["numeroInterne"]),
        numero_externe=dossier.get("numeroExterne"),
        numero_deca=dossier.get("numeroDeca"),
        date_effet=date.fromisoformat(rupture["dateEffetRupture"]),
        motif=rupture["motif"],
        initiative=rupture["initiative"],
        date_signalement=date.fromisoformat(rupture["dateSignalement"]),
        commentaire=rupture.get("commentaire"),
    )
