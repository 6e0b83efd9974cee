"""A small store's worth of data (contracts, a submitted invoice with the CFA's sealed IBAN, OPCO credentials, a
token) and the checks that it is all still there: for the backup and restore tests and the layout fixture of
tests/fixtures/ (made before the OPCO credentials were added here)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from uuid import UUID

from application.access.access import OPERATOR, Role
from application.read_models.invoice_status import InvoiceFilter
from application.read_models.status import ContractFilter
from domain.contracts.contract import Contract
from domain.invoicing.billing_profile import BillingDetails
from domain.invoicing.invoice import Invoice
from domain.opco.opcos import Opco
from interfaces.bootstrap import Container
from tests.invoicing import CFA, PROFILE, accepted_contract, line
from tests.support import principal, with_changes

EXAMPLE = Path(__file__).parent.parent / "docs" / "examples" / "cerfa-complete.json"


@dataclass(frozen=True)
class Contents:
    contract_ids: list[str]
    invoice_id: str
    token_id: str
    token_secret: str  # a test token of a test store, nothing else

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Contents:
        return cls(**json.loads(path.read_text()))


def populate(container: Container, contracts: int = 3) -> Contents:
    app, who = container.dossiers, principal(CFA)
    container.invoices.billing.set(OPERATOR, CFA, BillingDetails(**PROFILE))
    document = json.loads(EXAMPLE.read_text())
    ids = []
    for n in range(1, contracts + 1):
        cerfa = with_changes(document, organismeFormation={"siret": CFA})
        ids.append(accepted_contract(app, who, cerfa, f"C-{n}", with_billing_profile=False).id)
    saved = container.invoices.create(
        who, numero_interne_facture="F-1", invoice_date=date(2026, 11, 27), lines=[line(ids[0], 1, "1000.00")]
    )
    container.invoices.submit(who, saved.invoice.id)
    container.accounts.set_credentials(
        OPERATOR, CFA, Opco.AKTO, api_key="akto-test-key-0001", client_id="client-1", client_secret="client-secret-1"
    )
    container.accounts.set_dpop_key(OPERATOR, CFA, Opco.AFDAS, generate="ES256")
    issued = app.issue_token(OPERATOR, cfa_siret=CFA, role=Role.FRONTEND, name="backup test")
    return Contents([str(i) for i in ids], str(saved.invoice.id), str(issued.token.id), issued.secret)


def assert_all_there(container: Container, contents: Contents) -> None:
    """Every contract and the invoice load, the token authenticates, the IBAN opens with the key, and the read models
    list them."""
    app = container.dossiers
    for ident in contents.contract_ids:
        contract: Contract = app.repository.get(UUID(ident))
        assert contract.cfa_siret == CFA
    invoice: Invoice = app.repository.get(UUID(contents.invoice_id))
    assert invoice.numero is not None
    found = app.authenticate(contents.token_secret)
    assert found is not None
    assert found.cfa_siret == CFA
    issuer = container.invoices.billing.issuer(CFA)
    assert issuer is not None
    assert issuer.iban == PROFILE["iban"].replace(" ", "")
    for runner in container.worker.read_models.values():
        runner.catch_up()
    listed = container.status.page(principal(CFA), ContractFilter(), 50, None).items
    assert {str(row.contract_id) for row in listed} == set(contents.contract_ids)
    assert container.invoice_status is not None
    invoices = container.invoice_status.page(principal(CFA), InvoiceFilter(), 50, None).items
    assert [str(row.invoice_id) for row in invoices] == [contents.invoice_id]
