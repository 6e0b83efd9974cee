"""The funding schedule of a contract: its years, their amounts and their instalments."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from domain.funding.instalments import Instalment, year_instalments
from domain.funding.regimes import Regime, regime_of
from domain.funding.terms import FundingTerms, applied_npec
from domain.funding.years import ContractYear, contract_years
from domain.money import ZERO, money, money_text

EMPLOYER_PARTICIPATION = Decimal("750.00")  # L6332-14, R6332-25-1: contracts concluded from 2025-07-01, level ≥ 6
PARTICIPATION_LEVEL = 6


@dataclass(frozen=True, slots=True)
class FundingSchedule:
    regime: Regime
    npec_applied: Decimal  # after the distance minoration and the RQTH majoration
    years: tuple[ContractYear, ...]
    instalments: tuple[Instalment, ...]
    total: Decimal  # the sum of the years' amounts, before the employer participation

    @property
    def deductions(self) -> Decimal:
        return sum((instalment.deduction for instalment in self.instalments), ZERO)

    @property
    def payable(self) -> Decimal:
        """What the OPCO pays in all: the total less the employer participation deducted."""
        return self.total - self.deductions

    def as_record(self) -> dict[str, object]:
        return {
            "regime": str(self.regime),
            "npecApplied": money_text(self.npec_applied),
            "total": money_text(self.total),
            "deductions": money_text(self.deductions),
            "payable": money_text(self.payable),
            "years": [year.as_record() for year in self.years],
            "instalments": [instalment.as_record() for instalment in self.instalments],
        }


def funding_schedule(terms: FundingTerms, participation: Decimal | None = None) -> FundingSchedule:
    """`participation`: the employer's, where a rule other than the 750 € sets it (domain.ruptures.rupture_funding)."""
    regime = regime_of(terms.concluded_on)
    npec = applied_npec(terms, regime)
    years = tuple(
        replace(year, amount=year_amount(regime, npec, year)) for year in contract_years(terms.start, terms.end)
    )
    instalments: list[Instalment] = []
    for year in years:
        instalments.extend(year_instalments(regime, year, terms.end, len(instalments) + 1))
    if participation is None or not owes_participation(terms, regime):
        participation = EMPLOYER_PARTICIPATION if owes_participation(terms, regime) else ZERO
    total = sum((year.amount for year in years), ZERO)
    return FundingSchedule(regime, npec, years, _deduct(tuple(instalments), participation), total)


def year_amount(regime: Regime, npec: Decimal, year: ContractYear) -> Decimal:
    """2025 regime: prorata of the days over the year's length; before: of the started months over 12."""
    if regime is Regime.FROM_2025:
        return money(npec * year.days / year.year_days)
    return money(npec * year.months / 12)


def owes_participation(terms: FundingTerms, regime: Regime) -> bool:
    return regime is Regime.FROM_2025 and terms.level is not None and terms.level >= PARTICIPATION_LEVEL


def _deduct(instalments: tuple[Instalment, ...], participation: Decimal) -> tuple[Instalment, ...]:
    """The participation comes off year 1's first advance, what it cannot cover off the next instalments of year 1."""
    left = participation
    deducted: list[Instalment] = []
    for instalment in instalments:
        share = min(left, instalment.amount) if instalment.year == 1 else ZERO
        left -= share
        deducted.append(replace(instalment, deduction=share) if share else instalment)
    return tuple(deducted)
