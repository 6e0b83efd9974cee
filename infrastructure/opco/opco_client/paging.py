"""Paged lists of the OPCOs (`dossiers/etats`, `factures/etats`): the shapes a page comes in, and when to stop.

A page comes in three shapes (../shared/reference/opco-wire.md §8): the v2 envelope `{total, count, page,
EtatDossierResult: [...]}`, the same envelope wrapped in a one-element list, and the v1 bare array of items (no
total). The reading stops at the announced `total`, on an empty page, or on a page that brings nothing new (an OPCO
that ignores `numeroPage` answers the same page forever); and it never asks for more pages than the total announces,
plus one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STATE_LIST_KEYS = ("EtatDossierResult", "etatDossierResult", "etatsDossiers", "etats")
INVOICE_LIST_KEYS = ("factures", "Factures", "EtatFactureResult", "etatFactureResult", "etatsFactures")
MAX_PAGES = 10_000  # the last resort of a list without a total whose every page brings new items


def page_items(body: Any, list_keys: tuple[str, ...]) -> tuple[list[dict[str, Any]], int | None]:
    """One page of /dossiers/etats (`STATE_LIST_KEYS`) or /factures/etats (`INVOICE_LIST_KEYS`): its items and the
    announced `total` (None when absent, as in a bare array)."""
    envelope = _envelope(body, list_keys)
    if envelope is not None:
        items: Any = next((envelope[key] for key in list_keys if isinstance(envelope.get(key), list)), [])
        return _objects(items), _int(envelope.get("total"))
    return (_objects(body), None) if isinstance(body, list) else ([], None)


def _envelope(body: Any, list_keys: tuple[str, ...]) -> dict[str, Any] | None:
    """The envelope of a page: the body itself, or the one element of a list that wraps it (AKTO-PY reads both)."""
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict) and _is_envelope(body[0], list_keys):
        return body[0]
    return body if isinstance(body, dict) else None


def _is_envelope(candidate: Mapping[str, Any], list_keys: tuple[str, ...]) -> bool:
    return "total" in candidate or any(isinstance(candidate.get(key), list) for key in list_keys)


def _objects(items: list[Any]) -> list[dict[str, Any]]:
    return [item for item in items if isinstance(item, dict)]


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


@dataclass(slots=True)
class Paging:
    """What the pages read so far allow: `take` each page's items in order, then ask `more()` before the next."""

    pages: int = 0
    collected: int = 0
    total: int | None = None
    limit: int = MAX_PAGES  # requests allowed; once a total is announced: its pages, plus one
    stopped: str | None = None  # why the reading stopped early, to be logged
    _seen: set[str] = field(default_factory=set)
    _done: bool = False

    def take(self, items: list[dict[str, Any]], announced: int | None) -> list[dict[str, Any]]:
        """The items of the next page not read before; decides whether another page may be asked for."""
        self.pages += 1
        if announced is not None and self.total is None:
            self.total = announced
            if items:  # the first page's size is the page size
                self.limit = min(MAX_PAGES, self.pages - 1 + math.ceil(announced / len(items)) + 1)
        fresh = [item for item in items if _fingerprint(item) not in self._seen]
        self._seen.update(map(_fingerprint, fresh))
        self.collected += len(fresh)
        if items and not fresh:
            self.stopped = f"page {self.pages} repeats items already read"
        self._done = not fresh or (self.total is not None and self.collected >= self.total)
        return fresh

    def more(self) -> bool:
        if self._done:
            return False
        if self.pages >= self.limit:
            self.stopped = (
                f"{self.pages} pages read and still short of the total announced ({self.collected} of {self.total})"
                if self.total is not None
                else f"{self.pages} pages read, the most this client reads"
            )
            return False
        return True


def _fingerprint(item: Mapping[str, Any]) -> str:
    return json.dumps(item, sort_keys=True, default=str)
