"""The ruptures a sandbox received (rupture_routes), and the state they give a dossier: RUPTU."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.opco.opcos import Opco
from infrastructure.opco.opco_sandbox.lifecycle import Progress, progress
from infrastructure.opco.opco_sandbox.records import StoredDossier

if TYPE_CHECKING:
    from infrastructure.opco.opco_sandbox.context import Sandbox

RUPTURE_ETAT = "RUPTU"  # as AKTO writes it (opco-wire.md §1.2); CerFacil's OPCO writes RUPTURE


@dataclass(frozen=True, slots=True)
class ReceivedRupture:
    opco: Opco
    numero_interne: str
    received_at: datetime
    body: dict[str, Any]


@dataclass
class RuptureBook:
    """The ruptures received; cleared by a reset. A sandbox kept on disk keeps them in a JSON file beside its state
    (`path`), so that its dossiers stay broken across a restart."""

    path: Path | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ruptures: dict[tuple[Opco, str, str, str], ReceivedRupture] = field(default_factory=dict)
    posts: int = 0

    def __post_init__(self) -> None:
        if self.path is not None and self.path.is_file():
            for item in json.loads(self.path.read_text()):
                received = ReceivedRupture(
                    Opco(item["opco"]), item["numeroInterne"], datetime.fromisoformat(item["receivedAt"]), item["body"]
                )
                self._ruptures[(received.opco, item["siren"], received.numero_interne, item["depot"])] = received

    def _save(self) -> None:
        if self.path is None:
            return
        items = [
            {
                "opco": r.opco.value,
                "siren": key[1],
                "numeroInterne": r.numero_interne,
                "depot": key[3],
                "receivedAt": r.received_at.isoformat(),
                "body": r.body,
            }
            for key, r in self._ruptures.items()
        ]
        written = self.path.with_suffix(".tmp")
        written.write_text(json.dumps(items))
        written.replace(self.path)

    def receive(self, dossier: StoredDossier, body: dict[str, Any], at: datetime) -> ReceivedRupture | None:
        """None when the dossier has one already."""
        with self._lock:
            key = _key(dossier)
            if key in self._ruptures:
                return None
            self._ruptures[key] = ReceivedRupture(dossier.opco, dossier.numero_interne, at, dict(body))
            self._save()
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
            self._save()


def _key(dossier: StoredDossier) -> tuple[Opco, str, str, str]:
    return (dossier.opco, dossier.siren, dossier.numero_interne, dossier.submitted_at.isoformat())


def progress_of(sandbox: Sandbox, dossier: StoredDossier, now: datetime) -> Progress:
    """The dossier's state as its OPCO shows it: its lifecycle's, or RUPTU once a rupture was received."""
    state = progress(dossier, now, sandbox.config)
    if sandbox.ruptures.of(dossier) is None:
        return state
    return replace(state, etat=RUPTURE_ETAT, commentaire="Rompu")
