"""A strict fake OPCO of the SOR family (AKTO, ATLAS, Mobilités), laid out as their hosts are
(`<host>/SorApiEchangeCFA/v1|v2/dossiers…`, `<host>/SorApiIdentityServer/connect/token`), for the project's own
outbound requests: it takes only the wire real clients were seen sending and answers as real OPCOs were seen
answering (opco-wire.md §2.2, §4.1, §8), and keeps every request it received.

- POST /SorApiIdentityServer/connect/token: client credentials of the software's OAuth client (form or HTTP Basic),
  scope exactly `api.read api.write` (else 400 invalid_scope), as RFC 6749 answers it.
- Every API call: a Bearer it issued (else 401), the CFA's key in X-API-KEY (else 403), the EDITEUR, LOGICIEL and
  VERSION headers (else 400).
- POST /dossiers: `Content-Type: application/json`; every key of the body one a real client sends (`observed`),
  every value of a form seen there, dates with their time and offset; else 400 `{errors: [{code, description}]}`.
  Success is 200 `{numeroExterne, numeroInterne}`: the CFA's numeroInterne, or with `assigns_numbers` its own.
- The OPCO decides at once: every dossier it holds is ENGAGE, with its échéancier, whose dates come in the forms
  OPCOs answer with (YYYY-MM-DD, …T00:00:00, +0000).
- GET /dossiers/etats?numeroPage= pages its dossiers in the v2 envelope; GET /dossiers?numeroInterne= reads one
  (404 else); another query parameter is refused (400).
- POST /Factures (the SOR hosts' spelling): multipart/form-data with exactly the parts `facture` (JSON) and
  `fichier` (a PDF by its content, named after the invoice number, as CerFacil sends it); the `facture` part has
  exactly the keys CerFacil sends, each value of the form seen there (observed/cerfacil-facture.json), a
  natureLigne among those seen, lines adding up to montantTotal and naming dossiers it holds (numeroExterne); a
  second invoice of the same `numero` is refused. Success is 200 `{numeroInterneFacture, numeroInterneDocument}`,
  numbers of its own (opco-wire.md §5, §8).
- GET /v2/cfakeyinfo says whether the key is valid.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, unquote_plus
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.conformance.observed import mismatches, paths, structure

IDENTITY_HEADERS = ("EDITEUR", "LOGICIEL", "VERSION")
REQUIRED = (
    "cerfa.employeur.siret",
    "cerfa.apprenti.nom",
    "cerfa.apprenti.prenom",
    "cerfa.apprenti.dateNaissance",
    "cerfa.contrat.dateDebutContrat",
    "cerfa.contrat.dateFinContrat",
    "cerfa.formation.rncp",
    "cerfa.organismeFormation.siret",
)
ENGAGEMENT = "8000.00"
LOOKUP_PARAMETERS = {"numeroInterne", "numeroExterne", "numeroDeca"}
PARIS = ZoneInfo("Europe/Paris")
API = "/SorApiEchangeCFA"
TOKEN_PATH = "/SorApiIdentityServer/connect/token"
SOR_SCOPE = "api.read api.write"
NATURES_LIGNE = {"PEDAGOGIE", "PREMIEREQUIPEMENT", "RESTAURATION", "HEBERGEMENT", "MOBILITE", "MAJORATION_RQTH"}


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    query: str = ""
    body: Any = None
    status: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)


class StrictOpco:
    def __init__(
        self,
        api_key: str,
        client: tuple[str, str] = ("convergence", "sor-client-secret"),
        *,
        assigns_numbers: bool = False,
        page_size: int = 2,
    ) -> None:
        self.api_key = api_key
        self.client = client
        self.assigns_numbers = assigns_numbers
        self.page_size = page_size
        self.received: list[Received] = []
        self.dossiers: dict[str, dict[str, Any]] = {}  # numeroInterne → the cerfa received, with the OPCO's numbers
        self.invoices: dict[str, dict[str, Any]] = {}  # numero → the facture part, its file and the OPCO's numbers
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route(TOKEN_PATH, self.token, methods=["POST"]),
                Route(API + "/{version:str}/dossiers", self.post_dossier, methods=["POST"]),
                Route(API + "/{version:str}/dossiers", self.read_dossier, methods=["GET"]),
                Route(API + "/{version:str}/dossiers/etats", self.states, methods=["GET"]),
                Route(API + "/v1/Factures", self.post_invoice, methods=["POST"]),
                Route(API + "/v2/cfakeyinfo", self.key_info, methods=["GET"]),
                Route("/{anything:path}", self.unknown, methods=["GET", "POST", "PUT", "DELETE"]),
            ]
        )

    def posts(self) -> list[Received]:
        return [r for r in self.received if r.method == "POST" and r.path.endswith("/dossiers")]

    # --- routes ---------------------------------------------------------------------------------------------

    async def token(self, request: Request) -> JSONResponse:
        form = {name: values[-1] for name, values in parse_qs((await request.body()).decode()).items()}
        seen = Received(request.method, request.url.path, dict(request.headers), body=form)
        with self._lock:
            self.received.append(seen)
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if _client_of(request, form) != self.client:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if form.get("scope") != SOR_SCOPE:
            return JSONResponse({"error": "invalid_scope"}, status_code=400)
        with self._lock:
            token = f"token-{len(self._tokens) + 1}"
            self._tokens.add(token)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": SOR_SCOPE}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def post_dossier(self, request: Request) -> JSONResponse:
        raw = await request.body()
        seen = self._seen(request, raw)
        refusal = self._refusal(request, seen)
        if refusal is None and request.headers.get("content-type", "").split(";")[0] != "application/json":
            refusal = 415, [{"code": "TYPE_DE_CONTENU", "description": "application/json attendu"}]
        if refusal is None:
            refusal = _body_refusal(seen.body)
        if refusal is not None:
            return self._answer(seen, *refusal)
        cerfa = dict(seen.body["cerfa"])
        with self._lock:
            number = len(self.dossiers) + 1
            interne = f"NI-{number:05d}" if self.assigns_numbers else cerfa.get("numeroInterne")
            if not isinstance(interne, str) or interne in self.dossiers:
                return self._answer(seen, 400, [{"code": "DOSSIER_INVALIDE", "description": "numeroInterne"}])
            self.dossiers[interne] = {**cerfa, "numeroInterne": interne, "numeroExterne": f"CA-{number:07d}-1"}
        answer = {"numeroExterne": self.dossiers[interne]["numeroExterne"], "numeroInterne": interne}
        return self._answer(seen, 200, [], answer)

    async def post_invoice(self, request: Request) -> JSONResponse:
        seen = self._seen(request, b"")
        refusal = self._refusal(request, seen)
        if refusal is None and request.headers.get("content-type", "").split(";")[0] != "multipart/form-data":
            refusal = 415, [{"code": "TYPE_DE_CONTENU", "description": "multipart/form-data attendu"}]
        if refusal is not None:
            return self._answer(seen, *refusal)
        try:
            async with request.form() as form:
                parts = {name: await _part(value) for name, value in form.multi_items()}
        except MultiPartException as error:
            return self._answer(seen, 400, [{"code": "MULTIPART_INVALIDE", "description": error.message}])
        seen.body = {name: _shown(content, file_name) for name, (content, file_name) in parts.items()}
        facture, errors = _invoice_refusal(parts)
        with self._lock:
            known = {dossier["numeroExterne"] for dossier in self.dossiers.values()}
            errors += [
                {"code": "DOSSIER_INCONNU", "description": f"lignes[{index}].numeroDossier"}
                for index, line in enumerate(facture.get("lignes", []))
                if line.get("numeroDossier") not in known
            ]
            if not errors and facture["numero"] in self.invoices:
                errors = [{"code": "FACTURE_EXISTANTE", "description": facture["numero"]}]
            if errors:
                return self._answer(seen, 400, errors)
            number = len(self.invoices) + 1
            answer = {"numeroInterneFacture": f"F{number:08d}", "numeroInterneDocument": f"D{number:08d}"}
            self.invoices[facture["numero"]] = {"facture": facture, "fichier": seen.body["fichier"], **answer}
        return self._answer(seen, 200, [], answer)

    async def states(self, request: Request) -> JSONResponse:
        seen = self._seen(request, b"")
        refusal = self._refusal(request, seen) or _query_refusal(request, {"numeroPage"}, required=False)
        if refusal is not None:
            return self._answer(seen, *refusal)
        page = int(request.query_params.get("numeroPage", "1"))
        with self._lock:
            held = list(self.dossiers.values())
        items = [_state(d) for d in held[(page - 1) * self.page_size : page * self.page_size]]
        return self._answer(
            seen, 200, [], {"total": len(held), "count": len(items), "page": page, "EtatDossierResult": items}
        )

    async def read_dossier(self, request: Request) -> JSONResponse:
        seen = self._seen(request, b"")
        refusal = self._refusal(request, seen) or _query_refusal(request, LOOKUP_PARAMETERS, required=True)
        if refusal is not None:
            return self._answer(seen, *refusal)
        with self._lock:
            dossier = self.dossiers.get(request.query_params.get("numeroInterne", ""))
        if dossier is None:
            return self._answer(seen, 404, [{"code": "DOSSIER_INCONNU", "description": "Dossier inconnu"}])
        return self._answer(seen, 200, [], _engaged(dossier))

    async def key_info(self, request: Request) -> JSONResponse:
        seen = self._seen(request, b"")
        valid = request.query_params.get("XAPIKEY") == self.api_key
        body = {"status": "success" if valid else "error", "dateFinValidite": "2027-12-31", "comment": None}
        return self._answer(seen, 200, [], body)

    async def unknown(self, request: Request) -> JSONResponse:
        seen = self._seen(request, await request.body())
        return self._answer(seen, 404, [{"code": "RESSOURCE_INCONNUE", "description": f"{request.url.path} inconnu"}])

    # --- checks ---------------------------------------------------------------------------------------------

    def _seen(self, request: Request, raw: bytes) -> Received:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        seen = Received(request.method, request.url.path, dict(request.headers), request.url.query, body)
        with self._lock:
            self.received.append(seen)
        return seen

    def _refusal(self, request: Request, seen: Received) -> tuple[int, list[dict[str, str]]] | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or token not in self._tokens:
            return 401, [{"code": "JETON_INVALIDE", "description": "Jeton absent ou invalide"}]
        if request.headers.get("X-API-KEY") != self.api_key:
            return 403, [{"code": "CLE_API_INVALIDE", "description": "Clé API CFA invalide"}]
        missing = [name for name in IDENTITY_HEADERS if not request.headers.get(name)]
        if missing:
            return 400, [{"code": "ENTETE_MANQUANTE", "description": f"En-tête {name} manquant"} for name in missing]
        return None

    @staticmethod
    def _answer(seen: Received, status: int, errors: list[dict[str, str]], body: Any = None) -> JSONResponse:
        seen.status, seen.errors = status, errors
        return JSONResponse(body if not errors else {"errors": errors}, status_code=status)


def _client_of(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """The client's credentials, in the form (client_secret_post) or HTTP Basic (client_secret_basic)."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme == "Basic":
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        return unquote_plus(user), unquote_plus(password)
    return str(form.get("client_id", "")), str(form.get("client_secret", ""))


