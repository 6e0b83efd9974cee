"""The state sync on the in-memory store: the OPCOs' states, paged by a fake OPCO, become events on the dossiers.

The transmissions read model is an in-memory view fed by the real projection logic (`row_changes`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from application.access.access import OPERATOR, WORKER
from application.audit.actor import Actor, acting
from application.audit.recording import ActorMapper
from application.dossiers import Dossiers
from application.opco.opco_accounts import OpcoAccounts
from application.opco.opco_gateway import (
    DossierState,
    Echeance,
    FraisAnnexe,
    KeyInfo,
    KeyRejected,
    OpcoEndpoint,
    TransientOpcoError,
)
from application.opco.state_sync import StateSync, SyncReport
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import Contract
from domain.contracts.contract_state import ContractState
from domain.invoicing.kinds import InvoiceKind
from domain.opco.opco_account import KeyStatus
from domain.opco.opco_auth import AuthFlavour
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from infrastructure.opco.fan_out import ThreadFanOut
from tests.support import dossiers, principal, with_changes
from tests.unit.fakes import (
    FIND,
    KEY_INFO,
    STATES,
    FakeGateway,
    MemoryContactLog,
    MemoryTransmissionsView,
    MovableClock,
    PlainBox,
    opco_dossier,
)

CFA = "79852413800012"  # the CFA of docs/examples/cerfa-complete.json, whose employer goes to ATLAS
OTHER_CFA = "73282932000074"
SIGNATORY = {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}


@dataclass
class Rig:
    app: Dossiers
    accounts: OpcoAccounts
    contacts: MemoryContactLog
    gateway: FakeGateway
    view: MemoryTransmissionsView
    clock: MovableClock
    sync: StateSync

    def run(self) -> SyncReport:
        """A sync round on an up-to-date read model."""
        self.view.catch_up(self.app)
        return self.sync.run_once()

    def reload(self, contract: Contract) -> Contract:
        return self.app.contract_as_worker(contract.id)

    def events(self, contract: Contract) -> list[str]:
        return [type(e).__name__ for e in self.app.repository.event_store.get(contract.id)]


@pytest.fixture
def rig() -> Iterator[Rig]:
    app = dossiers()
    contacts = MemoryContactLog()
    profiles = {  # key only: the sending is under test here, not the OPCOs' authentication dialects
        opco: replace(profile, base_url="http://opco.test", auth=AuthFlavour.KEY_ONLY)
        for opco, profile in CATALOGUE.items()
    }
    accounts = OpcoAccounts(app, PlainBox(), profiles, contacts)
    accounts.set_credentials(OPERATOR, CFA, Opco.ATLAS, api_key="atlas-key-0001")
    gateway = FakeGateway()
    view = MemoryTransmissionsView()
    clock = MovableClock()
    yield Rig(app, accounts, contacts, gateway, view, clock, StateSync(app, accounts, gateway, view, clock))
    app.close()


def submitted(rig: Rig, cerfa: dict[str, Any], numero: str, *, cfa: str = CFA, opco: Opco | None = None) -> Contract:
    who = principal(cfa)
    document = cerfa if cfa == CFA else with_changes(cerfa, organismeFormation={"siret": cfa})
    ident = rig.app.create_contract(who, cerfa=parse_cerfa(document), numero_interne=numero, opco=opco).contract.id
    rig.app.record_mandate(who, ident, signed_on=date(2026, 6, 15), signatory=SIGNATORY, document_sha256=None)
    return rig.app.submit(who, ident).contract


def sent(rig: Rig, cerfa: dict[str, Any], numero: str, *, cfa: str = CFA, opco: Opco = Opco.ATLAS) -> Contract:
    """A dossier the sender delivered: sent on our side, TRANSMIS at the fake OPCO."""
    contract = submitted(rig, cerfa, numero, cfa=cfa, opco=opco)

    def deliver(c: Contract) -> None:
        c.start_transmission(WORKER.actor)
        c.record_sent(numero_externe=f"EXT-{numero}", etat="TRANSMIS", found_by_lookup=False, actor=WORKER.actor)

    rig.app.change_as_worker(contract.id, deliver)
    rig.gateway.put(opco, opco_dossier(numero, numero_externe=f"EXT-{numero}"))
    return rig.reload(contract)


def test_unchanged_states_record_nothing(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    first = sent(rig, complete_cerfa, "A-1")
    second = sent(rig, complete_cerfa, "A-2")
    assert rig.run() == SyncReport(accounts=1, changes=0, unknown_states=0, errors=0)
    assert rig.gateway.methods() == [STATES, KEY_INFO]  # the key worked: its expiry is asked once (v2)
    assert rig.run() == SyncReport(accounts=1)
    assert rig.gateway.methods() == [STATES, KEY_INFO, STATES]
    assert [rig.reload(c).version for c in (first, second)] == [first.version, second.version]
    contact = rig.contacts.get(CFA, "ATLAS")
    assert contact is not None
    assert (contact.last_contact_at, contact.last_error) == (rig.clock.now(), None)


def test_a_change_records_one_event(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    contract = sent(rig, complete_cerfa, "A-1")
    other = sent(rig, complete_cerfa, "A-2")
    rig.gateway.decide(Opco.ATLAS, "A-1", "EN_COURS_INSTRUCTION", commentaire_etat="en instruction")
    assert rig.run().changes == 1
    changed = rig.reload(contract)
    assert changed.state is ContractState.IN_REVIEW
    assert (changed.opco_state, changed.opco_comment) == ("EN_COURS_INSTRUCTION", "en instruction")
    assert rig.events(changed)[-1:] == ["OpcoStateChanged"]
    assert changed.version == contract.version + 1
    assert rig.reload(other).version == other.version
    assert FIND not in rig.gateway.methods()  # only an ENGAGE is read in detail

    assert rig.run().changes == 0  # the read model caught up: nothing new
    assert rig.reload(contract).version == changed.version


def test_a_lagging_read_model_does_not_record_twice(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    contract = sent(rig, complete_cerfa, "A-1")
    rig.gateway.decide(Opco.ATLAS, "A-1", "EN_COURS_INSTRUCTION")
    assert rig.run().changes == 1
    assert rig.sync.run_once().changes == 0  # the view still says TRANSMIS, the dossier already knows
    assert rig.reload(contract).version == contract.version + 1


def test_a_dossier_the_opco_keeps_under_its_own_numero_interne_is_followed_by_that_number(
    rig: Rig, complete_cerfa: dict[str, Any]
) -> None:
    contract = submitted(rig, complete_cerfa, "A-1", opco=Opco.ATLAS)

    def deliver(c: Contract) -> None:  # POST /dossiers answered {numeroExterne, numeroInterne}: the OPCO's own
        c.start_transmission(WORKER.actor)
        c.record_sent(
            numero_externe="EXT-1", etat=None, found_by_lookup=False, opco_numero_interne="NI-77", actor=WORKER.actor
        )

    rig.app.change_as_worker(contract.id, deliver)
    echeance = Echeance(1, "E1", Decimal("6000"), Decimal("0"), Decimal("0"), date(2026, 9, 1), None, None)
    rig.gateway.put(Opco.ATLAS, opco_dossier("NI-77", "ENGAGE", numero_externe="EXT-1", echeances=[echeance]))
    rig.gateway.put(Opco.ATLAS, opco_dossier("A-1", "REFUSE", numero_externe="EXT-other"))  # another CFA software's

    assert rig.run().changes == 1
    accepted = rig.reload(contract)
    assert (accepted.state, accepted.numero_externe, accepted.opco_reference) == (
        ContractState.ACCEPTED,
        "EXT-1",
        "NI-77",
    )
    assert [e["montantTotal"] for e in accepted.echeances] == ["6000"]
    assert [c.numero_interne for c in rig.gateway.calls_of(FIND)] == ["NI-77"]


def test_engage_records_the_deca_number_the_commitment_and_the_echeances(
    rig: Rig, complete_cerfa: dict[str, Any]
) -> None:
    contract = sent(rig, complete_cerfa, "A-1")
    echeances = [
        Echeance(1, "E1", Decimal("3000.5"), Decimal("0"), Decimal("3000.5"), None, date(2026, 9, 1), None),
        Echeance(2, None, Decimal("2999.50"), Decimal("0"), Decimal("0"), None, None, date(2027, 8, 31)),
    ]
    rig.gateway.decide(
        Opco.ATLAS, "A-1", "ENGAGE", numero_deca="02B202212000000", engagement=Decimal("6000.00"), echeances=echeances
    )
    # the states list leaves the DECA number out: the detail read on ENGAGE gives it
    rig.gateway.script(STATES, [DossierState("A-1", "EXT-A-1", None, "ENGAGE")])
    report = rig.run()
    assert report.changes == 1
    assert [(c.method, c.numero_interne) for c in rig.gateway.calls] == [
        (STATES, None),
        (FIND, "A-1"),
        (KEY_INFO, None),
    ]
    accepted = rig.reload(contract)
    assert accepted.state is ContractState.ACCEPTED
    assert accepted.numero_deca == "02B202212000000"
    assert accepted.commitment == "6000.00"
    assert accepted.echeances == [
        {
            "numero": 1,
            "codification": "E1",
            "montantTotal": "3000.5",
            "montantRegle": "0",
            "montantEnCoursInstruction": "3000.5",
            "dateOuverture": None,
            "dateDebut": "2026-09-01",
            "dateFin": None,
        },
        {
            "numero": 2,
            "codification": None,
            "montantTotal": "2999.50",
            "montantRegle": "0",
            "montantEnCoursInstruction": "0",
            "dateOuverture": None,
            "dateDebut": None,
            "dateFin": "2027-08-31",
        },
    ]
    assert sum(Decimal(e["montantTotal"]) for e in accepted.echeances) == Decimal(accepted.commitment)
    assert rig.events(accepted)[-2:] == ["OpcoStateChanged", "FundingCommitted"]


def test_engage_keeps_the_annex_costs_the_opco_engaged(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    contract = sent(rig, complete_cerfa, "A-1")
    frais = (
        FraisAnnexe("Restauration", InvoiceKind.RESTAURATION, Decimal(100), Decimal(3), Decimal("300")),
        FraisAnnexe("Premierequipement", InvoiceKind.PREMIER_EQUIPEMENT, Decimal(1), Decimal(500), Decimal(500)),
        FraisAnnexe("Transport", None, None, None, Decimal("80.5")),
    )
    rig.gateway.decide(Opco.ATLAS, "A-1", "ENGAGE", engagement=Decimal("6000.00"), frais_annexes=frais)

    rig.run()

    assert rig.reload(contract).frais_annexes == [
        {"kind": "restauration", "natureFrais": "Restauration", "quantite": "100", "prixUnitaire": "3",
         "montantTotal": "300"},
        {"kind": "premierEquipement", "natureFrais": "Premierequipement", "quantite": "1", "prixUnitaire": "500",
         "montantTotal": "500"},
        {"kind": None, "natureFrais": "Transport", "quantite": None, "prixUnitaire": None, "montantTotal": "80.5"},
    ]  # fmt: skip


def test_an_unknown_state_is_recorded_and_counted(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    contract = sent(rig, complete_cerfa, "A-1")
    rig.gateway.decide(Opco.ATLAS, "A-1", "SUSPENDU")
    assert rig.run() == SyncReport(accounts=1, changes=1, unknown_states=1, errors=0)
    kept = rig.reload(contract)
    assert (kept.state, kept.opco_state, kept.unknown_opco_state) == (ContractState.SENT, "SUSPENDU", True)
    assert rig.run() == SyncReport(accounts=1)  # known now: neither a change nor counted again


def test_the_sync_heals_a_dossier_whose_sending_outcome_was_lost(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    contract = submitted(rig, complete_cerfa, "A-1")
    rig.app.change_as_worker(contract.id, lambda c: c.start_transmission(WORKER.actor))  # then the sender died
    rig.gateway.put(Opco.ATLAS, opco_dossier("A-1", numero_externe="EXT-HEALED"))
    assert rig.run().changes == 1
    healed = rig.reload(contract)
    assert healed.state is ContractState.SENT
    assert healed.numero_externe == "EXT-HEALED"
    assert healed.transmission["inFlightSince"] is None
    assert [h["outcome"] for h in healed.transmission["history"]] == ["found"]
    rig.view.catch_up(rig.app)
    assert rig.view.counts() == {"done": 1}  # no longer queued for sending


def test_a_rejected_key_marks_the_account_which_is_then_skipped(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    sent(rig, complete_cerfa, "A-1")
    rig.gateway.script(STATES, KeyRejected("403: clé révoquée"))
    assert rig.run() == SyncReport(accounts=1, changes=0, unknown_states=0, errors=1)
    account = rig.accounts.account(CFA, Opco.ATLAS)
    assert account is not None
    assert (account.key_status, account.key_comment) == (KeyStatus.REJECTED, "403: clé révoquée")
    contact = rig.contacts.get(CFA, "ATLAS")
    assert contact is not None
    assert contact.last_error == "403: clé révoquée"

    calls = len(rig.gateway.calls)
    assert rig.run() == SyncReport()  # no usable key: not even tried
    assert len(rig.gateway.calls) == calls


def test_a_transient_error_is_reported_and_the_next_account_is_still_synced(
    rig: Rig, complete_cerfa: dict[str, Any]
) -> None:
    rig.accounts.set_credentials(OPERATOR, CFA, Opco.AKTO, api_key="akto-key-0001")
    at_akto = sent(rig, complete_cerfa, "K-1", opco=Opco.AKTO)
    at_atlas = sent(rig, complete_cerfa, "A-1")
    rig.gateway.decide(Opco.AKTO, "K-1", "EN_COURS_INSTRUCTION")
    rig.gateway.decide(Opco.ATLAS, "A-1", "EN_COURS_INSTRUCTION")
    rig.gateway.script(STATES, TransientOpcoError("503 service unavailable"))  # whichever account comes first
    report = rig.run()
    assert report == SyncReport(accounts=2, changes=1, unknown_states=0, errors=1)
    states = {str(c.submitted_to): rig.reload(c).state for c in (at_akto, at_atlas)}
    assert sorted(states.values()) == [ContractState.IN_REVIEW, ContractState.SENT]
    failed = next(opco for opco, state in states.items() if state is ContractState.SENT)
    contact = rig.contacts.get(CFA, failed)
    assert contact is not None
    assert contact.last_error == "503 service unavailable"

    assert rig.run().changes == 1  # the next round catches up with the account that failed
    assert {rig.reload(c).state for c in (at_akto, at_atlas)} == {ContractState.IN_REVIEW}


def test_a_failure_half_way_through_the_pages_keeps_what_was_recorded(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    first = sent(rig, complete_cerfa, "A-1")
    second = sent(rig, complete_cerfa, "A-2")
    rig.gateway.script(
        STATES, [DossierState("A-1", None, None, "EN_COURS_INSTRUCTION"), TransientOpcoError("page 2: timeout")]
    )
    assert rig.run() == SyncReport(accounts=1, changes=1, unknown_states=0, errors=1)
    assert rig.reload(first).state is ContractState.IN_REVIEW
    assert rig.reload(second).state is ContractState.SENT


def test_dossiers_of_other_cfas_and_unknown_numbers_are_ignored(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    ours = sent(rig, complete_cerfa, "A-1")
    theirs = sent(rig, complete_cerfa, "B-1", cfa=OTHER_CFA)  # at ATLAS too, but without a key there
    rig.gateway.script(
        STATES,
        [
            DossierState("A-1", "EXT-A-1", None, "TRANSMIS"),
            DossierState("B-1", "EXT-B-1", None, "ENGAGE"),
            DossierState("X-404", "EXT-X", None, "ENGAGE"),
        ],
    )
    report = rig.run()
    assert report == SyncReport(accounts=1, changes=0, unknown_states=0, errors=0)  # the other CFA has no key
    assert rig.gateway.methods() == [STATES, KEY_INFO]
    assert {c.api_key for c in rig.gateway.calls} == {"atlas-key-0001"}
    assert rig.reload(ours).version == ours.version
    assert rig.reload(theirs).state is ContractState.SENT
    assert rig.reload(theirs).version == theirs.version


def test_every_account_with_a_key_is_synced_with_its_own_key(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    rig.accounts.set_credentials(OPERATOR, OTHER_CFA, Opco.ATLAS, api_key="other-key-0001")
    sent(rig, complete_cerfa, "A-1")
    theirs = sent(rig, complete_cerfa, "B-1", cfa=OTHER_CFA)
    rig.gateway.decide(Opco.ATLAS, "B-1", "REFUSE", commentaire_etat="hors délai")
    report = rig.run()
    assert (report.accounts, report.changes) == (2, 1)
    assert sorted(c.api_key for c in rig.gateway.calls_of(STATES)) == ["atlas-key-0001", "other-key-0001"]
    refused = rig.reload(theirs)
    assert (refused.state, refused.opco_comment) == (ContractState.REFUSED, "hors délai")


def test_the_contact_time_is_the_clocks(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    sent(rig, complete_cerfa, "A-1")
    rig.run()
    rig.clock.advance(timedelta(minutes=3))
    rig.gateway.script(STATES, TransientOpcoError("timeout"))
    rig.run()
    contact = rig.contacts.get(CFA, "ATLAS")
    assert contact is not None
    assert (contact.last_contact_at, contact.last_error, contact.last_error_at) == (
        rig.clock.now(),
        "timeout",
        rig.clock.now(),
    )


def test_a_key_that_worked_is_confirmed_with_its_expiry(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    sent(rig, complete_cerfa, "A-1")
    rig.gateway.script(KEY_INFO, KeyInfo(valid=True, expires_on=date(2027, 6, 30), comment="clé valide"))
    rig.run()
    account = rig.accounts.account(CFA, Opco.ATLAS)
    assert account is not None
    assert (account.key_status, account.key_expires_on, account.key_comment) == (
        KeyStatus.VALID,
        date(2027, 6, 30),
        "clé valide",
    )
    [key_call] = rig.gateway.calls_of(KEY_INFO)
    assert key_call.api_key == "atlas-key-0001"


def test_a_key_the_opco_says_is_invalid_is_rejected(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    sent(rig, complete_cerfa, "A-1")
    rig.gateway.script(KEY_INFO, KeyInfo(valid=False, expires_on=None, comment="clé expirée"))
    rig.run()
    account = rig.accounts.account(CFA, Opco.ATLAS)
    assert account is not None
    assert (account.key_status, account.key_comment) == (KeyStatus.REJECTED, "clé expirée")
    assert rig.accounts.endpoint(CFA, Opco.ATLAS) is None


def test_a_terminated_contract_settled_by_the_opco_is_closed(rig: Rig, complete_cerfa: dict[str, Any]) -> None:
    contract = sent(rig, complete_cerfa, "A-1")
    rig.gateway.decide(Opco.ATLAS, "A-1", "RUPTURE")
    assert rig.run().changes == 1
    assert rig.reload(contract).state is ContractState.TERMINATED
    rig.gateway.decide(Opco.ATLAS, "A-1", "SOLDE")
    report = rig.run()
    assert rig.reload(contract).state is ContractState.CLOSED
    assert report.changes == 1


class MeetingGateway(FakeGateway):
    """Every states call waits until `parties` of them are in progress together: polled one at a time, the
    first one's wait times out."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.meeting = threading.Barrier(parties, timeout=5)

    def dossier_states(self, endpoint: OpcoEndpoint) -> Iterator[DossierState]:
        self.meeting.wait()
        return super().dossier_states(endpoint)


