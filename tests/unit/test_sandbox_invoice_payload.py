"""The sandbox reads the `facture` part our client writes (infrastructure/opco/opco_wire/invoice.py) exactly: the same
figures, the date with its offset, the OPCO's natures; and names each faulty field of a line by its index."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

from domain.invoicing.kinds import InvoiceKind
from domain.invoicing.lines import InvoiceLine
from infrastructure.opco.opco_sandbox.invoice_payload import read_facture
from infrastructure.opco.opco_sandbox.invoice_records import Invoice, Nature
from infrastructure.opco.opco_wire import encode
from infrastructure.opco.opco_wire.invoice import Issuer, facture_part

CONTRACT = UUID(int=7)


def written_by_our_client() -> bytes:
    lines = [
        InvoiceLine(CONTRACT, "CVG-1", "ATLAS-2026-000001", 2, "E2", InvoiceKind.PEDAGOGIE, Decimal("1200.10")),
        InvoiceLine(CONTRACT, "CVG-1", "ATLAS-2026-000001", 2, None, InvoiceKind.HEBERGEMENT, Decimal("0.30"), 3),
    ]
    part = facture_part(
        numero="FAC-7",
        issued_on=date(2027, 1, 15),
        issuer=Issuer("79852413800012", "FR76 3000 6000 0112 3456 7890 189"),
        lines=lines,
        numeros_deca={CONTRACT: "069202609NC0001"},
    )
    return encode(part)


def test_the_facture_part_our_client_writes_is_read_exactly() -> None:
    invoice, errors = read_facture(json.loads(written_by_our_client(), parse_float=Decimal))

    assert errors == []
    assert invoice == Invoice(
        numero="FAC-7",
        date_emission=datetime(2027, 1, 15, tzinfo=timezone(timedelta(hours=1))),  # winter time in Paris
        montant=Decimal("1200.40"),
        iban="FR76 3000 6000 0112 3456 7890 189",
        siret="79852413800012",
        est_certificat_realisation=False,
        lignes=invoice.lignes,
    )
    assert [(line.nature, line.montant, line.quantite, line.codification) for line in invoice.lignes] == [
        (Nature.PEDAGOGIE, Decimal("1200.10"), 1, "E2"),
        (Nature.HEBERGEMENT, Decimal("0.30"), 3, None),
    ]
    assert {(line.numero_dossier, line.numero_deca, line.numero_echeance) for line in invoice.lignes} == {
        ("ATLAS-2026-000001", "069202609NC0001", 2)
    }


def test_each_faulty_field_of_a_line_is_named_by_its_index() -> None:
    part = json.loads(written_by_our_client(), parse_float=Decimal)
    part["lignes"][1] |= {"natureLigne": "MOBILITE_INTERNATIONALE", "numeroDossier": 7, "montant": Decimal("0.001")}

    _, errors = read_facture(part)

    assert [(error.champ, error.code) for error in errors] == [
        ("lignes[1].montant", "MONTANT_INVALIDE"),
        ("lignes[1].natureLigne", "NATURE_INCONNUE"),
        ("lignes[1].numeroDossier", "FORMAT_INVALIDE"),
    ]
