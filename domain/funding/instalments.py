"""The instalments of one contract year: when each opens, on what condition, for which share of the year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from domain.funding.dates import ONE_DAY, anniversary, iso, months_later
from domain.funding.regimes import Regime
from domain.funding.years import ContractYear
from domain.money import ZERO, money, money_text

PAYMENT_DAYS = timedelta(days=30)  # the OPCO pays within 30 days of receiving the invoice
PROOF_DEADLINE_MONTHS = 4  # 2025 regime: the 10 % is lost unless invoiced within 4 months of the contract's end
FULL_YEAR_SHARES = {
    Regime.FROM_2020: (Decimal("0.50"), Decimal("0.25"), Decimal("0.25")),
    Regime.FROM_2021: (Decimal("0.40"), Decimal("0.30"), Decimal("0.30")),
}
PARTIAL_YEAR_SHARES = (Decimal("0.50"), Decimal("0.50"))
SHARES_2025 = (Decimal("0.40"), Decimal("0.30"), Decimal("0.20"), Decimal("0.10"))


class Condition(StrEnum):
    ADVANCE = "advance"  # invoiceable once open, no proof of service
    INTERIM = "interim"  # with the certificat de réalisation of the period before
    BALANCE = "balance"  # the remainder of the year (or of a prorated period), with the certificat de réalisation
    PROOF_OF_SERVICE = "proof_of_service"  # 2025 regime: 10 % after service fait, lost 4 months after the end


@dataclass(frozen=True, slots=True)
class Instalment:
    numero: int  # 1..n over the whole contract
    codification: str  # "E1", "E2", …
    year: int  # index of its contract year
    share: Decimal  # the nominal share of the year's amount (the last one of a year takes the rounding remainder)
    amount: Decimal  # the share of the year's amount, before any deduction
    opens_on: date  # invoiceable from
    pay_by: date  # opens_on + 30 days
    condition: Condition
    deduction: Decimal = ZERO  # employer participation taken off this instalment
    lost_after: date | None = None

    @property
    def payable(self) -> Decimal:
        """What the OPCO pays for it: the amount less the employer participation deducted."""
        return self.amount - self.deduction

    def as_record(self) -> dict[str, object]:
        return {
            "numero": self.numero,
            "codification": self.codification,
            "year": self.year,
            "share": str(self.share),
            "amount": money_text(self.amount),
            "deduction": money_text(self.deduction),
            "payable": money_text(self.payable),
            "opensOn": iso(self.opens_on),
            "payBy": iso(self.pay_by),
            "condition": str(self.condition),
            "lostAfter": iso(self.lost_after),
        }


@dataclass(frozen=True, slots=True)
class Slot:
    share: Decimal
    condition: Condition
    opens_on: date


def year_slots(regime: Regime, year: ContractYear, contract_end: date) -> tuple[Slot, ...]:
    if regime is Regime.FROM_2025:
        return _slots_2025(year, contract_end)
    if year.is_full:
        first, second, third = FULL_YEAR_SHARES[regime]
        return (
            Slot(first, Condition.ADVANCE, year.start),
            Slot(second, Condition.INTERIM, _within(year, 6)),
            Slot(third, Condition.BALANCE, _within(year, 9)),
        )
    advance, balance = PARTIAL_YEAR_SHARES
    return Slot(advance, Condition.ADVANCE, year.start), Slot(balance, Condition.BALANCE, year.end)


def _slots_2025(year: ContractYear, contract_end: date) -> tuple[Slot, ...]:
    advance, month_7, month_10, proof = SHARES_2025
    # The 10 % comes with the next year's first advance; the last year's at the contract's end.
    proof_opens = year.end if year.end == contract_end else year.end + ONE_DAY
    return (
        Slot(advance, Condition.ADVANCE, year.start),
        Slot(month_7, Condition.INTERIM, _within(year, 6)),
        Slot(month_10, Condition.INTERIM, _within(year, 9)),
        Slot(proof, Condition.PROOF_OF_SERVICE, proof_opens),
    )


def _within(year: ContractYear, months: int) -> date:
    """`months` after the year's start; an opening past the year's end opens on its end."""
    return min(anniversary(year.start, months), year.end)


def split(amount: Decimal, shares: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
    """Each share rounded to the cent; the last takes the remainder, so the parts add up to `amount` exactly."""
    parts = [money(amount * share) for share in shares[:-1]]
    return (*parts, amount - sum(parts, ZERO))


def year_instalments(
    regime: Regime, year: ContractYear, contract_end: date, first_numero: int
) -> tuple[Instalment, ...]:
    slots = year_slots(regime, year, contract_end)
    amounts = split(year.amount, tuple(slot.share for slot in slots))
    lost_after = months_later(contract_end, PROOF_DEADLINE_MONTHS)
    return tuple(
        Instalment(
            numero=numero,
            codification=f"E{numero}",
            year=year.index,
            share=slot.share,
            amount=amount,
            opens_on=slot.opens_on,
            pay_by=slot.opens_on + PAYMENT_DAYS,
            condition=slot.condition,
            lost_after=lost_after if slot.condition is Condition.PROOF_OF_SERVICE else None,
        )
        for numero, slot, amount in zip(range(first_numero, first_numero + len(slots)), slots, amounts, strict=True)
    )
