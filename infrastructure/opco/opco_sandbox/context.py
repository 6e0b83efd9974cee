"""Everything the routes of one sandbox share, kept on the FastAPI app's state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import cast

from fastapi import Request

from infrastructure.opco.opco_sandbox.config import SandboxConfig
from infrastructure.opco.opco_sandbox.document_inbox import DocumentInbox
from infrastructure.opco.opco_sandbox.dpop_guard import DpopGuard
from infrastructure.opco.opco_sandbox.faults import FaultInjector
from infrastructure.opco.opco_sandbox.rupture_book import RuptureBook
from infrastructure.opco.opco_sandbox.state import SandboxStore
from infrastructure.opco.opco_sandbox.stats import SandboxStats


@dataclass(slots=True)
class Sandbox:
    config: SandboxConfig
    store: SandboxStore
    stats: SandboxStats
    faults: FaultInjector
    dpop: DpopGuard = field(default_factory=DpopGuard)
    documents: DocumentInbox = field(default_factory=DocumentInbox)  # kept in memory only
    ruptures: RuptureBook = field(default_factory=RuptureBook)  # the ruptures received (rupture_routes)

    def __post_init__(self) -> None:
        state = self.config.state_path
        if state is not None and str(state) != ":memory:" and self.ruptures.path is None:
            self.ruptures = RuptureBook(Path(f"{state}.ruptures.json"))

    def now(self) -> datetime:
        return self.config.clock()

    def reset(self) -> None:
        self.store.clear()
        self.stats.reset()
        self.faults.configure(self.config.faults)
        self.documents.clear()
        self.ruptures.clear()

    def close(self) -> None:
        self.store.close()


def current_sandbox(request: Request) -> Sandbox:
    return cast(Sandbox, request.app.state.sandbox)
