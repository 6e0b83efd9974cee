"""An invoice as the OPCO shows it: an item of GET /v2/factures/etats, also the answer of GET /v1/factures.

The OPCO's numbers (`numeroInterneFacture`, `numeroInterneDocument`), the CFA's (`numero`, and as
`referenceFactureCFA` too, the name api-convergence.md §3.2 gives it), then the payment fields (§3.2; opco-wire.md
§5).
"""

from __future__ import annotations

from typing import Any

from infrastructure.opco.opco_sandbox.invoice_lifecycle import ZERO, InvoiceProgress
from infrastructure.opco.opco_sandbox.invoice_records import StoredInvoice


def invoice_wire(stored: StoredInvoice, state: InvoiceProgress) -> dict[str, Any]:
    invoice = stored.invoice
    return {
        "numeroInterneFacture": stored.numero_interne_facture,
        "numeroInterneDocument": stored.numero_interne_document,
        "numero": invoice.numero,
        "referenceFactureCFA": invoice.numero,
        "dateEmission": invoice.date_emission.isoformat(),
        "montantFacture": invoice.montant,
        "montantRegle": state.montant_regle,
        "etatFacture": state.etat,
        "referenceVirement": state.reference_virement,
        "dateReglement": state.date_reglement.isoformat() if state.date_reglement else None,
        "reglements": [  # each transfer made (the sandbox's inference: no source shows the OPCOs' own list)
            {"montant": t.amount, "dateReglement": t.day.isoformat(), "referenceVirement": t.reference}
            for t in state.transfers
        ],
        "commentaire": state.commentaire,
        "organismeFormation": {"siret": invoice.siret, "IBAN": invoice.iban},
        "dossiers": [
            {
                "numeroInterneDossier": lines[0][1].numero_interne_dossier,
                "numeroExterneDossier": numero_dossier,
                "montant": sum((line.montant for _, line in lines), start=ZERO),
            }
            for numero_dossier, lines in invoice.by_dossier()
        ],
    }
