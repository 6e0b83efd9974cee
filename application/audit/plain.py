"""Values of events and aggregates as plain JSON, for people and for files kept outside the service."""

from __future__ import annotations

import base64
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID


def plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((plain(v) for v in value), key=str)
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    return str(value)


def event_data(event: Any) -> dict[str, Any]:
    """What an event carries, its envelope (originator, version, time) aside."""
    skipped = {"originator_id", "originator_version", "timestamp"}
    return {k: plain(v) for k, v in vars(event).items() if k not in skipped}


def aggregate_state(aggregate: Any) -> dict[str, Any]:
    """An aggregate's attributes after an event: its own, and its id, version and times."""
    state: dict[str, Any] = {
        "id": str(aggregate.id),
        "version": aggregate.version,
        "createdOn": plain(aggregate.created_on),
        "modifiedOn": plain(aggregate.modified_on),
    }
    state.update({k: plain(v) for k, v in vars(aggregate).items() if not k.startswith("_")})
    return state