def _query_refusal(request: Request, allowed: set[str], *, required: bool) -> tuple[int, list[dict[str, str]]] | None:
    """Only the query parameters real clients send (api-convergence.md §1); a lookup names exactly one."""
    names = list(request.query_params)
    unknown = [name for name in names if name not in allowed]
    if unknown or (required and len(names) != 1):
        problem = f"paramètres attendus : un parmi {', '.join(sorted(allowed))} ; reçus : {', '.join(names) or 'aucun'}"
        return 400, [{"code": "PARAMETRE_INVALIDE", "description": problem}]
    return None


def _body_refusal(body: Any) -> tuple[int, list[dict[str, str]]] | None:
    if not isinstance(body, dict) or not isinstance(body.get("cerfa"), dict):
        return 400, [{"code": "CERFA_MANQUANT", "description": "Le bloc cerfa est obligatoire"}]
    errors = [{"code": "FORMAT_INVALIDE", "description": problem} for problem in mismatches(body, "cerfacil", "wedof")]
    errors += [
        {"code": "CHAMP_OBLIGATOIRE", "description": f"{path} est obligatoire"}
        for path in REQUIRED
        if _at(body, path) in (None, "")
    ]
    return (400, errors) if errors else None


async def _part(value: UploadFile | str) -> tuple[bytes, str | None]:
    if isinstance(value, UploadFile):
        return await value.read(), value.filename
    return value.encode("utf-8"), None


