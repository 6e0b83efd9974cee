"""The scheduled prune: a view is pruned up to the position it had `keep_seconds` ago, never a newer one."""

from __future__ import annotations

from infrastructure.read_models.invoice_status_view import LIVE as LIVE_INVOICE_STATUS
from infrastructure.read_models.pruning import Pruner
from infrastructure.read_models.status_view import LIVE as LIVE_STATUS
from interfaces.bootstrap import bootstrap
from tests.support import settings


class View:
    def __init__(self) -> None:
        self.at = 0
        self.pruned: list[int] = []

    def position(self, application_name: str) -> int:
        assert application_name == "Dossiers"
        return self.at

    def prune(self, keep_after_position: int) -> int:
        self.pruned.append(keep_after_position)
        return 3


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_view_is_pruned_up_to_its_position_of_keep_seconds_ago() -> None:
    status, invoices, clock = View(), View(), Clock()
    pruner = Pruner({"status": status, "invoice_status": invoices}, "Dossiers", keep_seconds=600, monotonic=clock)
    for minute in range(10):  # positions sampled every minute; none is 600 s old yet
        status.at, invoices.at = 100 + minute, 50 + minute
        assert pruner.run_once() == 0
        clock.now += 60
    assert (status.pruned, invoices.pruned) == ([], [])

    status.at, invoices.at = 200, 80
    assert pruner.run_once() == 6  # now 600 s after the first sample: that one, not a newer
    assert (status.pruned, invoices.pruned) == ([100], [50])

    clock.now += 179  # the samples taken 60 s and 120 s after the first are due now: the newer one counts
    assert pruner.run_once() == 6
    assert (status.pruned, invoices.pruned) == ([100, 102], [50, 52])


def test_after_a_quiet_spell_the_latest_old_enough_position_is_pruned() -> None:
    status, clock = View(), Clock()
    pruner = Pruner({"status": status}, "Dossiers", keep_seconds=60, monotonic=clock)
    status.at = 10
    pruner.run_once()
    clock.now += 30
    status.at = 20
    pruner.run_once()
    clock.now += 3600  # the worker was stopped: both samples are old, the newer one wins
    status.at = 90
    assert pruner.run_once() == 3
    assert status.pruned == [20]
    assert pruner.run_once() == 0  # the sample just taken is not due yet


def test_the_worker_prunes_both_temporal_read_models_after_the_configured_retention() -> None:
    services = bootstrap(settings("memory://", walk_retention_seconds=120, prune_interval_seconds=5))
    try:
        pruner = services.worker.pruner
        assert pruner is not None
        assert pruner.views == {LIVE_STATUS: services.status_view, LIVE_INVOICE_STATUS: services.invoice_status_view}
        assert pruner.keep_seconds == 120
    finally:
        services.close()
