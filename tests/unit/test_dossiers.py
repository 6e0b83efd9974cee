"""The Dossiers application on the in-memory store: tenancy, roles, idempotency, versions, tokens."""

from __future__ import annotations

from typing import Any

import pytest

from application.access.access import OPERATOR, Role
from application.dossiers import Dossiers
from application.errors import (
    DuplicateNumeroInterne,
    Forbidden,
    IdempotencyKeyReused,
    NotFound,
    VersionMismatch,
)
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract_state import ContractState
from domain.errors import InvalidValue
from tests.support import dossiers, principal, with_changes

OTHER_CFA = "73282932000074"


@pytest.fixture
def app() -> Dossiers:
    return dossiers()


def cfa_of(document: dict[str, Any]) -> str:
    siret: str = document["organismeFormation"]["siret"]
    return siret


def create(app: Dossiers, document: dict[str, Any], numero: str | None = "N-1", **kwargs: Any) -> Any:
    who = principal(cfa_of(document))
    return app.create_contract(who, cerfa=parse_cerfa(document), numero_interne=numero, opco=None, **kwargs)


def test_create_read_and_position(app: Dossiers, complete_cerfa: dict[str, Any]) -> None:
    saved = create(app, complete_cerfa)
    assert saved.position is not None
    assert saved.position >= 1
    read = app.contract(principal(cfa_of(complete_cerfa)), saved.contract.id)
    assert read.numero_interne == "N-1"
    assert read.state is ContractState.DRAFTED


def test_a_generated_numero_interne_is_unique(app: Dossiers, complete_cerfa: dict[str, Any]) -> None:
    first = create(app, complete_cerfa, numero=None).contract.numero_interne
    second = create(app, complete_cerfa, numero=None).contract.numero_interne
    assert first.startswith("CVG-")
    assert first != second


def test_a_second_dossier_with_the_same_numero_interne_is_refused(
    app: Dossiers, complete_cerfa: dict[str, Any]
) -> None:
    create(app, complete_cerfa)
    with pytest.raises(DuplicateNumeroInterne):
        create(app, complete_cerfa)


def test_another_cfa_sees_nothing(app: Dossiers, complete_cerfa: dict[str, Any]) -> None:
    saved = create(app, complete_cerfa)
    with pytest.raises(NotFound):
        app.contract(principal(OTHER_CFA), saved.contract.id)
    with pytest.raises(NotFound):
        app.submit(principal(OTHER_CFA), saved.contract.id)
    assert app.contract(OPERATOR, saved.contract.id).id == saved.contract.id


def test_a_cfa_cannot_create_a_dossier_for_another(app: Dossiers, complete_cerfa: dict[str, Any]) -> None:
    with pytest.raises(InvalidValue) as refused:
        app.create_contract(principal(OTHER_CFA), cerfa=parse_cerfa(complete_cerfa), numero_interne="X", opco=None)
    assert refused.value.problem.field == "cerfa.organismeFormation.siret"


def test_the_operator_must_name_the_cfa(app: Dossiers, complete_cerfa: dict[str, Any]) -> None:
    without_cfa = with_changes(complete_cerfa, organismeFormation={"siret": None})
    with pytest.raises(InvalidValue):
        app.create_contract(OPERATOR, cerfa=parse_cerfa(without_cfa), numero_interne="X", opco=None)
    saved = app.create_contract(OPERATOR, cerfa=parse_cerfa(complete_cerfa), numero_interne="X", opco=None)
    assert saved.contract.cfa_siret == cfa_of(complete_cerfa)


def test_an_auditor_reads_but_does_not_write(app: Dossiers, complete_cerfa: dict[str, Any]) -> None:
    saved = create(app, complete_cerfa)
    auditor = principal(cfa_of(complete_cerfa), Role.AUDITOR)
    assert app.contract(auditor, saved.contract.id).version == 1
    with pytest.raises(Forbidden):
        app.cancel(auditor, saved.contract.id, None)


def test_idempotency_key_replays_the_first_response(app: Dossiers, complete_cerfa: dict[str, Any]) -> None:
    body = {"cerfa": complete_cerfa}
    first = create(app, complete_cerfa, numero=None, idempotency_key="k1", request_body=body)
    who = principal(cfa_of(complete_cerfa))
    app.cancel(who, first.contract.id, None)
    again = create(app, complete_cerfa, numero=None, idempotency_key="k1", request_body=body)
    assert again.replayed
    assert again.contract.id == first.contract.id
    assert again.contract.version == 1  # the response as first given, not the dossier as it is now
    with pytest.raises(IdempotencyKeyReused):
        create(app, complete_cerfa, numero=None, idempotency_key="k1", request_body={"cerfa": {}})


def test_if_match_must_name_the_current_version(app: Dossiers, complete_cerfa: dict[str, Any]) -> None:
    saved = create(app, complete_cerfa)
    who = principal(cfa_of(complete_cerfa))
    with pytest.raises(VersionMismatch):
        app.patch_cerfa(who, saved.contract.id, {"apprenti": {"nomUsage": "X"}}, expected_version=2)
    changed = app.patch_cerfa(who, saved.contract.id, {"apprenti": {"nomUsage": "X"}}, expected_version=1)
    assert changed.contract.version == 2


def test_history_tells_who_did_what(app: Dossiers, complete_cerfa: dict[str, Any]) -> None:
    saved = create(app, complete_cerfa)
    who = principal(cfa_of(complete_cerfa), actor="token:bob")
    app.patch_cerfa(who, saved.contract.id, {"apprenti": {"nomUsage": "X"}}, None)
    history = app.history(principal(cfa_of(complete_cerfa), Role.AUDITOR), saved.contract.id)
    assert [(h["version"], h["type"], h["actor"]) for h in history] == [
        (1, "Drafted", "token:test"),
        (2, "CerfaPatched", "token:bob"),
    ]
    assert history[1]["data"] == {"changes": {"apprenti": {"nomUsage": "X"}}}


def test_tokens_authenticate_until_revoked(app: Dossiers) -> None:
    issued = app.issue_token(OPERATOR, cfa_siret=OTHER_CFA, role=Role.AUDITOR, name="audit 2026")
    found = app.authenticate(issued.secret)
    assert found is not None
    assert (found.cfa_siret, found.role) == (OTHER_CFA, Role.AUDITOR)
    assert app.authenticate(issued.secret + "x") is None
    app.revoke_token(OPERATOR, issued.token.id)
    assert app.authenticate(issued.secret) is None


def test_only_the_operator_issues_tokens(app: Dossiers) -> None:
    with pytest.raises(Forbidden):
        app.issue_token(principal(OTHER_CFA, Role.ADMIN), cfa_siret=OTHER_CFA, role=Role.ADMIN, name="x")
