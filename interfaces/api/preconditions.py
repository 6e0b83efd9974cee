"""If-Match (RFC 9110) → the version a change expects; 428 when a change requires one, 412 when unreadable."""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException

_ETAG = re.compile(r'(?:W/)?"?(\d+)"?')


def expected_version(if_match: str | None, *, required: bool) -> int | None:
    if if_match is None:
        if required:
            raise HTTPException(428, "this change needs If-Match: the ETag of the version it changes")
        return None
    value = if_match.strip()
    if value == "*":
        return None
    match = _ETAG.fullmatch(value)
    if match is None:
        raise HTTPException(412, f'If-Match {value!r} is not an ETag of this API (they look like "3")')
    return int(match.group(1))
