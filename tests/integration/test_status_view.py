"""The status read model on SQLite and PostgreSQL: projection, filters, tenancy, snapshot walks, dashboard,
attention, atomicity, rebuild and swap, prune."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from application.read_models.projections import Batch
from application.read_models.status import ContractFilter, Cursor, Page, StatusRow, list_item
from application.read_models.status_projection import TOPICS, CursorExpired
from domain.opco.opcos import Opco
from infrastructure.read_models import status_view, temporal_versions
from infrastructure.read_models.projection_runner import ProjectionRunner
from infrastructure.read_models.pruning import Pruner
from infrastructure.read_models.status_view import SqlStatusView, build_next, swap_in
from infrastructure.reference_data import idcc_routing
from infrastructure.store.sql_store import SqlStore
from tests.integration.status_support import (
    CFA_A,
    CFA_B,
    EVERYTHING,
    OTHER_EMPLOYER,
    Mix,
    Setup,
    create,
    mandate,
    realistic_mix,
    status_setup,
)
from tests.support import principal

ROUTING = idcc_routing()


@pytest.fixture
def setup(database_url: str) -> Any:
    with status_setup(database_url) as ready:
        yield ready


@pytest.fixture
def mix(setup: Setup, complete_cerfa: dict[str, Any], draft_cerfa: dict[str, Any]) -> Mix:
    made = realistic_mix(setup.app, complete_cerfa, draft_cerfa)
    assert setup.catch_up() > 0
    return made


def by_id(rows: list[StatusRow]) -> dict[UUID, StatusRow]:
    return {row.contract_id: row for row in rows}


def names(setup: Setup, mix: Mix, cfa: str | None = CFA_A, **where: Any) -> set[str]:
    found = {row.contract_id for row in setup.rows(cfa, ContractFilter(**where))}
    return {name for name, ident in mix.ids.items() if ident in found}


def test_a_realistic_mix_is_projected_as_the_aggregates_say(setup: Setup, mix: Mix) -> None:
    rows = by_id(setup.rows(None))
    assert set(rows) == set(mix.ids.values())
    for ident, row in rows.items():
        contract = setup.app.contract_as_worker(ident)
        opco = contract.effective_opco(ROUTING)
        assert (row.state, row.problem_count) == (contract.state.value, len(contract.problems(ROUTING)))
        assert (row.opco, row.cfa_siret, row.numero_interne) == (opco.value if opco else None, *row_ref(contract))
        assert row.position == max(row.position for row in rows.values() if row.contract_id == ident)
    accepted = rows[mix.ids["accepted"]]
    assert (accepted.commitment, accepted.numero_deca, accepted.opco_state) == (
        Decimal("1000.50"),
        f"D-{mix.ids['accepted'].hex[:6]}",
        "ENGAGE",
    )
    assert accepted.sent_at is not None
    assert accepted.submitted_at is not None
    assert accepted.created_at < accepted.submitted_at <= accepted.sent_at <= accepted.updated_at
    assert rows[mix.ids["checked"]].apprentice_name == "DUPRÉ-LEFÈVRE Éloïse"
    assert rows[mix.ids["parked"]].parked
    assert rows[mix.ids["sent"]].numero_externe == "X-SENT"
    newest_first = [row.position for row in setup.rows(None)]
    assert newest_first == sorted(newest_first, reverse=True)


def row_ref(contract: Any) -> tuple[str, str]:
    return contract.cfa_siret, contract.numero_interne


def test_tables_without_the_workplace_departement_are_refilled_with_it(setup: Setup, mix: Mix) -> None:
    """Tables made before the deposit deadline counted the employer's holidays lack the column: a process starting
    on them drops them, and the projection refills them from the log, each dossier with its département."""
    with setup.store.transaction() as tx:
        tx.execute("ALTER TABLE status_versions DROP COLUMN workplace_departement")
    view = SqlStatusView(setup.store, ROUTING)
    assert view.position(setup.app.name) == 0
    runner = ProjectionRunner(setup.app, "status", TOPICS, view.apply, lambda: view.position(setup.app.name))
    assert runner.catch_up() > 0
    rows = view.current_rows(list(mix.ids.values()))
    assert len(rows) == len(mix.ids)
    departements = {row.contract_id: row.workplace_departement for row in rows}
    assert departements[mix.ids["accepted"]] == "69"  # the complete example's employer is in Lyon
    assert departements[mix.ids["draft"]] is None  # the draft example gives no address


def test_each_filter(setup: Setup, mix: Mix) -> None:
    assert names(setup, mix, states=("accepted",)) == {"accepted", "accepted2"}
    assert names(setup, mix, states=("drafted", "cancelled")) == {"draft", "cancelled"}
    assert names(setup, mix, opco="AKTO") == {"checked"}
    assert names(setup, mix, employer_siret=OTHER_EMPLOYER) == {"checked"}
    assert names(setup, mix, formation_rncp="RNCP37680") == {"parked"}
    assert names(setup, mix, apprentice="lefevre") == {"checked", "parked"}  # any word's start, accents ignored
    assert names(setup, mix, apprentice="ÉLO dup") == {"checked"}  # every word must match
    assert names(setup, mix, apprentice="efevre") == set()  # a word's middle does not match
    assert names(setup, mix, apprentice="lea") == {"sent"}  # "Léa", not "Léon"
    assert names(setup, mix, apprentice="leo") == {"accepted2"}
    assert names(setup, mix, problems=True) == {"draft"}
    assert names(setup, mix, problems=False) == set(mix.ids) - {"draft", "b_draft", "b_accepted"}
    assert names(setup, mix, parked=True) == {"parked"}
    assert "parked" not in names(setup, mix, parked=False)
    since = by_id(setup.rows(None))[mix.ids["accepted2"]].updated_at
    assert names(setup, mix, None, updated_since=since) == {"accepted2", "cancelled", "b_accepted"}
    assert names(setup, mix, states=("accepted",), opco="ATLAS", apprentice="roux") == {"accepted2"}


def test_a_cfa_never_sees_another_cfas_dossiers(setup: Setup, mix: Mix) -> None:
    a_rows, b_rows = setup.rows(CFA_A), setup.rows(CFA_B)
    assert {row.cfa_siret for row in a_rows} == {CFA_A}
    assert {row.cfa_siret for row in b_rows} == {CFA_B}
    assert names(setup, mix, CFA_B) == {"b_draft", "b_accepted"}
    assert names(setup, mix, CFA_A, apprentice="martin lea") == {"sent"}
    assert names(setup, mix, None, apprentice="martin lea") == {"sent", "b_draft"}
    assert setup.view.dashboard(CFA_B).counts == {"drafted": {"ATLAS": 1}, "accepted": {"ATLAS": 1}}
    assert {row.cfa_siret for row in setup.view.attention_candidates(CFA_B, 10)} == {CFA_B}


def test_the_dashboard(setup: Setup, mix: Mix) -> None:
    board = setup.view.dashboard(CFA_A)
    assert board.counts == {
        "sent": {"ATLAS": 1},
        "drafted": {"ATLAS": 1},
        "mandate_checked": {"AKTO": 1},
        "submitted": {"ATLAS": 1},
        "accepted": {"ATLAS": 2},
        "cancelled": {"ATLAS": 1},
    }
    assert board.committed == Decimal("1250.75")
    assert board.parked == 1
    assert board.as_of == setup.view.position(setup.app.name)
    rows = by_id(setup.rows(CFA_A))
    assert board.oldest_pending == {
        state: min(row.updated_at for row in rows.values() if row.state == state)
        for state in ("sent", "drafted", "mandate_checked", "submitted")
    }
    everyone = setup.view.dashboard(None)
    assert everyone.committed == Decimal("2249.75")
    assert everyone.counts["accepted"] == {"ATLAS": 3}


def test_a_dossier_without_opco_is_counted_under_none(setup: Setup, complete_cerfa: dict[str, Any]) -> None:
    document = {**complete_cerfa, "employeur": {**complete_cerfa["employeur"], "codeIdcc": "9999"}}
    create(setup.app, document, CFA_A, "A-none")
    setup.catch_up()
    assert setup.view.dashboard(CFA_A).counts == {"drafted": {"none": 1}}
    assert setup.rows(CFA_A, ContractFilter(problems=True))[0].opco is None


def test_attention_candidates_oldest_first(setup: Setup, mix: Mix) -> None:
    candidates = setup.view.attention_candidates(CFA_A, 10)
    assert {row.contract_id for row in candidates} == {mix.ids[n] for n in ("draft", "checked", "parked")}
    assert [row.updated_at for row in candidates] == sorted(row.updated_at for row in candidates)
    assert len(setup.view.attention_candidates(None, 2)) == 2
    assert {row.contract_id for row in setup.view.attention_candidates(None, 10)} >= {mix.ids["b_draft"]}


def test_a_walk_returns_each_dossier_once_as_it_was_while_dossiers_change(
    setup: Setup, complete_cerfa: dict[str, Any]
) -> None:
    idents = [create(setup.app, complete_cerfa, CFA_A, f"W-{n:02}") for n in range(14)]
    setup.catch_up()
    page = setup.view.page(CFA_A, EVERYTHING, 4, None)
    seen = list(page.items)
    changed = 0
    while page.next_cursor is not None:
        # between pages: dossiers not yet listed move to the top, listed ones change, new ones appear
        mandate(setup.app, CFA_A, idents[changed])
        mandate(setup.app, CFA_A, idents[-1 - changed])
        create(setup.app, complete_cerfa, CFA_A, f"N-{changed}")
        changed += 1
        setup.catch_up()
        page = setup.view.page(CFA_A, EVERYTHING, 4, page.next_cursor)
        seen.extend(page.items)
    assert changed == 3
    assert sorted(row.contract_id for row in seen) == sorted(idents)  # each once, none missing, none added
    assert {row.state for row in seen} == {"drafted"}  # as they were at the walk's start
    fresh = setup.rows(CFA_A)
    assert len(fresh) == 17
    assert sum(row.state == "mandate_checked" for row in fresh) == 6


def test_the_apis_reads_from_a_coroutine_are_the_pages_and_dashboard_of_the_rows(setup: Setup, mix: Mix) -> None:
    """What GET /contracts and /dashboard read on the event loop (SqlStore.aquery: PostgreSQL's asynchronous
    connections, SQLite's worker thread) is what the synchronous reads give: each row's list item, page by page
    with the same cursors, the same counts, and a walk older than the pruned horizon refused."""
    wheres = [EVERYTHING, ContractFilter(states=("drafted", "mandate_checked")), ContractFilter(parked=True)]

    async def compare() -> None:
        try:
            for cfa in (CFA_A, CFA_B, None):
                for where in wheres:
                    cursor: Cursor | None = None
                    while True:
                        rows = setup.view.page(cfa, where, 2, cursor)
                        items = await setup.view.item_page(cfa, where, 2, cursor)
                        assert [json.loads(item) for item in items.items] == [list_item(r) for r in rows.items]
                        assert (items.next_cursor, items.as_of) == (rows.next_cursor, rows.as_of)
                        if rows.next_cursor is None:
                            break
                        cursor = rows.next_cursor
                assert await setup.view.adashboard(cfa) == setup.view.dashboard(cfa)
            first = await setup.view.item_page(CFA_A, EVERYTHING, 2, None)
            assert first.next_cursor is not None
            mandate(setup.app, CFA_A, mix.ids["draft"])
            setup.catch_up()
            setup.view.prune(setup.view.position(setup.app.name))
            with pytest.raises(CursorExpired):
                await setup.view.item_page(CFA_A, EVERYTHING, 2, first.next_cursor)
        finally:
            await setup.store.aclose()

    asyncio.run(compare())


def test_an_event_it_cannot_project_holds_its_dossier_and_the_batch_goes_on(
    setup: Setup, complete_cerfa: dict[str, Any]
) -> None:
    for n in range(3):
        create(setup.app, complete_cerfa, CFA_A, f"F-{n}")
    notifications = setup.app.recorder.select_notifications(1, 100, topics=TOPICS)
    events = [(n.id, setup.app.mapper.to_domain_event(n)) for n in notifications]
    stray = StrayEvent(uuid4(), datetime.now(UTC))
    batch = Batch([events[0], (events[1][0], stray), *events[1:]], 0, Tracking(setup.app.name, notifications[-1].id))
    setup.view.apply(batch)
    assert setup.view.position(setup.app.name) == notifications[-1].id
    assert len(setup.rows(None)) == 3
    [held] = setup.view.held(None)
    assert (held.contract_id, held.event_type) == (stray.originator_id, "MandateRecorded")
    assert "never drafted" in held.error


def test_a_failing_write_leaves_nothing_of_its_batch(
    setup: Setup, complete_cerfa: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        create(setup.app, complete_cerfa, CFA_A, f"W-{n}")

    def broken(*_: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(temporal_versions, "save_memos", broken)  # the batch's last write
    with pytest.raises(RuntimeError):
        setup.catch_up()
    assert setup.view.position(setup.app.name) == 0
    assert setup.rows(None) == []
    monkeypatch.undo()
    assert setup.catch_up() == 3
    assert len(setup.rows(None)) == 3


@dataclass(frozen=True)
class StrayEvent:
    """An event of a dossier the projection never saw drafted (named as a real event kind)."""

    originator_id: UUID
    timestamp: datetime


StrayEvent.__name__ = "MandateRecorded"


def test_a_batch_read_from_a_stale_position_is_refused(setup: Setup, complete_cerfa: dict[str, Any]) -> None:
    create(setup.app, complete_cerfa, CFA_A, "S-1")
    [first] = setup.app.recorder.select_notifications(1, 10, topics=TOPICS)
    stale = Batch([(first.id, setup.app.mapper.to_domain_event(first))], 0, Tracking(setup.app.name, first.id))
    setup.catch_up()
    create(setup.app, complete_cerfa, CFA_A, "S-2")
    with pytest.raises(IntegrityError):
        setup.view.apply(stale)
    assert len(setup.rows(None)) == 1


def test_a_rebuild_keeps_each_dossiers_version_at_its_position_and_carries_on_as_the_live_view(
    setup: Setup, mix: Mix, complete_cerfa: dict[str, Any]
) -> None:
    before = setup.view.page(None, EVERYTHING, 3, None)  # a walk pinned before the rebuild's position
    assert before.next_cursor is not None
    create(setup.app, complete_cerfa, CFA_A, "A-early")
    mandate(setup.app, CFA_A, mix.ids["draft"])
    setup.catch_up()
    rebuilt_at = build_next(setup.store, ROUTING, setup.app, batch_size=4).position(setup.app.name)
    assert rebuilt_at == (setup.app.recorder.max_notification_id() or 0) > before.as_of
    # the live projection goes on meanwhile, on the old tables
    setup.app.choose_opco(principal(CFA_A), mix.ids["draft"], Opco.AKTO, None)
    assert setup.catch_up() == 1
    live_position = setup.view.position(setup.app.name)
    ahead = setup.view.page(None, EVERYTHING, 3, None)  # pinned on the old tables, ahead of the rebuilt ones
    create(setup.app, complete_cerfa, CFA_B, "B-late")
    in_flight = read_batch(setup)  # read from the live position, applied after the swap
    swapped = swap_in(setup.store, ROUTING)
    assert swapped.position(setup.app.name) == rebuilt_at < live_position
    reference = SqlStatusView(setup.store, ROUTING, "reference")  # live all along, from the first event
    ProjectionRunner(setup.app, "reference", TOPICS, reference.apply, lambda: reference.position("Dossiers")).catch_up()

    # the rebuilt view: exactly the versions in effect at its position, every column (each still open)
    assert all_versions(setup.store, "status") == [
        (*version[:2], None, *version[3:]) for version in in_effect(setup.store, "reference", rebuilt_at)
    ]
    assert rows_of(swapped) == rows_at(reference, rebuilt_at)
    # walks pinned before the swap are refused, those started after it see each dossier once
    for walk in (before, ahead):
        assert walk.next_cursor is not None
        with pytest.raises(CursorExpired):
            swapped.page(None, EVERYTHING, 3, walk.next_cursor)
    after = swapped.page(None, EVERYTHING, 3, None)
    assert after.as_of == rebuilt_at
    with pytest.raises(IntegrityError):
        setup.view.apply(in_flight)
    assert setup.catch_up() == 2  # read again from the rebuilt position
    assert walk_on(swapped, after) == rows_at(reference, rebuilt_at)

    # it carries on as the live one: the same versions from its position on (every column), rows, memos, counts
    assert all_versions(setup.store, "status") == since(setup.store, "reference", rebuilt_at)
    assert setup.rows(None) == rows_of(reference)
    assert len(setup.rows(None)) == 11
    assert memos(setup.store, "status") == memos(setup.store, "reference")
    assert setup.view.dashboard(None) == reference.dashboard(None)
    assert walk_on(swapped, ahead) == rows_at(reference, ahead.as_of)  # pinned at a position it has now reached
    assert index_names(setup.store, "status_next") == []
    assert "status_versions_current" in index_names(setup.store, "status")
    build_next(setup.store, ROUTING, setup.app)  # a second rebuild finds its names free
    assert rows_of(swap_in(setup.store, ROUTING)) == rows_of(reference)


def test_a_rebuild_counting_its_drafts_in_forked_processes_counts_as_the_live_view(
    setup: Setup, mix: Mix, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(status_view, "COUNTING_FROM_DRAFTS", 1)
    monkeypatch.setattr(status_view, "COUNTING_CHUNK", 2)
    live, live_memos = setup.rows(None), memos(setup.store, "status")
    drafts = [row for row in live if row.state in ("drafted", "mandate_checked")]
    assert len(drafts) > 2
    assert build_next(setup.store, ROUTING, setup.app).counted == len(drafts)
    assert rows_of(swap_in(setup.store, ROUTING)) == live
    assert memos(setup.store, "status") == live_memos


def test_the_rebuilds_decoder_reads_every_event_as_the_applications_mapper(setup: Setup, mix: Mix) -> None:
    fast = status_view._fast_mapper(setup.app.mapper)
    assert isinstance(fast.transcoder, status_view.OrjsonTranscoder)
    notifications = setup.app.recorder.select_notifications(1, 1000)
    assert len(notifications) > 30
    for notification in notifications:
        ours, theirs = fast.to_domain_event(notification), setup.app.mapper.to_domain_event(notification)
        assert type(ours) is type(theirs)
        assert vars(ours) == vars(theirs)
    decoded_once = False
    for text in (
        b'{"a": [1, {"_type_": "decimal_str", "_data_": "1.50"}], "b": {"_type_": "uuid_hex", "_data_": "%s"}}'
        % (b"0" * 32),
        b'{"unknown": {"_type_": "nothing_known", "_data_": 1}}',
        b'{"big": [123456789012345678901234567890, -9223372036854775809], "u64": 18446744073709551615}',
        b'{"nan": NaN, "inf": 1e400, "float": 1.5e300, "nested": {"_type_": "date_iso", "_data_": "2026-11-27"}}',
        b"123456789012345678901234567890",
    ):
        try:
            expected = setup.app.mapper.transcoder.decode(text)
        except Exception as error:
            with pytest.raises(type(error)):
                fast.transcoder.decode(text)
            continue
        decoded = fast.transcoder.decode(text)
        assert repr(decoded) == repr(expected)  # NaN included, and the integers' types
        decoded_once = True
    assert decoded_once


def in_effect(store: SqlStore, prefix: str, position: int) -> list[tuple[Any, ...]]:
    """The versions in effect at `position` (valid_from, valid_to: the second and third columns)."""
    return [version for version in since(store, prefix, position) if version[1] <= position]


def since(store: SqlStore, prefix: str, position: int) -> list[tuple[Any, ...]]:
    """The versions in effect at `position` or made after it."""
    return [version for version in all_versions(store, prefix) if version[2] is None or version[2] > position]


def rows_at(view: SqlStatusView, as_of: int) -> list[StatusRow]:
    """Every row of a walk pinned at `as_of`, from before its first row."""
    return walk_on(view, Page([], Cursor(as_of, 2**62, UUID(int=2**128 - 1)), as_of))


def walk_on(view: SqlStatusView, page: Page) -> list[StatusRow]:
    """The page's rows and the rest of its walk, by pages of 3."""
    items = list(page.items)
    while page.next_cursor is not None:
        page = view.page(None, EVERYTHING, 3, page.next_cursor)
        items.extend(page.items)
    return items


def memos(store: SqlStore, prefix: str) -> dict[str, Any]:
    """The memos, opened: sealed when a keyring is set (by any container bootstrapped in this process)."""
    with store.transaction() as tx:
        rows = tx.query(f"SELECT contract_id, memo FROM {prefix}_memo")
    return {key: temporal_versions.open_memo(memo) for key, memo in rows}


def read_batch(setup: Setup) -> Batch:
    previous = setup.view.position(setup.app.name)
    notifications = setup.app.recorder.select_notifications(previous + 1, 100, topics=TOPICS)
    events = [(n.id, setup.app.mapper.to_domain_event(n)) for n in notifications]
    return Batch(events, previous, Tracking(setup.app.name, notifications[-1].id))


def rows_of(view: SqlStatusView) -> list[StatusRow]:
    items: list[StatusRow] = []
    page = view.page(None, EVERYTHING, 100, None)
    items.extend(page.items)
    assert page.next_cursor is None
    return items


def all_versions(store: SqlStore, prefix: str) -> list[tuple[Any, ...]]:
    with store.transaction() as tx:
        return tx.query(f"SELECT * FROM {prefix}_versions ORDER BY contract_id, valid_from")


def index_names(store: SqlStore, prefix: str) -> list[str]:
    with store.transaction() as tx:
        if store.dialect == "postgresql":
            rows = tx.query("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        else:
            rows = tx.query("SELECT name FROM sqlite_master WHERE type = 'index'")
    return sorted(r[0] for r in rows if r[0].startswith(f"{prefix}_"))


def test_prune_keeps_current_versions_and_expires_older_walks(setup: Setup, mix: Mix) -> None:
    first = setup.view.page(CFA_A, EVERYTHING, 2, None)
    assert first.next_cursor is not None
    mandate(setup.app, CFA_A, mix.ids["draft"])
    setup.catch_up()
    before = setup.rows(None)
    assert setup.view.prune(setup.view.position(setup.app.name)) > 0
    with pytest.raises(CursorExpired):
        setup.view.page(CFA_A, EVERYTHING, 2, first.next_cursor)
    assert setup.rows(None) == before  # a new walk sees everything current
    assert setup.view.prune(0) == 0  # the horizon never goes back
    changed = [row for row in before if row.contract_id == mix.ids["draft"]]
    assert changed[0].state == "mandate_checked"
    assert changed[0].problem_count > 0


def test_the_scheduled_prune_refuses_walks_older_than_the_retention_only(
    setup: Setup, mix: Mix, complete_cerfa: dict[str, Any]
) -> None:
    now = [0.0]
    pruner = Pruner({"status": setup.view}, setup.app.name, keep_seconds=600, monotonic=lambda: now[0])
    old_walk = setup.view.page(CFA_A, EVERYTHING, 2, None)
    mandate(setup.app, CFA_A, mix.ids["draft"])  # closes the draft's version after the old walk's position
    setup.catch_up()
    assert pruner.run_once() == 0  # t = 0: the position sampled
    recent_walk = setup.view.page(CFA_A, EVERYTHING, 2, None)
    expected = sorted(row.contract_id for row in setup.rows(CFA_A))
    now[0] = 300
    create(setup.app, complete_cerfa, CFA_A, "P-1")
    setup.catch_up()
    assert pruner.run_once() == 0  # nothing sampled 600 s ago yet
    now[0] = 600
    assert pruner.run_once() > 0  # up to the position of t = 0
    assert old_walk.next_cursor is not None
    assert recent_walk.next_cursor is not None
    with pytest.raises(CursorExpired):
        setup.view.page(CFA_A, EVERYTHING, 2, old_walk.next_cursor)
    seen, page = list(recent_walk.items), recent_walk
    while page.next_cursor is not None:
        page = setup.view.page(CFA_A, EVERYTHING, 2, page.next_cursor)
        seen.extend(page.items)
    assert sorted(row.contract_id for row in seen) == expected  # the walk begun after it: each dossier once


def test_the_operator_walks_every_cfa(setup: Setup, mix: Mix) -> None:
    rows = setup.rows(None, ContractFilter(states=("accepted",)))
    assert {row.cfa_siret for row in rows} == {CFA_A, CFA_B}
    assert len(rows) == 3
    assert {row.opco for row in setup.rows(None, ContractFilter(opco=Opco.AKTO.value))} == {"AKTO"}


def counted_from_rows(rows: list[StatusRow]) -> tuple[dict[str, dict[str, int]], Decimal, int]:
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        group = counts.setdefault(row.state, {})
        group[row.opco or "none"] = group.get(row.opco or "none", 0) + 1
    committed = sum((row.commitment or Decimal(0) for row in rows if row.state == "accepted"), Decimal(0))
    return counts, committed, sum(row.parked for row in rows)


def test_the_dashboard_counts_follow_every_change_and_survive_a_rebuild(
    setup: Setup, mix: Mix, complete_cerfa: dict[str, Any]
) -> None:
    mandate(setup.app, CFA_A, mix.ids["draft"])
    create(setup.app, complete_cerfa, CFA_B, "B-more")
    setup.catch_up()
    for cfa in (CFA_A, CFA_B, None):
        board = setup.view.dashboard(cfa)
        assert (board.counts, board.committed, board.parked) == counted_from_rows(setup.rows(cfa))
    live = setup.view.dashboard(None)
    build_next(setup.store, ROUTING, setup.app, batch_size=4)  # built without counts, counted by the swap
    rebuilt = swap_in(setup.store, ROUTING).dashboard(None)
    assert (rebuilt.counts, rebuilt.committed, rebuilt.parked, rebuilt.oldest_pending) == (
        live.counts,
        live.committed,
        live.parked,
        live.oldest_pending,
    )
