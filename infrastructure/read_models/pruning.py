"""Pruning the temporal read models on a schedule: the versions that no walk can still need are deleted.

A list walk is pinned at the read model's position when it began, and needs the versions closed after it. The
pruner samples each view's position at every round and, once a sample is `keep_seconds` old, prunes the view up
to it: a walk begun more recently than that is never refused; an older one gets 410 `cursor-expired` and starts
again. The samples live in memory: after a restart, the first prune comes `keep_seconds` later.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Protocol

log = logging.getLogger("convergence.pruning")


class TemporalView(Protocol):
    def position(self, application_name: str) -> int: ...

    def prune(self, keep_after_position: int) -> int: ...


class Pruner:
    def __init__(
        self,
        views: Mapping[str, TemporalView],
        application_name: str,
        keep_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.views = views
        self._application = application_name
        self.keep_seconds = keep_seconds
        self._monotonic = monotonic
        self._samples: deque[tuple[float, dict[str, int]]] = deque()

    def run_once(self) -> int:
        """Sample the positions; prune each view up to its newest sample old enough. The versions deleted."""
        now = self._monotonic()
        self._samples.append((now, {name: view.position(self._application) for name, view in self.views.items()}))
        due: dict[str, int] | None = None
        while self._samples and now - self._samples[0][0] >= self.keep_seconds:
            due = self._samples.popleft()[1]
        if due is None:
            return 0
        deleted = 0
        for name, view in self.views.items():
            pruned = view.prune(due[name])
            if pruned:
                log.info("read model %s: %d versions closed at or before position %d pruned", name, pruned, due[name])
            deleted += pruned
        return deleted
