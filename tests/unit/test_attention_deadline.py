"""/attention's deposit deadline reasons: five jours ouvrables after the start, with the holidays of the
employer's département (domain/contracts/deadlines.py), as of the clock's day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, cast
from uuid import UUID, uuid4

import pytest

from application.opco.opco_accounts import OpcoAccounts
from application.read_models.status import HeldDossier, StatusRow, StatusView
from application.read_models.status_queries import StatusQueries
from tests.support import FixedClock, principal

CFA = "79852413800012"
START = date(2026, 4, 1)  # a Wednesday, two days before Good Friday


class Candidates:
    """The part of a status view /attention reads: these rows are its candidates, none is held."""

    def __init__(self, rows: list[StatusRow]) -> None:
        self.rows = rows

    def attention_candidates(self, cfa_siret: str | None, limit: int) -> list[StatusRow]:
        return self.rows[:limit]

    def held(self, cfa_siret: str | None) -> list[HeldDossier]:
        return []

    def current_rows(self, contract_ids: Sequence[UUID]) -> list[StatusRow]:
        return []


def row(numero: str, departement: str | None, **changes: Any) -> StatusRow:
    moment = datetime(2026, 3, 30, tzinfo=UTC)
    values: dict[str, Any] = {
        "contract_id": uuid4(),
        "cfa_siret": CFA,
        "numero_interne": numero,
        "state": "mandate_checked",
        "opco": "ATLAS",
        "apprentice_name": "MARTIN Léa",
        "employer_name": "Nébula Conseil",
        "employer_siret": "84213657400022",
        "formation_rncp": "RNCP35340",
        "formation_title": "BTS",
        "start_date": START,
        "end_date": date(2028, 3, 31),
        "numero_externe": None,
        "numero_deca": None,
        "opco_state": None,
        "problem_count": 0,
        "has_mandate": True,
        "parked": False,
        "commitment": None,
        "created_at": moment,
        "updated_at": moment,
        "submitted_at": None,
        "sent_at": None,
        "position": 1,
        "workplace_departement": departement,
    }
    return StatusRow(**{**values, **changes})


def reasons_on(today: date, *rows: StatusRow) -> dict[str, tuple[str, ...]]:
    view = cast(StatusView, Candidates(list(rows)))
    accounts = cast(OpcoAccounts, None)  # the dashboard's, not read by /attention
    queries = StatusQueries(view, accounts, FixedClock(today), "dossiers")
    return {item.row.numero_interne: item.reasons for item in queries.attention(principal(CFA))}


def test_the_deadline_passes_a_day_later_in_moselle_where_good_friday_is_a_holiday() -> None:
    # Paris: Thu 2, Fri 3, Sat 4, (Sun 5, Easter Monday 6), Tue 7, Wed 8 April. Moselle: Good Friday too: Thu 9.
    found = reasons_on(date(2026, 4, 9), row("PARIS", "75"), row("METZ", "57"))
    assert found["PARIS"] == ("deposit_deadline_passed",)
    assert found["METZ"] == ("deposit_deadline_near",)


@pytest.mark.parametrize(
    ("today", "reasons"),
    [
        (date(2026, 4, 2), ()),  # Thursday: the deadline (Wed 8) is more than 2 jours ouvrables away (Sat 4)
        (date(2026, 4, 4), ("deposit_deadline_near",)),  # Saturday: 2 jours ouvrables on is Wed 8 (Mon 6 is not one)
        (date(2026, 4, 8), ("deposit_deadline_near",)),  # the last day
        (date(2026, 4, 9), ("deposit_deadline_passed",)),
    ],
)
def test_the_warning_counts_jours_ouvrables_too(today: date, reasons: tuple[str, ...]) -> None:
    assert reasons_on(today, row("PARIS", "75")).get("PARIS", ()) == reasons


def test_a_dossier_already_sent_has_no_deadline_to_watch() -> None:
    assert reasons_on(date(2026, 5, 1), row("SENT", "75", state="sent")) == {}
