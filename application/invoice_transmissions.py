"""The invoices' transmission queue: the same read model as the contracts' (application.transmissions), fed by the
invoice events of the same names; its rows are keyed by the invoice's id and its numeroInterneFacture."""

from __future__ import annotations

from domain.invoice import Invoice

INVOICE_TOPICS = tuple(
    f"{Invoice.__module__}:Invoice.{name}"
    for name in (
        "SubmissionRequested",
        "Sent",
        "TransmissionFailed",
        "TransmissionParked",
        "TransmissionResumed",
        "RefusedOnTransmission",
        "OpcoStateChanged",
        "Cancelled",
    )
)
