"""Every command under an Idempotency-Key, in the application on the in-memory store: the same request again gets
the first answer and records nothing; another request under the key is refused; a key is one resource's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from application.access.access import OPERATOR, WORKER, Role
from application.dossiers import Dossiers, Saved
from application.errors import IdempotencyKeyReused, TokenAlreadyIssued
from application.invoices.billing_profiles import BillingProfiles
from application.invoices.invoices import Invoices, SavedInvoice
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import Contract
from domain.errors import SubmissionBlocked
from domain.invoicing.invoice import Invoice
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from tests.invoicing import CFA, accepted_contract, line
from tests.support import dossiers, principal
from tests.unit.fakes import PlainBox

TODAY = date(2026, 11, 27)
WHO = principal(CFA)
SIGNATORY = {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}


@dataclass
class World:
    app: Dossiers
    invoices: Invoices
    cerfa: dict[str, Any]

    def draft(self, numero: str) -> UUID:
        saved = self.app.create_contract(WHO, cerfa=parse_cerfa(self.cerfa), numero_interne=numero, opco=None)
        return saved.contract.id

    def mandated(self, numero: str) -> UUID:
        ident = self.draft(numero)
        self.app.record_mandate(WHO, ident, signed_on=date(2026, 6, 15), signatory=SIGNATORY, document_sha256=None)
        return ident

    def parked(self, numero: str) -> UUID:
        ident = self.mandated(numero)
        self.app.submit(WHO, ident)
        self.app.change_as_worker(ident, lambda c: c.park_transmission("too many failures", WORKER.actor))
        return ident

    def invoice(self, numero: str, opco: Opco | None = None) -> UUID:
        contract = accepted_contract(self.app, WHO, self.cerfa, f"C-{numero}", opco=opco)
        created = self.invoices.create(
            WHO, numero_interne_facture=numero, invoice_date=TODAY, lines=[line(contract.id)]
        )
        return created.invoice.id

    def submitted_invoice(self, numero: str, opco: Opco | None = None) -> UUID:
        ident = self.invoice(numero, opco)
        self.invoices.submit(WHO, ident)
        return ident

    def sent_invoice(self, numero: str) -> UUID:
        ident = self.submitted_invoice(numero, Opco.CONSTRUCTYS)  # an OPCO whose payments are recorded by hand

        def sent(i: Invoice) -> None:
            i.start_transmission(WORKER.actor)
            i.record_sent(numero_externe="FX-1", etat="TRANSMISE", found_by_lookup=False, actor=WORKER.actor)

        self.invoices.change_as_worker(ident, sent)
        return ident

    def parked_invoice(self, numero: str) -> UUID:
        ident = self.submitted_invoice(numero)
        self.invoices.change_as_worker(ident, lambda i: i.park_transmission("too many failures", WORKER.actor))
        return ident

    def history(self, ident: UUID) -> list[str]:
        events = self.app.history(WORKER, ident) if self._is_contract(ident) else self.invoices.history(WORKER, ident)
        return [e["type"] for e in events]

    def _is_contract(self, ident: UUID) -> bool:
        return isinstance(self.app.repository.get(ident), Contract)


@pytest.fixture
def world(complete_cerfa: dict[str, Any]) -> World:
    app = dossiers(today=TODAY)
    return World(app, Invoices(app, CATALOGUE, app.clock, BillingProfiles(app, PlainBox())), complete_cerfa)


Outcome = Saved | SavedInvoice
# A command: (world, resource, key, variant) → its outcome; variant 1 is another request than variant 0.
Send = Callable[[World, UUID, str, int], Outcome]


def mandate(w: World, ident: UUID, key: str, variant: int) -> Outcome:
    signed = date(2026, 6, 15 + variant)
    return w.app.record_mandate(
        WHO, ident, signed_on=signed, signatory=SIGNATORY, document_sha256=None, idempotency_key=key
    )


def submission(w: World, ident: UUID, key: str, variant: int) -> Outcome:
    # no body: another request is the same command conditioned on a version (If-Match)
    return w.app.submit(WHO, ident, expected_version=2 if variant else None, idempotency_key=key)


def cancellation(w: World, ident: UUID, key: str, variant: int) -> Outcome:
    return w.app.cancel(WHO, ident, f"reason {variant}", idempotency_key=key)


def retry(w: World, ident: UUID, key: str, variant: int) -> Outcome:
    return w.app.resume_transmission(WHO, ident, expected_version=5 if variant else None, idempotency_key=key)


def npec(w: World, ident: UUID, key: str, variant: int) -> Outcome:
    return w.app.forecast_npec(WHO, ident, Decimal("8000.00") + variant, idempotency_key=key)


def opco(w: World, ident: UUID, key: str, variant: int) -> Outcome:
    return w.app.choose_opco(WHO, ident, Opco.AKTO if variant else Opco.ATLAS, None, idempotency_key=key)


def invoice_submission(w: World, ident: UUID, key: str, variant: int) -> Outcome:
    return w.invoices.submit(WHO, ident, expected_version=1 if variant else None, idempotency_key=key)


def invoice_cancellation(w: World, ident: UUID, key: str, variant: int) -> Outcome:
    return w.invoices.cancel(WHO, ident, f"reason {variant}", idempotency_key=key)


def invoice_retry(w: World, ident: UUID, key: str, variant: int) -> Outcome:
    return w.invoices.resume_transmission(WHO, ident, expected_version=3 if variant else None, idempotency_key=key)


def payment(w: World, ident: UUID, key: str, variant: int) -> Outcome:
    amount = Decimal("100.00") + variant
    return w.invoices.record_payment(
        WHO, ident, amount=amount, paid_on=TODAY, reference_virement="VIR-1", idempotency_key=key
    )


COMMANDS: dict[str, tuple[Callable[[World, str], UUID], Send]] = {
    "mandate": (World.draft, mandate),
    "submission": (World.mandated, submission),
    "cancellation": (World.draft, cancellation),
    "transmission retry": (World.parked, retry),
    "npec": (World.draft, npec),
    "opco": (World.draft, opco),
    "invoice submission": (World.invoice, invoice_submission),
    "invoice cancellation": (World.invoice, invoice_cancellation),
    "invoice transmission retry": (World.parked_invoice, invoice_retry),
    "payment": (World.sent_invoice, payment),
}


def answer(outcome: Outcome) -> tuple[UUID, int, str]:
    aggregate = outcome.contract if isinstance(outcome, Saved) else outcome.invoice
    return aggregate.id, aggregate.version, aggregate.state.value


@pytest.mark.parametrize("name", COMMANDS)
def test_the_same_request_again_gets_the_first_answer_and_records_nothing(world: World, name: str) -> None:
    prepare, send = COMMANDS[name]
    ident = prepare(world, "R-1")
    first = send(world, ident, "key-1", 0)
    assert (first.replayed, first.position is not None) == (False, True)
    events = world.history(ident)

    again = send(world, ident, "key-1", 0)

    assert again.replayed
    assert answer(again) == answer(first)
    assert again.position is None
    assert world.history(ident) == events


@pytest.mark.parametrize("name", COMMANDS)
def test_another_request_under_a_used_key_is_refused(world: World, name: str) -> None:
    prepare, send = COMMANDS[name]
    ident = prepare(world, "R-1")
    send(world, ident, "key-1", 0)
    events = world.history(ident)
    with pytest.raises(IdempotencyKeyReused):
        send(world, ident, "key-1", 1)
    assert world.history(ident) == events


@pytest.mark.parametrize("name", COMMANDS)
def test_a_key_belongs_to_one_resource(world: World, name: str) -> None:
    prepare, send = COMMANDS[name]
    first, second = prepare(world, "R-1"), prepare(world, "R-2")
    send(world, first, "key-1", 0)
    other = send(world, second, "key-1", 0)
    assert not other.replayed
    assert answer(other)[0] == second


def test_a_key_belongs_to_one_route(world: World) -> None:
    ident = world.draft("R-1")
    mandate(world, ident, "key-1", 0)
    submitted = submission(world, ident, "key-1", 0)
    assert (submitted.replayed, answer(submitted)[2]) == (False, "submitted")


def test_a_refused_request_keeps_no_record_and_may_be_sent_again_under_its_key(world: World) -> None:
    ident = world.draft("R-1")
    with pytest.raises(SubmissionBlocked):
        submission(world, ident, "key-1", 0)  # no mandate yet
    mandate(world, ident, "key-2", 0)
    submitted = submission(world, ident, "key-1", 0)
    assert (submitted.replayed, answer(submitted)[2]) == (False, "submitted")


def test_a_request_conditioned_on_a_version_is_answered_again_not_refused_as_stale(world: World) -> None:
    ident = world.draft("R-1")
    first = world.app.record_mandate(
        WHO,
        ident,
        signed_on=date(2026, 6, 15),
        signatory=SIGNATORY,
        document_sha256=None,
        expected_version=1,
        idempotency_key="key-1",
    )
    again = world.app.record_mandate(
        WHO,
        ident,
        signed_on=date(2026, 6, 15),
        signatory=SIGNATORY,
        document_sha256=None,
        expected_version=1,
        idempotency_key="key-1",
    )
    assert (again.replayed, answer(again)) == (True, answer(first))


def test_the_answer_is_the_resource_as_the_command_left_it(world: World) -> None:
    ident = world.draft("R-1")
    first = mandate(world, ident, "key-1", 0)
    world.app.submit(WHO, ident)
    again = mandate(world, ident, "key-1", 0)
    assert answer(again)[1:] == (answer(first)[1], "mandate_checked")


def test_a_token_is_issued_once_per_key_and_its_secret_never_shown_again() -> None:
    app = dossiers()
    issued = app.issue_token(OPERATOR, cfa_siret=CFA, role=Role.FRONTEND, name="front", idempotency_key="t-1")
    with pytest.raises(TokenAlreadyIssued) as again:
        app.issue_token(OPERATOR, cfa_siret=CFA, role=Role.FRONTEND, name="front", idempotency_key="t-1")
    assert again.value.token_id == issued.token.id
    assert str(issued.token.id) in str(again.value)
    with pytest.raises(IdempotencyKeyReused):
        app.issue_token(OPERATOR, cfa_siret=CFA, role=Role.AUDITOR, name="front", idempotency_key="t-1")
    assert app.authenticate(issued.secret) is not None


def test_a_revocation_is_answered_again_under_its_key() -> None:
    app = dossiers()
    issued = app.issue_token(OPERATOR, cfa_siret=CFA, role=Role.FRONTEND, name="front")
    first = app.revoke_token(OPERATOR, issued.token.id, idempotency_key="r-1")
    again = app.revoke_token(OPERATOR, issued.token.id, idempotency_key="r-1")
    assert (again.revoked, again.version) == (True, first.version) == (True, 2)


# A resend that runs while the first request is saving: played here in one thread, the first request being run
# by a hook at the moment the resend reads a contract (after that read, or before it).


def first_request_runs_when_a_contract_is_read(
    monkeypatch: pytest.MonkeyPatch, world: World, first: Callable[[], object], *, before_the_read: bool
) -> None:
    read = world.app.contract

    def contract(*args: Any, **kwargs: Any) -> Contract:
        monkeypatch.setattr(world.app, "contract", read)  # once
        if before_the_read:
            first()
            return read(*args, **kwargs)
        found = read(*args, **kwargs)
        first()
        return found

    monkeypatch.setattr(world.app, "contract", contract)


def send_invoice(world: World, contract: UUID) -> SavedInvoice:
    return world.invoices.create(
        WHO,
        numero_interne_facture="F-1",
        invoice_date=TODAY,
        lines=[line(contract, 1, "3000.00")],  # all the échéance holds: the first request leaves nothing
        idempotency_key="key-1",
        request_body={"numeroInterneFacture": "F-1"},
    )


@pytest.mark.parametrize("before_the_read", [True, False], ids=["rules see the first", "save loses to the first"])
def test_an_invoice_resent_while_the_first_is_saving_gets_the_invoice(
    monkeypatch: pytest.MonkeyPatch, world: World, before_the_read: bool
) -> None:
    contract = accepted_contract(world.app, WHO, world.cerfa).id
    firsts: list[SavedInvoice] = []
    first_request_runs_when_a_contract_is_read(
        monkeypatch, world, lambda: firsts.append(send_invoice(world, contract)), before_the_read=before_the_read
    )

    resent = send_invoice(world, contract)

    assert resent.replayed
    assert answer(resent) == answer(firsts[0])
    assert list(world.app.contract(WHO, contract).invoices) == [str(resent.invoice.id)]


def test_a_submission_resent_while_the_first_is_saving_gets_the_first_answer(
    monkeypatch: pytest.MonkeyPatch, world: World
) -> None:
    ident = world.mandated("R-1")
    firsts: list[Outcome] = []
    first_request_runs_when_a_contract_is_read(
        monkeypatch, world, lambda: firsts.append(submission(world, ident, "key-1", 0)), before_the_read=True
    )

    resent = submission(world, ident, "key-1", 0)  # alone, it would be refused: the dossier is submitted already

    assert (resent.replayed, answer(resent)) == (True, answer(firsts[0]))
