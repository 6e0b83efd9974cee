"""The states of an invoice, and the OPCO's `etatFacture` values that move it.

Only REGLE is attested (../shared/reference/api-convergence.md §3.2, §4); the other values are the sandbox's and
an inference. An unknown value is kept verbatim on the invoice and leaves its state as it is."""

from __future__ import annotations

from enum import StrEnum


class InvoiceState(StrEnum):
    DRAFTED = "drafted"
    SUBMITTED = "submitted"
    SENT = "sent"
    ACCEPTED = "accepted"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    REFUSED = "refused"
    CANCELLED = "cancelled"


# Until paid in full or released, an invoice holds its échéances: no second invoice may be drafted for them.
PENDING_STATES = frozenset(
    {
        InvoiceState.DRAFTED,
        InvoiceState.SUBMITTED,
        InvoiceState.SENT,
        InvoiceState.ACCEPTED,
        InvoiceState.PARTIALLY_PAID,
    }
)
# Refused or cancelled: its amounts no longer count against the échéances.
RELEASED_STATES = frozenset({InvoiceState.REFUSED, InvoiceState.CANCELLED})

OPCO_INVOICE_STATES: dict[str, InvoiceState] = {
    "TRANSMISE": InvoiceState.SENT,
    "RECUE": InvoiceState.SENT,
    "EN_COURS_INSTRUCTION": InvoiceState.SENT,
    "VALIDEE": InvoiceState.ACCEPTED,
    "REFUSEE": InvoiceState.REFUSED,
    "REFUSE": InvoiceState.REFUSED,
    "REGLE_PARTIEL": InvoiceState.PARTIALLY_PAID,
    "REGLE": InvoiceState.PAID,
}
PAYMENT_STATES = frozenset({"REGLE", "REGLE_PARTIEL"})
