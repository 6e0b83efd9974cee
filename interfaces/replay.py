"""The proof that a restored store replays: every aggregate of the log loads, its sealed secrets open with the key,
and every read model rebuilds from the first event."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any
from uuid import UUID

import typer

from infrastructure.access.secret_box import FernetBox
from infrastructure.read_models.projection_runner import PROGRESS
from infrastructure.store.backup.archive import configured_key
from interfaces.bootstrap import Container

BATCH = 1000


@dataclass
class Replayed:
    aggregates: Counter[str] = field(default_factory=Counter)  # by type: Contract, Invoice, ApiToken, …
    sealed: int = 0  # sealed secrets opened
    read_models: dict[str, int] = field(default_factory=dict)  # position each was rebuilt to
    head: int = 0

    def summary(self) -> str:
        loaded = ", ".join(f"{count} {kind}" for kind, count in sorted(self.aggregates.items())) or "no aggregate"
        rebuilt = ", ".join(f"{name} to {position}" for name, position in self.read_models.items())
        return (
            f"replayed {self.head} events: {loaded} loaded; {self.sealed} sealed secrets opened;"
            f" read models rebuilt: {rebuilt}"
        )


def replay(container: Container) -> Replayed:
    from interfaces.cli import REBUILDS  # the CLI holds the list of read models, and registers this module's commands

    app, done = container.dossiers, Replayed()
    key = configured_key(container.settings)
    box = FernetBox(key) if key is not None else None
    with typer.progressbar(_originators(container, done), label="loading every aggregate", file=sys.stderr) as idents:
        for ident in idents:
            aggregate: object = app.repository.get(ident)
            done.aggregates[type(aggregate).__name__] += 1
            for sealed in _sealed(aggregate):
                if box is not None:
                    box.open(sealed)  # a ValueError naming the key when it is not the one that sealed it
                    done.sealed += 1
    for name, rebuild in REBUILDS.items():
        with typer.progressbar(length=done.head, label=f"rebuilding {name}", file=sys.stderr) as bar:
            token = PROGRESS.set(lambda position, bar=bar: bar.update(min(position, done.head) - bar.pos))  # type: ignore[misc]
            try:
                done.read_models[name] = rebuild(container).position(app.name)
            finally:
                PROGRESS.reset(token)
    return done


def _sealed(holder: object, depth: int = 0) -> Iterator[str]:
    """The sealed secrets an aggregate keeps: its `sealed_*` attributes, and those of the records it holds (the DPoP
    key's)."""
    for name, value in _attributes(holder).items():
        if name.startswith("sealed_") and isinstance(value, str):
            yield value
        elif is_dataclass(value) and depth == 0:
            yield from _sealed(value, depth + 1)


def _attributes(holder: object) -> dict[str, Any]:
    if is_dataclass(holder):
        return {item.name: getattr(holder, item.name) for item in fields(holder)}
    return dict(vars(holder))


def _originators(container: Container, done: Replayed) -> list[UUID]:
    recorder, seen, start = container.dossiers.recorder, dict[UUID, None](), 1
    while batch := recorder.select_notifications(start, BATCH):
        seen.update(dict.fromkeys(UUID(str(notification.originator_id)) for notification in batch))
        done.head = batch[-1].id
        start = done.head + 1
    return list(seen)
