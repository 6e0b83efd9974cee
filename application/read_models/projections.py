"""What a projection receives from the notification log, and how a reader waits for a read model to catch up."""

from __future__ import annotations

import time
from collections.abc import Callable
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


def wait_for_position(
    position_of: Callable[[], int], position: int, timeout: float, sleep: Callable[[float], None] = time.sleep
) -> bool:
    """Read-your-writes: True once the read model's position reaches `position`, False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while position_of() < position:
        if time.monotonic() >= deadline:
            return False
        sleep(0.02)
    return True
