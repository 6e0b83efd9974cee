"""The invoices' read model on SQLite and PostgreSQL: projection, filters, tenancy, exactly-once walks while
invoices change, dashboard figures and attention reasons on both sides of their boundaries, held aggregates,
atomicity, stale batches, rebuild and swap, prune."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from application.access.access import OPERATOR, WORKER
from application.dossiers import Dossiers
from application.invoices.billing_profiles import BillingProfiles
from application.invoices.invoices import Invoices
from application.read_models.invoice_status import (
    InvoiceCursor,
    InvoiceCursorExpired,
    InvoiceFilter,
    InvoiceRow,
    StateFigures,
    Tally,
    ViewBehind,
)
from application.read_models.invoice_status_projection import TOPICS
from application.read_models.invoice_status_queries import InvoiceAttentionPolicy, InvoiceStatusQueries
from application.read_models.projections import Batch
from domain.invoicing.invoice import Invoice
from domain.opco.opco_catalogue import CATALOGUE
from domain.opco.opcos import Opco
from infrastructure.read_models import temporal_versions
from infrastructure.read_models.invoice_status_view import SqlInvoiceStatusView, build_next, swap_in
from infrastructure.read_models.projection_runner import ProjectionRunner
from infrastructure.read_models.scratch import drop_scratch, rebuild_into_scratch
from infrastructure.reference_data import idcc_routing
from infrastructure.store.sql_store import SqlStore, open_sql_store
from tests.invoicing import accepted_contract, echeancier, line
from tests.support import FixedClock, dossiers, principal, with_changes
from tests.unit.fakes import PlainBox

CFA_A = "79852413800012"
CFA_B = "44306184100047"
TODAY = date(2026, 11, 27)
OPENS = ("2026-06-01", "2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01")
EVERYTHING = InvoiceFilter()


@dataclass
class Setup:
    app: Dossiers
    invoices: Invoices
    store: SqlStore
    view: SqlInvoiceStatusView
    runner: ProjectionRunner

    def catch_up(self) -> int:
        return self.runner.catch_up()

    def rows(self, cfa: str | None = None, where: InvoiceFilter = EVERYTHING) -> list[InvoiceRow]:
        """Every row of one walk, by pages of 3 (so that paging is exercised too)."""
        page = self.view.page(cfa, where, 3, None)
        items = list(page.items)
        while page.next_cursor is not None:
            page = self.view.page(cfa, where, 3, page.next_cursor)
            items.extend(page.items)
        return items

    def queries(self, today: date, echeance_days: int = 30) -> InvoiceStatusQueries:
        policy = InvoiceAttentionPolicy(echeance_days=echeance_days)
        return InvoiceStatusQueries(self.view, FixedClock(today), self.app.name, policy, sleep=lambda _: None)


@pytest.fixture
def setup(database_url: str) -> Iterator[Setup]:
    app = dossiers(database_url, today=TODAY)
    store = open_sql_store(database_url)
    view = SqlInvoiceStatusView(store)
    runner = ProjectionRunner(app, "invoice_status", TOPICS, view.apply, lambda: view.position(app.name), 500)
    try:
        yield Setup(app, Invoices(app, CATALOGUE, app.clock, BillingProfiles(app, PlainBox())), store, view, runner)
    finally:
        store.close()
        app.close()


def contract(setup: Setup, document: dict[str, Any], cfa: str, numero: str, opco: Opco | None = None) -> UUID:
    cerfa = with_changes(document, organismeFormation={"siret": cfa})
    echeances = echeancier(opens=OPENS, total="1000.00")
    return accepted_contract(setup.app, principal(cfa), cerfa, numero, echeances=echeances, opco=opco).id


def draft(setup: Setup, cfa: str, numero: str, contract_id: UUID, echeance: int, amount: str) -> UUID:
    saved = setup.invoices.create(
        principal(cfa), numero_interne_facture=numero, invoice_date=TODAY, lines=[line(contract_id, echeance, amount)]
    )
    return saved.invoice.id


def as_worker(setup: Setup, ident: UUID, *commands: Callable[[Invoice], object]) -> None:
    def run(invoice: Invoice) -> None:
        for command in commands:
            command(invoice)

    setup.invoices.change_as_worker(ident, run)


def send(setup: Setup, cfa: str, ident: UUID, etat: str = "TRANSMISE") -> None:
    setup.invoices.submit(principal(cfa), ident)
    as_worker(
        setup,
        ident,
        lambda i: i.start_transmission(WORKER.actor),
        lambda i: i.record_sent(numero_externe=f"FX-{ident.hex[:4]}", etat=etat, found_by_lookup=False, actor="w"),
    )


def pay(setup: Setup, ident: UUID, total: str, etat: str) -> None:
    as_worker(
        setup,
        ident,
        lambda i: i.record_opco_payment(paid_total=Decimal(total), paid_on=TODAY, reference_virement="V", actor="w"),
        lambda i: i.record_opco_state(etat=etat, commentaire=None, numero_externe=None, actor="w"),
    )


@dataclass
class Mix:
    ids: dict[str, UUID]
    contracts: dict[str, UUID]

    def names(self, rows: list[InvoiceRow]) -> set[str]:
        found = {row.invoice_id for row in rows}
        return {name for name, ident in self.ids.items() if ident in found}


@pytest.fixture
def mix(setup: Setup, complete_cerfa: dict[str, Any]) -> Mix:
    """Invoices of CFA A in every state, on two contracts (ATLAS, CONSTRUCTYS); one invoice of CFA B."""
    contracts = {
        "A-1": contract(setup, complete_cerfa, CFA_A, "A-1"),
        "A-2": contract(setup, complete_cerfa, CFA_A, "A-2", Opco.CONSTRUCTYS),
        "B-1": contract(setup, complete_cerfa, CFA_B, "B-1"),
    }
    a1, a2 = contracts["A-1"], contracts["A-2"]
    ids = {
        "draft": draft(setup, CFA_A, "F-draft", a1, 1, "100.00"),
        "submitted": draft(setup, CFA_A, "F-sub", a1, 2, "200.00"),
        "sent": draft(setup, CFA_A, "F-sent", a1, 3, "300.00"),
        "partial": draft(setup, CFA_A, "F-part", a1, 4, "400.00"),
        "paid": draft(setup, CFA_A, "F-paid", a1, 5, "500.00"),
        "refused": draft(setup, CFA_A, "F-ref", a1, 6, "600.00"),
        "cancelled": draft(setup, CFA_A, "F-canc", a2, 1, "700.00"),
        "parked": draft(setup, CFA_A, "f-park", a2, 2, "800.00"),
        "accepted": draft(setup, CFA_A, "F-acc", a2, 3, "900.00"),
        "b_sent": draft(setup, CFA_B, "G-1", contracts["B-1"], 1, "50.00"),
    }
    setup.invoices.submit(principal(CFA_A), ids["submitted"])
    send(setup, CFA_A, ids["sent"])
    send(setup, CFA_A, ids["partial"])
    pay(setup, ids["partial"], "150.00", "REGLE_PARTIEL")
    send(setup, CFA_A, ids["paid"])
    pay(setup, ids["paid"], "500.00", "REGLE")
    setup.invoices.submit(principal(CFA_A), ids["refused"])
    as_worker(
        setup,
        ids["refused"],
        lambda i: i.start_transmission("w"),
        lambda i: i.record_refusal(["échéance inconnue"], "w"),
    )
    setup.invoices.cancel(principal(CFA_A), ids["cancelled"], "doublon")
    setup.invoices.submit(principal(CFA_A), ids["parked"])
    as_worker(
        setup,
        ids["parked"],
        lambda i: i.start_transmission("w"),
        lambda i: i.record_transmission_failure(error="timeout", transient=True, retry_at=None, actor="w"),
        lambda i: i.park_transmission("too many failures", "w"),
    )
    send(setup, CFA_A, ids["accepted"], etat="VALIDEE")
    send(setup, CFA_B, ids["b_sent"])
    assert setup.catch_up() > 0
    return Mix(ids, contracts)


def by_id(rows: list[InvoiceRow]) -> dict[UUID, InvoiceRow]:
    return {row.invoice_id: row for row in rows}


def sent_on(setup: Setup, mix: Mix) -> date:
    """The day (in France) the mix's invoices were sent: the events carry the real time."""
    days = {row.sent_on for row in setup.rows(None) if row.sent_on is not None}
    assert len(days) == 1  # made within a second or so (a run across midnight would need a retry)
    return days.pop()


