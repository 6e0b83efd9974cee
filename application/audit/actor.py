"""Who acts: a person at a front-end (named by the `X-Acting-Person` header) through a CFA's token, the operator,
or the worker. The API, the worker and the command line say who acts for the code they run (`acting`); the
application's mapper writes it into every event it stores (application.audit.recording), so the domain never
handles it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from application.access.access import Principal
from domain.errors import InvalidValue

PERSON_HEADER = "X-Acting-Person"
PERSON_MAX_LENGTH = 128


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # "token" (a CFA's token), "operator" (its token, or the command line), "worker"
    name: str  # the token's name, or who the operator or worker is (e.g. worker@host)
    person: str | None = None  # the person acting at the front-end, as it names them
    token_id: str | None = None
    cfa_siret: str | None = None

    def as_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"kind": self.kind, "name": self.name}
        if self.person is not None:
            record["person"] = self.person
        if self.token_id is not None:
            record["tokenId"] = self.token_id
        if self.cfa_siret is not None:
            record["cfa"] = self.cfa_siret
        return record


_current: ContextVar[Actor | None] = ContextVar("convergence_actor", default=None)


def current_actor() -> Actor | None:
    return _current.get()


@contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    """Every event stored inside the block is recorded as done by `actor`."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def act_as(actor: Actor) -> None:
    """For the rest of the current context (one request's task): events stored are done by `actor`."""
    _current.set(actor)


def actor_of(principal: Principal, person: str | None) -> Actor:
    """The actor behind an API request: the token (its id, name and CFA) and the person it names, if any."""
    if principal.is_operator:
        return Actor(kind="operator", name=principal.name or principal.actor, person=person)
    token_id = principal.actor.removeprefix("token:")
    return Actor(
        kind="token", name=principal.name or token_id, person=person, token_id=token_id, cfa_siret=principal.cfa_siret
    )


def acting_person(value: str | None) -> str | None:
    """The person a front-end names: 1 to 128 printable ASCII characters (an HTTP header carries no other reliably),
    without surrounding spaces."""
    if value is None:
        return None
    if not 1 <= len(value) <= PERSON_MAX_LENGTH:
        raise InvalidValue(
            PERSON_HEADER, "length", f"{PERSON_HEADER} names a person in 1 to {PERSON_MAX_LENGTH} characters"
        )
    if not (value.isascii() and value.isprintable()) or value != value.strip():
        raise InvalidValue(
            PERSON_HEADER,
            "not_printable",
            f"{PERSON_HEADER} must be printable ASCII characters, without surrounding spaces",
        )
    return value


def unknown_actor(event_actor: object) -> dict[str, Any]:
    """The actor of an event stored before actors were recorded: unknown, with the event's own `actor` if any."""
    record: dict[str, Any] = {"kind": "unknown"}
    if isinstance(event_actor, str):
        record["recordedAs"] = event_actor
    return record
