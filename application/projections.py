"""What a projection receives from the notification log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Tracking


@dataclass(frozen=True, slots=True)
class Batch:
    """Consecutive events of the log (matching the projection's topics), each with its position.

    `previous` is the view's position when the batch was read: a view refuses a batch whose `previous` is not its
    position any more (another runner, or a rebuild, moved it), so that no event is skipped or applied twice."""

    events: list[tuple[int, Any]]
    previous: int
    tracking: Tracking