def test_the_rows_are_as_the_aggregates_say(setup: Setup, mix: Mix) -> None:
    rows = by_id(setup.rows(None))
    assert set(rows) == set(mix.ids.values())
    for ident, row in rows.items():
        invoice = setup.invoices.invoice_as_worker(ident)
        assert (row.state, row.amount, row.paid, row.opco) == (
            invoice.state.value,
            invoice.amount,
            invoice.paid,
            invoice.opco,
        )
        assert (row.numero_externe, row.opco_state, row.updated_at) == (
            invoice.numero_externe,
            invoice.opco_state,
            invoice.modified_on,
        )
        assert row.contract_ids == tuple(invoice.contract_ids)
    states = {name: rows[ident].state for name, ident in mix.ids.items()}
    assert states == {
        "draft": "drafted",
        "submitted": "submitted",
        "sent": "sent",
        "partial": "partially_paid",
        "paid": "paid",
        "refused": "refused",
        "cancelled": "cancelled",
        "parked": "submitted",
        "accepted": "accepted",
        "b_sent": "sent",
    }
    partial = rows[mix.ids["partial"]]
    assert (partial.amount, partial.paid, partial.unpaid, partial.line_count) == (
        Decimal("400.00"),
        Decimal("150.00"),
        Decimal("250.00"),
        1,
    )
    assert rows[mix.ids["parked"]].parked is True
    assert rows[mix.ids["sent"]].numero_externe == f"FX-{mix.ids['sent'].hex[:4]}"
    assert rows[mix.ids["draft"]].sent_at is None
    newest_first = [row.position for row in setup.rows(None)]
    assert newest_first == sorted(newest_first, reverse=True)


