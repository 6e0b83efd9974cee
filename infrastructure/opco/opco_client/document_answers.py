"""The OPCOs' answers to documents (POST /v1/conventions, /v1/documents, /v2/certificats): what is kept of them.

Their shape was not observed beyond "200 = success" (docs/wire.md D5): every identifier-like value is kept
verbatim (keys naming a number or an id: numeroInterneDocument, idDocument, numeroInterne, id, …), nested one level
under `document`, `convention` or `certificat` where an OPCO wraps it."""

from __future__ import annotations

from typing import Any

from application.opco.opco_gateway import SentDocument

_WRAPPERS = ("document", "convention", "certificat")
_STATE_KEYS = ("etat", "etatDocument", "statut", "status")
MAX_IDENTIFIERS = 10


def parse_sent_document(body: Any) -> SentDocument:
    document = _first_object(body)
    for wrapper in _WRAPPERS:
        nested = document.get(wrapper)
        if isinstance(nested, dict):
            document = {**document, **nested}
    identifiers = {
        key: text for key, value in document.items() if _is_identifier(key) and (text := _text(value)) is not None
    }
    etat = next((text for key in _STATE_KEYS if (text := _text(document.get(key))) is not None), None)
    return SentDocument(dict(list(identifiers.items())[:MAX_IDENTIFIERS]), etat)


def _is_identifier(key: str) -> bool:
    lowered = key.lower()
    return lowered.startswith(("numero", "id")) or lowered.endswith("id")


def _first_object(body: Any) -> dict[str, Any]:
    if isinstance(body, list):
        body = next((item for item in body if isinstance(item, dict)), None)
    return body if isinstance(body, dict) else {}


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip()
    return text[:200] or None
