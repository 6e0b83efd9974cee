"""Invoice numbers racing, on SQLite and PostgreSQL: each submission takes the next number of its CFA's sequence in
its own transaction, so that no two invoices share a number and no number is lost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from uuid import uuid4

from application.errors import ConcurrentChange
from domain.invoicing.billing_profile import billing_profile_id
from tests.invoicing import CFA, accepted_contract, echeancier, line
from tests.support import container, principal

T = TypeVar("T")
RACERS = 6
OPENS = ("2026-06-01", "2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01")


def all_at_once(calls: list[Callable[[], T]]) -> list[T | Exception]:
    start = threading.Barrier(len(calls))
    outcomes: list[T | Exception] = []

    def race(call: Callable[[], T]) -> None:
        start.wait()
        try:
            outcomes.append(call())
        except Exception as error:
            outcomes.append(error)

    threads = [threading.Thread(target=race, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def assert_sequence(numbers: list[str], count: int) -> None:
    assert sorted(numbers) == [f"FAC-2026-{n:05d}" for n in range(1, count + 1)]


def test_allocations_at_once_give_each_invoice_its_own_number_without_gaps(
    database_url: str, complete_cerfa: dict[str, Any]
) -> None:
    services = container(database_url)
    try:
        accepted_contract(services.dossiers, principal(CFA), complete_cerfa)  # sets the CFA's billing profile
        billing = services.invoices.billing
        invoices = [uuid4() for _ in range(RACERS)]
        outcomes = all_at_once([lambda i=i: billing.allocate(CFA, i, "test") for i in invoices])  # type: ignore[misc]
        assert all(not isinstance(o, Exception) or isinstance(o, ConcurrentChange) for o in outcomes), outcomes
        profile = billing.profile(CFA)
        assert profile is not None
        allocated = len(profile.allocations)
        assert allocated == sum(not isinstance(o, Exception) for o in outcomes)
        assert_sequence(list(profile.allocations.values()), allocated)
        assert profile.next_number == allocated + 1
        events = list(services.dossiers.repository.event_store.get(billing_profile_id(CFA)))
        assert len(events) == 2 + allocated  # opened, set, one event per number: nothing else written
    finally:
        services.close()


def test_invoices_submitted_at_once_under_if_match_each_take_the_next_number(
    database_url: str, complete_cerfa: dict[str, Any]
) -> None:
    services = container(database_url)
    try:
        who = principal(CFA)
        contract = accepted_contract(services.dossiers, who, complete_cerfa, echeances=echeancier(opens=OPENS))
        drafted = [
            services.invoices.create(
                who,
                numero_interne_facture=f"N-{n}",
                invoice_date=date(2026, 11, 27),
                lines=[line(contract.id, n, "100.00")],
            ).invoice
            for n in range(1, len(OPENS) + 1)
        ]
        outcomes = all_at_once(
            [
                lambda i=invoice: services.invoices.submit(who, i.id, expected_version=i.version)  # type: ignore[misc]
                for invoice in drafted
            ]
        )
        # another invoice's submission moving the profile is no reason to refuse this one's If-Match
        assert all(not isinstance(o, Exception) or isinstance(o, ConcurrentChange) for o in outcomes), outcomes
        submitted = [services.invoices.invoice(who, i.id) for i in drafted]
        numbers = [i.numero for i in submitted]
        for invoice, number in zip(submitted, numbers, strict=True):
            assert (invoice.state.value == "submitted") == (number is not None)
        taken = [n for n in numbers if n is not None]
        assert len(taken) == sum(not isinstance(o, Exception) for o in outcomes) >= 1
        assert_sequence(taken, len(taken))
    finally:
        services.close()