def test_each_filter(setup: Setup, mix: Mix) -> None:
    def names(**where: Any) -> set[str]:
        return mix.names(setup.rows(CFA_A, InvoiceFilter(**where)))

    assert names(states=("sent",)) == {"sent"}
    assert names(states=("partially_paid", "paid")) == {"partial", "paid"}
    assert names(opco="CONSTRUCTYS") == {"cancelled", "parked", "accepted"}
    assert names(contract_id=mix.contracts["A-2"]) == {"cancelled", "parked", "accepted"}
    assert names(contract_id=mix.contracts["B-1"]) == set()  # another CFA's contract: nothing of CFA A
    assert names(numero_prefix="F-pa") == {"partial", "paid"}
    assert names(numero_prefix="F-") == set(mix.ids) - {"parked", "b_sent"}  # "f-park": case-sensitive
    assert names(numero_prefix="F_") == set()  # no wildcard
    assert names(numero_prefix="%") == set()
    assert names(parked=True) == {"parked"}
    assert names(parked=False) == set(mix.ids) - {"parked", "b_sent"}
    rows = by_id(setup.rows(None))
    since = rows[mix.ids["accepted"]].updated_at
    assert mix.names(setup.rows(None, InvoiceFilter(updated_since=since))) == {"accepted", "b_sent"}
    assert names(states=("submitted",), opco="CONSTRUCTYS", parked=True) == {"parked"}


