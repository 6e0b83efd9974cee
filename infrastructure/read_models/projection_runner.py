"""Follows the application's notification log into a projection, on any store (SQLite has no subscriptions).

Events are handled in batches with the position of the batch's last event; the view writes the batch and the
position in one transaction, so a crash never loses or doubles an update and a restart resumes where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking

from application.read_models.projections import Batch

log = logging.getLogger("convergence.projections")


PROGRESS: ContextVar[Callable[[int], None] | None] = ContextVar("projection_progress", default=None)
"""Told the position reached after each batch of a catch-up: how `convergence projections rebuild` shows progress."""


class ProjectionRunner:
    def __init__(
        self,
        app: Application[UUID],
        name: str,
        topics: Sequence[str],
        handle: Callable[[Batch], None],
        position: Callable[[], int],
        batch_size: int = 500,
    ) -> None:
        self.app = app
        self.name = name
        self._topics = tuple(topics)
        self._handle = handle
        self._position = position
        self._batch_size = batch_size

    def catch_up(self, stop: int | None = None) -> int:
        """Process every event recorded after the view's position (up to position `stop`, if given); the number
        processed."""
        processed = 0
        while True:
            batch, complete = self.next_batch(self._position(), stop)
            if batch is not None:
                # one transaction for the batch, its position the last event's: all of it is applied, or none
                self._handle(batch)
                processed += len(batch.events)
                if (progress := PROGRESS.get()) is not None:
                    progress(batch.tracking.notification_id)
            if complete:
                return processed

    def next_batch(self, previous: int, stop: int | None = None) -> tuple[Batch | None, bool]:
        """The batch after position `previous` (None: the view is there already), and whether it reaches the log's
        head, or `stop` (nothing else to read). A batch's position is its last event's, from which the next one
        is read."""
        head = self.app.recorder.max_notification_id() or 0  # read first: every event up to it is committed
        if stop is not None:
            head = min(head, stop)
        notifications = self.app.recorder.select_notifications(
            previous + 1, self._batch_size, stop=stop, topics=self._topics
        )
        last = notifications[-1].id if notifications else previous
        complete = len(notifications) < self._batch_size
        # A short batch means nothing else up to the head concerns this read model: its position moves to
        # the head, so that its lag counts only what it has left to do.
        position = max(last, head) if complete else last
        if position <= previous:
            return None, complete
        events = [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]
        return Batch(events, previous, Tracking(self.app.name, position)), complete

    def lag(self) -> int:
        head = self.app.recorder.max_notification_id() or 0
        return max(0, head - self._position())
