"""The composition root: settings → event store → application, wired once per process."""

from __future__ import annotations

from dataclasses import dataclass

from application.dossiers import Dossiers
from infrastructure.clock import SystemClock
from infrastructure.event_store import eventsourcing_env
from infrastructure.reference_data import idcc_routing
from infrastructure.settings import Settings


@dataclass
class Container:
    settings: Settings
    dossiers: Dossiers

    def close(self) -> None:
        self.dossiers.close()


def bootstrap(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    dossiers = Dossiers(eventsourcing_env(settings), routing=idcc_routing(), clock=SystemClock())
    return Container(settings=settings, dossiers=dossiers)
