"""The mapper that records who acted in every stored event, beside the event's own state (under `_actor`), and
leaves it out of the domain event it rebuilds: no aggregate or event class knows of it.

It adds one key to the state before the library's mapper encodes, compresses and encrypts it, so it composes with
whatever compressor and cipher the settings choose. Events stored before it read as actor unknown."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent

from application.audit.actor import current_actor

ACTOR_KEY = "_actor"


class ActorMapper(Mapper[UUID]):
    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        actor = current_actor()
        if actor is None:
            return super().to_stored_event(domain_event)
        tagged = object.__new__(type(domain_event))
        object.__setattr__(tagged, "__dict__", {**vars(domain_event), ACTOR_KEY: actor.as_record()})
        return super().to_stored_event(tagged)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        return self.with_actor(stored_event)[0]

    def with_actor(self, stored_event: StoredEvent) -> tuple[DomainEventProtocol[UUID], dict[str, Any] | None]:
        """The domain event, and the actor recorded with it (None for an event stored without one)."""
        domain_event = super().to_domain_event(stored_event)
        actor = vars(domain_event).pop(ACTOR_KEY, None)
        return domain_event, actor
