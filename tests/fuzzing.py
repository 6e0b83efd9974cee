"""Fuzzing the whole API from its own OpenAPI description (schemathesis 4), in process, on a real store.

Two CFAs, A and B, each with dossiers, an invoice, a rupture, a document and a billing profile. Every operation is
called with generated requests (valid and invalid ones): with A's admin token, with no token and with a forged one,
and with A's own ids and SIRET in its path (so that the handlers go past the lookup); then with B's ids and SIRET
in its path, under A's token. Every answer is checked:

- no 5xx (but the documented 503 `read-model-behind` of a list asked to wait for a position it has not reached);
- every error is a problem+json (`type`, `title`, `status` equal to the answer's, `detail`), with a status the
  OpenAPI documents for that operation;
- no answer to A holds B's data (its numbers, its apprentice, its NIR, its IBAN), and an id of B's is never a
  success: 404 (or a refusal that says nothing of it).

Used by tests/integration/test_fuzz_api.py (a bounded run) and benchmarks/fuzz.py (as long as asked).
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.python import asgi

from domain.opco.opcos import Opco
from interfaces.api.app import create_app
from interfaces.api.read_models import listing
from interfaces.bootstrap import Container, bootstrap
from tests.invoicing import PROFILE, accepted_contract
from tests.support import OPERATOR_TOKEN, principal, settings

CFA_A = "79852413800012"  # the CFA of docs/examples/cerfa-complete.json
CFA_B = "13002526500013"
PDF = b"%PDF-1.4\n% convention de formation signee B\n%%EOF\n"
FORGED = {"Authorization": "Bearer cvg_forged-token-that-was-never-issued"}
DOCUMENTED_5XX = "urn:convergence:problem:read-model-behind"

schemathesis.openapi.media_type("application/pdf", st.binary() | st.binary().map(lambda tail: b"%PDF-1.7\n" + tail))


@dataclass
class Tenant:
    siret: str
    auth: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)  # path parameter → one of its resources
    markers: list[str] = field(default_factory=list)  # what of its data must never reach another CFA


@dataclass
class Finding:
    operation: str
    request: str
    problem: str

    def __str__(self) -> str:
        return f"{self.operation}: {self.problem}\n    {self.request}"


@dataclass
class Fuzzing:
    client: asgi.ASGIClient
    schema: Any
    a: Tenant
    b: Tenant
    findings: list[Finding] = field(default_factory=list)
    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)  # of the answers to A's token

    def operations(self) -> Iterator[Any]:
        for result in self.schema.get_all_operations():
            yield result.ok()

    def run(self, examples: int, cross_examples: int, only: Callable[[str], bool] = lambda _: True) -> list[Finding]:
        for operation in self.operations():
            if only(operation.label):
                self._fuzz(operation, examples)
                if operation.path_parameters and cross_examples:
                    self._cross(operation, cross_examples)
        return self.findings

    def _fuzz(self, operation: Any, examples: int) -> None:
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)
        names = {parameter.name for parameter in operation.path_parameters}

        @given(case=strategy)
        @hypothesis_settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
        def fuzz(case: Any) -> None:
            for headers in (self.a.auth, {}, FORGED):
                self._check(operation, case, headers)
            if names & set(self.a.ids):  # the same request on A's own resources, where its handler goes deeper
                case.path_parameters = {
                    **(case.path_parameters or {}),
                    **{n: self.a.ids[n] for n in names & set(self.a.ids)},
                }
                self._check(operation, case, self.a.auth)

        fuzz()

    def _cross(self, operation: Any, examples: int) -> None:
        """B's ids in the path, A's token: never a success, never B's data."""
        names = {parameter.name for parameter in operation.path_parameters}
        if not names & set(self.b.ids):
            return

        @given(case=operation.as_strategy(GenerationMode.POSITIVE))
        @hypothesis_settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
        def cross(case: Any) -> None:
            case.path_parameters = {
                **(case.path_parameters or {}),
                **{n: self.b.ids[n] for n in names & set(self.b.ids)},
            }
            response = self._check(operation, case, self.a.auth)
            if response is not None and response.status_code < 400:
                self._found(operation, case, f"{response.status_code} to another CFA's id: {_text(response)[:300]}")

        cross()

    def _check(self, operation: Any, case: Any, headers: dict[str, str]) -> Any:
        self.calls += 1
        response = case.call(session=self.client, headers=headers)
        status, text = response.status_code, _text(response)
        if headers is self.a.auth:
            self.statuses[status] += 1
        if status >= 500 and not (status == 503 and DOCUMENTED_5XX in text):
            self._found(operation, case, f"{status}: {text[:500]}")
        if status >= 400:
            self._check_problem(operation, case, response)
        leaked = [marker for marker in self.b.markers if marker in text]
        if leaked and headers is not self.b.auth:
            self._found(operation, case, f"{status} holds B's data {leaked}")
        return response

    def _check_problem(self, operation: Any, case: Any, response: Any) -> None:
        status = response.status_code
        documented = set(operation.definition.raw.get("responses", {}))
        if str(status) not in documented and "default" not in documented:
            self._found(operation, case, f"{status} is not documented ({sorted(documented)}): {_text(response)[:300]}")
        [content_type] = response.headers.get("content-type", [""])
        if not content_type.startswith("application/problem+json"):
            self._found(operation, case, f"{status} as {content_type!r}, not problem+json: {_text(response)[:300]}")
            return
        try:
            body = response.json()
        except ValueError:
            self._found(operation, case, f"{status}: a problem that is not JSON")
            return
        well_formed = isinstance(body, dict) and body.get("status") == status
        well_formed = well_formed and all(isinstance(body.get(key), str) for key in ("type", "title", "detail"))
        if not well_formed:
            self._found(operation, case, f"{status}: an ill-formed problem {body!r:.300}")

    def _found(self, operation: Any, case: Any, problem: str) -> None:
        request = f"{case.method} {case.formatted_path} query={case.query} body={str(case.body)[:300]}"
        finding = Finding(operation.label, request, problem)
        if all((f.operation, f.problem[:60]) != (operation.label, problem[:60]) for f in self.findings):
            self.findings.append(finding)


