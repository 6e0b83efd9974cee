"""The invoices' transmission queue: the same read model as the contracts' (application.opco.transmissions), fed by the
invoice events of the same names and by `Numbered`.

A row's number is the one the OPCO will know the invoice by: the CFA's number (`numero` of the `facture` part) from
its submission, then the OPCO's own numeroInterneFacture once it answered. So the sync recognises an invoice whose
answer was lost by the number the CFA gave it, and every other by the OPCO's."""

from __future__ import annotations

from application.opco.transmissions import queue_topics
from application.topics import stored_topics
from domain.invoicing.invoice import Invoice

INVOICE_TOPICS = (*queue_topics(Invoice), *stored_topics(f"{Invoice.__module__}:{Invoice.__qualname__}.Numbered"))
