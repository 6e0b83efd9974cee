"""The application on the real stores (a SQLite file and PostgreSQL): durability and concurrency."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from application.access.access import OPERATOR
from application.errors import ConcurrentChange, VersionMismatch
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract_state import ContractState
from tests.support import dossiers, principal

THREADS = 12
LETTERS = "abcdefghijklmnopqrstuvwxyz"  # Cerfa names hold letters only


def cfa_of(document: dict[str, Any]) -> str:
    siret: str = document["organismeFormation"]["siret"]
    return siret


def test_a_dossier_survives_a_restart(database_url: str, complete_cerfa: dict[str, Any]) -> None:
    who = principal(cfa_of(complete_cerfa))
    app = dossiers(database_url)
    saved = app.create_contract(who, cerfa=parse_cerfa(complete_cerfa), numero_interne="R-1", opco=None)
    app.record_mandate(
        who,
        saved.contract.id,
        signed_on=date(2026, 6, 15),
        signatory={"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"},
        document_sha256="ab" * 32,
    )
    app.submit(who, saved.contract.id)
    app.close()

    reopened = dossiers(database_url)
    try:
        contract = reopened.contract(who, saved.contract.id)
        assert contract.state is ContractState.SUBMITTED
        assert contract.mandate is not None
        assert contract.mandate["documentSha256"] == "ab" * 32
        assert [h["type"] for h in reopened.history(OPERATOR, saved.contract.id)] == [
            "Drafted",
            "MandateRecorded",
            "SubmissionRequested",
        ]
    finally:
        reopened.close()


def test_concurrent_changes_with_if_match_one_wins_per_version(
    database_url: str, complete_cerfa: dict[str, Any]
) -> None:
    who = principal(cfa_of(complete_cerfa))
    app = dossiers(database_url)
    try:
        ident = app.create_contract(who, cerfa=parse_cerfa(complete_cerfa), numero_interne="C-1", opco=None).contract.id
        rounds = 5
        for round_no in range(rounds):
            version = app.contract(who, ident).version
            outcomes = _race(
                lambda n, v=version, r=round_no: app.patch_cerfa(
                    who,
                    ident,
                    {"apprenti": {"nomUsage": f"Durand-{LETTERS[r]}{LETTERS[n]}"}},
                    expected_version=v,
                )
            )
            assert outcomes["ok"] == 1, outcomes
            assert outcomes["VersionMismatch"] == THREADS - 1, outcomes
        history = app.history(who, ident)
        assert [h["version"] for h in history] == list(range(1, rounds + 2))
    finally:
        app.close()


def test_concurrent_changes_without_if_match_lose_no_event(database_url: str, complete_cerfa: dict[str, Any]) -> None:
    who = principal(cfa_of(complete_cerfa))
    app = dossiers(database_url)
    try:
        ident = app.create_contract(who, cerfa=parse_cerfa(complete_cerfa), numero_interne="C-2", opco=None).contract.id
        outcomes = _race(
            lambda n: app.patch_cerfa(who, ident, {"apprenti": {"nomUsage": f"Durand-{LETTERS[n]}"}}, None)
        )
        assert outcomes["ok"] >= 1
        assert outcomes["ok"] + outcomes["ConcurrentChange"] == THREADS, outcomes
        history = app.history(who, ident)
        assert len(history) == 1 + outcomes["ok"]  # every success is an event, every refusal is none
        last = history[-1]["data"]["changes"]["apprenti"]["nomUsage"]
        assert app.contract(who, ident).cerfa["apprenti"]["nomUsage"] == last
    finally:
        app.close()


def _race(change: Any) -> Counter[str]:
    barrier = threading.Barrier(THREADS)

    def attempt(n: int) -> str:
        barrier.wait()
        try:
            change(n)
        except (VersionMismatch, ConcurrentChange) as refused:
            return type(refused).__name__
        return "ok"

    with ThreadPoolExecutor(THREADS) as pool:
        return Counter(pool.map(attempt, range(THREADS)))
