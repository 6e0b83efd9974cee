"""The replay-and-chain part of `convergence audit verify`: the stored events, in (aggregate, version) order and a
page at a time, each checked against its digest, replayed onto its aggregate and the aggregate's invariants checked.
Only the aggregate being replayed is held: memory does not grow with the store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from application.audit.chain import GENESIS, chained_digest, id_field
from application.audit.invariants import invariants

# (originator, version, topic, state as stored, log position, stored digest or None)
StoredRow = tuple[UUID, int, str, bytes, int, bytes | None]


@dataclass(frozen=True, slots=True)
class Discrepancy:
    kind: str  # digest, missing-digest, orphan-digest, gap, replay, invariant, checkpoint, read-model
    subject: str  # what it is about: an aggregate and version, a checkpoint, a read model's row
    detail: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.subject}: {self.detail}"


@dataclass
class HistoryCheck:
    mapper: Mapper[UUID]
    replay: bool = True
    events: int = 0
    aggregates: Counter[str] = field(default_factory=Counter)
    found: list[Discrepancy] = field(default_factory=list)
    _current: UUID | None = None
    _version: int = 0
    _previous: bytes = GENESIS
    _id: bytes = b""
    _aggregate: Any = None
    _replaying: bool = True

    def feed(self, rows: Sequence[StoredRow]) -> None:
        for row in rows:
            self._check(*row)
        self.events += len(rows)

    def finish(self) -> list[Discrepancy]:
        self._close()
        return self.found

    def _check(
        self, originator: UUID, version: int, topic: str, state: bytes, position: int, digest: bytes | None
    ) -> None:
        if originator != self._current:
            self._close()
            self._current, self._version, self._previous, self._id = originator, 0, GENESIS, id_field(originator)
            self._aggregate, self._replaying = None, self.replay
        if version != self._version + 1:
            missing = f"versions {self._version + 1}–{version - 1} are missing"
            self._flag("gap", f"{originator} v{version}", f"follows version {self._version}: {missing}")
        expected = chained_digest(self._previous, self._id, version, topic, state)
        if digest is None:
            self._flag(
                "missing-digest",
                f"{originator} v{version}",
                f"the event at log position {position} has no digest (inserted?)",
            )
        elif digest != expected:
            self._flag(
                "digest",
                f"{originator} v{version}",
                f"the event at log position {position} does not match its digest (altered?)",
            )
        self._previous = digest if digest is not None else expected
        self._version = version
        if self._replaying:
            self._apply(StoredEvent(originator, version, topic, state))

    def _apply(self, stored: StoredEvent) -> None:
        before = getattr(self._aggregate, "state", None)
        try:
            event: Any = self.mapper.to_domain_event(stored)
            self._aggregate = event.mutate(self._aggregate)
        except Exception as error:
            self._flag(
                "replay", f"{stored.originator_id} v{stored.originator_version}", f"{type(error).__name__}: {error}"
            )
            self._replaying = False
            return
        for broken in invariants(self._aggregate, before, event):
            self._flag("invariant", f"{stored.originator_id} v{stored.originator_version}", broken)

    def _close(self) -> None:
        if self._current is not None:
            self.aggregates[type(self._aggregate).__name__ if self._aggregate is not None else "not replayed"] += 1

    def _flag(self, kind: str, subject: str, detail: str) -> None:
        self.found.append(Discrepancy(kind, subject, detail))
