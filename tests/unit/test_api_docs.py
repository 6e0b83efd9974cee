"""The API's documentation: the /docs and /redoc pages load only the service's own assets (they work without
internet access), and the OpenAPI description names each operation stably and documents the errors it answers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import OPERATOR_TOKEN

OPERATION_IDS = {  # a rename is a change of the API: make it here on purpose
    "GET /healthz": "checkLiveness",
    "GET /readyz": "checkReadiness",
    "GET /contracts": "listContracts",
    "POST /contracts": "createContract",
    "POST /contracts/{contract_id}/erasure": "eraseContractPersonalData",
    "GET /dashboard": "getDashboard",
    "GET /attention": "listAttention",
    "GET /contracts/{contract_id}": "getContract",
    "GET /contracts/{contract_id}/events": "listContractEvents",
    "GET /contracts/{contract_id}/history": "getContractHistory",
    "GET /contracts/{contract_id}/timeline": "getContractTimeline",
    "GET /contracts/{contract_id}/audit": "getContractAuditFile",
    "PUT /contracts/{contract_id}/cerfa": "replaceCerfa",
    "PATCH /contracts/{contract_id}/cerfa": "patchCerfa",
    "PUT /contracts/{contract_id}/opco": "chooseOpco",
    "GET /contracts/{contract_id}/funding": "getContractFunding",
    "PUT /contracts/{contract_id}/npec": "forecastNpec",
    "POST /contracts/{contract_id}/mandate": "recordMandate",
    "POST /contracts/{contract_id}/submission": "submitContract",
    "POST /contracts/{contract_id}/transmission/retry": "retryContractTransmission",
    "POST /contracts/{contract_id}/cancellation": "cancelContract",
    "POST /contracts/{contract_id}/rupture": "declareRupture",
    "GET /contracts/{contract_id}/rupture": "getRupture",
    "POST /contracts/{contract_id}/rupture/withdrawal": "withdrawRupture",
    "POST /contracts/{contract_id}/rupture/declaration": "markRuptureDeclared",
    "POST /contracts/{contract_id}/rupture/transmission/retry": "retryRuptureTransmission",
    "POST /contracts/{contract_id}/rupture/traineeship": "recordTraineeship",
    "GET /ruptures": "listRuptures",
    "POST /contracts/{contract_id}/amendments": "requestAmendment",
    "GET /contracts/{contract_id}/amendments": "listContractAmendments",
    "GET /contracts/{contract_id}/amendments/{number}": "getAmendment",
    "POST /contracts/{contract_id}/amendments/{number}/mandate": "recordAmendmentMandate",
    "POST /contracts/{contract_id}/amendments/{number}/submission": "submitAmendment",
    "POST /contracts/{contract_id}/amendments/{number}/withdrawal": "withdrawAmendment",
    "POST /contracts/{contract_id}/amendments/{number}/review": "reviewAmendment",
    "POST /contracts/{contract_id}/amendments/{number}/transmission/retry": "retryAmendmentTransmission",
    "GET /amendments": "listAmendments",
    "GET /invoices": "listInvoices",
    "POST /invoices": "createInvoice",
    "GET /invoices/{invoice_id}": "getInvoice",
    "GET /invoices/{invoice_id}/events": "listInvoiceEvents",
    "GET /invoices/{invoice_id}/history": "getInvoiceHistory",
    "PUT /invoices/{invoice_id}/document": "attachInvoiceDocument",
    "GET /invoices/{invoice_id}/document": "getInvoiceDocument",
    "POST /invoices/{invoice_id}/submission": "submitInvoice",
    "POST /invoices/{invoice_id}/cancellation": "cancelInvoice",
    "POST /invoices/{invoice_id}/transmission/retry": "retryInvoiceTransmission",
    "POST /invoices/{invoice_id}/payments": "recordPayment",
    "GET /cfas/{siret}/opcos": "listOpcoAccounts",
    "PUT /cfas/{siret}/opcos/{opco}/credentials": "setOpcoCredentials",
    "PUT /cfas/{siret}/opcos/{opco}/oauth-client": "setOpcoOAuthClient",
    "POST /cfas/{siret}/opcos/{opco}/dpop-key": "setOpcoDpopKey",
    "POST /cfas/{siret}/opcos/{opco}/imports": "startImport",
    "GET /cfas/{siret}/opcos/{opco}/imports/{run}": "importStatus",
    "GET /cfas/{siret}/profile": "getBillingProfile",
    "PUT /cfas/{siret}/profile": "setBillingProfile",
    "POST /admin/tokens": "issueToken",
    "POST /admin/tokens/{token_id}/revocation": "revokeToken",
    "GET /admin/tokens": "listTokens",
    "POST /admin/tokens/{token_id}/renewal": "renewToken",
    "POST /contracts/{contract_id}/documents": "uploadDocument",
    "POST /contracts/{contract_id}/documents/certificat": "makeCertificat",
    "GET /contracts/{contract_id}/documents": "listDocuments",
    "GET /contracts/{contract_id}/documents/{document_id}": "getDocument",
    "POST /contracts/{contract_id}/documents/{document_id}/submission": "submitDocument",
    "POST /contracts/{contract_id}/documents/{document_id}/transmission/retry": "retryDocument",
    "POST /contracts/{contract_id}/documents/{document_id}/receipt": "confirmDocumentReceived",
}
ASSET_TYPES = {".js": ("text/javascript", "application/javascript"), ".css": ("text/css",), ".png": ("image/png",)}
PATH_VALUES = {
    "contract_id": "0b6f3c8e-4d2a-4c41-9a7e-5a4f0b1d2c3e",
    "invoice_id": "0b6f3c8e-4d2a-4c41-9a7e-5a4f0b1d2c3f",
    "token_id": "0b6f3c8e-4d2a-4c41-9a7e-5a4f0b1d2c40",
    "document_id": "0b6f3c8e-4d2a-4c41-9a7e-5a4f0b1d2c41",
    "siret": "79852413800012",
    "opco": "ATLAS",
    "run": "1",
    "number": "1",
}


@pytest.fixture
def openapi(client: TestClient) -> dict[str, Any]:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_a_docs_page_loads_only_the_services_own_assets(client: TestClient, page: str) -> None:
    answer = client.get(page)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert re.findall(r"(?:https?:)?//[\w.-]+", html) == []  # no CDN, no fonts, no validator: nothing outside
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 2  # the script and the icon (and Swagger UI's style sheet)
    for url in assets:
        assert url.startswith("/docs/static/"), url
        fetched = client.get(url)
        assert fetched.status_code == 200, url
        suffix = url[url.rindex(".") :]
        assert fetched.headers["content-type"].split(";")[0] in ASSET_TYPES[suffix], url
    assert "/openapi.json" in html


def test_swagger_ui_reads_openapi_3_1(client: TestClient, openapi: dict[str, Any]) -> None:
    """Swagger UI 4 shows "Unable to render this definition" for the 3.1 document FastAPI writes: 5 reads it."""
    assert openapi["openapi"].startswith("3.1")
    bundle = client.get("/docs/static/swagger-ui-bundle.js").text
    version = re.search(r'PACKAGE_VERSION:"(\d+)\.', bundle)
    assert version is not None
    assert int(version.group(1)) >= 5


def test_every_operation_has_a_stable_readable_id(openapi: dict[str, Any]) -> None:
    ids = {f"{method.upper()} {path}": op.get("operationId") for method, path, op in operations(openapi)}
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", str(i)) for i in ids.values()), ids
    assert len(set(ids.values())) == len(ids)
    assert ids == OPERATION_IDS


def test_every_documented_error_is_a_problem(openapi: dict[str, Any]) -> None:
    problem = openapi["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert set(problem["properties"]["errors"]["items"]["properties"]) == {"field", "code", "message"}
    assert "HTTPValidationError" not in openapi["components"]["schemas"]  # FastAPI's own 422 shape is never sent
    for method, path, op in operations(openapi):
        for status, answer in op["responses"].items():
            if int(status) >= 400:
                assert answer["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, (method, path, status)
                assert answer["description"], (method, path, status)


def errors(openapi: dict[str, Any], method: str, path: str) -> set[int]:
    return {int(s) for s in openapi["paths"][path][method]["responses"] if int(s) >= 400}


def test_each_kind_of_operation_documents_its_errors(openapi: dict[str, Any]) -> None:
    assert errors(openapi, "get", "/healthz") == set()
    assert errors(openapi, "get", "/readyz") == {503}
    assert errors(openapi, "get", "/contracts") == {401, 410, 422, 429, 503}
    assert errors(openapi, "post", "/contracts") == {401, 403, 409, 413, 422, 429, 503}
    assert errors(openapi, "get", "/contracts/{contract_id}") == {401, 404, 422, 429, 503}
    assert errors(openapi, "put", "/contracts/{contract_id}/cerfa") == {
        401,
        403,
        404,
        409,
        412,
        413,
        422,
        428,
        429,
        503,
    }
    assert errors(openapi, "patch", "/contracts/{contract_id}/cerfa") == {
        *errors(openapi, "put", "/contracts/{contract_id}/cerfa"),
        415,
    }
    assert errors(openapi, "post", "/contracts/{contract_id}/submission") == {401, 403, 404, 409, 412, 422, 429, 503}
    assert errors(openapi, "post", "/invoices/{invoice_id}/payments") == {401, 403, 404, 409, 412, 413, 422, 429, 503}
    assert errors(openapi, "post", "/admin/tokens") == {401, 403, 409, 413, 422, 429, 503}  # 409 token-already-issued
    assert 428 in errors(openapi, "post", "/contracts/{contract_id}/mandate")  # replacing the mandate
    unavailable = openapi["paths"]["/contracts"]["get"]["responses"]["503"]
    assert "Retry-After" in unavailable["headers"]
    assert "read-model-behind" in unavailable["description"]  # the list's minPosition wait


def test_what_the_api_answers_is_what_it_documents(
    client: TestClient, openapi: dict[str, Any], complete_cerfa: dict[str, Any]
) -> None:
    """Every authenticated operation refuses a request without a token with a documented 401 problem; a change of
    the Cerfa without If-Match a documented 428, with a stale one a documented 412; an unknown id a documented 404."""
    for method, path, op in operations(openapi):
        if not op.get("security"):
            continue
        answer = client.request(method, path.format(**PATH_VALUES), json={})
        assert answer.status_code == 401, (method, path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert 401 in errors(openapi, method, path)
    auth = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    created = client.post("/contracts", json={"cerfa": complete_cerfa}, headers=auth)
    assert created.status_code == 201, created.text
    cerfa = f"/contracts/{created.json()['id']}/cerfa"
    assert client.put(cerfa, json=complete_cerfa, headers=auth).status_code == 428
    assert client.put(cerfa, json=complete_cerfa, headers={**auth, "If-Match": '"7"'}).status_code == 412
    assert {428, 412} <= errors(openapi, "put", "/contracts/{contract_id}/cerfa")
    unknown = client.get(f"/contracts/{PATH_VALUES['contract_id']}", headers=auth)
    assert (unknown.status_code, unknown.headers["content-type"]) == (404, "application/problem+json")
    assert 404 in errors(openapi, "get", "/contracts/{contract_id}")
