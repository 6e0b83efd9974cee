"""What the ruptures read model puts on /attention: a declaration to file, a parked or refused rupture, and the last
invoice's deadline (4 months after the rupture) from 30 days before it to 30 days after."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

from application.read_models.rupture_status import RuptureQueries, RuptureRow
from tests.support import principal

CFA = "79852413800012"


class Rows:
    def __init__(self, *rows: RuptureRow) -> None:
        self._rows = list(rows)

    def rows(self, cfa_siret: str | None, state: str | None = None, waiting: bool | None = None) -> list[RuptureRow]:
        return [r for r in self._rows if cfa_siret in (None, r.cfa_siret)]


def row(numero: str, *, state: str = "sent", parked: bool = False, effet: date = date(2026, 10, 31)) -> RuptureRow:
    return RuptureRow(
        contract_id=uuid4(),
        termination_id=uuid4(),
        cfa_siret=CFA,
        numero_interne=numero,
        opco="ATLAS",
        route="api",
        state=state,
        parked=parked,
        date_effet=effet,
        motif="commun_accord",
        inside_probation=False,
        last_invoice_by=date(2027, 2, 28) if effet == date(2026, 10, 31) else date(2027, 4, 30),
        traineeship_until=None,
        updated_at=datetime(2026, 11, 1, tzinfo=UTC),
    )


def reasons(queries: RuptureQueries, today: date) -> list[tuple[str, tuple[str, ...]]]:
    return [(item.row.numero_interne, item.reasons) for item in queries.attention(principal(CFA), today)]


def test_the_last_invoice_deadline_shows_30_days_before_and_after() -> None:
    queries = RuptureQueries(Rows(row("A")))  # broken 31 Oct 2026: last invoice by 28 Feb 2027
    assert reasons(queries, date(2027, 1, 28)) == []
    assert reasons(queries, date(2027, 1, 29)) == [("A", ("last_invoice_deadline_near",))]
    assert reasons(queries, date(2027, 2, 28)) == [("A", ("last_invoice_deadline_near",))]
    assert reasons(queries, date(2027, 3, 1)) == [("A", ("last_invoice_deadline_passed",))]
    assert reasons(queries, date(2027, 3, 30)) == [("A", ("last_invoice_deadline_passed",))]
    assert reasons(queries, date(2027, 3, 31)) == []


def test_what_waits_for_a_person_is_listed_with_its_reason() -> None:
    queries = RuptureQueries(
        Rows(row("A", state="to_declare"), row("B", state="submitted", parked=True), row("C", state="refused"))
    )
    assert reasons(queries, date(2026, 11, 27)) == [
        ("A", ("rupture_to_declare",)),
        ("B", ("rupture_parked",)),
        ("C", ("rupture_refused",)),
    ]
    counts = queries.counts(principal(CFA), date(2027, 2, 1))
    assert (counts["total"], counts["waiting"], counts["lastInvoiceDue"]) == (3, 3, 3)
