"""What a funding schedule is computed from, and the NPEC it applies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import MAXYEAR, date
from decimal import Decimal

from domain.funding.dates import anniversary
from domain.funding.errors import FundingTermsInvalid
from domain.funding.regimes import Regime, regime_of
from domain.money import money

DISTANCE_RATE = Decimal("0.80")  # décret 2025-586: -20 % when ≥ 80 % of the training is remote
DISTANCE_FLOOR = Decimal("4000.00")
RQTH_RATE = Decimal("0.50")
RQTH_CAP = Decimal("4000.00")
LEVELS = range(3, 9)
MAX_YEARS = 4  # 3 years, 4 with a RQTH or a derogation
LAST_YEAR = MAXYEAR - MAX_YEARS - 1  # so that every date of a schedule, start + MAX_YEARS + months, exists


@dataclass(frozen=True, slots=True)
class FundingTerms:
    concluded_on: date  # date de conclusion: picks the regime
    start: date  # dateDebutContrat: anchors the contract years
    end: date  # dateFinContrat, inclusive
    npec: Decimal  # annual NPEC in euros (the OPCO's committed one, or the CFA's forecast)
    level: int | None = None  # certification level targeted (3..8)
    distance_learning: bool = False  # ≥ 80 % of the training hours remote
    rqth: bool = False  # apprentice with a RQTH

    def __post_init__(self) -> None:
        regime_of(self.concluded_on)
        if self.end < self.start:
            raise FundingTermsInvalid("end", "end_before_start", "the contract ends before it starts")
        if self.end.year > LAST_YEAR:  # a schedule's dates run an anniversary and some months past the end
            raise FundingTermsInvalid("end", "end_out_of_range", f"no schedule for a contract ending after {LAST_YEAR}")
        if self.end >= anniversary(self.start, 12 * MAX_YEARS):
            raise FundingTermsInvalid(
                "end",
                "contract_too_long",
                f"no schedule for a contract of more than {MAX_YEARS} years, the most the law allows (L6222-7-1)",
            )
        if not isinstance(self.npec, Decimal) or not self.npec.is_finite():
            raise FundingTermsInvalid("npec", "npec_not_decimal", "the NPEC is an amount in euros (a Decimal)")
        if self.npec <= 0:
            raise FundingTermsInvalid("npec", "npec_not_positive", "the NPEC must be more than 0 €")
        if self.level is not None and self.level not in LEVELS:
            raise FundingTermsInvalid("level", "level_out_of_range", "the certification level is between 3 and 8")


def applied_npec(terms: FundingTerms, regime: Regime) -> Decimal:
    """The NPEC after the distance minoration (2025 regime only), then the RQTH majoration on that result."""
    npec = money(terms.npec)
    if terms.distance_learning and regime is Regime.FROM_2025:
        npec = min(npec, max(DISTANCE_FLOOR, money(npec * DISTANCE_RATE)))
    if terms.rqth:
        npec += min(money(npec * RQTH_RATE), RQTH_CAP)
    return npec
