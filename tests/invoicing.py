"""Builders for invoice tests: contracts the OPCO accepted, with an échéancier, and invoice line requests."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from stdnum.fr import nir as stdnum_nir

from application.access.access import OPERATOR, WORKER, Principal
from application.dossiers import Dossiers
from application.invoices.billing_profiles import BillingProfiles
from application.opco.opco_gateway import OutgoingInvoice
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import Contract
from domain.invoicing.billing_profile import BillingDetails
from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.lines import InvoiceLine, LineRequest
from domain.opco.opcos import Opco

CFA = "79852413800012"  # the CFA of docs/examples/cerfa-complete.json
PROFILE = {
    "legalName": "CFA des Métiers de Lyon",
    "adresse1": "12 rue de la Part-Dieu",
    "codePostal": "69003",
    "commune": "Lyon",
    "uai": "0690001B",
    "declarationNumber": "82690000169",
    "iban": "FR76 3000 6000 0112 3456 7890 189",
    "bic": "AGRIFRPP",
    "invoicePrefix": "FAC-2026-",
}


def billing_profile(app: Dossiers, cfa_siret: str, **changes: Any) -> None:
    """The CFA's billing profile, set by the operator if it has none (an invoice is submitted only with one)."""
    from tests.unit.fakes import PlainBox

    profiles = BillingProfiles(app, PlainBox())
    if profiles.profile(cfa_siret) is None:
        profiles.set(OPERATOR, cfa_siret, BillingDetails(**{**PROFILE, **changes}))


def echeancier(
    *,
    opens: tuple[str, ...] = ("2026-09-01", "2027-03-01", "2027-06-01"),
    total: str = "3000.00",
    settled: str = "0.00",
) -> list[dict[str, Any]]:
    return [
        {
            "numero": n,
            "codification": f"E{n}",
            "montantTotal": total,
            "montantRegle": settled if n == 1 else "0.00",
            "montantEnCoursInstruction": "0.00",
            "dateOuverture": opening,
            "dateDebut": opening,
            "dateFin": None,
        }
        for n, opening in enumerate(opens, start=1)
    ]


def accepted_contract(
    app: Dossiers,
    who: Principal,
    document: dict[str, Any],
    numero_interne: str = "C-1",
    *,
    echeances: list[dict[str, Any]] | None = None,
    etat: str = "ENGAGE",
    opco: Opco | None = None,
    equipment_ceiling: str | None = None,
    frais_annexes: list[dict[str, Any]] | None = None,
    with_billing_profile: bool = True,
) -> Contract:
    """A contract drafted, mandated, submitted, sent and accepted by the OPCO with its échéancier; its CFA given a
    billing profile unless told otherwise."""
    cerfa = copy.deepcopy(document)
    saved = app.create_contract(who, cerfa=parse_cerfa(cerfa), numero_interne=numero_interne, opco=opco)
    ident = saved.contract.id
    if with_billing_profile:
        billing_profile(app, saved.contract.cfa_siret)
    app.record_mandate(
        who,
        ident,
        signed_on=date(2026, 6, 15),
        signatory={"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"},
        document_sha256=None,
    )
    app.submit(who, ident)

    def accept(c: Contract) -> None:
        c.start_transmission(WORKER.actor)
        c.record_sent(numero_externe=f"EXT-{numero_interne}", etat=etat, found_by_lookup=False, actor=WORKER.actor)
        if etat == "ENGAGE":
            c.record_commitment(
                engagement="9000.00",
                echeances=echeances or echeancier(),
                premier_equipement_ceiling=equipment_ceiling,
                frais_annexes=frais_annexes,
                actor=WORKER.actor,
            )

    return app.change_as_worker(ident, accept).contract


def line(
    contract_id: UUID,
    numero: int = 1,
    amount: str = "1000.00",
    kind: InvoiceKind = InvoiceKind.PEDAGOGIE,
    quantity: int | None = None,
) -> LineRequest:
    return LineRequest(contract_id, numero, kind, Decimal(amount), quantity)


def years_earlier(document: Any, years: int) -> Any:
    """The same Cerfa, every date moved `years` earlier (ages and durations unchanged): a contract whose échéances
    are all open today."""
    if isinstance(document, dict):
        block = {key: years_earlier(value, years) for key, value in document.items()}
        if "nir" in block and "dateNaissance" in block:  # the NIR's digits 2-3 follow the birth year
            body = block["nir"][0] + block["dateNaissance"][2:4] + block["nir"][3:13]
            block["nir"] = body + stdnum_nir.calc_check_digits(body)
        return block
    if isinstance(document, list):
        return [years_earlier(value, years) for value in document]
    if isinstance(document, str) and len(document) == 10 and document[4] == "-" and document[7] == "-":
        moved = date.fromisoformat(document)
        return moved.replace(
            year=moved.year - years, day=min(moved.day, 28) if moved.month == 2 else moved.day
        ).isoformat()
    return document


def outgoing_invoice(numero: str = "FAC-2026-00001", **changes: Any) -> OutgoingInvoice:
    """An invoice as the sender gives it to the gateway: one pédagogie line of a dossier EXT-C-1, a PDF."""
    contract_id = UUID("00000000-0000-4000-8000-000000000001")
    fields: dict[str, Any] = {
        "numero": numero,
        "issued_on": date(2026, 11, 27),
        "issuer_siret": CFA,
        "iban": PROFILE["iban"].replace(" ", ""),
        "lines": (InvoiceLine(contract_id, "C-1", "EXT-C-1", 1, "E1", InvoiceKind.PEDAGOGIE, Decimal("1000.00")),),
        "numeros_deca": {contract_id: "06920261100001"},
        "pdf": b"%PDF-1.7\n% invoice\n%%EOF\n",
    }
    return OutgoingInvoice(**{**fields, **changes})