def test_a_cfa_sees_its_own_invoices_and_the_operator_every_cfa(setup: Setup, mix: Mix) -> None:
    assert {row.cfa_siret for row in setup.rows(CFA_A)} == {CFA_A}
    assert mix.names(setup.rows(CFA_B)) == {"b_sent"}
    assert len(setup.rows(None)) == 10
    queries = setup.queries(TODAY)
    cfa_b = principal(CFA_B)
    assert mix.names(queries.page(cfa_b, EVERYTHING, 50, None).items) == {"b_sent"}
    assert queries.page(cfa_b, EVERYTHING, 50, None, cfa_siret=CFA_A).items == []  # another CFA: nothing
    assert mix.names(queries.page(cfa_b, EVERYTHING, 50, None, cfa_siret=CFA_B).items) == {"b_sent"}
    assert mix.names(queries.page(OPERATOR, EVERYTHING, 50, None, cfa_siret=CFA_B).items) == {"b_sent"}
    assert len(queries.page(OPERATOR, EVERYTHING, 50, None).items) == 10
    assert queries.dashboard(cfa_b).by_state == {"sent": StateFigures(1, Decimal("50.00"), Decimal("0.00"))}
    assert queries.dashboard(cfa_b, cfa_siret=CFA_A).by_state == {}
    late = setup.queries(sent_on(setup, mix) + timedelta(days=31))
    assert [item.invoice.numero_interne_facture for item in late.attention(cfa_b) if item.invoice] == ["G-1"]
    assert late.attention(cfa_b, cfa_siret=CFA_A) == []


def test_a_walk_returns_each_invoice_once_as_it_was_while_invoices_change(
    setup: Setup, complete_cerfa: dict[str, Any]
) -> None:
    contracts = [contract(setup, complete_cerfa, CFA_A, f"W-{n}") for n in range(3)]
    slots = iter([(c, n) for c in contracts for n in range(1, 7)])

    def new_invoice(numero: str) -> UUID:
        contract_id, echeance = next(slots)
        return draft(setup, CFA_A, numero, contract_id, echeance, "10.00")

    idents = [new_invoice(f"W-{n:02}") for n in range(14)]
    setup.catch_up()
    drafted = InvoiceFilter(states=("drafted",))
    page = setup.view.page(CFA_A, EVERYTHING, 4, None)
    pinned = page.as_of
    filtered = setup.view.page(CFA_A, drafted, 4, None)
    seen, seen_filtered = list(page.items), list(filtered.items)
    changed = 0
    while page.next_cursor is not None:
        # between pages: invoices not yet listed move to the top, listed ones change, new ones appear
        setup.invoices.submit(principal(CFA_A), idents[changed])
        setup.invoices.submit(principal(CFA_A), idents[-1 - changed])
        new_invoice(f"N-{changed}")
        changed += 1
        setup.catch_up()
        page = setup.view.page(CFA_A, EVERYTHING, 4, page.next_cursor)
        seen.extend(page.items)
        assert page.as_of == pinned
        assert filtered.next_cursor is not None
        filtered = setup.view.page(CFA_A, drafted, 4, filtered.next_cursor)
        seen_filtered.extend(filtered.items)
    assert changed == 3
    assert filtered.next_cursor is None
    assert sorted(row.invoice_id for row in seen) == sorted(idents)  # each once, none missing, none added
    assert sorted(row.invoice_id for row in seen_filtered) == sorted(idents)  # filtered as they were, too
    assert {row.state for row in seen} == {"drafted"}  # as they were when the walk began
    fresh = setup.rows(CFA_A)
    assert len(fresh) == 17
    assert sum(row.state == "submitted" for row in fresh) == 6
    assert [row.position for row in fresh] == sorted((row.position for row in fresh), reverse=True)


