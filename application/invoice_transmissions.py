"""The invoices' transmission queue: the same read model as the contracts' (application.transmissions), fed by the
invoice events of the same names; its rows are keyed by the invoice's id and its numeroInterneFacture."""

from __future__ import annotations

from application.transmissions import queue_topics
from domain.invoice import Invoice

INVOICE_TOPICS = queue_topics(Invoice)
