"""How a dossier travels to its OPCO: the OPCO's states and the record of transmission attempts.

What is sent is written by the infrastructure's translation to the OPCO wire (infrastructure/opco/opco_wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.contracts.contract_state import ContractState

# API Convergence `etat` → dossier state. RUPTU and RUPTURE are both seen in the wild for a termination.
OPCO_STATES: dict[str, ContractState] = {
    "TRANSMIS": ContractState.SENT,
    "EN_COURS_INSTRUCTION": ContractState.IN_REVIEW,
    "ENGAGE": ContractState.ACCEPTED,
    "REFUSE": ContractState.REFUSED,
    "ANNULE": ContractState.CANCELLED,
    "RUPTU": ContractState.TERMINATED,
    "RUPTURE": ContractState.TERMINATED,
    "SOLDE": ContractState.CLOSED,
}


def new_transmission() -> dict[str, Any]:
    return {
        "attempts": 0,
        "failures": 0,
        "inFlightSince": None,
        "parked": False,
        "lastError": None,
        "nextAttemptAt": None,
        "history": [],
    }


def attempt_started(transmission: dict[str, Any], attempt: int, at: datetime) -> None:
    transmission["attempts"] = attempt
    transmission["inFlightSince"] = at
    transmission["nextAttemptAt"] = None
    transmission["history"].append({"attempt": attempt, "startedAt": at, "outcome": None, "error": None})


def failure_recorded(
    transmission: dict[str, Any], error: str, transient: bool, retry_at: datetime | None, at: datetime
) -> None:
    attempt_ended(transmission, "failed", at, error)
    transmission["nextAttemptAt"] = retry_at
    if transient:  # only failures that time may cure count towards parking
        transmission["failures"] = transmission.get("failures", 0) + 1


def parked(transmission: dict[str, Any], reason: str) -> None:
    transmission["parked"] = True
    transmission["lastError"] = reason


def resumed(transmission: dict[str, Any]) -> None:
    transmission.update(parked=False, failures=0, nextAttemptAt=None)


DELIVERED = frozenset({"sent", "found"})  # outcomes that end the transmission: the OPCO has it


def attempt_ended(transmission: dict[str, Any], outcome: str, at: datetime, error: str | None = None) -> None:
    transmission["inFlightSince"] = None
    if outcome in DELIVERED:  # an earlier failure is history now: no error pending, no attempt to come
        transmission.update(lastError=None, nextAttemptAt=None)
    if error is not None:
        transmission["lastError"] = error
    history = transmission["history"]
    if history and history[-1]["outcome"] is None:
        history[-1].update(outcome=outcome, endedAt=at, error=error)
    else:
        history.append(
            {"attempt": transmission["attempts"], "startedAt": None, "outcome": outcome, "error": error, "endedAt": at}
        )
