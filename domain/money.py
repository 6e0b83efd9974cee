"""Amounts in euros and cents: Decimal with two places, rounded half up, never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def euros(value: Decimal | int | str) -> Decimal:
    """An amount as a two-place Decimal; refuses more than two decimals rather than rounding them away."""
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValueError(f"{value} has more than two decimals (cents)")
    return amount.quantize(CENT)


def money(amount: Decimal) -> Decimal:
    """Rounded to the cent, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money_text(amount: Decimal) -> str:
    """As events keep amounts and the API shows them: a decimal string with two places."""
    return str(money(amount))