def test_a_walk_pinned_past_the_view_is_told_to_retry(setup: Setup, mix: Mix) -> None:
    head = setup.view.position(setup.app.name)
    with pytest.raises(ViewBehind):
        setup.view.page(CFA_A, EVERYTHING, 3, InvoiceCursor(head + 5, head, uuid4()))
    assert setup.view.page(CFA_A, EVERYTHING, 3, InvoiceCursor(head, head + 1, uuid4())).as_of == head


def test_the_dashboard(setup: Setup, mix: Mix) -> None:
    day = sent_on(setup, mix)
    board = setup.view.dashboard(CFA_A, day + timedelta(days=1), TODAY)
    assert board.by_state == {
        "drafted": StateFigures(1, Decimal("100.00"), Decimal("0.00")),
        "submitted": StateFigures(2, Decimal("1000.00"), Decimal("0.00")),
        "sent": StateFigures(1, Decimal("300.00"), Decimal("0.00")),
        "partially_paid": StateFigures(1, Decimal("400.00"), Decimal("150.00")),
        "paid": StateFigures(1, Decimal("500.00"), Decimal("500.00")),
        "refused": StateFigures(1, Decimal("600.00"), Decimal("0.00")),
        "cancelled": StateFigures(1, Decimal("700.00"), Decimal("0.00")),
        "accepted": StateFigures(1, Decimal("900.00"), Decimal("0.00")),
    }
    assert (board.invoiced, board.paid, board.unpaid) == (Decimal("2100.00"), Decimal("650.00"), Decimal("1450.00"))
    # sent, partially paid and accepted: unpaid 300 + 250 + 900
    assert board.overdue == Tally(3, Decimal("1450.00"), day)
    # A-1 échéance 6 (its invoice refused), A-2 échéances 1 (cancelled), 4, 5 and 6: 1000.00 each
    assert board.echeances_not_invoiced == Tally(5, Decimal("5000.00"), date(2026, 6, 1))
    assert (board.parked, board.as_of) == (1, setup.view.position(setup.app.name))
    everyone = setup.view.dashboard(None, day + timedelta(days=1), TODAY)
    assert everyone.invoiced == Decimal("2150.00")
    assert everyone.overdue == Tally(4, Decimal("1500.00"), day)
    assert everyone.echeances_not_invoiced.count == 10  # B-1: échéances 2 to 6


def test_overdue_starts_after_30_days_exactly(setup: Setup, mix: Mix) -> None:
    day = sent_on(setup, mix)
    on_the_30th = setup.queries(day + timedelta(days=30)).dashboard(principal(CFA_A))
    on_the_31st = setup.queries(day + timedelta(days=31)).dashboard(principal(CFA_A))
    assert on_the_30th.overdue == Tally(0, Decimal("0.00"), None)
    assert on_the_31st.overdue == Tally(3, Decimal("1450.00"), day)


def test_open_echeances_count_from_their_opening_day(setup: Setup, mix: Mix) -> None:
    day = sent_on(setup, mix)
    before = setup.view.dashboard(CFA_A, day, date(2026, 10, 31)).echeances_not_invoiced
    opening = setup.view.dashboard(CFA_A, day, date(2026, 11, 1)).echeances_not_invoiced
    assert before == Tally(3, Decimal("3000.00"), date(2026, 6, 1))  # the two opening on 11-01 not yet
    assert opening == Tally(5, Decimal("5000.00"), date(2026, 6, 1))


def reasons(items: list[Any]) -> dict[str, tuple[str, ...]]:
    named: dict[str, tuple[str, ...]] = {}
    for item in items:
        if item.kind == "invoice":
            named[item.invoice.numero_interne_facture] = item.reasons
        else:
            named[f"{item.echeance.numero_interne}/{item.echeance.numero}"] = item.reasons
    return named


