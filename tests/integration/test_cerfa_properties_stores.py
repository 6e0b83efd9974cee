"""On SQLite and PostgreSQL, what the in-memory unit tests cannot see: what each database's text and JSON columns
can hold. A property (hypothesis): any Cerfa the API accepts is held by the status read model as written, its
problems counted, without a projection error; and no filter of a list can fail its query."""

from __future__ import annotations

import itertools
import json
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given, settings

from domain.cerfa import Cerfa
from domain.contracts.cerfa_document import InvalidCerfa, parse_cerfa
from domain.errors import DomainError
from interfaces.api.app import create_app
from interfaces.api.json_checks import json_refusal
from interfaces.bootstrap import bootstrap
from tests.integration.status_support import CFA_A, status_setup
from tests.support import OPERATOR_TOKEN, principal
from tests.support import settings as service_settings
from tests.unit.cerfa_strategies import cerfa_documents, texts, with_mutation


def accepted_by_the_api(document: dict[str, Any]) -> Cerfa | None:
    """The Cerfa as the API would store it, or None where it would refuse it (body checks, then formats)."""
    body = json.dumps(document).encode()
    if json_refusal(body, max_depth=32) is not None:
        return None
    try:
        return parse_cerfa(json.loads(body))
    except InvalidCerfa:
        return None


def test_any_accepted_cerfa_is_held_by_the_status_read_model(database_url: str) -> None:
    numbers = itertools.count(1)
    with status_setup(database_url) as setup:

        @settings(max_examples=40)
        @given(document=cerfa_documents(), employer=texts, title=texts)
        def held_as_written(document: dict[str, Any], employer: str, title: str) -> None:
            """The texts a row shows are drawn apart: they are what the columns must hold."""
            document = with_mutation(document, ("employeur", "denomination"), employer)
            cerfa = accepted_by_the_api(with_mutation(document, ("formation", "intituleQualification"), title))
            if cerfa is None:
                return
            try:
                saved = setup.app.create_contract(
                    principal(CFA_A), cerfa=cerfa, numero_interne=f"P-{next(numbers)}", opco=None
                )
            except DomainError:  # another CFA's organismeFormation: refused with 422 too
                return
            setup.catch_up()
            [row] = setup.view.current_rows([saved.contract.id])
            assert not setup.view.held(CFA_A)
            shown = (
                cerfa.employeur.denomination if cerfa.employeur else None,
                cerfa.formation.intituleQualification if cerfa.formation else None,
            )
            assert (row.employer_name, row.formation_title) == shown
            assert row.problem_count == len(setup.app.assessments.of(saved.contract).problems)

        held_as_written()


def test_a_list_filter_holding_a_nul_is_refused_on_every_store(database_url: str) -> None:
    """PostgreSQL cannot compare text with a NUL: such a filter answered 500 there."""
    services = bootstrap(service_settings(database_url))
    try:
        with TestClient(create_app(services), raise_server_exceptions=False) as client:
            operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
            for url in ("/contracts?formationRncp=RNCP%00", "/invoices?numeroInterneFacture=F%00"):
                assert client.get(url, headers=operator).status_code == 422, url
    finally:
        services.close()
