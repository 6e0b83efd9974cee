"""The copy the repository makes of a cached aggregate for each command (domain.copying): equal to the original,
sharing nothing mutable with it, so that a command that fails after changing its copy leaves the cache as it was."""

from __future__ import annotations

import copy
import importlib
import json
import pkgutil
from pathlib import Path

from eventsourcing.domain import Aggregate

import application
import domain
from domain.contracts.contract import Contract
from domain.copying import CopiedByPickle
from tests.invoicing import CFA, accepted_contract
from tests.support import dossiers, principal

DOCUMENT = json.loads(Path("docs/examples/cerfa-complete.json").read_text(encoding="utf-8"))


def test_a_contract_copy_is_equal_and_independent() -> None:
    app = dossiers()
    contract: Contract = app.repository.get(accepted_contract(app, principal(CFA), DOCUMENT).id)

    copied = copy.deepcopy(contract)

    assert type(copied) is Contract
    assert copied.__dict__ == contract.__dict__
    copied.cerfa["apprenti"]["nom"] = "Changé"
    copied.echeances[0]["montantTotal"] = "0.00"
    assert contract.cerfa["apprenti"]["nom"] == DOCUMENT["apprenti"]["nom"]
    assert contract.echeances[0]["montantTotal"] != "0.00"


def test_a_command_that_fails_after_changing_its_copy_leaves_the_cached_contract_as_it_was() -> None:
    app = dossiers()
    ident = accepted_contract(app, principal(CFA), DOCUMENT).id
    cached: Contract = app.repository.get(ident)
    before = dict(cached.__dict__)

    loaded: Contract = app.repository.get(ident)
    loaded.cerfa["contrat"]["typeContratApp"] = 99  # a command's change, never saved
    loaded.echeances.pop()

    again: Contract = app.repository.get(ident)
    assert again.__dict__ == before
    assert again.cerfa["contrat"]["typeContratApp"] == DOCUMENT["contrat"]["typeContratApp"]


def test_every_aggregate_of_the_service_is_copied_by_pickle() -> None:
    """A new aggregate class without the mixin would be copied by copy.deepcopy again (1.7 times as slow)."""
    for package in (domain, application):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    ours = [
        cls
        for cls in _subclasses(Aggregate)
        if cls.__module__.startswith(("domain.", "application.")) and "." not in cls.__qualname__
    ]
    assert len(ours) >= 11
    assert [cls.__qualname__ for cls in ours if not issubclass(cls, CopiedByPickle)] == []


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    sub: type
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found