def test_attention_unpaid_after_30_days_refused_and_parked_at_once(setup: Setup, mix: Mix) -> None:
    day = sent_on(setup, mix)
    on_the_30th = reasons(setup.queries(day + timedelta(days=30), echeance_days=400).attention(principal(CFA_A)))
    on_the_31st = reasons(setup.queries(day + timedelta(days=31), echeance_days=400).attention(principal(CFA_A)))
    assert on_the_30th == {"F-ref": ("invoice_refused",), "f-park": ("invoice_parked",)}
    assert on_the_31st == {
        "F-ref": ("invoice_refused",),
        "f-park": ("invoice_parked",),
        "F-sent": ("invoice_unpaid",),
        "F-part": ("invoice_unpaid",),
        "F-acc": ("invoice_unpaid",),
    }
    operator = reasons(setup.queries(day + timedelta(days=31), echeance_days=400).attention(OPERATOR))
    assert operator["G-1"] == ("invoice_unpaid",)


@pytest.mark.parametrize(("days", "today"), [(30, date(2026, 12, 1)), (10, date(2026, 11, 11))])
def test_attention_echeances_not_invoiced_after_n_days(setup: Setup, mix: Mix, days: int, today: date) -> None:
    """The latest échéances open on 2026-11-01: listed once open for more than N days, not on the N-th."""
    on_the_nth = reasons(setup.queries(today, echeance_days=days).attention(principal(CFA_A)))
    after = reasons(setup.queries(today + timedelta(days=1), echeance_days=days).attention(principal(CFA_A)))
    expected = {"A-2/1", "A-2/4", "A-2/5"}
    assert {name for name in on_the_nth if "/" in name} == expected
    assert {name for name in after if "/" in name} == expected | {"A-1/6", "A-2/6"}
    assert after["A-2/6"] == ("echeance_not_invoiced",)
    items = setup.queries(today + timedelta(days=1), echeance_days=days).attention(principal(CFA_A))
    [a2_first] = [
        i.echeance for i in items if i.echeance and (i.echeance.numero_interne, i.echeance.numero) == ("A-2", 1)
    ]
    assert (a2_first.remaining, a2_first.opens_on, a2_first.codification) == (
        Decimal("1000.00"),
        date(2026, 6, 1),
        "E1",
    )
    assert a2_first.apprentice_name == "MARTIN Léa"


def test_an_event_it_cannot_project_holds_its_invoice_and_the_batch_goes_on(setup: Setup, mix: Mix) -> None:
    stray = StrayEvent(uuid4(), datetime.now(UTC))
    target = mix.ids["draft"]
    setup.invoices.submit(principal(CFA_A), target)
    previous = setup.view.position(setup.app.name)
    notification, _numbered = setup.app.recorder.select_notifications(previous + 1, 10, topics=TOPICS)
    event = setup.app.mapper.to_domain_event(notification)
    setup.view.apply(
        Batch([(notification.id, stray), (notification.id, event)], previous, tracking(setup, notification.id))
    )
    assert by_id(setup.rows(None))[target].state == "submitted"  # the others flow
    [held] = setup.view.held(None)
    assert (held.aggregate_id, held.kind, held.event_type) == (stray.originator_id, "invoice", "Sent")
    assert "never drafted" in held.error
    assert setup.view.held(CFA_A) == []  # never seen: no CFA known


def test_a_held_invoice_is_shown_on_attention_as_last_projected(setup: Setup, mix: Mix) -> None:
    target = mix.ids["sent"]
    pay(setup, target, "100.00", "REGLE_PARTIEL")
    previous = setup.view.position(setup.app.name)
    notifications = setup.app.recorder.select_notifications(previous + 1, 10, topics=TOPICS)
    broken = [(n.id, Broken(setup.app.mapper.to_domain_event(n))) for n in notifications]
    setup.view.apply(Batch(broken, previous, tracking(setup, notifications[-1].id)))
    named = reasons(setup.queries(TODAY, echeance_days=400).attention(principal(CFA_A)))
    assert named["F-sent"] == ("projection_error",)
    assert by_id(setup.rows(CFA_A))[target].paid == Decimal("0.00")  # held at its last good version
    assert {h.kind for h in setup.view.held(CFA_A)} == {"invoice", "contract"}
    contract_items = [name for name, why in named.items() if why == ("projection_error",) and "/" in name]
    assert contract_items == ["A-1/1", "A-1/2", "A-1/3", "A-1/4", "A-1/5", "A-1/6"]


