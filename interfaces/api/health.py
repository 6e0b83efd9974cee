"""Liveness and readiness probes for the orchestrator."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from interfaces.api.access.auth import Services
from interfaces.api.problem_details import problem

router = APIRouter(tags=["health"])
log = logging.getLogger("convergence.health")


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up (no I/O)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None, responses={503: {"description": "The event store does not answer."}})
def readyz(services: Services) -> JSONResponse | dict[str, object]:
    """The event store answers: the head of the notification log, and how far behind each read model is."""
    try:
        head = services.dossiers.recorder.max_notification_id()
    except Exception as error:  # any store failure means not ready
        log.warning("store unreachable: %s", error)
        return problem(503, "Not ready", f"the event store does not answer: {type(error).__name__}", "not-ready")
    lags = {name: runner.lag() for name, runner in services.worker.read_models.items()}
    return {"status": "ready", "logPosition": head or 0, "readModelLag": lags}
