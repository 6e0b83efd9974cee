"""Our schedule side by side with the OPCO's échéances and with what was invoiced and paid, per échéance."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from domain.funding.dates import iso
from domain.funding.instalments import Instalment
from domain.funding.schedule import FundingSchedule
from domain.money import CENT, ZERO, money, money_text


@dataclass(frozen=True, slots=True)
class OpcoEcheance:
    """One échéance as the dossier keeps it from the OPCO (numero, codification, montant*, dateOuverture)."""

    numero: int
    codification: str | None
    total: Decimal | None
    paid: Decimal | None
    pending: Decimal | None
    opens_on: date | None

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> OpcoEcheance:
        numero, codification, opens_on = record.get("numero"), record.get("codification"), record.get("dateOuverture")
        if not isinstance(numero, int) or isinstance(numero, bool):
            raise ValueError(f"an échéance without a numero: {record!r}")
        return cls(
            numero=numero,
            codification=codification if isinstance(codification, str) else None,
            total=_amount(record.get("montantTotal")),
            paid=_amount(record.get("montantRegle")),
            pending=_amount(record.get("montantEnCoursInstruction")),
            opens_on=date.fromisoformat(opens_on) if isinstance(opens_on, str) else None,
        )


@dataclass(frozen=True, slots=True)
class EcheanceComparison:
    numero: int
    codification: str | None  # the OPCO's when it has one (invoices cite it), else ours
    forecast: Decimal | None  # our instalment's payable amount (after the employer participation)
    forecast_opens_on: date | None
    opco_total: Decimal | None  # montantTotal
    opco_paid: Decimal | None  # montantRegle
    opco_pending: Decimal | None  # montantEnCoursInstruction
    opco_opens_on: date | None  # dateOuverture
    invoiced: Decimal  # by us (every amount of a row is rounded to the cent)
    paid: Decimal  # to us, as we recorded it
    pending: Decimal  # invoiced and not paid yet
    remaining: Decimal  # OPCO total (or our forecast) - paid - pending; negative when invoiced beyond it
    differs: bool  # |OPCO total - forecast| ≥ 0.01, once both sides have a schedule
    difference: Decimal | None  # OPCO total - forecast

    def as_record(self) -> dict[str, object]:
        return {
            "numero": self.numero,
            "codification": self.codification,
            "forecast": _text(self.forecast),
            "forecastOpensOn": iso(self.forecast_opens_on),
            "opcoTotal": _text(self.opco_total),
            "opcoPaid": _text(self.opco_paid),
            "opcoPending": _text(self.opco_pending),
            "opcoOpensOn": iso(self.opco_opens_on),
            "invoiced": money_text(self.invoiced),
            "paid": money_text(self.paid),
            "pending": money_text(self.pending),
            "remaining": money_text(self.remaining),
            "differs": self.differs,
            "difference": _text(self.difference),
        }


@dataclass(frozen=True, slots=True)
class EcheanceTotals:
    forecast: Decimal
    opco_total: Decimal
    opco_paid: Decimal
    opco_pending: Decimal
    invoiced: Decimal
    paid: Decimal
    pending: Decimal
    remaining: Decimal
    differing: int  # how many échéances differ

    def as_record(self) -> dict[str, object]:
        amounts = {
            "forecast": self.forecast,
            "opcoTotal": self.opco_total,
            "opcoPaid": self.opco_paid,
            "opcoPending": self.opco_pending,
            "invoiced": self.invoiced,
            "paid": self.paid,
            "pending": self.pending,
            "remaining": self.remaining,
        }
        return {**{key: money_text(value) for key, value in amounts.items()}, "differing": self.differing}


def compare(
    schedule: FundingSchedule | None,
    opco_echeances: Sequence[Mapping[str, object]],
    invoiced: Mapping[int, Decimal],
    paid: Mapping[int, Decimal],
) -> tuple[EcheanceComparison, ...]:
    """One row per échéance numero found in our schedule, the OPCO's, or what was invoiced or paid."""
    ours = {instalment.numero: instalment for instalment in schedule.instalments} if schedule else {}
    theirs = {echeance.numero: echeance for echeance in map(OpcoEcheance.from_record, opco_echeances)}
    both_sides = bool(ours) and bool(theirs)
    numeros = sorted(set(ours) | set(theirs) | set(invoiced) | set(paid))
    rows = (_row(number, ours.get(number), theirs.get(number), invoiced, paid, both_sides) for number in numeros)
    return tuple(rows)


def comparison_totals(rows: Iterable[EcheanceComparison]) -> EcheanceTotals:
    rows = tuple(rows)
    return EcheanceTotals(
        forecast=_sum(row.forecast for row in rows),
        opco_total=_sum(row.opco_total for row in rows),
        opco_paid=_sum(row.opco_paid for row in rows),
        opco_pending=_sum(row.opco_pending for row in rows),
        invoiced=_sum(row.invoiced for row in rows),
        paid=_sum(row.paid for row in rows),
        pending=_sum(row.pending for row in rows),
        remaining=_sum(row.remaining for row in rows),
        differing=sum(1 for row in rows if row.differs),
    )


def _row(
    numero: int,
    mine: Instalment | None,
    their: OpcoEcheance | None,
    invoiced: Mapping[int, Decimal],
    paid: Mapping[int, Decimal],
    both_sides: bool,
) -> EcheanceComparison:
    forecast = mine.payable if mine else None
    opco_total = their.total if their else None
    billed, received = money(invoiced.get(numero, ZERO)), money(paid.get(numero, ZERO))
    pending = max(billed - received, ZERO)
    due = forecast if opco_total is None else opco_total
    # Once both sides have a schedule, an échéance missing on one side counts as 0 € there.
    difference = (opco_total or ZERO) - (forecast or ZERO) if both_sides and (mine or their) else None
    return EcheanceComparison(
        numero=numero,
        codification=(their.codification if their else None) or (mine.codification if mine else None),
        forecast=forecast,
        forecast_opens_on=mine.opens_on if mine else None,
        opco_total=opco_total,
        opco_paid=their.paid if their else None,
        opco_pending=their.pending if their else None,
        opco_opens_on=their.opens_on if their else None,
        invoiced=billed,
        paid=received,
        pending=pending,
        remaining=(due or ZERO) - received - pending,
        differs=difference is not None and abs(difference) >= CENT,
        difference=difference,
    )


def _amount(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(f"not an amount: {value!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return money(amount)


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else money_text(amount)


def _sum(amounts: Iterable[Decimal | None]) -> Decimal:
    return sum((amount for amount in amounts if amount is not None), ZERO)
