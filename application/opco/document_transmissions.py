"""The documents' transmission queue: the same read model as the contracts' and invoices'
(application.opco.transmissions), fed by the document events of the same names; its rows are keyed by the document's
id and its reference."""

from __future__ import annotations

from application.opco.transmissions import queue_topics
from domain.opco.opco_documents.document import OpcoDocument

DOCUMENT_TOPICS = queue_topics(OpcoDocument)