class Broken:
    """Wraps an event so that reading any of its data fails (named and timed as the real one)."""

    def __init__(self, event: Any) -> None:
        self.originator_id = event.originator_id
        self.timestamp = event.timestamp
        self.__class__ = type(type(event).__name__, (Broken,), {"__qualname__": type(event).__qualname__})

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"cannot read {name}")


def tracking(setup: Setup, position: int) -> Tracking:
    return Tracking(setup.app.name, position)


def test_a_failing_write_leaves_nothing_of_its_batch(
    setup: Setup, complete_cerfa: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    contract_id = contract(setup, complete_cerfa, CFA_A, "A-1")
    draft(setup, CFA_A, "F-1", contract_id, 1, "10.00")

    def broken(*_: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(temporal_versions, "save_memos", broken)  # the batch's last write
    with pytest.raises(RuntimeError):
        setup.catch_up()
    assert setup.view.position(setup.app.name) == 0
    assert setup.rows(None) == []
    assert setup.view.echeances([contract_id]) == []
    monkeypatch.undo()
    assert setup.catch_up() > 0
    assert [row.numero_interne_facture for row in setup.rows(None)] == ["F-1"]
    assert len(setup.view.echeances([contract_id])) == 6


def test_a_batch_read_from_a_stale_position_is_refused(setup: Setup, complete_cerfa: dict[str, Any]) -> None:
    contract_id = contract(setup, complete_cerfa, CFA_A, "A-1")
    draft(setup, CFA_A, "F-1", contract_id, 1, "10.00")
    stale = read_batch(setup)
    setup.catch_up()
    draft(setup, CFA_A, "F-2", contract_id, 2, "10.00")
    with pytest.raises(IntegrityError):
        setup.view.apply(stale)
    assert [row.numero_interne_facture for row in setup.rows(None)] == ["F-1"]


def read_batch(setup: Setup) -> Batch:
    previous = setup.view.position(setup.app.name)
    notifications = setup.app.recorder.select_notifications(previous + 1, 100, topics=TOPICS)
    events = [(n.id, setup.app.mapper.to_domain_event(n)) for n in notifications]
    return Batch(events, previous, tracking(setup, notifications[-1].id))


def test_a_rebuild_swapped_in_equals_the_live_view_despite_a_live_write_between(setup: Setup, mix: Mix) -> None:
    build_next(setup.store, setup.app, batch_size=4)
    setup.invoices.submit(principal(CFA_A), mix.ids["draft"])  # the live view goes on, on the old tables
    assert setup.catch_up() == 2  # SubmissionRequested and Numbered
    live_position = setup.view.position(setup.app.name)
    pay(setup, mix.ids["sent"], "300.00", "REGLE")
    in_flight = read_batch(setup)  # read from the live position, applied after the swap
    swapped = swap_in(setup.store)
    assert swapped.position(setup.app.name) < live_position
    with pytest.raises(IntegrityError):
        setup.view.apply(in_flight)
    assert setup.catch_up() > 0  # read again from the rebuilt position
    reference = SqlInvoiceStatusView(setup.store, "invoice_reference")
    ProjectionRunner(
        setup.app, "invoice_reference", TOPICS, reference.apply, lambda: reference.position("Dossiers")
    ).catch_up()
    assert table(setup.store, "invoice_status_versions") == table(setup.store, "invoice_reference_versions")
    assert table(setup.store, "invoice_status_echeances") == table(setup.store, "invoice_reference_echeances")
    assert table(setup.store, "invoice_status_contracts") == table(setup.store, "invoice_reference_contracts")
    assert by_id(setup.rows(None))[mix.ids["sent"]].state == "paid"
    assert len(setup.rows(None)) == 10
    build_next(setup.store, setup.app)  # a second rebuild finds its names free
    assert swap_in(setup.store).page(None, EVERYTHING, 100, None).items == setup.rows(None)


def table(store: SqlStore, name: str) -> list[tuple[Any, ...]]:
    with store.reading() as tx:
        return tx.query(f"SELECT * FROM {name} ORDER BY 1, 2")


def memos(store: SqlStore, name: str) -> dict[str, Any]:
    """A memo table's memos, opened: each is sealed under a fresh nonce, so two tables never hold the same bytes."""
    with store.reading() as tx:
        return {str(key): temporal_versions.open_memo(memo) for key, memo in tx.query(f"SELECT * FROM {name}")}


def test_prune_keeps_current_versions_and_expires_older_walks(setup: Setup, mix: Mix) -> None:
    first = setup.view.page(CFA_A, EVERYTHING, 2, None)
    assert first.next_cursor is not None
    setup.invoices.submit(principal(CFA_A), mix.ids["draft"])
    setup.catch_up()
    before = setup.rows(None)
    assert setup.view.prune(setup.view.position(setup.app.name)) > 0
    with pytest.raises(InvoiceCursorExpired):
        setup.view.page(CFA_A, EVERYTHING, 2, first.next_cursor)
    assert setup.rows(None) == before  # a new walk sees everything current
    assert setup.view.prune(0) == 0  # the horizon never goes back
    assert by_id(before)[mix.ids["draft"]].state == "submitted"


@dataclass(frozen=True)
class StrayEvent:
    """An event of an invoice the projection never saw drafted (named as a real event kind)."""

    originator_id: UUID
    timestamp: datetime


StrayEvent.__qualname__ = "Invoice.Sent"
StrayEvent.__name__ = "Sent"


def test_a_rebuild_holds_a_batch_of_memos_and_makes_every_version_the_live_view_made(setup: Setup, mix: Mix) -> None:
    """The invoices' rebuild keeps every version: it projects the log as a live view does, each batch's memos read
    from its scratch tables and written back, so no more than a batch's are in memory."""
    built = build_next(setup.store, setup.app, batch_size=3)
    assert 0 < built.peak_memos <= 3 < len(mix.ids) + len(mix.contracts)
    assert table(setup.store, "invoice_status_next_versions") == table(setup.store, "invoice_status_versions")
    assert table(setup.store, "invoice_status_next_echeances") == table(setup.store, "invoice_status_echeances")
    assert memos(setup.store, "invoice_status_next_memo") == memos(setup.store, "invoice_status_memo")


def test_a_rebuild_into_scratch_tables_up_to_a_position_is_the_live_view_then(setup: Setup, mix: Mix) -> None:
    position = setup.view.position(setup.app.name)
    setup.invoices.submit(principal(CFA_A), mix.ids["draft"])
    pay(setup, mix.ids["sent"], "300.00", "REGLE")
    setup.catch_up()
    live = table(setup.store, "invoice_status_versions")

    scratch = rebuild_into_scratch(setup.store, setup.app, "invoice_status", position, routing=idcc_routing())
    assert (scratch.prefix, scratch.position(setup.app.name)) == ("invoice_status_audit", position)
    then = [  # the live versions made by then, those closed later still open then (valid_to is the third column)
        (*version[:2], version[2] if version[2] is not None and version[2] <= position else None, *version[3:])
        for version in live
        if version[1] <= position
    ]
    assert table(setup.store, "invoice_status_audit_versions") == then
    assert table(setup.store, "invoice_status_versions") == live
    drop_scratch(setup.store, "invoice_status")
    assert setup.store.columns("invoice_status_audit_versions") == set()