def _text(response: Any) -> str:
    return str(response.content.decode("utf-8", "replace"))  # a PDF, too


def _token(client: asgi.ASGIClient, siret: str, role: str = "admin") -> dict[str, str]:
    body = {"cfaSiret": siret, "role": role, "name": f"fuzz {role}"}
    issued = client.post("/admin/tokens", json=body, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    assert issued.status_code == 201, issued.text
    return {"Authorization": f"Bearer {issued.json()['token']}"}


def _tenant(client: asgi.ASGIClient, services: Container, cerfa: dict[str, Any], numero: str) -> Tenant:
    """A CFA with an accepted dossier (invoiced, a rupture declared, a document kept) and a billing profile."""
    siret = cerfa["organismeFormation"]["siret"]
    tenant = Tenant(siret, _token(client, siret))
    contract = accepted_contract(services.dossiers, principal(siret), cerfa, numero, with_billing_profile=False)
    legal_name = f"CFA {numero}"
    profile = client.put(f"/cfas/{siret}/profile", json={**PROFILE, "legalName": legal_name}, headers=tenant.auth)
    assert profile.status_code == 200, profile.text
    line = {"contractId": str(contract.id), "numeroEcheance": 1, "kind": "pedagogie", "amount": "100.00"}
    invoice_body: dict[str, Any] = {"numeroInterneFacture": f"FAC-{numero}", "date": "2026-11-27", "lines": [line]}
    invoice = client.post("/invoices", json=invoice_body, headers=tenant.auth)
    assert invoice.status_code == 201, invoice.text
    files = {"document": ("convention.pdf", PDF + numero.encode(), "application/pdf")}
    form = {"type": "CONVENTION_FORMATION"}
    document = client.post(f"/contracts/{contract.id}/documents", data=form, files=files, headers=tenant.auth)
    assert document.status_code == 201, document.text
    rupture = {"dateEffetRupture": "2026-12-15", "motif": "commun_accord", "initiative": "commun"}
    declared = client.post(f"/contracts/{contract.id}/rupture", json=rupture, headers=tenant.auth)
    assert declared.status_code == 202, declared.text
    tenant.ids = {
        "contract_id": str(contract.id),
        "invoice_id": invoice.json()["id"],
        "document_id": document.json()["id"],
        "siret": siret,
    }
    apprentice = cerfa["apprenti"]
    # its data, never its ids: a 404 may name the id it was asked for
    tenant.markers = [numero, f"FAC-{numero}", legal_name, apprentice["nom"], apprentice["prenom"], apprentice["nir"]]
    return tenant


def _of_cfa_b(cerfa: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(cerfa)
    document["organismeFormation"]["siret"] = CFA_B
    document["apprenti"].update({"nom": "Zwiebelkuchen", "prenom": "Brunehilde", "nir": "207036926612417"})
    return document


@contextmanager
def fuzzing(database_url: str, cerfa: dict[str, Any]) -> Iterator[Fuzzing]:
    """The app on `database_url` (rate limits off: they are tested on their own), two CFAs in it; every OPCO at a
    local port that refuses connections (an import the fuzzing starts goes nowhere)."""
    listing.READ_YOUR_WRITES_SECONDS = 0.01  # the wait is not what is fuzzed
    nowhere = {f"opco_{opco.value.lower()}_url": "http://127.0.0.1:9" for opco in Opco}  # refused at once, offline
    services = bootstrap(settings(database_url, **nowhere))
    app = create_app(services)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    try:
        # schemathesis' own in-process client for every request, the seeding's too: one event loop, one lifespan
        with asgi.get_client(app) as client:  # type: ignore[arg-type]  # FastAPI's ASGI types are Starlette's
            a = _tenant(client, services, cerfa, "FUZZ-A-1")
            b = _tenant(client, services, _of_cfa_b(cerfa), "FUZZ-B-1")
            yield Fuzzing(client, schema, a, b)
    finally:
        asgi.shutdown_lifespans()
        services.close()


def matching(pattern: str | None) -> Callable[[str], bool]:
    return (lambda _: True) if not pattern else (lambda label: re.search(pattern, label) is not None)
