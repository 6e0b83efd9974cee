"""The person a front-end acts for: the `X-Acting-Person` header, recorded with the token in every event the request
stores (application.audit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from application.access.access import Principal
from application.audit.actor import PERSON_HEADER, act_as, acting_person, actor_of

PERSON_DESCRIPTION = (
    f"`{PERSON_HEADER}`: the person acting at the front-end, as it identifies them (a login, an employee number;"
    " 1 to 128 printable ASCII characters, 422 otherwise). Optional; recorded with the token's name and CFA in every"
    " event the request stores, and shown in the dossier's history (`GET /contracts/{id}/history`)."
)


ActingPerson = Annotated[str | None, Header(alias=PERSON_HEADER, description=PERSON_DESCRIPTION)]


def act_for(principal: Principal, person: str | None) -> None:
    """Events stored while serving this request are done by this token (or the operator) for the person named."""
    act_as(actor_of(principal, acting_person(person)))
