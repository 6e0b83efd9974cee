"""The personal fields of a dossier's events are sealed with the dossier's own data key as they are stored, and
opened as they are read; once that key is destroyed (an erasure) they read as absent, with `personal_data:
"erased"` on the event. The domain never sees a sealed value: this happens in the event library's mapper.

The data subject is the contract: each dossier has its key, so that erasing one dossier (its retention period is its
own) leaves the apprentice's other contracts as they are (docs/privacy.md, "Who is a data subject")."""

from __future__ import annotations

import json
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent

from domain.cerfa.personal import CERFA_PERSONAL_FIELDS, SIGNATORY_PERSONAL_FIELDS, Path, put_personal, take_personal

SEALED = "_personal"  # the key of the sealed fields in a stored event's state
ERASED_MARKER = "erased"  # `personal_data` of an event read after its dossier's key was destroyed

# The attributes of a contract's events that hold personal fields, with the fields: the Cerfa of Drafted,
# Imported and CerfaReplaced, the merge patch of CerfaPatched, the mandate's signatory.
_SEALED_ATTRIBUTES: dict[str, tuple[Path, ...]] = {
    "cerfa": CERFA_PERSONAL_FIELDS,
    "changes": CERFA_PERSONAL_FIELDS,
    "signatory": SIGNATORY_PERSONAL_FIELDS,
}
_CONTRACT_EVENTS = "domain.contracts.contract"


class PersonalDataErasedError(Exception):
    """Personal data written for a dossier whose key was destroyed: it is refused, never stored (maps to 409)."""

    def __init__(self, subject: UUID) -> None:
        super().__init__(f"the personal data of dossier {subject} were erased: they cannot be written again")


class DataKeys(Protocol):
    """Each data subject's key, kept encrypted by the master keyring (infrastructure/privacy/data_keys.py)."""

    def seal(self, subject: UUID, plaintext: bytes) -> str:
        """Encrypted under the subject's key (made on first use); PersonalDataErasedError once it was destroyed."""

    def open(self, subject: UUID, sealed: str) -> bytes | None:
        """The plaintext, or None when the subject's key was destroyed."""

    def destroy(self, subject: UUID) -> bool:
        """Destroy the subject's key for good (a tombstone stays); whether there was one to destroy."""

    def erased(self, subject: UUID) -> bool: ...


class SealingMapper(Mapper[UUID]):
    """The library's mapper, sealing and opening the personal fields of a contract's events on the way."""

    data_keys: DataKeys | None = None

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        return super().to_stored_event(self._sealed(domain_event))

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        domain_event = super().to_domain_event(stored_event)
        state: dict[str, Any] = vars(domain_event)
        if SEALED in state and self.data_keys is not None:
            opened = self.data_keys.open(domain_event.originator_id, state.pop(SEALED))
            if opened is None:
                state["personal_data"] = ERASED_MARKER
            else:
                for attribute, taken in json.loads(opened).items():
                    state[attribute] = put_personal(state[attribute], taken)
        return domain_event

    def _sealed(self, domain_event: DomainEventProtocol[UUID]) -> DomainEventProtocol[UUID]:
        if self.data_keys is None or type(domain_event).__module__ != _CONTRACT_EVENTS:
            return domain_event
        state = dict(vars(domain_event))
        taken: dict[str, dict[str, Any]] = {}
        for attribute, fields in _SEALED_ATTRIBUTES.items():
            if isinstance(state.get(attribute), dict):
                state[attribute], personal = take_personal(state[attribute], fields)
                if personal:
                    taken[attribute] = personal
        if not taken:
            return domain_event
        plaintext = json.dumps(taken, ensure_ascii=False, separators=(",", ":")).encode()
        state[SEALED] = self.data_keys.seal(domain_event.originator_id, plaintext)
        clone = object.__new__(type(domain_event))
        object.__setattr__(clone, "__dict__", state)
        return clone
