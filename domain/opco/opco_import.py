"""The journal of the imports of one CFA's dossiers from one OPCO: every run recorded (who, when, what it found).

One aggregate per (CFA, OPCO), its runs numbered from 1. A run that stopped before its end (a crash, a failure of
the OPCO) is resumed by the next start of a real run: the same run goes on, and its counts add up."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.copying import CopiedByPickle
from domain.errors import NotAllowedInState
from domain.ids import named_id

OUTCOMES = ("created", "matched", "conflicts")
RUNNING, FINISHED, FAILED = "running", "finished", "failed"
MAX_CONFLICTS_KEPT = 200  # a run lists at most this many conflicts; its count says how many there were


def journal_id(cfa_siret: str, opco: str) -> UUID:
    return named_id("cfas", cfa_siret, "opcos", opco, "imports")


class ImportJournal(CopiedByPickle, Aggregate):
    @staticmethod
    def create_id(cfa_siret: str, opco: str) -> UUID:
        return journal_id(cfa_siret, opco)

    @event("Opened")
    def __init__(self, cfa_siret: str, opco: str) -> None:
        self.cfa_siret = cfa_siret
        self.opco = opco
        self.runs: dict[int, dict[str, Any]] = {}
        self.last_run = 0  # the run last started or resumed

    def unfinished(self) -> int | None:
        """The real run that stopped before its end (running or failed), if any: the one to resume."""
        for number in sorted(self.runs, reverse=True):
            run = self.runs[number]
            if not run["dryRun"] and run["status"] != FINISHED:
                return number
        return None

    def start(self, *, dry_run: bool, actor: str, at: datetime) -> int:
        """A new run (a dry run always; a real one unless one is to resume: then `resume`)."""
        if not dry_run and self.unfinished() is not None:
            raise NotAllowedInState("start an import of", "unfinished import", frozenset({"no unfinished import"}))
        number = max(self.runs, default=0) + 1
        self._started(run=number, dry_run=dry_run, actor=actor, at=at.isoformat())
        return number

    def resume(self, run: int, actor: str, at: datetime) -> None:
        self._require(run, "resume")
        self._resumed(run=run, actor=actor, at=at.isoformat())

    def progress(self, run: int, *, total: int, done: int, counts: dict[str, int], at: datetime) -> None:
        self._require(run, "record the progress of")
        self._progressed(run=run, total=total, done=done, counts=dict(counts), at=at.isoformat())

    def finish(self, run: int, *, counts: dict[str, int], conflicts: list[dict[str, Any]], at: datetime) -> None:
        self._require(run, "finish")
        self._finished(run=run, counts=dict(counts), conflicts=conflicts[:MAX_CONFLICTS_KEPT], at=at.isoformat())

    def fail(self, run: int, error: str, at: datetime) -> None:
        self._require(run, "record the failure of")
        self._failed(run=run, error=error[:500], at=at.isoformat())

    def _require(self, run: int, action: str) -> None:
        if run not in self.runs or self.runs[run]["status"] == FINISHED:
            raise NotAllowedInState(action, "finished or unknown run", frozenset({RUNNING, FAILED}))

    @event("RunStarted")
    def _started(self, run: int, dry_run: bool, actor: str, at: str) -> None:
        self.last_run = run
        self.runs[run] = {
            "run": run,
            "dryRun": dry_run,
            "status": RUNNING,
            "startedBy": actor,
            "startedAt": at,
            "resumedAt": [],
            "finishedAt": None,
            "updatedAt": at,
            "total": None,
            "done": 0,
            "counts": dict.fromkeys(OUTCOMES, 0),
            "conflicts": [],
            "error": None,
        }

    @event("RunResumed")
    def _resumed(self, run: int, actor: str, at: str) -> None:
        self.last_run = run
        entry = self.runs[run]
        entry.update(status=RUNNING, error=None, updatedAt=at, resumedAt=[*entry["resumedAt"], at])

    @event("RunProgressed")
    def _progressed(self, run: int, total: int, done: int, counts: dict[str, int], at: str) -> None:
        self.runs[run].update(total=total, done=done, counts=counts, updatedAt=at)

    @event("RunFinished")
    def _finished(self, run: int, counts: dict[str, int], conflicts: list[dict[str, Any]], at: str) -> None:
        entry = self.runs[run]
        entry.update(status=FINISHED, counts=counts, conflicts=conflicts, finishedAt=at, updatedAt=at)
        entry["done"] = entry["total"] if entry["total"] is not None else sum(counts.values())

    @event("RunFailed")
    def _failed(self, run: int, error: str, at: str) -> None:
        self.runs[run].update(status=FAILED, error=error, updatedAt=at)
