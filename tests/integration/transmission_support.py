"""A container wired to a sandbox over loopback, and helpers to drive its worker round by round."""

from __future__ import annotations

from concurrent.futures import wait
from datetime import date
from typing import Any

from application.access.access import Principal, Role
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import Contract
from domain.opco.opcos import Opco
from interfaces.bootstrap import Container, bootstrap
from tests.integration.sandbox_server import ADMIN_TOKEN
from tests.support import settings

MANDATE_SIGNATORY = {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}


def wired(database_url: str, sandbox: str, **overrides: Any) -> Container:
    """Every OPCO at the sandbox; keys given automatically unless `sandbox_url` is overridden to None."""
    values: dict[str, Any] = {
        "sandbox_url": sandbox,
        "sandbox_admin_token": ADMIN_TOKEN,  # the Bearer of its /_sandbox/*
        "backoff_base_seconds": 0.01,
        "backoff_cap_seconds": 0.05,
        "opco_timeout_seconds": 2.0,
        "in_flight_timeout_seconds": 5.0,
        **overrides,
    }
    return bootstrap(settings(database_url, **values))


def submitted(container: Container, cerfa: dict[str, Any], numero: str, opco: Opco | None = None) -> Contract:
    who = Principal(actor="token:test", role=Role.FRONTEND, cfa_siret=cerfa["organismeFormation"]["siret"])
    app = container.dossiers
    ident = app.create_contract(who, cerfa=parse_cerfa(cerfa), numero_interne=numero, opco=opco).contract.id
    app.record_mandate(who, ident, signed_on=date(2026, 6, 15), signatory=MANDATE_SIGNATORY, document_sha256=None)
    return app.submit(who, ident).contract


def round_trip(container: Container) -> int:
    """One worker round: project, send what is due and wait for the sends, project their outcomes."""
    worker = container.worker
    worker.project_once()
    futures = worker.send_once()
    wait(futures, timeout=60)
    worker.project_once()
    return len(futures)


def reload(container: Container, contract: Contract) -> Contract:
    return container.dossiers.contract_as_worker(contract.id)
