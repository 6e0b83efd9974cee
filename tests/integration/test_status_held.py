"""A dossier whose event the status projection cannot handle is held and reported; the others keep flowing."""

from __future__ import annotations

from typing import Any

import pytest

import infrastructure.read_models.status_view as status_view
from application.read_models import status_projection
from application.read_models.status_projection import advance
from infrastructure.read_models.status_view import rebuild_status_view
from infrastructure.reference_data import idcc_routing
from tests.integration.status_support import CFA_A, create, status_setup
from tests.support import principal


def test_a_failing_event_holds_its_dossier_only_until_a_rebuild(
    database_url: str, complete_cerfa: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with status_setup(database_url) as setup:
        poisoned = create(setup.app, complete_cerfa, CFA_A, "HELD-1")
        healthy = create(setup.app, complete_cerfa, CFA_A, "OK-1")
        setup.catch_up()

        def failing(event: Any, *args: Any, **options: Any) -> Any:
            if event.originator_id == poisoned and type(event).__name__ == "CerfaPatched":
                raise ValueError("a projection bug")
            return advance(event, *args, **options)

        monkeypatch.setattr(status_view, "advance", failing)
        who = principal(CFA_A)
        setup.app.patch_cerfa(who, poisoned, {"apprenti": {"nomUsage": "Durand"}}, None)
        setup.app.patch_cerfa(who, poisoned, {"apprenti": {"nomUsage": "Dupont"}}, None)  # waits behind the first
        setup.app.patch_cerfa(who, healthy, {"apprenti": {"nomUsage": "Leroy"}}, None)
        setup.catch_up()

        head = setup.app.recorder.max_notification_id()
        assert setup.view.position(setup.app.name) == head  # the read model went on
        [held] = setup.view.held(CFA_A)
        assert (held.contract_id, held.event_type) == (poisoned, "CerfaPatched")
        assert "a projection bug" in held.error
        assert setup.view.held("44306184100047") == []  # another CFA sees none of it
        rows = {r.contract_id: r for r in setup.rows(CFA_A)}
        assert rows[healthy].position > rows[poisoned].position  # the healthy one moved on, the held one did not

        # a rebuild with the bug still there holds it the same way, at the same version
        still = rebuild_status_view(setup.store, idcc_routing(), setup.app)
        assert still.held(CFA_A) == [held]
        assert {r.contract_id: r for r in setup.rows(CFA_A)} == rows

        monkeypatch.undo()  # the fix is deployed: a rebuild brings the held dossier up to date
        rebuilt = rebuild_status_view(setup.store, idcc_routing(), setup.app)
        assert rebuilt.held(CFA_A) == []
        [current] = rebuilt.current_rows([poisoned])
        assert current.position > held.position  # both patches projected, the one that failed and the next


@pytest.mark.parametrize("forked", [False, True], ids=["counted here", "counted in forked processes"])
def test_a_rebuild_that_cannot_count_a_shown_cerfa_holds_its_dossier_where_the_live_projection_did(
    database_url: str, complete_cerfa: dict[str, Any], monkeypatch: pytest.MonkeyPatch, forked: bool
) -> None:
    """A rebuild counts a draft's problems for its last version only; when that fails, the dossier's events are
    projected again one by one, as a live batch does, and it is held at the same event."""
    if forked:
        monkeypatch.setattr(status_view, "COUNTING_FROM_DRAFTS", 1)
        monkeypatch.setattr(status_view, "COUNTING_CHUNK", 1)
    with status_setup(database_url) as setup:
        poisoned = create(setup.app, complete_cerfa, CFA_A, "HELD-2")
        healthy = create(setup.app, complete_cerfa, CFA_A, "OK-2")
        setup.catch_up()
        counted = status_projection.problem_count

        def failing(document: dict[str, Any], *args: Any) -> int:
            if "nomUsage" in document["apprenti"]:
                raise ValueError("a rule bug")
            return counted(document, *args)

        monkeypatch.setattr(status_projection, "problem_count", failing)
        monkeypatch.setattr(status_view, "problem_count", failing)  # what the forked processes call
        who = principal(CFA_A)
        setup.app.patch_cerfa(who, poisoned, {"apprenti": {"nomUsage": "Durand"}}, None)
        setup.app.patch_cerfa(who, poisoned, {"apprenti": {"nomUsage": "Dupont"}}, None)
        setup.app.patch_cerfa(who, healthy, {"apprenti": {"telephone": "0611223344"}}, None)
        setup.catch_up()
        [held] = setup.view.held(CFA_A)
        assert (held.contract_id, held.event_type) == (poisoned, "CerfaPatched")
        live = {r.contract_id: r for r in setup.rows(CFA_A)}

        built = status_view.build_next(setup.store, idcc_routing(), setup.app)
        assert built.counted == 2
        rebuilt = status_view.swap_in(setup.store, idcc_routing())
        assert rebuilt.held(CFA_A) == [held]
        assert {r.contract_id: r for r in setup.rows(CFA_A)} == live
        assert live[healthy].position > live[poisoned].position
