"""Dates on the OPCO wire: written with a time and an offset, read in every form an OPCO answers (§8)."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any, Final

from infrastructure.clock import PARIS
from infrastructure.opco.opco_wire.variants import DateForm

_FRENCH: Final = re.compile(r"(\d{2})/(\d{2})/(\d{4})")
# YYYY-MM-DD, then optionally a time (seconds optional, a fraction of any length ignored: .NET writes seven digits)
# and an offset: Z, ±HH:MM or ±HHMM.
_ISO: Final = re.compile(
    r"(?P<day>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(?P<offset>Z|[+-]\d{2}:?\d{2})?)?"
)
WITH_TIME_AND_OFFSET: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})")


def write_date(day: date, form: DateForm) -> str:
    """A day of the Cerfa as the OPCO is sent it: its midnight, in France or in UTC."""
    if form is DateForm.UTC_MIDNIGHT:
        return f"{day.isoformat()}T00:00:00+00:00"
    return datetime.combine(day, time(0), PARIS).isoformat()


def read_date(value: Any) -> date | None:
    """The day an OPCO means: YYYY-MM-DD, a datetime without an offset (its date), a datetime with one (Z, +0000,
    +02:00: the day it is in France then, so that a French midnight written in UTC is not the day before), or
    dd/mm/yyyy. None when absent, blank or unreadable."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    french = _FRENCH.fullmatch(text)
    if french:
        text = f"{french[3]}-{french[2]}-{french[1]}"
    match = _ISO.fullmatch(text)
    if match is None:
        return None
    try:
        if match["offset"] is None:
            return date.fromisoformat(match["day"])
        offset = "+00:00" if match["offset"] == "Z" else match["offset"]
        if ":" not in offset:
            offset = f"{offset[:3]}:{offset[3:]}"
        moment = datetime.fromisoformat(f"{match['day']}T{_full_time(match['time'])}{offset}")
    except ValueError:
        return None
    return moment.astimezone(PARIS).date()


def read_sent_date(value: Any) -> date | None:
    """A date in a request, as clients send it (ISO 8601: a day, or a datetime with or without an offset); the
    dd/mm/yyyy that some OPCOs answer with is not a form clients send, so it is refused here."""
    if not isinstance(value, str) or _FRENCH.fullmatch(value.strip()):
        return None
    return read_date(value)


def _full_time(text: str) -> str:
    return text if text.count(":") == 2 else f"{text}:00"
