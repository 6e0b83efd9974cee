"""What the OpenAPI description says beyond the routes' own declarations, in one place: each operation's stable,
readable operationId, and the errors it can really answer, as application/problem+json (problem_details.py).

The errors are derived from what kind of operation it is, read from its own description: authenticated (a bearer
token), a change (not a GET), with a path id, with a body, with If-Match, with Idempotency-Key, with a list cursor.
So a route declares only its success; a new route is documented as its kind says."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from interfaces.api.problem_details import MEDIA_TYPE

Operation = dict[str, Any]

# Where the function's name alone would not say what the operation does (the others: the name in camelCase).
RENAMED = {
    "healthz": "checkLiveness",
    "readyz": "checkReadiness",
    "dashboard": "getDashboard",
    "attention": "listAttention",
    "contract_events": "listContractEvents",
    "contract_funding": "getContractFunding",
    "submit": "submitContract",
    "cancel": "cancelContract",
    "retry_transmission": "retryContractTransmission",
    "invoice_events": "listInvoiceEvents",
    "opco_accounts": "listOpcoAccounts",
    "set_credentials": "setOpcoCredentials",
    "set_oauth_client": "setOpcoOAuthClient",
    "set_dpop_key": "setOpcoDpopKey",
    "erase_personal_data": "eraseContractPersonalData",
}
# The path ids of the event-sourced dossiers and invoices, whose commands have states and races to lose.
RECORD_IDS = frozenset({"contract_id", "invoice_id"})
# The changes that refuse to go without If-Match (428), and when; elsewhere If-Match is optional (412 only when stale).
_WHOLE_CHANGE = "This change needs If-Match: the ETag of the version it changes."
IF_MATCH_REQUIRED = {
    "replaceCerfa": _WHOLE_CHANGE,
    "patchCerfa": _WHOLE_CHANGE,
    "recordMandate": "Replacing a recorded mandate with a different one needs If-Match (the same mandate again is a "
    "no-op and needs none).",
    "setOpcoDpopKey": "Replacing the DPoP key set with another needs If-Match (the same key again is a no-op and "
    "needs none).",
}

PROBLEM = "Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": PROBLEM,
    "description": "An error (RFC 9457). `type` names the kind (`urn:convergence:problem:<slug>`).",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "e.g. `urn:convergence:problem:validation`"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "each field that breaks a rule, or each problem that blocks the request",
            "items": {
                "type": "object",
                "required": ["field", "code", "message"],
                "properties": {
                    "field": {"type": "string", "description": "dotted path from the body root, or the parameter"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before sending again", "schema": {"type": "integer"}}}
_WWW_AUTHENTICATE = {"WWW-Authenticate": {"schema": {"type": "string", "examples": ['Bearer realm="convergence"']}}}
_HEADERS: dict[int, dict[str, Any]] = {401: _WWW_AUTHENTICATE, 429: _RETRY_AFTER, 503: _RETRY_AFTER}


def operation_id(route: APIRoute) -> str:
    """FastAPI's generate_unique_id_function: `create_contract` → `createContract`."""
    if route.name in RENAMED:
        return RENAMED[route.name]
    head, *rest = route.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def install_openapi_description(app: FastAPI) -> None:
    """The app's OpenAPI document, once built, gets the Problem schema and each operation's errors."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_documented_errors(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def with_documented_errors(document: dict[str, Any]) -> dict[str, Any]:
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            declared = {int(code): r["description"] for code, r in responses.items() if _declared(r, code)}
            for status, description in errors_of(method, operation).items():
                responses[str(status)] = _problem_response(description, _HEADERS.get(status))
            for status, description in declared.items():  # as the route says, in the documented form
                responses[str(status)] = _problem_response(description)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[PROBLEM] = PROBLEM_SCHEMA
    for replaced in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422, replaced by the Problem
        if f"#/components/schemas/{replaced}" not in set(_references(document)):
            schemas.pop(replaced, None)
    return document


def _declared(answer: dict[str, Any], code: str) -> bool:
    """An error response the route declares itself (not FastAPI's own 422, which the Problem replaces)."""
    fastapis = "#/components/schemas/HTTPValidationError" in set(_references(answer))
    return code.isdigit() and int(code) >= 400 and not fastapis


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def errors_of(method: str, operation: Operation) -> dict[int, str]:
    """The errors an operation of this kind can answer, with what each means here."""
    found = {status: describe(operation) for status, applies, describe in _RULES if applies(method, operation)}
    return dict(sorted(found.items()))


def _problem_response(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{PROBLEM}"}}},
    }
    if headers:
        answer["headers"] = headers
    return answer


# -- the kinds of operation -------------------------------------------------------------------------------------


def _parameters(operation: Operation, where: str) -> set[str]:
    return {p["name"].lower() for p in operation.get("parameters", []) if p.get("in") == where}


def _authenticated(method: str, operation: Operation) -> bool:
    return bool(operation.get("security"))


def _changes(method: str, operation: Operation) -> bool:
    return _authenticated(method, operation) and method != "get"


def _restricted(method: str, operation: Operation) -> bool:
    """A change (a read-only role may not), or an operator's operation (tagged `admin`), reads included."""
    return _changes(method, operation) or (_authenticated(method, operation) and "admin" in operation.get("tags", []))


def _has_path_id(method: str, operation: Operation) -> bool:
    return bool(_parameters(operation, "path"))


def _commands_a_record(method: str, operation: Operation) -> bool:
    """A command on a dossier or an invoice (refused in some states, or by a race lost three times), or the
    creation of one under the caller's number (a duplicate, or a rule held by the contracts it books)."""
    named = bool(_parameters(operation, "path") & RECORD_IDS) or "idempotency-key" in _parameters(operation, "header")
    return _changes(method, operation) and named


def _has_body(method: str, operation: Operation) -> bool:
    return "requestBody" in operation


def _takes_a_patch(method: str, operation: Operation) -> bool:
    return any(re.search(r"\+json$", media) for media in operation.get("requestBody", {}).get("content", {}))


def _takes_if_match(method: str, operation: Operation) -> bool:
    return "if-match" in _parameters(operation, "header")


def _requires_if_match(method: str, operation: Operation) -> bool:
    return operation.get("operationId") in IF_MATCH_REQUIRED


def _walks(method: str, operation: Operation) -> bool:
    return "cursor" in _parameters(operation, "query")


def _validates(method: str, operation: Operation) -> bool:
    return bool(operation.get("parameters")) or _has_body(method, operation)


def _says(text: str) -> Callable[[Operation], str]:
    return lambda operation: text


def _invalid(operation: Operation) -> str:
    text = (
        "A parameter or the body breaks a rule (`validation`): `errors` names each failing field (its dotted path "
        "from the body root), with a code and a message; nothing is stored."
    )
    if _has_body("", operation):
        text += (
            " A JSON body that is not strict JSON is `json_invalid`, one holding a NUL character `json_nul_character`,"
            " one nested too deep `json_too_deep`; a field the body does not define is `unknown_field` (refused, never"
            " ignored)."
        )
    if "idempotency-key" in _parameters(operation, "header"):
        text += " Also `idempotency-key-reused`: the key came with another body."
    return text


def _unavailable(operation: Operation) -> str:
    text = "The database does not answer right now (`store-unavailable`): send the request again after `Retry-After`"
    text += " (with the same Idempotency-Key or If-Match, a command is never applied twice)."
    if "minposition" in _parameters(operation, "query"):
        text += " Or the read model has not reached `minPosition` within 2 s (`read-model-behind`)."
    return text


_FORBIDDEN = (
    "The token's role may not do this (`forbidden`): an auditor only reads; some changes are for an admin of the "
    "CFA, or the operator; the tokens (`/admin`) are the operator's alone."
)
_CONFLICT = (
    "Refused in the resource's present state, a duplicate number, or a rule held by other resources: `errors` "
    "lists the blocking problems where there are."
)
_RATE_LIMITED = (
    "Too many requests (`rate-limited`): this token's rate, or this address's authentication failures, is spent;"
    " send again after `Retry-After` seconds."
)
_Rule = tuple[int, Callable[[str, Operation], bool], Callable[[Operation], str]]
_RULES: tuple[_Rule, ...] = (
    (401, _authenticated, _says("No valid bearer token: missing, unknown or revoked.")),
    (403, _restricted, _says(_FORBIDDEN)),
    (404, _has_path_id, _says("Unknown, or another CFA's (`not-found`).")),
    (409, _commands_a_record, _says(_CONFLICT)),
    (410, _walks, _says("The walk began before the read model's pruned horizon (`cursor-expired`): start again.")),
    (412, _takes_if_match, _says("If-Match does not name the current version (`stale-version`).")),
    (413, _has_body, _says("The body is larger than the API accepts.")),
    (415, _takes_a_patch, _says("The body is not sent as one of the media types listed.")),
    (422, _validates, _invalid),
    (428, _requires_if_match, lambda operation: IF_MATCH_REQUIRED[operation["operationId"]]),
    (429, _authenticated, _says(_RATE_LIMITED)),
    (503, _authenticated, _unavailable),
)