def _shown(content: bytes, file_name: str | None) -> Any:
    """A part as the fake keeps it: a file by its name, size and digest; a field as its text."""
    if file_name is None:
        return content.decode("utf-8", "replace")
    return {"name": file_name, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def _invoice_refusal(parts: dict[str, tuple[bytes, str | None]]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The `facture` part, and what is wrong with the two parts by what CerFacil sends (opco-wire.md §5)."""
    if set(parts) != {"facture", "fichier"}:
        return {}, [{"code": "PARTIES_INVALIDES", "description": f"facture et fichier attendus : {sorted(parts)}"}]
    try:
        facture = json.loads(parts["facture"][0], parse_float=Decimal)
    except ValueError:
        facture = None
    if not isinstance(facture, dict):
        return {}, [{"code": "FACTURE_INVALIDE", "description": "la partie facture n'est pas un objet JSON"}]
    errors = [{"code": "FORMAT_INVALIDE", "description": problem} for problem in _facture_problems(facture)]
    content, file_name = parts["fichier"]
    if not content.startswith(b"%PDF-"):
        errors.append({"code": "FICHIER_INVALIDE", "description": "fichier n'est pas un PDF"})
    if file_name != f"{facture.get('numero')}.pdf":
        errors.append({"code": "FICHIER_INVALIDE", "description": f"fichier nommé {file_name}"})
    return facture, errors


def _facture_problems(facture: dict[str, Any]) -> list[str]:
    expected, sent = paths(structure("cerfacil-facture")), paths(facture)
    problems = [f"{path}: absent" for path in sorted(expected - sent)]
    problems += mismatches(facture, "cerfacil-facture", added=frozenset())
    listed = facture.get("lignes")
    lines: list[dict[str, Any]] = (
        [line for line in listed if isinstance(line, dict)] if isinstance(listed, list) else []
    )
    problems += [f"lignes[{i}].natureLigne: {line.get('natureLigne')!r}" for i, line in enumerate(lines)
                 if line.get("natureLigne") not in NATURES_LIGNE]  # fmt: skip
    amounts: list[Any] = [line.get("montant") for line in lines]
    exact = all(isinstance(amount, Decimal | int) and not isinstance(amount, bool) for amount in amounts)
    if exact and sum(amounts, Decimal(0)) != facture.get("montantTotal"):
        problems.append(f"montantTotal: {facture.get('montantTotal')} n'est pas la somme des lignes")
    return problems


def _at(document: Any, path: str) -> Any:
    for name in path.split("."):
        document = document.get(name) if isinstance(document, dict) else None
    return document


def _state(dossier: dict[str, Any]) -> dict[str, Any]:
    return {
        "numeroInterne": dossier["numeroInterne"],
        "numeroExterne": dossier["numeroExterne"],
        "numeroDeca": None,
        "etat": "ENGAGE",
    }


def _engaged(dossier: dict[str, Any]) -> dict[str, Any]:
    """The dossier as GET /dossiers answers it once the OPCO committed: its échéancier from the contract's start."""
    start = date.fromisoformat(dossier["contrat"]["dateDebutContrat"][:10])  # the day, in the offset it was sent in
    second = date(start.year + (start.month + 6 > 12), (start.month + 5) % 12 + 1, 1)
    return {
        "cerfa": {**dossier, "numeroDeca": f"069{start.year}{start.month:02d}NC0001", "etat": "ENGAGE"},
        "engagement": ENGAGEMENT,
        "echeances": [
            {
                "numero": 1,
                "codification": "E1",
                "montantTotal": "4000.00",
                "montantRegle": 0,
                "montantEnCoursInstruction": 0,
                "dateOuverture": f"{start.isoformat()}T00:00:00+0000",
                "dateDebut": start.isoformat(),
                "dateFin": f"{second.isoformat()}T00:00:00",
            },
            {
                "numero": 2,
                "codification": "E2",
                "montantTotal": "4000.00",
                "montantRegle": 0,
                "montantEnCoursInstruction": 0,
                "dateOuverture": f"{second.isoformat()}T00:00:00Z",
                "dateDebut": datetime.combine(second, time(0), PARIS).isoformat(),
                "dateFin": None,
            },
        ],
        "detailsFacturation": {"iban": None, "plafondFraisPremierEquipement": 500},
        "engagementsFraisAnnexe": [],
    }
