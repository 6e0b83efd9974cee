"""Our schedule side by side with the OPCO's échéances, invoices and payments, figures checked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.funding import EcheanceComparison, FundingTerms, compare, comparison_totals, funding_schedule

# Regime 2021, one full year of 6000: E1 2400.00 (1 Sep 2025), E2 1800.00 (1 Mar 2026), E3 1800.00 (1 Jun 2026)
SCHEDULE = funding_schedule(FundingTerms(date(2025, 6, 30), date(2025, 9, 1), date(2026, 8, 31), Decimal(6000)))


def echeance(
    numero: int, total: str | None, paid: str = "0.00", pending: str = "0.00", opens: str | None = None
) -> dict[str, object]:
    return {
        "numero": numero,
        "codification": f"E{numero}",
        "montantTotal": total,
        "montantRegle": paid,
        "montantEnCoursInstruction": pending,
        "dateOuverture": opens,
        "dateDebut": None,
        "dateFin": None,
    }


OPCO = [
    echeance(1, "2400.00", paid="2400.00", opens="2025-09-01"),
    echeance(2, "1750.00", pending="1750.00", opens="2026-03-01"),
    echeance(3, "1850"),
    echeance(4, "100.00"),  # one we do not forecast
]
INVOICED = {1: Decimal("2400.00"), 2: Decimal("1750.00")}
PAID = {1: Decimal("2400.00")}


def figures(row: EcheanceComparison) -> tuple[str | None, str | None, str, str, str, bool, str | None]:
    """(forecast, OPCO total, invoiced, paid, remaining, differs, difference) as strings."""

    def text(amount: Decimal | None) -> str | None:
        return None if amount is None else str(amount)

    return (
        text(row.forecast),
        text(row.opco_total),
        str(row.invoiced),
        str(row.paid),
        str(row.remaining),
        row.differs,
        text(row.difference),
    )


def test_one_row_per_echeance_of_either_side() -> None:
    rows = compare(SCHEDULE, OPCO, INVOICED, PAID)
    assert [row.numero for row in rows] == [1, 2, 3, 4]
    assert [figures(row) for row in rows] == [
        ("2400.00", "2400.00", "2400.00", "2400.00", "0.00", False, "0.00"),  # 2400 − 2400 paid − 0 pending
        ("1800.00", "1750.00", "1750.00", "0.00", "0.00", True, "-50.00"),  # 1750 − 0 − 1750 pending; 1750 − 1800
        ("1800.00", "1850.00", "0.00", "0.00", "1850.00", True, "50.00"),  # 1850 − 0 − 0; 1850 − 1800
        (None, "100.00", "0.00", "0.00", "100.00", True, "100.00"),  # only the OPCO has it: 100 − 0
    ]
    assert rows[1].pending == Decimal("1750.00")  # invoiced 1750 − paid 0
    assert (rows[0].forecast_opens_on, rows[0].opco_opens_on) == (date(2025, 9, 1), date(2025, 9, 1))
    assert (rows[2].forecast_opens_on, rows[2].opco_opens_on) == (date(2026, 6, 1), None)
    assert (str(rows[1].opco_paid), str(rows[1].opco_pending)) == ("0.00", "1750.00")


def test_totals() -> None:
    totals = comparison_totals(compare(SCHEDULE, OPCO, INVOICED, PAID))
    assert totals.as_record() == {
        "forecast": "6000.00",  # 2400 + 1800 + 1800
        "opcoTotal": "6100.00",  # 2400 + 1750 + 1850 + 100
        "opcoPaid": "2400.00",
        "opcoPending": "1750.00",
        "invoiced": "4150.00",  # 2400 + 1750
        "paid": "2400.00",
        "pending": "1750.00",
        "remaining": "1950.00",  # 0 + 0 + 1850 + 100
        "differing": 3,
    }


@pytest.mark.parametrize(
    ("opco_total", "differs", "difference"),
    [
        ("1800", False, "0.00"),  # read as 1800.00
        ("1800.004", False, "0.00"),  # rounded half up to 1800.00
        ("1800.005", True, "0.01"),  # rounded half up to 1800.01
        ("1799.99", True, "-0.01"),
    ],
)
def test_a_difference_counts_from_one_cent(opco_total: str, differs: bool, difference: str) -> None:
    row = compare(SCHEDULE, [echeance(2, opco_total)], {}, {})[1]
    assert (row.numero, row.differs, str(row.difference)) == (2, differs, difference)


def test_before_the_opco_commits_the_forecast_is_what_remains() -> None:
    rows = compare(SCHEDULE, [], {1: Decimal("1000.00")}, {})
    assert [figures(row) for row in rows] == [
        ("2400.00", None, "1000.00", "0.00", "1400.00", False, None),  # 2400 − 0 − 1000 pending
        ("1800.00", None, "0.00", "0.00", "1800.00", False, None),
        ("1800.00", None, "0.00", "0.00", "1800.00", False, None),
    ]


def test_without_a_schedule_the_opco_figures_stand_alone() -> None:
    rows = compare(None, OPCO[:2], {}, {})
    assert [figures(row) for row in rows] == [
        (None, "2400.00", "0.00", "0.00", "2400.00", False, None),  # our paid is what we recorded: none yet
        (None, "1750.00", "0.00", "0.00", "1750.00", False, None),
    ]


def test_an_opco_echeance_without_a_total_falls_back_on_the_forecast() -> None:
    rows = compare(SCHEDULE, [echeance(1, None)], {1: Decimal("400.00")}, {})
    # remaining 2400 − 0 − 400; the OPCO's side counts as 0: 0 − 2400
    assert figures(rows[0]) == ("2400.00", None, "400.00", "0.00", "2000.00", True, "-2400.00")


def test_money_invoiced_against_an_unknown_echeance_still_shows() -> None:
    rows = compare(SCHEDULE, OPCO, {9: Decimal("10.00")}, {})
    assert figures(rows[-1]) == (None, None, "10.00", "0.00", "-10.00", False, None)  # 0 − 0 − 10


def test_paid_beyond_the_total_leaves_a_negative_remainder() -> None:
    row = compare(SCHEDULE, OPCO, {1: Decimal("2400.00")}, {1: Decimal("2500.00")})[0]
    assert (row.pending, row.remaining) == (Decimal(0), Decimal("-100.00"))  # pending max(2400 − 2500, 0); 2400 − 2500


def test_the_forecast_is_net_of_the_employer_participation() -> None:
    terms = FundingTerms(date(2025, 7, 1), date(2025, 9, 1), date(2026, 8, 31), Decimal(6000), level=6)
    row = compare(funding_schedule(terms), [echeance(1, "1650.00")], {}, {})[0]
    assert (row.forecast, row.differs) == (Decimal("1650.00"), False)  # 6000 × 0.40 − 750


def test_the_opco_codification_wins() -> None:
    opco = [{**echeance(2, "1800.00"), "codification": "ECH-2"}]
    assert [row.codification for row in compare(SCHEDULE, opco, {}, {})] == ["E1", "ECH-2", "E3"]


def test_as_record() -> None:
    row = compare(SCHEDULE, OPCO, INVOICED, PAID)[1]
    assert row.as_record() == {
        "numero": 2,
        "codification": "E2",
        "forecast": "1800.00",
        "forecastOpensOn": "2026-03-01",
        "opcoTotal": "1750.00",
        "opcoPaid": "0.00",
        "opcoPending": "1750.00",
        "opcoOpensOn": "2026-03-01",
        "invoiced": "1750.00",
        "paid": "0.00",
        "pending": "1750.00",
        "remaining": "0.00",
        "differs": True,
        "difference": "-50.00",
    }


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({**echeance(1, "2400.00"), "numero": "1"}, "without a numero"),
        ({**echeance(1, "2400.00"), "numero": None}, "without a numero"),
        (echeance(1, "deux mille"), "not an amount"),
        (echeance(1, "NaN"), "not an amount"),
        ({**echeance(1, None), "montantTotal": 2400.0}, "not an amount"),
    ],
)
def test_a_malformed_echeance_is_refused(record: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compare(SCHEDULE, [record], {}, {})
