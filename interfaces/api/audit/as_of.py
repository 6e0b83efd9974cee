"""`GET /contracts/{id}?version=N` and `?asOf=<timestamp>`: the dossier as it was then, replayed from its events.

`asOf` takes a moment (date, time and UTC offset, ISO 8601: `2026-03-01T10:00:00Z`); a bare date is refused here,
since `at=YYYY-MM-DD` is the contract's terms in effect on a day, another question."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import Query

from application.access.access import Principal
from application.audit.history import History
from domain.contracts.contract import Contract
from domain.errors import InvalidValue
from interfaces.bootstrap import Container

VERSION = "the dossier as it was at this version (its ETag then), replayed from its events; 404 past the current one"
AS_OF = (
    "the dossier as it was at this moment, replayed from its events: a date, a time and a UTC offset"
    " (ISO 8601, e.g. 2026-03-01T10:00:00Z); 404 before the dossier existed"
)
Version = Annotated[int | None, Query(ge=1, description=VERSION)]
AsOf = Annotated[str | None, Query(alias="asOf", max_length=64, description=AS_OF)]


def moment(value: str) -> datetime:
    """A timestamp with its time and offset; 422 naming `asOf` for anything else (a bare date included)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or "T" not in value.upper() or parsed.tzinfo is None:
        raise InvalidValue(
            "asOf",
            "timestamp_expected",
            f"asOf must be a date, a time and a UTC offset (2026-03-01T10:00:00Z), not {value!r}",
        )
    return parsed


def dossier_then(
    services: Container, principal: Principal, ident: UUID, version: int | None, as_of: str | None
) -> tuple[Contract, datetime | None]:
    """The dossier, and the moment it is shown as of (None: now)."""
    if version is not None and as_of is not None:
        raise InvalidValue("asOf", "exclusive", "give either version or asOf, not both")
    at = moment(as_of) if as_of is not None else None
    contract = History(services.dossiers, services.invoices).contract_at(principal, ident, version=version, at=at)
    if version is not None:
        at = contract.modified_on
    return contract, at
