"""Events stored before their modules moved into capability packages still resolve to their classes."""

from __future__ import annotations

import pytest
from eventsourcing.utils import resolve_topic

import application.topics
from application.access.access import ApiToken
from domain.contracts.contract import Contract
from domain.invoicing.billing_profile import BillingProfile
from domain.invoicing.invoice import Invoice
from domain.opco.opco_account import OpcoAccount


@pytest.mark.parametrize(
    ("former", "current"),
    [
        ("domain.contract:Contract.Drafted", f"{Contract.__module__}:Contract.Drafted"),
        ("domain.contract:Contract", f"{Contract.__module__}:Contract"),
        ("domain.invoice:Invoice.Numbered", f"{Invoice.__module__}:Invoice.Numbered"),
        (
            "domain.billing_profile:BillingProfile.NumberAllocated",
            f"{BillingProfile.__module__}:BillingProfile.NumberAllocated",
        ),
        ("domain.opco_account:OpcoAccount.ApiKeySet", f"{OpcoAccount.__module__}:OpcoAccount.ApiKeySet"),
        ("application.access:ApiToken.Issued", f"{ApiToken.__module__}:ApiToken.Issued"),
    ],
)
def test_a_former_topic_resolves_to_the_moved_class(former: str, current: str) -> None:
    assert current != former
    assert resolve_topic(former) is resolve_topic(current)


def test_every_former_module_maps_to_a_different_module_name() -> None:
    for former, module in application.topics.FORMER_MODULES.items():
        assert module.__name__ != former
        assert module.__name__.split(".")[-1] == former.split(".")[-1]


def test_a_stored_topic_filter_names_the_former_topic_too() -> None:
    current = f"{Contract.__module__}:Contract.Drafted"
    assert application.topics.stored_topics(current) == (current, "domain.contract:Contract.Drafted")


def test_the_package_that_took_a_former_module_name_still_resolves_its_own_topics() -> None:
    current = f"{ApiToken.__module__}:ApiToken.Issued"
    assert current.startswith("application.access.access:")
    assert resolve_topic(current) is resolve_topic("application.access:ApiToken.Issued")
    assert application.topics.stored_topics(current) == (current, "application.access:ApiToken.Issued")
