"""The documents of GET /attention (`kind` "document"): those parked, a lost answer or too many failures, which wait
for a person to check at the OPCO, then retry or confirm their receipt."""

from __future__ import annotations

from typing import Any

from fastapi.concurrency import run_in_threadpool

from application.access.access import Principal
from interfaces.bootstrap import Container


async def document_attention(who: Principal, services: Container) -> list[dict[str, Any]]:
    return await run_in_threadpool(_items, who, services)


def _items(who: Principal, services: Container) -> list[dict[str, Any]]:
    outbox = services.worker.documents
    if outbox is None:
        return []
    items = []
    for ident in outbox.view.parked(who.cfa_siret):
        document = services.contract_documents.document_as_worker(ident)
        items.append(
            {
                "kind": "document",
                "id": str(document.id),
                "contractId": str(document.contract_id),
                "type": document.kind,
                "cfaSiret": document.cfa_siret,
                "opco": document.opco,
                "state": document.state.value,
                "reasons": ["document_answer_lost" if document.answer_lost else "document_parked"],
                "parkedReason": document.transmission.get("parkedReason"),
            }
        )
    return items
