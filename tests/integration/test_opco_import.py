"""Importing the dossiers deposited elsewhere from the reference sandbox over loopback, on SQLite and PostgreSQL:
the first import, a second that finds only the new, conflicts reported, one DECA number at two OPCOs, and an import
interrupted by the OPCO's faults that resumes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from application.access.access import OPERATOR
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import IMPORTED, Contract
from domain.contracts.contract_state import ContractState
from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox import SandboxConfig
from infrastructure.opco.opco_wire import dossier_body, encode, wire_variant
from interfaces.bootstrap import Container
from interfaces.cli import cli
from tests.integration.sandbox_server import ADMIN_TOKEN, SANDBOX_OPERATOR, running_sandbox
from tests.integration.transmission_support import round_trip, submitted, wired
from tests.support import SECRET_KEY

CFA = "79852413800012"  # the CFA of docs/examples/cerfa-complete.json


@pytest.fixture
def sandbox() -> Iterator[str]:
    with running_sandbox(SandboxConfig(instruction_delay=0, decision_delay=0, page_size=10)) as url:
        yield url


def seed(sandbox: str, cerfa: dict[str, Any], opco: Opco, *items: dict[str, Any]) -> list[dict[str, Any]]:
    """Dossiers deposited at `opco` some other way: each item says its numeroInterne and numeroDeca, if any."""
    body = json.loads(encode(dossier_body("ignored", parse_cerfa(cerfa), wire_variant(opco))))
    dossiers = [{"dossier": body, **item} for item in items]
    answer = httpx.post(
        f"{sandbox}/_sandbox/dossiers/elsewhere",
        json={"opco": opco.value, "siret": CFA, "dossiers": dossiers},
        headers=SANDBOX_OPERATOR,
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    shown: list[dict[str, Any]] = answer.json()
    return shown


def run(container: Container, opco: Opco = Opco.ATLAS, *, dry_run: bool = False) -> dict[str, Any]:
    started = container.importer.start(OPERATOR, CFA, opco, dry_run=dry_run)
    return container.importer.execute(started, OPERATOR.actor)


def imported(container: Container) -> list[Contract]:
    container.worker.project_once()
    ids = [i for opco in (Opco.ATLAS, Opco.AKTO) for i in container.transmissions.ids_at_opco(CFA, opco.value).values()]
    contracts = [container.dossiers.contract_as_worker(ident) for ident in ids]
    return [contract for contract in contracts if contract.origin == IMPORTED]


def test_import_pairs_creates_and_reports(database_url: str, sandbox: str, complete_cerfa: dict[str, Any]) -> None:
    container = wired(database_url, sandbox)
    try:
        ours = submitted(container, complete_cerfa, "CVG-1", Opco.ATLAS)
        round_trip(container)
        container.worker.sync_once()
        ours = container.dossiers.contract_as_worker(ours.id)
        assert ours.numero_deca is not None
        portal = seed(
            sandbox,
            complete_cerfa,
            Opco.ATLAS,
            {"numeroInterne": "PORTAIL-1"},
            {"numeroDeca": "075202609NC9001"},  # no numeroInterne
            {"numeroDeca": ours.numero_deca},  # our dossier's DECA number, another numeroExterne: disagree
        )
        assert [item["numeroInterne"] for item in portal] == ["PORTAIL-1", None, None]
        seed(sandbox, complete_cerfa, Opco.AKTO, {"numeroDeca": "075202609NC9001"})  # the same DECA at AKTO

        dry = run(container, dry_run=True)
        assert imported(container) == []
        real = run(container)
        assert dry["counts"] == real["counts"] == {"created": 2, "matched": 1, "conflicts": 1}
        [conflict] = real["conflicts"]
        assert (conflict["reason"], conflict["numeroDeca"]) == ("numbers_disagree", ours.numero_deca)
        contracts = {c.numero_externe: c for c in imported(container)}
        assert len(contracts) == 2
        for contract in contracts.values():
            assert (contract.state, contract.submitted_to, contract.mandate) == (ContractState.ACCEPTED, "ATLAS", None)
            assert contract.echeances
            assert contract.commitment is not None
            assert contract.cerfa["apprenti"]["nom"] == complete_cerfa["apprenti"]["nom"]

        seed(sandbox, complete_cerfa, Opco.ATLAS, {"numeroInterne": "PORTAIL-2"})
        again = run(container)
        assert again["counts"] == {"created": 1, "matched": 3, "conflicts": 1}
        assert run(container, Opco.AKTO)["counts"] == {"created": 1, "matched": 0, "conflicts": 0}
        assert sorted(c.submitted_to or "" for c in imported(container)) == ["AKTO", "ATLAS", "ATLAS", "ATLAS"]
        assert container.dossiers.contract_as_worker(ours.id).version == ours.version  # ours untouched
    finally:
        container.close()


def test_an_import_stopped_by_the_opco_faults_resumes(
    database_url: str, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    container = wired(database_url, sandbox)
    try:
        seed(sandbox, complete_cerfa, Opco.ATLAS, *({"numeroInterne": f"PORTAIL-{n}"} for n in range(40)))
        faults = {"errorRate": 0.7, "seed": 3}  # three failures in a row stop it (a read is tried three times)
        assert httpx.put(f"{sandbox}/_sandbox/faults", json=faults, headers=SANDBOX_OPERATOR).status_code == 200
        stopped = run(container)
        assert stopped["status"] == "failed"
        assert stopped["error"]
        assert httpx.put(f"{sandbox}/_sandbox/faults", json={"errorRate": 0}, headers=SANDBOX_OPERATOR).is_success
        resumed = run(container)
        assert (resumed["id"], resumed["status"]) == (stopped["id"], "finished")
        assert resumed["counts"] == {"created": 40, "matched": 0, "conflicts": 0}
        assert len(imported(container)) == 40
        assert run(container)["counts"] == {"created": 0, "matched": 40, "conflicts": 0}
    finally:
        container.close()


def test_the_cli_imports_with_a_dry_run_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: str, complete_cerfa: dict[str, Any]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the working tree is read
    for name, value in {
        "CONVERGENCE_DATABASE_URL": f"sqlite:///{tmp_path / 'convergence.db'}",
        "CONVERGENCE_SECRET_KEY": SECRET_KEY,
        "CONVERGENCE_SANDBOX": "off",
        "CONVERGENCE_SANDBOX_URL": sandbox,
        "CONVERGENCE_SANDBOX_ADMIN_TOKEN": ADMIN_TOKEN,
        "CONVERGENCE_WORKER_IN_SERVE": "false",
    }.items():
        monkeypatch.setenv(name, value)
    seed(sandbox, complete_cerfa, Opco.ATLAS, {"numeroInterne": "PORTAIL-1"}, {}, {"numeroDeca": "075202609NC9001"})

    def cli_import(*extra: str) -> Any:
        return CliRunner().invoke(cli, ["opco", "import", "--cfa", CFA, "--opco", "ATLAS", *extra])

    dry = cli_import("--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "3 would be created, 0 matched, 0 in conflict" in dry.output
    real = cli_import()
    assert "3 created, 0 matched, 0 in conflict" in real.output
    record = json.loads(real.stdout[real.stdout.index("{") :])
    assert (record["id"], record["dryRun"], record["startedBy"], record["total"]) == (2, False, "operator", 3)
    assert "0 created, 3 matched, 0 in conflict" in cli_import().output
