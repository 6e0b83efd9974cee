"""Dates as real clients send them: `2026-09-01`, or a datetime with or without an offset (`2026-09-01T00:00:00+02:00`,
`…Z`, `…+0000`), as CerFacil and LGX-PHP write every date of a body (opco-wire.md §8)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from infrastructure.clock import PARIS

_DAY_FIRST = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ].*)?")


def wire_day(value: Any) -> date:
    """The calendar day in Paris, where the OPCOs are: a datetime with an offset is taken to Paris time first
    (`2026-08-31T22:00:00Z` is 1 September); one without is read as written. ValueError when it is neither."""
    if not isinstance(value, str) or not _DAY_FIRST.fullmatch(value.strip()):
        raise ValueError(f"not a date: {value!r}")
    moment = datetime.fromisoformat(value.strip())
    return moment.astimezone(PARIS).date() if moment.tzinfo is not None else moment.date()


def is_wire_day(value: Any) -> bool:
    try:
        wire_day(value)
    except ValueError:
        return False
    return True
