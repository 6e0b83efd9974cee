"""What a test can observe of a run: posts received, dossiers and invoices stored, duplicates refused, faults."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from domain.opco.opcos import Opco


class SandboxStats:
    """Of this process since its start or the last reset (not persisted)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._posts: Counter[str] = Counter()
        self._stored: Counter[str] = Counter()
        self._duplicates = 0
        self._faults: Counter[str] = Counter()
        self._faults_after_store: Counter[str] = Counter()
        self._invoice_posts: Counter[str] = Counter()
        self._invoices_stored: Counter[str] = Counter()
        self._duplicate_invoices = 0

    def post_received(self, opco: Opco, numero_interne: str) -> None:
        with self._lock:
            self._posts[f"{opco.value}/{numero_interne}"] += 1

    def stored(self, opco: Opco, numero_interne: str) -> None:
        with self._lock:
            self._stored[f"{opco.value}/{numero_interne}"] += 1

    def duplicate_refused(self) -> None:
        with self._lock:
            self._duplicates += 1

    def invoice_post_received(self, opco: Opco, numero: str) -> None:
        with self._lock:
            self._invoice_posts[f"{opco.value}/{numero}"] += 1

    def invoice_stored(self, opco: Opco, numero: str) -> None:
        with self._lock:
            self._invoices_stored[f"{opco.value}/{numero}"] += 1

    def duplicate_invoice_refused(self) -> None:
        with self._lock:
            self._duplicate_invoices += 1

    def fault_injected(self, kind: str, after_store: bool) -> None:
        with self._lock:
            self._faults[kind] += 1
            if after_store:
                self._faults_after_store[kind] += 1

    def reset(self) -> None:
        with self._lock:
            counters = (self._posts, self._stored, self._faults, self._faults_after_store)
            for counter in (*counters, self._invoice_posts, self._invoices_stored):
                counter.clear()
            self._duplicates = self._duplicate_invoices = 0

    def to_wire(self) -> dict[str, Any]:
        with self._lock:
            return {
                "postsReceived": dict(self._posts),
                "stored": dict(self._stored),
                "duplicatesRefused": self._duplicates,
                "faultsInjected": dict(self._faults),
                "faultsAfterStore": dict(self._faults_after_store),
                "invoicePostsReceived": dict(self._invoice_posts),
                "invoicesStored": dict(self._invoices_stored),
                "duplicateInvoicesRefused": self._duplicate_invoices,
            }
