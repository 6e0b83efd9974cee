"""The ruptures a sandbox received (rupture_routes), and the state they give a dossier: RUPTU."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.opcos import Opco
from infrastructure.opco_sandbox.lifecycle import Progress, progress
from infrastructure.opco_sandbox.records import StoredDossier

if TYPE_CHECKING:
    from infrastructure.opco_sandbox.context import Sandbox

RUPTURE_ETAT = "RUPTU"  # as AKTO writes it (opco-wire.md §1.2); CerFacil's OPCO writes RUPTURE


@dataclass(frozen=True, slots=True)
class ReceivedRupture:
    opco: Opco
    numero_interne: str
    received_at: datetime
    body: dict[str, Any]


@dataclass
class RuptureBook:
    """The ruptures received, in memory (a sandbox kept on disk forgets them on restart); cleared by a reset."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ruptures: dict[tuple[Opco, str, str, str], ReceivedRupture] = field(default_factory=dict)
    posts: int = 0

    def receive(self, dossier: StoredDossier, body: dict[str, Any], at: datetime) -> ReceivedRupture | None:
        """None when the dossier has one already."""
        with self._lock:
            key = _key(dossier)
            if key in self._ruptures:
                return None
            self._ruptures[key] = ReceivedRupture(dossier.opco, dossier.numero_interne, at, dict(body))
            return self._ruptures[key]

    def count_post(self) -> None:
        with self._lock:
            self.posts += 1

    def of(self, dossier: StoredDossier) -> ReceivedRupture | None:
        with self._lock:
            return self._ruptures.get(_key(dossier))

    def all(self) -> list[ReceivedRupture]:
        with self._lock:
            return list(self._ruptures.values())

    def clear(self) -> None:
        with self._lock:
            self._ruptures.clear()
            self.posts = 0


def _key(dossier: StoredDossier) -> tuple[Opco, str, str, str]:
    return (dossier.opco, dossier.siren, dossier.numero_interne, dossier.submitted_at.isoformat())


def progress_of(sandbox: Sandbox, dossier: StoredDossier, now: datetime) -> Progress:
    """The dossier's state as its OPCO shows it: its lifecycle's, or RUPTU once a rupture was received."""
    state = progress(dossier, now, sandbox.config)
    if sandbox.ruptures.of(dossier) is None:
        return state
    return replace(state, etat=RUPTURE_ETAT, commentaire="Rompu")
