"""The funding of an apprenticeship contract by its OPCO: pure functions, no I/O, amounts in Decimal euros.

Rules and conventions: docs/funding.md.
"""

from domain.funding.comparison import EcheanceComparison, EcheanceTotals, compare, comparison_totals
from domain.funding.errors import FundingTermsInvalid
from domain.funding.instalments import Condition, Instalment
from domain.funding.regimes import Regime, regime_of
from domain.funding.schedule import FundingSchedule, funding_schedule
from domain.funding.terms import FundingTerms, applied_npec
from domain.funding.years import ContractYear, contract_years

__all__ = [
    "Condition",
    "ContractYear",
    "EcheanceComparison",
    "EcheanceTotals",
    "FundingSchedule",
    "FundingTerms",
    "FundingTermsInvalid",
    "Instalment",
    "Regime",
    "applied_npec",
    "compare",
    "comparison_totals",
    "contract_years",
    "funding_schedule",
    "regime_of",
]
