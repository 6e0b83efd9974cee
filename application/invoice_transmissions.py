"""The invoices' transmission queue: the same read model as the contracts' (application.transmissions), fed by the
invoice events of the same names and by `Numbered`.

A row's number is the one the OPCO will know the invoice by: the CFA's number (`numero` of the `facture` part) from
its submission, then the OPCO's own numeroInterneFacture once it answered. So the sync recognises an invoice whose
answer was lost by the number the CFA gave it, and every other by the OPCO's."""

from __future__ import annotations

from application.transmissions import queue_topics
from domain.invoice import Invoice

INVOICE_TOPICS = (*queue_topics(Invoice), f"{Invoice.__module__}:{Invoice.__qualname__}.Numbered")
