"""The CFA's billing profile: its rules, the IBAN sealed, and the invoice numbers allocated without gaps; an invoice
is submitted only with a profile."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from application.access.access import OPERATOR, Role
from application.dossiers import Dossiers
from application.errors import Forbidden, NotFound, VersionMismatch
from application.invoices.billing_profiles import BillingProfiles
from application.invoices.invoices import Invoices
from domain.errors import InvalidValue, SubmissionBlocked
from domain.invoicing.billing_profile import BillingDetails
from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.lines import LineRequest
from domain.opco.opco_catalogue import CATALOGUE
from tests.invoicing import CFA, PROFILE, accepted_contract
from tests.support import dossiers, principal
from tests.unit.fakes import PlainBox

OTHER_CFA = "73282932000074"
IBAN = "FR7630006000011234567890189"


@pytest.fixture
def app() -> Dossiers:
    return dossiers(today=date(2026, 11, 27))


@pytest.fixture
def profiles(app: Dossiers) -> BillingProfiles:
    return BillingProfiles(app, PlainBox())


def details(**changes: Any) -> BillingDetails:
    return BillingDetails(**{**PROFILE, **changes})


def refusals(**changes: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as refused:
        details(**changes)
    return [(str(e["loc"][0]), e["type"]) for e in refused.value.errors()]


def test_the_values_are_normalised_to_their_standard_form() -> None:
    profile = details(iban="fr76 3000 6000 0112 3456 7890 189", bic="agri fr pp", declarationNumber="826 900 001 69")
    assert (profile.iban, profile.bic, profile.declarationNumber) == (IBAN, "AGRIFRPP", "82690000169")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("iban", "FR7630006000011234567890188", "iban_invalid"),  # check digits wrong
        ("iban", "not an iban", "iban_invalid"),
        ("bic", "AGRI", "bic_invalid"),
        ("uai", "0690001A", "uai_check_letter"),
        ("uai", "069001", "uai_format"),
        ("codePostal", "6900", "code_postal_format"),
        ("declarationNumber", "8269000016", "declaration_number_format"),
        ("invoicePrefix", "FAC 2026", "invoice_prefix_format"),
        ("legalName", "  ", "text_empty"),
        ("nextInvoiceNumber", 0, "greater_than_equal"),
    ],
)
def test_a_bad_value_is_refused_naming_its_field_and_rule(field: str, value: Any, code: str) -> None:
    assert refusals(**{field: value}) == [(field, code)]


def test_every_field_but_the_second_address_line_is_required() -> None:
    values = {k: v for k, v in PROFILE.items() if k != "iban"}
    with pytest.raises(ValidationError) as refused:
        BillingDetails(**values)
    assert [(e["loc"], e["type"]) for e in refused.value.errors()] == [(("iban",), "missing")]


def test_the_iban_is_stored_sealed_and_shown_by_its_last_four(app: Dossiers, profiles: BillingProfiles) -> None:
    outcome = profiles.set(OPERATOR, CFA, details())
    profile = outcome.aggregate
    assert (profile.iban_masked, profile.sealed_iban) == ("****0189", PlainBox().seal(IBAN))
    stored = [repr(e.__dict__) for e in app.repository.event_store.get(profile.id)]
    assert not any(IBAN in text for text in stored)
    assert profile.details is not None
    assert (profile.prefix, profile.next_number, profile.details["legalName"]) == ("FAC-2026-", 1, PROFILE["legalName"])


def test_the_same_profile_again_changes_nothing(profiles: BillingProfiles) -> None:
    first = profiles.set(OPERATOR, CFA, details())
    again = profiles.set(OPERATOR, CFA, details(iban="FR76 3000 6000 0112 3456 7890 189"))
    assert (again.aggregate.version, again.position) == (first.aggregate.version, None)


def test_only_an_admin_of_the_cfa_or_the_operator_sets_it(profiles: BillingProfiles) -> None:
    with pytest.raises(Forbidden):
        profiles.set(principal(CFA, Role.FRONTEND), CFA, details())
    with pytest.raises(NotFound):
        profiles.set(principal(OTHER_CFA, Role.ADMIN), CFA, details())
    assert profiles.set(principal(CFA, Role.ADMIN), CFA, details()).aggregate.cfa_siret == CFA
    with pytest.raises(NotFound):
        profiles.get(principal(OTHER_CFA, Role.ADMIN), CFA)


def test_a_stale_version_is_refused(profiles: BillingProfiles) -> None:
    first = profiles.set(OPERATOR, CFA, details())
    profiles.set(OPERATOR, CFA, details(commune="Villeurbanne"))
    with pytest.raises(VersionMismatch):
        profiles.set(OPERATOR, CFA, details(commune="Lyon"), expected_version=first.aggregate.version)


def test_numbers_follow_each_other_per_cfa_and_an_invoice_keeps_its_own(profiles: BillingProfiles) -> None:
    profiles.set(OPERATOR, CFA, details(nextInvoiceNumber=41))
    profiles.set(OPERATOR, OTHER_CFA, details())
    first, second = uuid4(), uuid4()
    assert profiles.allocate(CFA, first, "test").aggregate.allocations[str(first)] == "FAC-2026-00041"
    assert profiles.allocate(CFA, second, "test").aggregate.allocations[str(second)] == "FAC-2026-00042"
    again = profiles.allocate(CFA, first, "test")
    assert (again.position, again.aggregate.next_number) == (None, 43)
    other = uuid4()
    assert profiles.allocate(OTHER_CFA, other, "test").aggregate.allocations[str(other)] == "FAC-2026-00001"


def test_a_prefix_that_issued_numbers_goes_on_where_it_stands(profiles: BillingProfiles) -> None:
    profiles.set(OPERATOR, CFA, details())
    profiles.allocate(CFA, uuid4(), "test")
    with pytest.raises(InvalidValue) as refused:
        profiles.set(OPERATOR, CFA, details(nextInvoiceNumber=1))
    assert (refused.value.problem.field, refused.value.problem.code) == ("nextInvoiceNumber", "numbering_without_gaps")
    assert profiles.set(OPERATOR, CFA, details(invoicePrefix="FAC-2027-")).aggregate.next_number == 1
    back = profiles.set(OPERATOR, CFA, details()).aggregate  # the 2026 sequence again: after its last number
    assert (back.prefix, back.next_number) == ("FAC-2026-", 2)


def test_an_invoice_without_a_billing_profile_is_not_submitted(app: Dossiers, complete_cerfa: dict[str, Any]) -> None:
    who = principal(CFA)
    contract = accepted_contract(app, who, complete_cerfa, with_billing_profile=False)
    invoices = Invoices(app, CATALOGUE, app.clock, BillingProfiles(app, PlainBox()))
    line = LineRequest(contract.id, 1, InvoiceKind.PEDAGOGIE, Decimal(contract.echeances[0]["montantTotal"]))
    invoice = invoices.create(who, numero_interne_facture="F-1", invoice_date=date(2026, 11, 27), lines=[line]).invoice
    with pytest.raises(SubmissionBlocked) as blocked:
        invoices.submit(who, invoice.id)
    assert [(p.field, p.code) for p in blocked.value.problems] == [("billingProfile", "billing_profile_missing")]
    assert invoices.invoice(who, invoice.id).state.value == "drafted"
    assert invoice.numero is None

    invoices.billing.set(OPERATOR, CFA, details())
    submitted = invoices.submit(who, invoice.id).invoice
    assert (submitted.state.value, submitted.numero) == ("submitted", "FAC-2026-00001")
