"""Refusals by the application layer (tenancy, versions, idempotency); the domain's own are in domain.errors."""

from __future__ import annotations

from uuid import UUID


class ApplicationError(Exception):
    pass


class NotFound(ApplicationError):
    """Unknown id, or an id of another CFA: the two are indistinguishable on purpose, so ids don't leak."""

    def __init__(self, kind: str, ident: UUID | str) -> None:
        super().__init__(f"no {kind} {ident}")


class Forbidden(ApplicationError):
    pass


class VersionMismatch(ApplicationError):
    """If-Match named another version than the current one (maps to 412)."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"the dossier is at version {current}, not {expected}: reload it and retry")
        self.current = current


class PreconditionRequired(ApplicationError):
    """A change that may undo what another request did, sent without If-Match (maps to 428)."""


class ConcurrentChange(ApplicationError):
    """Another change to the same dossier was saved first (maps to 409 without If-Match, 412 with it)."""

    def __init__(self) -> None:
        super().__init__("another change to this dossier was saved at the same time: reload it and retry")


class DuplicateNumeroInterne(ApplicationError):
    def __init__(self, numero_interne: str) -> None:
        super().__init__(f"this CFA already has a dossier with numeroInterne {numero_interne!r}")
        self.numero_interne = numero_interne


class IdempotencyKeyReused(ApplicationError):
    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was already used with another request body")


class TokenAlreadyIssued(ApplicationError):
    """The Idempotency-Key of a token already issued: its secret was shown once and is kept nowhere (maps to 409)."""

    def __init__(self, token_id: UUID) -> None:
        super().__init__(
            f"this Idempotency-Key already issued the token {token_id}, whose secret was shown once and is kept"
            " nowhere: revoke it (POST /admin/tokens/{token_id}/revocation) if its answer was lost, and issue another"
            " with a new key"
        )
        self.token_id = token_id


class DuplicateInvoiceNumber(ApplicationError):
    def __init__(self, numero: str) -> None:
        super().__init__(f"this CFA already has an invoice with numeroInterneFacture {numero!r}")
        self.numero = numero


class TokenRevoked(ApplicationError):
    """A change a revoked token cannot take, such as a renewal (maps to 409)."""
