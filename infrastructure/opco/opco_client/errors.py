"""Classification of the OPCOs' error answers and of transport failures into the port's exceptions.

`side_effects` is True for a call that may change something at the OPCO (POST /dossiers, POST /factures): a failure
after the request left may mean the OPCO stored the dossier or the invoice, so `may_have_reached` tells the sender to
look it up before sending again.
Reads have no side effects: for them `may_have_reached` is always False (re-reading is harmless).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from application.opco.opco_gateway import KeyRejected, NotSupported, OpcoError, RefusedByOpco, TransientOpcoError
from domain.opco.opco_catalogue import ErrorShape

Redact = Callable[[str], str]

MAX_TEXT = 500
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
_BROKEN_REQUEST = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)
_SERVER_BUSY = frozenset({500, 502, 503, 504})
_REFUSALS = frozenset({400, 409, 422})
_MESSAGE_KEYS = ("description", "message", "libelle", "detail")
_FIELD_KEYS = ("champ", "field")
_TOP_LEVEL_KEYS = ("comment", "message", "error_description", "detail", "title")
_SECONDS = re.compile(r"\d+(\.\d+)?")
GENERIC = ErrorShape()


def transport_error(exc: httpx.RequestError, *, where: str, side_effects: bool, redact: Redact) -> OpcoError:
    """A failure below HTTP: no answer, or no complete answer."""
    cause = redact(trim(f"{type(exc).__name__}: {exc}"))
    if isinstance(exc, _BROKEN_REQUEST):
        return OpcoError(f"{where}: the request could not be sent ({cause}); check the endpoint's configuration")
    if isinstance(exc, _NOT_SENT):
        return TransientOpcoError(f"{where}: no connection to the OPCO ({cause}); nothing was sent")
    if side_effects:
        message = f"{where}: the exchange broke after the request was sent ({cause}); the OPCO may have received it"
        return TransientOpcoError(message, may_have_reached=True)
    return TransientOpcoError(f"{where}: the exchange broke ({cause})")


def response_error(
    response: httpx.Response, *, where: str, side_effects: bool, redact: Redact, shape: ErrorShape = GENERIC
) -> OpcoError:
    """An HTTP answer that is not a success; `shape` says where this OPCO puts its words."""
    status = response.status_code
    messages = [redact(message) for message in opco_messages(response, shape)]
    said = "; ".join(messages)
    if status in {408, 429} or status in _SERVER_BUSY:
        return _transient(response, where=where, side_effects=side_effects and status in _SERVER_BUSY, said=said)
    if status == 401:
        hint = "check the CFA's API key and the software's OAuth credentials"
        return KeyRejected(f"{where}: authentication refused (401), {hint}: {said}")
    if status == 403:
        return KeyRejected(f"{where}: the CFA's API key was refused (403): {said}")
    if status in _REFUSALS or (status == 404 and side_effects):
        return RefusedByOpco(status, messages)
    if status == 501:
        return NotSupported(f"{where}: not offered by this OPCO (501): {said}")
    return OpcoError(f"{where}: unexpected answer {status}: {said}")


def _transient(response: httpx.Response, *, where: str, side_effects: bool, said: str) -> TransientOpcoError:
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    reached = "; the OPCO may have stored the request" if side_effects else ""
    message = f"{where}: temporarily unavailable ({response.status_code}){reached}: {said}"
    return TransientOpcoError(message, retry_after=retry_after, may_have_reached=side_effects)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """`Retry-After` in seconds, from a number of seconds or an HTTP-date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def opco_messages(response: httpx.Response, shape: ErrorShape = GENERIC) -> list[str]:
    """The OPCO's own words: its summary (Atlas `description`, OPCO EP `comment`) and its `errors` list, else a
    message under a key other services use, else the body's text."""
    messages = _json_messages(json_or_none(response), shape)
    if messages:
        return messages
    text = trim(response.text)
    return [text] if text else [f"HTTP {response.status_code} without a message"]


def json_or_none(response: httpx.Response) -> Any:
    """The decoded JSON body, or None when the body is empty or not JSON."""
    try:
        return response.json()
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError are both ValueErrors
        return None


def _json_messages(body: Any, shape: ErrorShape) -> list[str]:
    if isinstance(body, str):
        return [trim(body)] if body.strip() else []
    if not isinstance(body, dict):
        return []
    summary = next((text for text in (_text(body.get(key)) for key in shape.summary) if text), "")
    items = _error_items(body.get("errors"))
    found = [summary] if summary and summary not in items else []
    found += items
    if found:
        return found
    texts = (_text(body.get(key)) for key in _TOP_LEVEL_KEYS)
    return [text for text in texts if text][:1]


def _error_items(errors: Any) -> list[str]:
    if isinstance(errors, list):
        items = (_error_item(item) for item in errors)
        return [item for item in items if item]
    if isinstance(errors, dict):  # ASP.NET validation style: {"apprenti.nom": ["message", ...]}
        return [f"{field}: {text}" for field, values in errors.items() for text in _texts(values)]
    return []


def _error_item(item: Any) -> str:
    if not isinstance(item, dict):
        return _text(item)
    text = next((_text(item.get(key)) for key in _MESSAGE_KEYS if _text(item.get(key))), "") or _text(item.get("code"))
    field = next((_text(item.get(key)) for key in _FIELD_KEYS if _text(item.get(key))), "")
    return f"{field}: {text}" if field and text else text


def _texts(values: Any) -> list[str]:
    items = values if isinstance(values, list) else [values]
    return [text for text in (_text(item) for item in items) if text]


def _text(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return trim(str(value))


def trim(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
