"""Idempotency-Key records, saved in the same transaction as the change they answer for.

A request carrying a key is an `IdempotentRequest`: the key, where it applies (its scope: the CFA, the route and the
resource) and what was asked (a fingerprint of the validated arguments). The first time, the command runs and the
key's `IdempotencyRecord` is saved with its events; from then on the same request is answered with the resource as
that command left it, and another request under the same key is refused."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from application.access.access import Principal
from domain.copying import CopiedByPickle
from domain.ids import named_id


def fingerprint(body: Any) -> str:
    """A digest of the request body that ignores key order and whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_id(scope: str, key: str) -> UUID:
    return named_id("idempotency", scope, key)


class IdempotencyRecord(CopiedByPickle, Aggregate):
    @staticmethod
    def create_id(scope: str, key: str) -> UUID:
        return record_id(scope, key)

    @event("Registered")
    def __init__(self, scope: str, key: str, fingerprint: str, resource_id: UUID, resource_version: int) -> None:
        self.scope = scope
        self.key = key
        self.fingerprint = fingerprint
        self.resource_id = resource_id
        self.resource_version = resource_version


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    scope: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, key: str | None, principal: Principal, route: str, arguments: Any) -> IdempotentRequest | None:
        """The request under `key` (None without one). `route` names the command and its resource, e.g.
        `/contracts/<id>/mandate`, so that a key reused on another resource or route is another request; creation
        keeps the scopes it always had (`""` for contracts, `/invoices`), so that stored records still answer."""
        if not key:
            return None
        tenant = principal.cfa_siret or principal.actor
        return cls(f"{tenant}{route}", key, fingerprint(arguments))

    @classmethod
    def of_command(
        cls, key: str | None, principal: Principal, route: str, arguments: Any, expected_version: int | None
    ) -> IdempotentRequest | None:
        """A command on a resource: what it asks includes the version it is conditioned on (If-Match)."""
        return cls.of(key, principal, route, {"arguments": arguments, "ifMatch": expected_version})

    @property
    def record_id(self) -> UUID:
        return record_id(self.scope, self.key)

    def record(self, resource: Aggregate) -> IdempotencyRecord:
        """The record to save with the command's events: it answers for the resource at the version they make."""
        return IdempotencyRecord(self.scope, self.key, self.fingerprint, resource.id, resource.version)
