"""A transfer the OPCO reports having made for an invoice: one bank transfer, one payment on the invoice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Transfer:
    amount: Decimal
    paid_on: date | None
    reference: str  # referenceVirement: what the CFA's bank statement shows, and what makes it recorded once
