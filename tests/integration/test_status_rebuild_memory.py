"""A status rebuild holds a page of memos in memory, not every dossier's: the others are spilled to its scratch
tables and read back when their dossier comes again; the result is the live view's. And a rebuild into scratch
tables up to a position, for an audit, then dropped."""

from __future__ import annotations

from typing import Any

import pytest

from application.read_models import status_projection
from domain.opco.opcos import Opco
from infrastructure.read_models import status_view
from infrastructure.read_models.scratch import drop_scratch, rebuild_into_scratch
from infrastructure.read_models.status_view import build_next, swap_in
from infrastructure.reference_data import idcc_routing
from tests.integration.status_support import CFA_A, Mix, Setup, create, mandate, realistic_mix, status_setup
from tests.integration.test_status_view import all_versions, in_effect, index_names, memos, rows_of
from tests.support import principal

ROUTING = idcc_routing()
PAGE = 3  # events read, and memos cached, at a time


@pytest.fixture
def setup(database_url: str) -> Any:
    with status_setup(database_url) as ready:
        yield ready


@pytest.fixture
def mix(setup: Setup, complete_cerfa: dict[str, Any], draft_cerfa: dict[str, Any]) -> Mix:
    made = realistic_mix(setup.app, complete_cerfa, draft_cerfa)
    # the first dossiers change again after every other one: a rebuild meets them long after they left its cache
    mandate(setup.app, CFA_A, made.ids["draft"])
    setup.app.choose_opco(principal(CFA_A), made.ids["checked"], Opco.ATLAS, None)
    setup.app.patch_cerfa(principal(CFA_A), made.ids["draft"], {"apprenti": {"nomUsage": "Durand"}}, None)
    assert setup.catch_up() > 0
    return made


def test_a_rebuild_keeps_a_page_of_memos_and_makes_what_the_live_view_made(setup: Setup, mix: Mix) -> None:
    live, live_memos, dashboard = rows_of(setup.view), memos(setup.store, "status"), setup.view.dashboard(None)
    drafts = [row for row in live if row.state in ("drafted", "mandate_checked")]
    built = build_next(setup.store, ROUTING, setup.app, batch_size=PAGE)
    assert 0 < built.peak_memos <= PAGE + 1 < len(mix.ids)  # the cache, and a chunk of a page's new dossiers
    assert built.counted == len(drafts)  # each once, at the end, however often it left the cache
    assert len(all_versions(setup.store, "status_next")) == len(mix.ids)  # one version each, rewritten if met again
    swapped = swap_in(setup.store, ROUTING)
    assert rows_of(swapped) == live
    assert memos(setup.store, "status") == live_memos
    assert swapped.dashboard(None) == dashboard


def test_a_page_of_memos_is_enough_for_a_dossier_held_by_a_rebuild(
    setup: Setup, complete_cerfa: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dossier whose shown Cerfa cannot be counted leaves the cache, comes back, leaves again: it is projected
    again event by event at the end, and held at the event where the live projection held it."""
    poisoned = create(setup.app, complete_cerfa, CFA_A, "HELD-3")
    others = [create(setup.app, complete_cerfa, CFA_A, f"OK-{n}") for n in range(4)]
    counted = status_projection.problem_count

    def failing(document: dict[str, Any], *args: Any) -> int:
        if "nomUsage" in document["apprenti"]:
            raise ValueError("a rule bug")
        return counted(document, *args)

    monkeypatch.setattr(status_projection, "problem_count", failing)
    monkeypatch.setattr(status_view, "problem_count", failing)
    setup.app.patch_cerfa(principal(CFA_A), poisoned, {"apprenti": {"nomUsage": "Durand"}}, None)
    for other in others:
        mandate(setup.app, CFA_A, other)
    setup.app.patch_cerfa(principal(CFA_A), poisoned, {"apprenti": {"nomUsage": "Dupont"}}, None)
    setup.catch_up()
    [held] = setup.view.held(CFA_A)
    live = rows_of(setup.view)

    built = build_next(setup.store, ROUTING, setup.app, batch_size=2)
    assert built.peak_memos <= 3
    rebuilt = swap_in(setup.store, ROUTING)
    assert rebuilt.held(CFA_A) == [held]
    assert rows_of(rebuilt) == live


def test_a_rebuild_into_scratch_tables_up_to_a_position_is_the_live_view_then_and_leaves_it(
    setup: Setup, mix: Mix, complete_cerfa: dict[str, Any]
) -> None:
    position = setup.view.position(setup.app.name)
    create(setup.app, complete_cerfa, CFA_A, "A-after")
    mandate(setup.app, CFA_A, mix.ids["draft"])
    setup.catch_up()
    live_versions = all_versions(setup.store, "status")

    scratch = rebuild_into_scratch(setup.store, setup.app, "status", position, routing=ROUTING)
    assert scratch.prefix == "status_audit"
    assert scratch.position(setup.app.name) == position
    expected = [(*version[:2], None, *version[3:]) for version in in_effect(setup.store, "status", position)]
    assert all_versions(setup.store, "status_audit") == expected  # each dossier's version then, still open
    assert all_versions(setup.store, "status") == live_versions  # the live tables untouched
    assert setup.view.position(setup.app.name) > position

    drop_scratch(setup.store, "status")
    assert index_names(setup.store, "status_audit") == []
    assert setup.store.columns("status_audit_versions") == set()
    assert scratch.position(setup.app.name) == 0  # its position went with them
    with pytest.raises(ValueError, match="not a temporal read model"):
        drop_scratch(setup.store, "transmissions")
