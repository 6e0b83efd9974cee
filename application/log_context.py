"""Fields every log record carries while a piece of work runs: the request id during an API request, the aggregate
a worker is sending. The logging configuration (infrastructure/logs.py) copies them into each record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

_FIELDS: ContextVar[MappingProxyType[str, Any]] = ContextVar("log_fields", default=MappingProxyType({}))


def log_fields() -> MappingProxyType[str, Any]:
    return _FIELDS.get()


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Add `fields` to every record logged in this context (this thread or task, and what it copies its context to)
    until the block ends."""
    token = _FIELDS.set(MappingProxyType({**_FIELDS.get(), **fields}))
    try:
        yield
    finally:
        _FIELDS.reset(token)
