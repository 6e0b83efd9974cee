"""Why the domain refuses a set of funding terms."""

from __future__ import annotations

from domain.errors import InvalidValue


class FundingTermsInvalid(InvalidValue, ValueError):
    """Terms no schedule can be computed from (maps to 422 like any `InvalidValue`)."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(field, code, message)
        self.field = field
        self.code = code
        self.message = message
