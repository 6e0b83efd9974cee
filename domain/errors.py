"""Domain errors: each says which rule was broken, in words a CFA administrator understands."""

from __future__ import annotations

from domain.problems import Problem


class DomainError(Exception):
    """Base of every refusal by the domain."""


class InvalidValue(DomainError):
    """A value that breaks a rule on its own (maps to 422)."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(field, code, message)


class NotAllowedInState(DomainError):
    """A command the dossier's current state does not allow (maps to 409)."""

    def __init__(self, action: str, state: str, allowed: frozenset[str]) -> None:
        wanted = ", ".join(sorted(allowed))
        super().__init__(f"cannot {action} a dossier in state '{state}' (only in: {wanted})")
        self.code = "state_conflict"


class SubmissionBlocked(DomainError):
    """Submission asked while blocking problems remain (maps to 409 with the problems listed)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"the dossier has {len(problems)} blocking problem(s); fix them before submission")
        self.problems = problems


class InvalidValues(DomainError):
    """Several values that break rules (maps to 422, every problem listed)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class RulesConflict(DomainError):
    """Rules that what is already recorded forbids, here or on other dossiers (maps to 409, every problem listed)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems
