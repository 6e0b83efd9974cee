"""The annex costs the OPCO engaged (engagementsFraisAnnexe, kept with its commitment) bound the invoice lines of
their kind: the amount over the contract, and the price of a night or a meal. A kind the OPCO engaged nothing of
keeps the legal ceilings only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from application.dossiers import Dossiers
from application.invoices.billing_profiles import BillingProfiles
from application.invoices.invoices import Invoices
from domain.contracts.contract import Contract
from domain.errors import InvalidValues
from domain.invoicing.annex import annex_record
from domain.invoicing.kinds import InvoiceKind
from domain.opco.opco_catalogue import CATALOGUE
from tests.invoicing import CFA, accepted_contract, echeancier, line
from tests.support import dossiers, principal
from tests.unit.fakes import PlainBox

TODAY = date(2026, 11, 27)
WHO = principal(CFA)
MEALS = InvoiceKind.RESTAURATION


def engaged(kind: InvoiceKind, nature: str, quantite: str, price: str, total: str | None) -> dict[str, Any]:
    return annex_record(
        kind=kind,
        nature=nature,
        quantite=Decimal(quantite),
        prix_unitaire=Decimal(price),
        montant_total=None if total is None else Decimal(total),
    )


@pytest.fixture
def app() -> Dossiers:
    return dossiers(today=TODAY)


@pytest.fixture
def invoices(app: Dossiers) -> Invoices:
    return Invoices(app, CATALOGUE, app.clock, BillingProfiles(app, PlainBox()))


def contract_with(app: Dossiers, cerfa: dict[str, Any], *frais: dict[str, Any]) -> Contract:
    two_open = echeancier(opens=("2026-09-01", "2026-10-01"))
    return accepted_contract(app, WHO, cerfa, echeances=two_open, frais_annexes=list(frais))


def create(invoices: Invoices, numero: str, *lines: Any) -> Decimal:
    return invoices.create(WHO, numero_interne_facture=numero, invoice_date=TODAY, lines=list(lines)).invoice.amount


def refusal(invoices: Invoices, *lines: Any) -> list[tuple[str, str, str]]:
    with pytest.raises(InvalidValues) as refused:
        invoices.create(WHO, numero_interne_facture="F-X", invoice_date=TODAY, lines=list(lines))
    return [(p.field, p.code, p.message) for p in refused.value.problems]


def test_meals_stay_within_the_amount_the_opco_engaged(
    app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]
) -> None:
    contract = contract_with(app, complete_cerfa, engaged(MEALS, "Restauration", "20", "3", "60"))

    [(field, code, message)] = refusal(invoices, line(contract.id, 1, "63.00", MEALS, 21))

    assert (field, code) == ("lines.0.amount", "ceiling_exceeded")
    assert "at most 60.00 € per contract here (engaged by the OPCO)" in message
    assert create(invoices, "F-1", line(contract.id, 1, "60.00", MEALS, 20)) == Decimal("60.00")


def test_the_engaged_amount_counts_every_invoice_of_the_contract(
    app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]
) -> None:
    contract = contract_with(app, complete_cerfa, engaged(MEALS, "RESTAURATION", "20", "3", None))
    create(invoices, "F-1", line(contract.id, 1, "45.00", MEALS, 15))

    [(_, code, message)] = refusal(invoices, line(contract.id, 2, "18.00", MEALS, 6))

    assert code == "ceiling_exceeded"
    assert "45.00 € already invoiced" in message  # 20 × 3 € engaged, without a montantTotal
    assert create(invoices, "F-2", line(contract.id, 2, "15.00", MEALS, 5)) == Decimal("15.00")


def test_a_meal_costs_at_most_the_opcos_lower_price(
    app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]
) -> None:
    contract = contract_with(app, complete_cerfa, engaged(MEALS, "Restauration", "100", "2.50", "250"))

    [(field, code, message)] = refusal(invoices, line(contract.id, 1, "50.01", MEALS, 20))

    assert (field, code) == ("lines.0.amount", "ceiling_exceeded")
    assert "at most 2.50 € a meal (the OPCO's price)" in message
    assert create(invoices, "F-1", line(contract.id, 1, "50.00", MEALS, 20)) == Decimal("50.00")


def test_first_equipment_stays_within_what_the_opco_engaged(
    app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]
) -> None:
    equipment = InvoiceKind.PREMIER_EQUIPEMENT
    contract = contract_with(app, complete_cerfa, engaged(equipment, "Premierequipement", "1", "200", "200"))

    [(_, code, message)] = refusal(invoices, line(contract.id, 1, "200.01", equipment))

    assert code == "ceiling_exceeded"
    assert "at most 200.00 € per contract here (engaged by the OPCO)" in message
    assert create(invoices, "F-1", line(contract.id, 1, "200.00", equipment)) == Decimal("200.00")


def test_a_kind_the_opco_engaged_nothing_of_keeps_the_legal_ceilings(
    app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]
) -> None:
    contract = contract_with(app, complete_cerfa, engaged(MEALS, "Restauration", "1", "3", "3"))
    nights = InvoiceKind.HEBERGEMENT

    assert create(invoices, "F-1", line(contract.id, 1, "600.00", nights, 100)) == Decimal("600.00")
    [(_, code, message)] = refusal(invoices, line(contract.id, 2, "6.01", nights, 1))
    assert code == "ceiling_exceeded"
    assert "at most 6.00 € a night," in message


RQTH = InvoiceKind.MAJORATION_RQTH


def with_rqth(cerfa: dict[str, Any]) -> dict[str, Any]:
    return {**cerfa, "apprenti": {**cerfa["apprenti"], "handicap": True}}


def test_the_rqth_majoration_needs_an_apprentice_with_an_rqth(
    app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]
) -> None:
    contract = contract_with(app, complete_cerfa)

    [(field, code, message)] = refusal(invoices, line(contract.id, 1, "500.00", RQTH))

    assert (field, code) == ("lines.0.kind", "rqth_required")
    assert "apprenti.handicap" in message


def test_the_rqth_majoration_stays_within_4000_euros_a_year_of_contract(
    app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]
) -> None:
    contract = contract_with(app, with_rqth(complete_cerfa))  # 2026-09-01 to 2028-08-31: two years

    assert create(invoices, "F-1", line(contract.id, 1, "5000.00", RQTH)) == Decimal("5000.00")
    [(field, code, message)] = refusal(invoices, line(contract.id, 2, "3000.01", RQTH))

    assert (field, code) == ("lines.0.amount", "ceiling_exceeded")
    assert "at most 8000.00 € per contract here (4000.00 € a year, 2 year(s))" in message
    assert "5000.00 € already invoiced" in message


def test_the_rqth_majoration_stays_within_the_opcos_lower_engagement(
    app: Dossiers, invoices: Invoices, complete_cerfa: dict[str, Any]
) -> None:
    contract = contract_with(app, with_rqth(complete_cerfa), engaged(RQTH, "MAJORATION_RQTH", "1", "1500", "1500"))

    [(_, code, message)] = refusal(invoices, line(contract.id, 1, "1500.01", RQTH))

    assert code == "ceiling_exceeded"
    assert "at most 1500.00 € per contract here (engaged by the OPCO)" in message
    assert create(invoices, "F-1", line(contract.id, 1, "1500.00", RQTH)) == Decimal("1500.00")
