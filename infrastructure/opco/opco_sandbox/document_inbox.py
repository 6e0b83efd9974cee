"""The documents the sandbox's OPCOs received (conventions, documents, certificats), in memory.

A second identical document (same OPCO, CFA, route, JSON part and file) is not stored again: it is answered with
the first one's identifier, and counted as one more receipt, so that a test sees a document sent twice
(docs/wire.md D7: what a real OPCO does then is unknown)."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.opco.opcos import Opco


@dataclass
class ReceivedDocument:
    identifiant: str
    opco: Opco
    siren: str
    route: str  # conventions, documents, certificats
    payload: dict[str, Any]  # the JSON part
    digest: str  # SHA-256 of the file
    size: int
    media_type: str
    file_name: str | None
    received_at: datetime
    receipts: int = 1

    def as_admin(self) -> dict[str, Any]:
        return {
            "identifiant": self.identifiant,
            "opco": self.opco.value,
            "siren": self.siren,
            "route": self.route,
            "payload": self.payload,
            "digest": self.digest,
            "size": self.size,
            "mediaType": self.media_type,
            "fileName": self.file_name,
            "receivedAt": self.received_at.isoformat(),
            "receipts": self.receipts,
        }


@dataclass
class DocumentInbox:
    _items: dict[tuple[str, ...], ReceivedDocument] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def receive(
        self,
        *,
        opco: Opco,
        siren: str,
        route: str,
        payload: dict[str, Any],
        content: bytes,
        media_type: str,
        file_name: str | None,
        now: datetime,
    ) -> ReceivedDocument:
        digest = hashlib.sha256(content).hexdigest()
        key = (opco.value, siren, route, json.dumps(payload, sort_keys=True, default=str), digest)
        with self._lock:
            known = self._items.get(key)
            if known is not None:
                known.receipts += 1
                return known
            ident = f"DOC-{opco.value}-{len(self._items) + 1:06d}"
            stored = ReceivedDocument(
                ident, opco, siren, route, payload, digest, len(content), media_type, file_name, now
            )
            self._items[key] = stored
            return stored

    def all(self, opco: Opco | None = None) -> list[ReceivedDocument]:
        with self._lock:
            return [item for item in self._items.values() if opco is None or item.opco is opco]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
