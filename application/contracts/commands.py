"""How every command runs: load → apply → save in one transaction, safe to retry.

- `If-Match` (an expected version): a mismatch is refused (412) before anything is done, and so is a race lost at
  save time. Without it, a lost race is retried on the newer version: the caller did not condition on one.
- `Idempotency-Key` (an `IdempotentRequest`): the key's record is saved in the same transaction as the command's
  events, so a crash can leave both or neither, never a change without its record. A repeat of the request is
  answered with the resource as the first one left it, and nothing is applied again.
- A repeat that runs while the first is still saving may meet the first one's effect before its record: its own
  save loses the race, or the rules refuse it (the échéance is invoiced, the dossier is submitted already). Either
  way the key's record is read again first: if the first request was saved, its answer is this one's too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from application.access.idempotency import IdempotencyRecord, IdempotentRequest
from application.errors import ApplicationError, ConcurrentChange, IdempotencyKeyReused, VersionMismatch
from domain.errors import DomainError

A = TypeVar("A", bound=Aggregate)
CONFLICT_RETRIES = 3

# Reads the resource a command is about, at a version or the current one, refusing what the caller may not see.
Reader = Callable[[UUID, int | None], A]


@dataclass(frozen=True, slots=True)
class Outcome(Generic[A]):
    """The resource as the command left it, the log position of its last event (None when nothing changed), and
    whether this is the answer to an earlier request with the same Idempotency-Key."""

    aggregate: A
    position: int | None
    replayed: bool = False


def _nothing_else(_: Aggregate) -> Sequence[Aggregate]:
    return ()


class Commands:
    def __init__(self, app: Application[UUID]) -> None:
        self._app = app

    def change(
        self,
        read: Reader[A],
        ident: UUID,
        command: Callable[[A], object],
        *,
        expected_version: int | None = None,
        request: IdempotentRequest | None = None,
        with_it: Callable[[A], Sequence[Aggregate]] = _nothing_else,
    ) -> Outcome[A]:
        """Apply `command` to the resource `ident`; `with_it` names the other aggregates its change moves (saved
        in the same transaction)."""

        def attempt() -> tuple[A, list[Aggregate]]:
            aggregate = read(ident, None)
            if expected_version is not None and expected_version != aggregate.version:
                raise VersionMismatch(expected_version, aggregate.version)
            command(aggregate)
            if not aggregate.pending_events:
                return aggregate, []
            return aggregate, [aggregate, *with_it(aggregate)]

        def lost(_: A) -> ApplicationError | None:
            if expected_version is None:
                return None  # try again on the newer version
            current = read(ident, None).version
            if current == expected_version:
                return None  # the race was lost on another aggregate the change moves: try again
            return VersionMismatch(expected_version, current)

        return self._run(attempt, read, request, lost)

    def create(
        self,
        build: Callable[[], tuple[A, list[Aggregate]]],
        read: Reader[A],
        *,
        request: IdempotentRequest | None,
        collided: Callable[[A], ApplicationError | None],
    ) -> Outcome[A]:
        """Save a new resource built by `build` with the aggregates it moves. A save that fails on the store's
        keys is answered by `collided`: the error to raise (a duplicate), or None to build it again."""

        def attempt() -> tuple[A, list[Aggregate]]:
            aggregate, others = build()
            return aggregate, [aggregate, *others]

        return self._run(attempt, read, request, collided)

    def _run(
        self,
        attempt: Callable[[], tuple[A, list[Aggregate]]],
        read: Reader[A],
        request: IdempotentRequest | None,
        lost: Callable[[A], ApplicationError | None],
    ) -> Outcome[A]:
        if replay := self._replay(request, read):
            return replay
        for _ in range(CONFLICT_RETRIES):
            try:
                aggregate, pending = attempt()
            except (DomainError, ApplicationError):
                if replay := self._replay(request, read):
                    return replay
                raise
            changed = bool(pending)
            if request is not None:  # first, so that the last event saved is the change's, for X-Position
                pending.insert(0, request.record(aggregate))
            if not pending:
                return Outcome(aggregate, None)
            try:
                recordings = self._app.save(*pending)
            except IntegrityError:
                if replay := self._replay(request, read):
                    return replay
                if (refusal := lost(aggregate)) is not None:
                    raise refusal from None
                continue
            return Outcome(aggregate, recordings[-1].notification.id if changed else None)
        raise ConcurrentChange

    def _replay(self, request: IdempotentRequest | None, read: Reader[A]) -> Outcome[A] | None:
        """The answer already given to this request, if its record is saved; another request under its key is
        refused."""
        if request is None:
            return None
        try:
            record: IdempotencyRecord = self._app.repository.get(request.record_id)
        except AggregateNotFoundError:
            return None
        if record.fingerprint != request.fingerprint:
            raise IdempotencyKeyReused
        return Outcome(read(record.resource_id, record.resource_version), None, replayed=True)
