"""Which version an aggregate had at a moment: that of its last event recorded at or before it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from application.dossiers import Dossiers


def version_at(app: Dossiers, ident: UUID, at: datetime) -> int | None:
    """None when its first event came after `at` (or it has none)."""
    version = None
    for stored in app.recorder.select_events(ident):
        event: Any = app.mapper.to_domain_event(stored)
        if event.timestamp > at:
            break
        version = event.originator_version
    return version
