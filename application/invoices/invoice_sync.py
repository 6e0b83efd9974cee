"""Reads the OPCOs' invoice states (GET /v2/factures/etats, where offered) and records each change on the invoice:
its state, and what it paid (REGLE: `montantRegle`, `referenceVirement`, `dateReglement`).

Where an OPCO does not report invoice states, its invoices wait in `sent` and the CFA records payments by hand."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from uuid import UUID

from application.access.access import WORKER
from application.errors import ApplicationError
from application.invoices.invoices import Invoices
from application.opco.opco_accounts import OpcoAccounts
from application.opco.opco_gateway import InvoiceState, KeyRejected, OpcoEndpoint, OpcoError, OpcoGateway
from application.opco.state_sync import SyncReport
from application.opco.transmissions import TransmissionsView
from application.ports import Clock, FanOut, one_at_a_time
from domain.errors import DomainError
from domain.invoicing.invoice import Invoice
from domain.invoicing.states import OPCO_INVOICE_STATES, PAYMENT_STATES
from domain.invoicing.states import InvoiceState as InvoiceStatus
from domain.opco.opco_catalogue import OpcoProfile
from domain.opco.opcos import Opco

log = logging.getLogger("convergence.invoice_sync")
SETTLED = "REGLE"  # paid in full: nothing more will come


class InvoiceSync:
    def __init__(
        self,
        invoices: Invoices,
        accounts: OpcoAccounts,
        gateway: OpcoGateway,
        view: TransmissionsView,
        clock: Clock,
        profiles: Mapping[Opco, OpcoProfile],
        fan_out: FanOut = one_at_a_time,
    ) -> None:
        self._invoices = invoices
        self._accounts = accounts
        self._gateway = gateway
        self._view = view
        self._clock = clock
        self._profiles = profiles
        self._fan_out = fan_out

    def run_once(self) -> SyncReport:
        return SyncReport.of(self._fan_out(self._poll, self._view.accounts_at_opcos()))

    def _poll(self, account: tuple[str, str]) -> tuple[int, int, int] | None:
        cfa_siret, code = account
        opco = Opco(code)
        if not self._profiles[opco].invoice_states:
            return None
        endpoint = self._accounts.endpoint(cfa_siret, opco)
        return None if endpoint is None else self._sync_account(cfa_siret, endpoint)

    def _sync_account(self, cfa_siret: str, endpoint: OpcoEndpoint) -> tuple[int, int, int]:
        known = self._view.opco_states(cfa_siret, endpoint.opco.value)
        ids = self._view.ids_at_opco(cfa_siret, endpoint.opco.value)
        changes = unknown = 0
        error: str | None = None
        try:
            for state in self._gateway.invoice_states(endpoint):
                numero = state.numero_interne_facture if state.numero_interne_facture in ids else state.numero or ""
                ident = ids.get(numero)
                if ident is None or (known[numero] == state.etat and state.etat not in PAYMENT_STATES - {SETTLED}):
                    continue
                unknown += state.etat not in OPCO_INVOICE_STATES
                changes += self._record(ident, state)
        except KeyRejected as rejected:
            error = str(rejected)
            self._accounts.reject_key(cfa_siret, endpoint.opco, error)
        except OpcoError as failure:
            error = str(failure)
            log.warning("invoice sync of %s at %s failed: %s", cfa_siret, endpoint.opco, failure)
        self._accounts.contacted(cfa_siret, endpoint.opco, self._clock.now(), error)
        return changes, unknown, int(error is not None)

    def _record(self, ident: UUID, state: InvoiceState) -> int:
        if state.etat not in OPCO_INVOICE_STATES:
            log.warning("unknown invoice state %r for %s: kept verbatim", state.etat, state.numero_interne_facture)

        def apply(invoice: Invoice) -> None:
            if invoice.state is InvoiceStatus.SUBMITTED:  # its answer was lost: the OPCO's numbers are learnt here
                invoice.record_sent(
                    numero_externe=state.numero_externe,
                    etat=state.etat,
                    found_by_lookup=True,
                    opco_numero_interne=state.numero_interne_facture,
                    numero_interne_document=state.numero_interne_document,
                    actor=WORKER.actor,
                )
            invoice.record_opco_state(  # first: it ends a transmission still pending, before any payment
                etat=state.etat, commentaire=state.commentaire, numero_externe=state.numero_externe, actor=WORKER.actor
            )
            state.record_payment_on(invoice, WORKER.actor)

        try:
            saved = self._invoices.change_as_worker(ident, apply)
        except (DomainError, ApplicationError) as reason:
            log.info("state %s of invoice %s not recorded: %s", state.etat, state.numero_interne_facture, reason)
            return 0
        return int(saved.position is not None)
