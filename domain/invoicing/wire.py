"""How a payment spreads over the lines of an invoice (the OPCO reports what it paid of the whole invoice).

The invoice's body on the wire is written by infrastructure.opco.opco_wire.invoice."""

from __future__ import annotations

from decimal import Decimal

from domain.invoicing.lines import InvoiceLine
from domain.money import ZERO


def allocate(lines: list[InvoiceLine], paid: Decimal) -> list[Decimal]:
    """What a cumulated payment covers of each line, in the invoice's order (the OPCO reports one amount)."""
    left, shares = paid, []
    for line in lines:
        share = min(line.amount, max(ZERO, left))
        shares.append(share)
        left -= share
    return shares
