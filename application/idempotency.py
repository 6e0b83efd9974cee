"""Idempotency-Key records, saved in the same transaction as the resource they created."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ids import named_id


def fingerprint(body: Any) -> str:
    """A digest of the request body that ignores key order and whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_id(scope: str, key: str) -> UUID:
    return named_id("idempotency", scope, key)


class IdempotencyRecord(Aggregate):
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
