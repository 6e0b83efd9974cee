"""`HttpOpcoGateway`: the API Convergence over httpx, one pooled client shared by the sender's threads.

It does not retry: the sender owns retries, backoff and parking. The one exception is a 401 from the API when the
endpoint uses OAuth: the token is refreshed once and the call made once more.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from application.opco_gateway import (
    DossierState,
    InvoiceState,
    KeyInfo,
    KeyRejected,
    OpcoDossier,
    OpcoEndpoint,
    OpcoError,
    SentDossier,
    SentInvoice,
)
from domain.cerfa import Cerfa
from domain.opcos import Opco
from infrastructure.opco_client.errors import response_error, transport_error, trim
from infrastructure.opco_client.identity import ClientIdentity, is_header_safe
from infrastructure.opco_client.oauth import Grant, TokenCache, grant_from, token_form
from infrastructure.opco_client.paging import INVOICE_LIST_KEYS, STATE_LIST_KEYS, Paging, page_items
from infrastructure.opco_client.parsing import (
    parse_dossier,
    parse_invoice,
    parse_invoice_state,
    parse_key_info,
    parse_sent,
    parse_sent_invoice,
    parse_state,
)
from infrastructure.opco_client.redaction import MASK, Redactor
from infrastructure.opco_wire import dossier_body, encode, wire_variant

log = logging.getLogger("convergence.opco_client")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=10.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=32)  # the sender runs ~32 threads
_SECRET_PARAMS = frozenset({"XAPIKEY"})
_NOT_JSON = object()
_NOT_FOUND = object()

Params = Mapping[str, str | int]


class HttpOpcoGateway:
    """Implements `application.opco_gateway.OpcoGateway`. Thread-safe; close it (or use `with`) when done."""

    def __init__(
        self,
        identity: ClientIdentity,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        self._api_headers = identity.api_headers()
        self._http = httpx.Client(
            headers=identity.common_headers(),
            timeout=timeout or DEFAULT_TIMEOUT,
            limits=DEFAULT_LIMITS,
            transport=transport,
            follow_redirects=False,
        )
        self._tokens = TokenCache(self._fetch_token)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HttpOpcoGateway:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    # --- the port ---------------------------------------------------------------------------------------------

    def send_contract(self, endpoint: OpcoEndpoint, numero_interne: str, cerfa: Cerfa) -> SentDossier:
        body = encode(dossier_body(numero_interne, cerfa, wire_variant(endpoint.opco)))
        return parse_sent(self._post(endpoint, f"/v{endpoint.protocol}/dossiers", body))

    def find_dossier(self, endpoint: OpcoEndpoint, numero_interne: str) -> OpcoDossier | None:
        path = f"/v{endpoint.protocol}/dossiers"
        body = self._find(endpoint, path, {"numeroInterne": numero_interne})
        return None if body is _NOT_FOUND else parse_dossier(body, numero_interne)

    def dossier_states(self, endpoint: OpcoEndpoint) -> Iterator[DossierState]:
        items = self._paged(endpoint, f"/v{endpoint.protocol}/dossiers/etats", STATE_LIST_KEYS)
        yield from (state for state in map(parse_state, items) if state is not None)

    def send_invoice(self, endpoint: OpcoEndpoint, payload: dict[str, Any]) -> SentInvoice:
        return parse_sent_invoice(self._post(endpoint, "/v1/factures", payload))

    def find_invoice(self, endpoint: OpcoEndpoint, numero_interne_facture: str) -> InvoiceState | None:
        body = self._find(endpoint, "/v1/factures", {"numeroInterneFacture": numero_interne_facture})
        return None if body is _NOT_FOUND else parse_invoice(body, numero_interne_facture)

    def invoice_states(self, endpoint: OpcoEndpoint) -> Iterator[InvoiceState]:
        items = self._paged(endpoint, "/v2/factures/etats", INVOICE_LIST_KEYS)
        yield from (state for state in map(parse_invoice_state, items) if state is not None)

    def service_status(self, endpoint: OpcoEndpoint) -> dict[str, Any]:
        response = self._call(endpoint, "GET", "/v1/status")
        body = _json(response)
        return body if isinstance(body, dict) else {"body": trim(response.text)}

    def key_info(self, endpoint: OpcoEndpoint, siren: str) -> KeyInfo:
        path = "/v2/cfakeyinfo"
        response = self._call(endpoint, "GET", path, params={"siren": siren, "XAPIKEY": endpoint.api_key})
        return parse_key_info(self._document(endpoint, response, path))

    # --- the shapes of calls ----------------------------------------------------------------------------------

    def _post(self, endpoint: OpcoEndpoint, path: str, payload: dict[str, Any] | bytes) -> Any:
        """The decoded answer to a submission (a document, or JSON already encoded); None when empty or not JSON."""
        if isinstance(payload, bytes):
            response = self._call(endpoint, "POST", path, content=payload)
        else:
            response = self._call(endpoint, "POST", path, json=payload)
        body = _json(response)
        if body is _NOT_JSON:  # accepted all the same: raising would make the sender send it again
            log.warning(
                "%s POST %s accepted (%s) with a body that is not JSON", endpoint.opco, path, response.status_code
            )
            return None
        return body

    def _find(self, endpoint: OpcoEndpoint, path: str, params: Params) -> Any:
        """The decoded answer to a lookup, or `_NOT_FOUND` (404, or 400 at OPCO EP)."""
        not_found = {404, 400} if endpoint.opco is Opco.OPCOEP else {404}
        response = self._call(endpoint, "GET", path, params=params, tolerated=not_found)
        return _NOT_FOUND if response.status_code in not_found else self._document(endpoint, response, path)

    def _paged(self, endpoint: OpcoEndpoint, path: str, list_keys: tuple[str, ...]) -> Iterator[dict[str, Any]]:
        """The items of ?numeroPage=1,2,… until `total` are read, an empty page, or a page that brings nothing new;
        never more requests than the pages the total announces, plus one (see `paging`)."""
        paging = Paging()
        while paging.more():
            response = self._call(endpoint, "GET", path, params={"numeroPage": paging.pages + 1})
            yield from paging.take(*page_items(self._document(endpoint, response, path), list_keys))
        if paging.stopped:
            log.warning("%s GET %s: %s; stopping", endpoint.opco, path, paging.stopped)

    # --- calls ------------------------------------------------------------------------------------------------

    def _call(
        self,
        endpoint: OpcoEndpoint,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: dict[str, Any] | None = None,
        content: bytes | None = None,
        tolerated: frozenset[int] | set[int] = frozenset(),
    ) -> httpx.Response:
        """One call to the API (two when a 401 makes the OAuth token refresh); raises unless 2xx or tolerated."""
        if not is_header_safe(endpoint.api_key):
            raise KeyRejected(f"{endpoint.opco}: the CFA's API key is empty or not printable ASCII; it cannot be sent")
        token = self._bearer(endpoint)
        body = {"json": json} if content is None else {"content": content}
        response = self._send(endpoint, token, method, path, params=params, **body)
        if response.status_code == 401 and token is not None:
            self._tokens.invalidate(endpoint, token)
            token = self._bearer(endpoint)
            response = self._send(endpoint, token, method, path, params=params, **body)
        if response.is_success or response.status_code in tolerated:
            return response
        where, redact = _where(endpoint, method, path), _redactor(endpoint, token)
        raise response_error(response, where=where, side_effects=method == "POST", redact=redact)

    def _send(
        self, endpoint: OpcoEndpoint, token: str | None, method: str, path: str, **request: Any
    ) -> httpx.Response:
        headers = {**self._api_headers, "X-API-KEY": endpoint.api_key}
        if request.get("content") is not None:
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self._exchange(
            method,
            endpoint.base_url.rstrip("/") + path,
            where=_where(endpoint, method, path),
            target=f"{endpoint.opco} {method} {_loggable(path, request.get('params'))}",
            redact=_redactor(endpoint, token),
            side_effects=method == "POST",
            headers=headers,
            **request,
        )

    def _exchange(
        self, method: str, url: str, *, where: str, target: str, redact: Redactor, side_effects: bool, **request: Any
    ) -> httpx.Response:
        """The HTTP exchange itself, timed and logged; transport failures become the port's errors."""
        started = time.perf_counter()
        try:
            response = self._http.request(method, url, **request)
        except httpx.RequestError as exc:
            _log_call(target, type(exc).__name__, started)
            raise transport_error(exc, where=where, side_effects=side_effects, redact=redact) from None
        except httpx.InvalidURL:
            raise OpcoError(f"{where}: invalid URL; check the endpoint's base_url and token_url") from None
        _log_call(target, str(response.status_code), started)
        return response

    # --- OAuth ------------------------------------------------------------------------------------------------

    def _bearer(self, endpoint: OpcoEndpoint) -> str | None:
        return self._tokens.token(endpoint) if endpoint.client_id else None

    def _fetch_token(self, endpoint: OpcoEndpoint) -> Grant:
        """POST the client credentials (form) to the token endpoint; the CFA's key does not go there."""
        url, where, redact = endpoint.token_url or "", f"{endpoint.opco} token endpoint", _redactor(endpoint, None)
        target = f"{endpoint.opco} POST {urlsplit(url).path} (token)"
        response = self._exchange(
            "POST", url, where=where, target=target, redact=redact, side_effects=False, data=token_form(endpoint)
        )
        return grant_from(response, where=where, redact=redact)

    @staticmethod
    def _document(endpoint: OpcoEndpoint, response: httpx.Response, path: str) -> Any:
        """The JSON body of a successful read (None when empty); a body that is not JSON is an error."""
        body = _json(response)
        if body is _NOT_JSON:
            text = _redactor(endpoint, None)(trim(response.text))
            raise OpcoError(f"{_where(endpoint, 'GET', path)}: answer {response.status_code} is not JSON: {text}")
        return body


def _json(response: httpx.Response) -> Any:
    """The decoded body; None when empty; `_NOT_JSON` when it cannot be decoded."""
    if not response.content.strip():
        return None
    try:
        return response.json()
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError
        return _NOT_JSON


def _redactor(endpoint: OpcoEndpoint, token: str | None) -> Redactor:
    return Redactor([endpoint.api_key, endpoint.client_secret, token])


def _where(endpoint: OpcoEndpoint, method: str, path: str) -> str:
    return f"{endpoint.opco} {method} {path}"


def _loggable(path: str, params: Params | None) -> str:
    """The path and its query, with the secret parameters (cfakeyinfo's XAPIKEY) masked."""
    if not params:
        return path
    return f"{path}?{urlencode({name: MASK if name in _SECRET_PARAMS else value for name, value in params.items()})}"


def _log_call(target: str, outcome: str, started: float) -> None:
    log.debug("%s -> %s in %.0f ms", target, outcome, (time.perf_counter() - started) * 1000)
