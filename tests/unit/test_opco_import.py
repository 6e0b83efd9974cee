"""Importing the dossiers an OPCO holds for a CFA, with a fake OPCO: what is created, matched or in conflict, the
dry run deciding exactly as the real run, re-runs, resumption, and the journal of runs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from application.access.access import OPERATOR, WORKER, Role
from application.contracts.imports.importer import OpcoImporter
from application.dossiers import Dossiers
from application.errors import Forbidden, NotFound
from application.opco.opco_accounts import OpcoAccounts
from application.opco.opco_gateway import Echeance, OpcoDossier, TransientOpcoError
from application.opco.state_sync import StateSync
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import IMPORTED, SENT, Contract
from domain.contracts.contract_state import ContractState
from domain.errors import NotAllowedInState
from domain.opco.opco_auth import AuthFlavour
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from tests.support import dossiers, principal
from tests.unit.fakes import (
    FIND,
    FIND_BY,
    FakeGateway,
    MemoryContactLog,
    MemoryTransmissionsView,
    MovableClock,
    PlainBox,
)

CFA = "79852413800012"  # the CFA of docs/examples/cerfa-complete.json, whose employer goes to ATLAS
SIGNATORY = {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}
ADMIN = principal(CFA, Role.ADMIN, actor="token:admin")


@dataclass
class Rig:
    app: Dossiers
    gateway: FakeGateway
    view: MemoryTransmissionsView
    importer: OpcoImporter
    accounts: OpcoAccounts
    clock: MovableClock

    def run(self, opco: Opco = Opco.ATLAS, *, dry_run: bool = False) -> dict[str, Any]:
        started = self.importer.start(ADMIN, CFA, opco, dry_run=dry_run)
        return self.importer.execute(started, ADMIN.actor)

    def imported(self) -> list[Contract]:
        self.view.catch_up(self.app)
        ids = [ident for opco in Opco for ident in self.view.ids_at_opco(CFA, opco.value).values()]
        found = [self.app.contract_as_worker(ident) for ident in ids]
        return [contract for contract in found if contract.origin == IMPORTED]


@pytest.fixture
def rig() -> Iterator[Rig]:
    app = dossiers()
    profiles = {
        opco: replace(profile, base_url="http://opco.test", auth=AuthFlavour.KEY_ONLY)
        for opco, profile in CATALOGUE.items()
    }
    accounts = OpcoAccounts(app, PlainBox(), profiles, MemoryContactLog())
    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key="atlas-key-0001")
    accounts.set_credentials(OPERATOR, CFA, Opco.AKTO, api_key="akto-key-0001")
    gateway, view, clock = FakeGateway(), MemoryTransmissionsView(), MovableClock()
    importer = OpcoImporter(app, accounts, gateway, view, clock, catch_up=lambda: view.catch_up(app))
    yield Rig(app, gateway, view, importer, accounts, clock)
    app.close()


def held(
    rig: Rig,
    key: str,
    *,
    opco: Opco = Opco.ATLAS,
    numero_interne: str = "",
    numero_externe: str | None = None,
    numero_deca: str | None = None,
    etat: str = "ENGAGE",
) -> OpcoDossier:
    """A dossier the OPCO holds, deposited some other way (numero_interne "": the OPCO gives none)."""
    dossier = OpcoDossier(
        numero_interne=numero_interne,
        numero_externe=numero_externe,
        numero_deca=numero_deca,
        etat=etat,
        commentaire_etat=None,
        engagement=Decimal("12000.00") if etat == "ENGAGE" else None,
        echeances=(Echeance(1, "E1", Decimal("4800.00"), Decimal(0), Decimal(0), date(2026, 9, 1), None, None),),
        cerfa={"apprenti": {"nom": "Durand", "prenom": "Léa"}, "contrat": {"dateDebutContrat": "2026-09-01"}},
    )
    rig.gateway.dossiers[(opco, numero_interne or key)] = dossier  # the fake finds a numeroInterne by its key
    return dossier


def sent(
    rig: Rig, cerfa: dict[str, Any], numero: str, *, numero_externe: str, numero_deca: str | None = None
) -> Contract:
    """A dossier sent from here to ATLAS, which holds it."""
    who = principal(CFA)
    ident = rig.app.create_contract(who, cerfa=parse_cerfa(cerfa), numero_interne=numero, opco=Opco.ATLAS).contract.id
    rig.app.record_mandate(who, ident, signed_on=date(2026, 6, 15), signatory=SIGNATORY, document_sha256=None)
    rig.app.submit(who, ident)

    def deliver(c: Contract) -> None:
        c.start_transmission(WORKER.actor)
        c.record_sent(numero_externe=numero_externe, etat="TRANSMIS", found_by_lookup=False, actor=WORKER.actor)
        if numero_deca:
            c.record_opco_state(
                etat="ENGAGE", commentaire=None, numero_externe=None, numero_deca=numero_deca, actor=WORKER.actor
            )

    rig.app.change_as_worker(ident, deliver)
    held(rig, numero, numero_interne=numero, numero_externe=numero_externe, numero_deca=numero_deca)
    return rig.app.contract_as_worker(ident)


def test_the_first_import_creates_the_new_and_matches_the_sent(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    ours = sent(rig, complete_cerfa, "A-1", numero_externe="ATLAS-1")
    held(rig, "x1", numero_interne="NI-9", numero_externe="ATLAS-2", numero_deca="069202609NC0001")
    held(rig, "x2", numero_externe="ATLAS-3")  # no numeroInterne: deposited on the portal
    status = rig.run()
    assert status["counts"] == {"created": 2, "matched": 1, "conflicts": 0}
    assert (status["status"], status["total"], status["done"], status["startedBy"]) == ("finished", 3, 3, "token:admin")
    assert rig.app.contract_as_worker(ours.id).version == ours.version  # nothing the CFA has is refreshed
    imported = {c.numero_externe: c for c in rig.imported()}
    assert set(imported) == {"ATLAS-2", "ATLAS-3"}
    first = imported["ATLAS-2"]
    assert (first.origin, first.state, first.submitted_to, first.opco_numero_interne) == (
        IMPORTED,
        ContractState.ACCEPTED,
        "ATLAS",
        "NI-9",
    )
    assert first.numero_deca == "069202609NC0001"
    assert (first.commitment, first.echeances[0]["montantTotal"], first.invoiceable) == ("12000.00", "4800.00", True)
    assert first.mandate is None
    assert first.cerfa["apprenti"]["nom"] == "Durand"
    events = [(type(e).__name__, e.actor) for e in rig.app.repository.event_store.get(first.id)]  # type: ignore[attr-defined]
    assert events == [("Imported", "token:admin"), ("FundingCommitted", "token:admin")]
    assert ours.origin == SENT
    assert imported["ATLAS-3"].numero_interne == "ATLAS-ATLAS-3"  # ours: the OPCO's number, for want of another


def test_the_dry_run_decides_what_the_real_run_does(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    sent(rig, complete_cerfa, "A-1", numero_externe="ATLAS-1", numero_deca="069202609NC0001")
    held(rig, "x1", numero_externe="ATLAS-2")
    held(rig, "x2", numero_externe="ATLAS-2")  # listed twice by the OPCO: the second is the first, once created
    held(rig, "x3", numero_externe="ATLAS-1", numero_deca="069202609NC0009")  # disagrees with A-1
    dry = rig.run(dry_run=True)
    assert rig.imported() == []  # a dry run writes nothing but its record
    real = rig.run()
    assert dry["counts"] == real["counts"] == {"created": 1, "matched": 2, "conflicts": 1}
    assert dry["conflicts"] == real["conflicts"]
    assert [c["reason"] for c in real["conflicts"]] == ["numbers_disagree"]
    assert (dry["dryRun"], real["dryRun"], dry["id"], real["id"]) == (True, False, 1, 2)
    assert len(rig.imported()) == 1


def test_a_second_import_finds_only_the_new(rig: Rig) -> None:
    held(rig, "x1", numero_interne="NI-1", numero_externe="ATLAS-1")
    held(rig, "x2", numero_externe="ATLAS-2")
    assert rig.run()["counts"] == {"created": 2, "matched": 0, "conflicts": 0}
    reads = len(rig.gateway.calls_of(FIND)) + len(rig.gateway.calls_of(FIND_BY))
    held(rig, "x3", numero_deca="069202609NC0003")  # only a DECA number
    assert rig.run()["counts"] == {"created": 1, "matched": 2, "conflicts": 0}
    assert len(rig.gateway.calls_of(FIND)) + len(rig.gateway.calls_of(FIND_BY)) == reads + 1  # the new one only
    assert len(rig.imported()) == 3


def test_rows_without_numero_interne_are_paired_by_their_other_numbers(rig: Rig) -> None:
    held(rig, "x1", numero_externe="ATLAS-7", numero_deca="069202609NC0007")
    rig.run()
    # later the OPCO gives it a numeroInterne, and lists it with its DECA number only in another spelling
    rig.gateway.dossiers[(Opco.ATLAS, "x1")] = replace(
        rig.gateway.dossiers[(Opco.ATLAS, "x1")],
        numero_interne="NI-7",
        numero_externe=None,
        numero_deca="069 202609 nc0007",
    )
    assert rig.run()["counts"] == {"created": 0, "matched": 1, "conflicts": 0}
    assert len(rig.imported()) == 1


def test_one_deca_number_at_two_opcos_is_two_dossiers(rig: Rig) -> None:
    held(rig, "x1", numero_externe="ATLAS-1", numero_deca="069202609NC0001")
    held(rig, "y1", opco=Opco.AKTO, numero_externe="AKTO-1", numero_deca="069202609NC0001")
    rig.run(Opco.ATLAS)
    assert rig.run(Opco.AKTO)["counts"] == {"created": 1, "matched": 0, "conflicts": 0}
    assert sorted(c.submitted_to or "" for c in rig.imported()) == ["AKTO", "ATLAS"]


def test_two_candidates_are_a_conflict_reported_not_resolved(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    first = sent(rig, complete_cerfa, "A-1", numero_externe="ATLAS-1")
    second = sent(rig, complete_cerfa, "A-2", numero_externe="ATLAS-2", numero_deca="069202609NC0002")
    del rig.gateway.dossiers[(Opco.ATLAS, "A-1")], rig.gateway.dossiers[(Opco.ATLAS, "A-2")]
    held(rig, "x1", numero_externe="ATLAS-1", numero_deca="069202609NC0002")  # one says A-1, the other A-2
    held(rig, "x2")  # no number at all
    status = rig.run()
    assert status["counts"] == {"created": 0, "matched": 0, "conflicts": 2}
    reasons = {c["reason"]: c for c in status["conflicts"]}
    assert set(reasons) == {"several_candidates", "no_number"}
    assert set(reasons["several_candidates"]["candidates"]) == {str(first.id), str(second.id)}
    assert rig.imported() == []


def test_an_interrupted_import_resumes_where_it_stopped(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(60):
        held(rig, f"x{n}", numero_externe=f"ATLAS-{n}")
    monkeypatch.setattr("application.contracts.imports.opco_reads.RETRY_PAUSE", 0.0)
    calls, broken = 0, True
    original = rig.gateway.find_dossier_by

    def failing(endpoint: Any, field: Any, value: str) -> OpcoDossier | None:
        nonlocal calls
        calls += 1
        if calls > 30 and broken:  # the OPCO fails from the 31st read on, whatever the retries
            raise TransientOpcoError("503 from the OPCO")
        return original(endpoint, field, value)

    rig.gateway.find_dossier_by = failing  # type: ignore[method-assign]
    stopped = rig.run()
    assert (stopped["status"], stopped["done"], stopped["error"]) == ("failed", 25, "503 from the OPCO")
    assert 25 <= len(rig.imported()) < 60
    with pytest.raises(NotAllowedInState):  # a real run stopped half-way is resumed, not started again
        rig.importer._journal_or_new(CFA, Opco.ATLAS).start(dry_run=False, actor="x", at=rig.clock.now())
    broken = False
    resumed = rig.run()
    assert resumed["id"] == stopped["id"]
    assert (resumed["status"], resumed["counts"]) == ("finished", {"created": 60, "matched": 0, "conflicts": 0})
    assert len(resumed["resumedAt"]) == 1
    assert len(rig.imported()) == 60


def test_a_transient_failure_is_read_again(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    held(rig, "x1", numero_externe="ATLAS-1")
    monkeypatch.setattr("application.contracts.imports.opco_reads.RETRY_PAUSE", 0.0)
    rig.gateway.script(FIND_BY, TransientOpcoError("502"), TransientOpcoError("timeout"))
    status = rig.run()
    assert (status["status"], status["counts"]["created"]) == ("finished", 1)
    assert len(rig.gateway.calls_of(FIND_BY)) == 3


def test_a_running_import_is_not_started_twice(rig: Rig) -> None:
    held(rig, "x1", numero_externe="ATLAS-1")
    rig.importer.start(ADMIN, CFA, Opco.ATLAS, dry_run=False)
    with pytest.raises(NotAllowedInState):
        rig.importer.start(ADMIN, CFA, Opco.ATLAS, dry_run=False)


def test_the_same_idempotency_key_answers_the_same_run(rig: Rig) -> None:
    first = rig.importer.start(ADMIN, CFA, Opco.ATLAS, dry_run=True, idempotency_key="k1")
    again = rig.importer.start(ADMIN, CFA, Opco.ATLAS, dry_run=True, idempotency_key="k1")
    assert (first.run, again.run, again.replayed) == (1, 1, True)


def test_only_an_admin_of_the_cfa_imports(rig: Rig) -> None:
    with pytest.raises(Forbidden):
        rig.importer.start(principal(CFA), CFA, Opco.ATLAS, dry_run=True)
    with pytest.raises(NotFound):
        rig.importer.start(principal("73282932000074", Role.ADMIN), CFA, Opco.ATLAS, dry_run=True)
    with pytest.raises(NotAllowedInState):  # no key at this OPCO
        rig.importer.start(ADMIN, CFA, Opco.OPCOEP, dry_run=True)


def test_the_state_sync_follows_an_imported_dossier(rig: Rig) -> None:
    held(rig, "x1", numero_interne="NI-1", numero_externe="ATLAS-1", etat="EN_COURS_INSTRUCTION")
    rig.run()
    [contract] = rig.imported()
    assert contract.state is ContractState.IN_REVIEW
    rig.gateway.decide(Opco.ATLAS, "NI-1", "ENGAGE")
    sync = StateSync(rig.app, rig.accounts, rig.gateway, rig.view, rig.clock)
    assert sync.run_once().changes == 1
    assert rig.app.contract_as_worker(contract.id).state is ContractState.ACCEPTED
