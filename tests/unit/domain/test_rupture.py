"""The rules of a rupture: its motifs and who takes them, the probatory period, the dates it must fall within."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import InvalidValues
from domain.ruptures.rupture import (
    MOTIFS,
    ContractDates,
    Initiative,
    Motif,
    RuptureRequest,
    check_rupture,
    check_traineeship,
    probation,
)

DATES = ContractDates(start=date(2026, 9, 1), end=date(2028, 8, 31), practical_start=date(2026, 9, 1))
TODAY = date(2026, 11, 27)


def request(**changes: object) -> RuptureRequest:
    values: dict[str, object] = {
        "date_effet": date(2026, 10, 15),
        "motif": "periode_probatoire",
        "initiative": "employeur",
        "date_signalement": date(2026, 10, 16),
        "commentaire": None,
    }
    values.update(changes)
    return RuptureRequest(**values)  # type: ignore[arg-type]


def codes(excinfo: pytest.ExceptionInfo[InvalidValues]) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in excinfo.value.problems]


def test_every_motif_names_its_article_and_who_may_take_it() -> None:
    assert set(MOTIFS) == set(Motif)
    assert MOTIFS[Motif.PERIODE_PROBATOIRE].article == "L6222-18 al.1, R6222-21"
    assert MOTIFS[Motif.DEMISSION].initiatives == {Initiative.APPRENTI}
    assert MOTIFS[Motif.EXCLUSION_CFA].article == "L6222-18-1"


def test_the_probatory_period_is_the_first_45_days_from_the_practical_start() -> None:
    period = probation(date(2026, 9, 1))
    assert (period.start, period.end) == (date(2026, 9, 1), date(2026, 10, 15))  # 30 days of Sep + 15 of Oct
    assert period.holds(date(2026, 10, 15))
    assert not period.holds(date(2026, 10, 16))
    assert probation(date(2026, 9, 1), date(2026, 11, 30)).as_record() == {
        "debut": "2026-09-01",
        "fin": "2026-11-30",
        "source": "stated",
    }


def test_a_rupture_on_the_45th_day_is_inside_the_period_and_on_the_46th_outside() -> None:
    inside = check_rupture(request(), DATES, TODAY)
    assert inside.inside_probation
    record = inside.as_record()
    assert record["pendantPeriodeProbatoire"] is True
    assert record["article"] == "L6222-18 al.1, R6222-21"
    assert record["periodeProbatoire"] == {"debut": "2026-09-01", "fin": "2026-10-15", "source": "computed"}

    after = check_rupture(
        request(date_effet=date(2026, 10, 16), motif="commun_accord", initiative="commun"), DATES, TODAY
    )
    assert not after.inside_probation


def test_the_practical_start_anchors_the_period_not_the_contract_start() -> None:
    later = ContractDates(date(2026, 9, 1), date(2028, 8, 31), practical_start=date(2026, 9, 15))
    assert check_rupture(request(date_effet=date(2026, 10, 29)), later, TODAY).inside_probation


def test_the_date_lies_within_the_contract() -> None:
    with pytest.raises(InvalidValues) as before:
        check_rupture(request(date_effet=date(2026, 8, 31)), DATES, TODAY)
    assert codes(before) == [("dateEffetRupture", "outside_contract")]
    with pytest.raises(InvalidValues) as beyond:
        check_rupture(request(date_effet=date(2028, 9, 1), motif="commun_accord", initiative="commun"), DATES, TODAY)
    assert codes(beyond) == [("dateEffetRupture", "outside_contract")]


def test_the_probatory_motif_after_the_period_is_refused_unless_the_cfa_states_a_later_end() -> None:
    with pytest.raises(InvalidValues) as late:
        check_rupture(request(date_effet=date(2026, 11, 20)), DATES, TODAY)
    assert codes(late) == [("motif", "after_probation")]

    stated = check_rupture(
        request(date_effet=date(2026, 11, 20), fin_periode_probatoire=date(2026, 11, 30)), DATES, TODAY
    )
    assert stated.inside_probation
    assert stated.probation.stated


def test_the_initiative_must_fit_the_motif_and_every_problem_is_listed() -> None:
    with pytest.raises(InvalidValues) as excinfo:
        check_rupture(
            request(
                motif="demission",
                initiative="employeur",
                date_signalement=date(2026, 11, 28),
                commentaire="x" * 1001,
            ),
            DATES,
            TODAY,
        )
    assert codes(excinfo) == [
        ("dateSignalement", "in_future"),
        ("commentaire", "too_long"),
        ("initiative", "initiative_not_for_motif"),
    ]


def test_unknown_or_missing_codes_are_named() -> None:
    with pytest.raises(InvalidValues) as excinfo:
        check_rupture(request(motif="fin_de_chantier", initiative=None, date_effet=None), DATES, TODAY)
    assert codes(excinfo) == [
        ("motif", "unknown_motif"),
        ("initiative", "required"),
        ("dateEffetRupture", "required"),
    ]


def test_the_report_date_defaults_to_today() -> None:
    assert check_rupture(request(date_signalement=None), DATES, TODAY).date_signalement == TODAY


def test_a_traineeship_follows_the_rupture_for_six_months_at_most() -> None:
    check_traineeship(date(2026, 10, 15), date(2026, 10, 16), date(2027, 4, 15))
    with pytest.raises(InvalidValues) as excinfo:
        check_traineeship(date(2026, 10, 15), date(2026, 10, 15), date(2027, 4, 16))
    assert codes(excinfo) == [("debut", "not_after_rupture"), ("fin", "over_six_months")]
    # a deadline in months ends on the month's last day when it lacks the day: 31 Aug + 6 months = 28 Feb
    check_traineeship(date(2026, 8, 31), date(2026, 9, 1), date(2027, 2, 28))
    with pytest.raises(InvalidValues):
        check_traineeship(date(2026, 8, 31), date(2026, 9, 1), date(2027, 3, 1))
