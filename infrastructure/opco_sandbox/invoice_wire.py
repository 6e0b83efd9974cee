"""An invoice as the OPCO shows it: an item of GET /v2/factures/etats, also the answer of GET /v1/factures."""

from __future__ import annotations

from typing import Any

from infrastructure.opco_sandbox.invoice_lifecycle import InvoiceProgress
from infrastructure.opco_sandbox.invoice_records import StoredInvoice


def invoice_wire(stored: StoredInvoice, state: InvoiceProgress) -> dict[str, Any]:
    invoice = stored.invoice
    return {
        "numeroInterneFacture": invoice.numero_interne,
        "numeroExterneFacture": stored.numero_externe,
        "referenceFactureCFA": invoice.reference_cfa,
        "dateFacture": invoice.date_facture.isoformat(),
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
        "organismeFormation": {"siret": invoice.siret},
        "dossiers": [
            {
                "numeroInterneDossier": dossier.numero_interne,
                "numeroExterneDossier": dossier.numero_externe,
                "montant": dossier.montant,
            }
            for dossier in invoice.dossiers
        ],
    }
