"""Polls the OPCO accounts several at a time: a sync's round is one call per account (its dossiers' states, then
the detail of each newly engaged one), each waiting on the network, and a national year has thousands of accounts."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class ThreadFanOut:
    """`application.ports.FanOut` on `concurrency` threads, started for the round and ended with it (a round is
    seconds of network waits: the threads' start costs nothing beside it, and nothing is left to shut down). Each
    task runs in a copy of the caller's context, so that what it stores is recorded as done by the caller's actor."""

    def __init__(self, concurrency: int, name: str = "sync") -> None:
        self._concurrency, self._name = concurrency, name

    def __call__(self, task: Callable[[T], R], items: Iterable[T]) -> list[R]:
        todo = list(items)
        if len(todo) <= 1 or self._concurrency == 1:
            return [task(item) for item in todo]
        with ThreadPoolExecutor(min(self._concurrency, len(todo)), thread_name_prefix=self._name) as pool:
            futures = [pool.submit(contextvars.copy_context().run, task, item) for item in todo]
            return [future.result() for future in futures]