def test_accounts_are_polled_several_at_a_time_and_what_they_record_is_the_callers(
    rig: Rig, complete_cerfa: dict[str, Any]
) -> None:
    gateway = MeetingGateway(parties=3)
    accounts = OpcoAccounts(rig.app, PlainBox(), rig.accounts.profiles, rig.contacts)
    cfas = [CFA, OTHER_CFA, "44306184100047"]
    for n, cfa in enumerate(cfas):
        accounts.set_credentials(OPERATOR, cfa, Opco.ATLAS, api_key=f"atlas-key-000{n}")
    rig.gateway = gateway
    made = [sent(rig, complete_cerfa, f"A-{n}", cfa=cfa) for n, cfa in enumerate(cfas)]
    for n in range(len(cfas)):
        gateway.decide(Opco.ATLAS, f"A-{n}", "EN_COURS_INSTRUCTION")
    rig.view.catch_up(rig.app)
    sync = StateSync(rig.app, accounts, gateway, rig.view, rig.clock, ThreadFanOut(concurrency=3))
    syncer = Actor(kind="worker", name="worker@test")
    with acting(syncer):
        report = sync.run_once()

    assert report == SyncReport(accounts=3, changes=3, unknown_states=0, errors=0)
    for contract in made:
        changed = rig.reload(contract)
        assert changed.state is ContractState.IN_REVIEW
        assert isinstance(rig.app.mapper, ActorMapper)
        last = rig.app.mapper.with_actor(list(rig.app.recorder.select_events(contract.id))[-1])[1]
        assert last is not None
        assert last["name"] == "worker@test"
