"""`HttpOpcoGateway`: the API Convergence over httpx, one pooled client shared by the sender's threads.

It does not retry: the sender owns retries, backoff and parking. The exceptions belong to authentication: a 401 from
the API when the endpoint uses OAuth refreshes the token once and the call is made once more; a server that asks
for a DPoP nonce (`use_dpop_nonce`, RFC 9449 §8) is asked once more with it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from hashlib import sha256
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from application.opco.opco_gateway import (
    DossierNumber,
    DossierState,
    InvoiceState,
    KeyInfo,
    KeyRejected,
    ListedDossier,
    OpcoDossier,
    OpcoEndpoint,
    OpcoError,
    OutgoingCertificat,
    OutgoingConvention,
    OutgoingDocument,
    OutgoingFile,
    OutgoingInvoice,
    OutgoingRupture,
    SentDocument,
    SentDossier,
    SentInvoice,
    SentRupture,
)
from domain.cerfa import Cerfa
from infrastructure.opco.opco_client.document_answers import parse_sent_document
from infrastructure.opco.opco_client.dpop import DpopSigner
from infrastructure.opco.opco_client.errors import response_error, transport_error, trim
from infrastructure.opco.opco_client.identity import ClientIdentity, is_header_safe
from infrastructure.opco.opco_client.metrics import KEY_REJECTIONS, TOKEN_FAILURES, failure_of, observe_call, outcome_of
from infrastructure.opco.opco_client.oauth import (
    DpopNonces,
    Grant,
    TokenCache,
    dpop_nonce_asked,
    grant_from,
    token_form,
)
from infrastructure.opco.opco_client.paging import INVOICE_LIST_KEYS, STATE_LIST_KEYS, Paging, page_items
from infrastructure.opco.opco_client.parsing import (
    parse_dossier,
    parse_invoice,
    parse_invoice_state,
    parse_key_info,
    parse_listed,
    parse_sent,
    parse_sent_invoice,
    parse_state,
)
from infrastructure.opco.opco_client.redaction import MASK, Redactor
from infrastructure.opco.opco_wire import dossier_body, encode, wire_variant
from infrastructure.opco.opco_wire.documents import certificat_part, convention_part, document_parts, infos_fichier
from infrastructure.opco.opco_wire.invoice import Issuer, facture_part, multipart_files
from infrastructure.opco.opco_wire.rupture import RUPTURE_PATH, parse_sent_rupture, rupture_body

log = logging.getLogger("convergence.opco_client")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=10.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=32)  # the sender runs ~32 threads
_SECRET_PARAMS = frozenset({"XAPIKEY"})
_NOT_JSON = object()
_NOT_FOUND = object()
SERVER_ERRORS = frozenset({500, 502, 503, 504})

Params = Mapping[str, str | int]
FilePart = tuple[str | None, bytes, str]  # (file name, content, media type) of one multipart part


@dataclass(frozen=True, slots=True)
class Files:
    """A multipart/form-data body: its parts by name."""

    parts: Mapping[str, FilePart]


class HttpOpcoGateway:
    """Implements `application.opco.opco_gateway.OpcoGateway`. Thread-safe; close it (or use `with`) when done."""

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
        self._nonces = DpopNonces()
        self._signers: dict[str, DpopSigner] = {}

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
        answer, digests = self._post_digested(endpoint, f"/v{endpoint.protocol}/dossiers", body)
        return replace(parse_sent(answer), **digests)

    def find_dossier(self, endpoint: OpcoEndpoint, numero_interne: str) -> OpcoDossier | None:
        path = f"/v{endpoint.protocol}/dossiers"
        body = self._find(endpoint, path, {"numeroInterne": numero_interne})
        return None if body is _NOT_FOUND else parse_dossier(body, numero_interne)

    def dossier_states(self, endpoint: OpcoEndpoint) -> Iterator[DossierState]:
        items = self._paged(endpoint, f"/v{endpoint.protocol}/dossiers/etats", STATE_LIST_KEYS)
        yield from (state for state in map(parse_state, items) if state is not None)

    def send_invoice(self, endpoint: OpcoEndpoint, invoice: OutgoingInvoice) -> SentInvoice:
        facture = facture_part(
            numero=invoice.numero,
            issued_on=invoice.issued_on,
            issuer=Issuer(invoice.issuer_siret, invoice.iban),
            lines=invoice.lines,
            numeros_deca=invoice.numeros_deca,
            est_certificat_realisation=invoice.est_certificat_realisation,
        )
        files = Files(multipart_files(facture, invoice.pdf, invoice.numero))
        return parse_sent_invoice(self._post(endpoint, endpoint.invoice_path, files))

    def find_invoice(self, endpoint: OpcoEndpoint, numero: str) -> InvoiceState | None:
        body = self._find(endpoint, endpoint.invoice_path, {"numero": numero})
        return None if body is _NOT_FOUND else parse_invoice(body, numero)

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

    def dossier_list(self, endpoint: OpcoEndpoint) -> Iterator[ListedDossier]:
        items = self._paged(endpoint, f"/v{endpoint.protocol}/dossiers/etats", STATE_LIST_KEYS)
        yield from map(parse_listed, items)

    def find_dossier_by(self, endpoint: OpcoEndpoint, field: DossierNumber, value: str) -> OpcoDossier | None:
        body = self._find(endpoint, f"/v{endpoint.protocol}/dossiers", {field: value})
        return None if body is _NOT_FOUND else parse_dossier(body, "")

    # --- documents (docs/wire.md "Documents") ------------------------------------------------------------------

    def send_convention(self, endpoint: OpcoEndpoint, convention: OutgoingConvention) -> SentDocument:
        part = convention_part(convention.numero_interne_dossier, convention.cerfa, convention.mandat_employeur)
        return self._post_document(endpoint, "/v1/conventions", "convention", part, convention.file)

    def send_document(self, endpoint: OpcoEndpoint, document: OutgoingDocument) -> SentDocument:
        part = infos_fichier(document.type_fichier, document.objets)
        return self._post_document(endpoint, "/v1/documents", "infosFichier", part, document.file)

    def send_certificat(self, endpoint: OpcoEndpoint, certificat: OutgoingCertificat) -> SentDocument:
        part = certificat_part(
            numero_interne_dossier=certificat.numero_interne_dossier,
            numero_interne_facture=certificat.numero_interne_facture,
            type_certificat=certificat.type_certificat,
            echeance=certificat.echeance,
            cerfa=certificat.cerfa,
        )
        return self._post_document(endpoint, "/v2/certificats", "certificat", part, certificat.file)

    def _post_document(
        self, endpoint: OpcoEndpoint, path: str, name: str, part: dict[str, Any], file: OutgoingFile
    ) -> SentDocument:
        """A 5xx answer is the OPCO saying it did not keep the document (docs/wire.md D6): worth sending again. Only
        a broken exchange after the request left (a timeout, a dropped connection) may have left it there."""
        files = document_parts(name, part, file.content, file.file_name, file.media_type)
        response = self._call(endpoint, "POST", path, files=files, tolerated=SERVER_ERRORS)
        if response.status_code in SERVER_ERRORS:
            where, redact = _where(endpoint, "POST", path), _redactor(endpoint, None)
            raise response_error(response, where=where, side_effects=False, redact=redact, shape=endpoint.errors)
        body = _json(response)
        if body is _NOT_JSON:  # accepted all the same: raising would make the sender send it again
            log.warning(
                "%s POST %s accepted (%s) with a body that is not JSON", endpoint.opco, path, response.status_code
            )
            body = None
        return parse_sent_document(body)

    def send_rupture(self, endpoint: OpcoEndpoint, rupture: OutgoingRupture) -> SentRupture:
        answer, digests = self._post_digested(endpoint, RUPTURE_PATH, encode(rupture_body(rupture)))
        return replace(parse_sent_rupture(answer), **digests)

    # --- the shapes of calls ----------------------------------------------------------------------------------

    def _post(self, endpoint: OpcoEndpoint, path: str, payload: dict[str, Any] | bytes | Files) -> Any:
        """The decoded answer to a submission (a document, JSON already encoded, or multipart parts as httpx's
        `files=` takes them: a `Files`); None when empty or not JSON."""
        if isinstance(payload, Files):
            response = self._call(endpoint, "POST", path, files=payload.parts)
        elif isinstance(payload, bytes):
            response = self._call(endpoint, "POST", path, content=payload)
        else:
            response = self._call(endpoint, "POST", path, json=payload)
        return self._answer(endpoint, path, response)

    def _post_digested(self, endpoint: OpcoEndpoint, path: str, body: bytes) -> tuple[Any, dict[str, str]]:
        """`_post` of a JSON body already encoded, with the SHA-256 of the body sent and of the answer's body, for
        the record of the transmission."""
        sent = sha256(body).hexdigest()
        try:
            response = self._call(endpoint, "POST", path, content=body)
        except OpcoError as failure:
            failure.sent_sha256 = sent
            raise
        digests = {"sent_sha256": sent, "answer_sha256": sha256(response.content).hexdigest()}
        return self._answer(endpoint, path, response), digests

    def _answer(self, endpoint: OpcoEndpoint, path: str, response: httpx.Response) -> Any:
        body = _json(response)
        if body is _NOT_JSON:  # accepted all the same: raising would make the sender send it again
            log.warning(
                "%s POST %s accepted (%s) with a body that is not JSON", endpoint.opco, path, response.status_code
            )
            return None
        return body

    def _find(self, endpoint: OpcoEndpoint, path: str, params: Params) -> Any:
        """The decoded answer to a lookup, or `_NOT_FOUND` (404, or what else the OPCO answers: 400 at OPCO EP)."""
        not_found = endpoint.errors.not_found
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
        files: Mapping[str, FilePart] | None = None,
        tolerated: frozenset[int] | set[int] = frozenset(),
    ) -> httpx.Response:
        """One call to the API (two when a 401 makes the OAuth token refresh, or a server asks for a DPoP nonce);
        raises unless 2xx or tolerated."""
        if not is_header_safe(endpoint.api_key):
            KEY_REJECTIONS.labels(endpoint.opco).inc()
            raise KeyRejected(f"{endpoint.opco}: the CFA's API key is empty or not printable ASCII; it cannot be sent")
        body: dict[str, Any] = {"json": json} if content is None else {"content": content}
        if files is not None:
            body = {"files": files}  # multipart/form-data: httpx writes the boundary into Content-Type
        grant = self._bearer(endpoint)
        response = self._send(endpoint, grant, method, path, params=params, **body)
        if response.status_code == 401 and grant is not None:
            if endpoint.dpop_key is not None and dpop_nonce_asked(response):
                response = self._send(endpoint, grant, method, path, params=params, **body)
            if response.status_code == 401:
                self._tokens.invalidate(endpoint, grant.access_token, self._jkt(endpoint))
                grant = self._bearer(endpoint)
                response = self._send(endpoint, grant, method, path, params=params, **body)
        if response.is_success or response.status_code in tolerated:
            return response
        where, redact = _where(endpoint, method, path), _redactor(endpoint, grant)
        side_effects = method == "POST"
        error = response_error(response, where=where, side_effects=side_effects, redact=redact, shape=endpoint.errors)
        if isinstance(error, KeyRejected):
            KEY_REJECTIONS.labels(endpoint.opco).inc()
        raise error

    def _send(
        self, endpoint: OpcoEndpoint, grant: Grant | None, method: str, path: str, **request: Any
    ) -> httpx.Response:
        url = endpoint.base_url.rstrip("/") + path
        headers = httpx.Headers(self._api_headers)
        headers["X-API-KEY"] = endpoint.api_key
        if request.get("content") is not None:
            headers["Content-Type"] = "application/json"
        if grant is not None and grant.scheme == "DPoP" and endpoint.dpop_key is not None:
            headers["Authorization"] = f"DPoP {grant.access_token}"  # with its proof, `ath` binding it (RFC 9449 §7)
            proof = self._signer(endpoint).proof(
                method, url, access_token=grant.access_token, nonce=self._nonces.get(url)
            )
            headers["DPoP"] = proof
        elif grant is not None:
            headers["Authorization"] = f"Bearer {grant.access_token}"
        response = self._exchange(
            method,
            url,
            opco=endpoint.opco,
            where=_where(endpoint, method, path),
            target=f"{endpoint.opco} {method} {_loggable(path, request.get('params'))}",
            redact=_redactor(endpoint, grant),
            side_effects=method == "POST",
            headers=headers,
            **request,
        )
        self._nonces.remember(url, response)
        return response

    def _exchange(
        self,
        method: str,
        url: str,
        *,
        opco: str,
        where: str,
        target: str,
        redact: Redactor,
        side_effects: bool,
        kind: str = "api",
        **request: Any,
    ) -> httpx.Response:
        """The HTTP exchange itself, timed, logged and counted (`kind`: api or token); transport failures become the
        port's errors."""
        started = time.perf_counter()
        try:
            response = self._http.request(method, url, **request)
        except httpx.RequestError as exc:
            _log_call(target, type(exc).__name__, started)
            observe_call(opco, kind, failure_of(exc), time.perf_counter() - started)
            raise transport_error(exc, where=where, side_effects=side_effects, redact=redact) from None
        except httpx.InvalidURL:
            raise OpcoError(f"{where}: invalid URL; check the endpoint's base_url and token_url") from None
        _log_call(target, str(response.status_code), started)
        observe_call(opco, kind, outcome_of(response.status_code), time.perf_counter() - started)
        return response

    # --- OAuth ------------------------------------------------------------------------------------------------

    def _bearer(self, endpoint: OpcoEndpoint) -> Grant | None:
        return self._tokens.token(endpoint, self._jkt(endpoint)) if endpoint.client_id else None

    def _fetch_token(self, endpoint: OpcoEndpoint) -> Grant:
        try:
            return self._request_token(endpoint)
        except OpcoError as error:
            TOKEN_FAILURES.labels(endpoint.opco, "refused" if isinstance(error, KeyRejected) else "error").inc()
            raise

    def _request_token(self, endpoint: OpcoEndpoint) -> Grant:
        """POST the client credentials (form) to the token endpoint, with a DPoP proof where the endpoint has a DPoP
        key (once more with the nonce the server asks for); the CFA's key does not go there."""
        url, where, redact = endpoint.token_url or "", f"{endpoint.opco} token endpoint", _redactor(endpoint, None)
        target = f"{endpoint.opco} POST {urlsplit(url).path} (token)"
        for _ in range(2):
            headers = httpx.Headers()
            if endpoint.dpop_key is not None:
                headers["DPoP"] = self._signer(endpoint).proof("POST", url, nonce=self._nonces.get(url))
            response = self._exchange(
                "POST",
                url,
                opco=endpoint.opco,
                kind="token",
                where=where,
                target=target,
                redact=redact,
                side_effects=False,
                data=token_form(endpoint),
                headers=headers,
            )
            self._nonces.remember(url, response)
            if endpoint.dpop_key is None or dpop_nonce_asked(response) is None:
                break
        return grant_from(response, where=where, redact=redact)

    def _signer(self, endpoint: OpcoEndpoint) -> DpopSigner:
        """The signer of the endpoint's DPoP key (made once per key: reading a key costs more than signing)."""
        assert endpoint.dpop_key is not None
        signer = self._signers.get(endpoint.dpop_key)
        if signer is None:
            try:
                signer = self._signers.setdefault(endpoint.dpop_key, DpopSigner(endpoint.dpop_key))
            except ValueError:
                raise OpcoError(f"{endpoint.opco}: the DPoP key set for this OPCO cannot be read") from None
        return signer

    def _jkt(self, endpoint: OpcoEndpoint) -> str | None:
        return self._signer(endpoint).thumbprint if endpoint.dpop_key is not None else None

    @staticmethod
    def _document(endpoint: OpcoEndpoint, response: httpx.Response, path: str) -> Any:
        """The JSON body of a successful read (None when empty); a body that is not JSON is an error."""
        body = _json(response)
        if body is _NOT_JSON:
            text = _redactor(endpoint, None)(trim(response.text))
            raise OpcoError(f"{_where(endpoint, 'GET', path)}: answer {response.status_code} is not JSON: {text}")
        return body


def _json(response: httpx.Response) -> Any:
    """The decoded body, its non-integral numbers as exact Decimals (`16000.00` stays 16000.00, never a float); None
    when empty; `_NOT_JSON` when it cannot be decoded."""
    if not response.content.strip():
        return None
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError
        return _NOT_JSON


def _redactor(endpoint: OpcoEndpoint, grant: Grant | None) -> Redactor:
    return Redactor([endpoint.api_key, endpoint.client_secret, grant.access_token if grant else None])


def _where(endpoint: OpcoEndpoint, method: str, path: str) -> str:
    return f"{endpoint.opco} {method} {path}"


def _loggable(path: str, params: Params | None) -> str:
    """The path and its query, with the secret parameters (cfakeyinfo's XAPIKEY) masked."""
    if not params:
        return path
    return f"{path}?{urlencode({name: MASK if name in _SECRET_PARAMS else value for name, value in params.items()})}"


def _log_call(target: str, outcome: str, started: float) -> None:
    log.debug("%s -> %s in %.0f ms", target, outcome, (time.perf_counter() - started) * 1000)
