"""A rupture as we send it to POST /v2/dossiers/rupture/employeur (../shared/reference/opco-wire.md §1.1).

THE ONE PLACE where the rupture's body is written. No client implementing the route was found: its body, answer and
errors are not public. The keys below are those observed elsewhere (the dossier's numbers, the DECA record's
`dateEffetRupture`, `codeMotifRupture`, `commentaireRupture`, `dateSignalement`), each an unknown R1… of
docs/wire.md until an OPCO's Swagger is seen; the sandbox reads the same keys (infrastructure/opco/opco_sandbox)."""

from __future__ import annotations

from typing import Any, Final

from application.opco.opco_gateway import OutgoingRupture, SentRupture
from infrastructure.opco.opco_wire.dates import write_date
from infrastructure.opco.opco_wire.variants import DateForm

RUPTURE_PATH: Final = "/v2/dossiers/rupture/employeur"  # R1: v2 only (the public Swagger extract lists no v1)

# R4: our motif codes (domain.ruptures.rupture.Motif) as sent; no official code list exists, so they go as they are,
# upper case
MOTIF_CODES: Final = {
    "periode_probatoire": "PERIODE_PROBATOIRE",
    "commun_accord": "ACCORD_PARTIES",
    "force_majeure": "FORCE_MAJEURE",
    "faute_grave": "FAUTE_GRAVE",
    "inaptitude": "INAPTITUDE",
    "deces_employeur_maitre": "DECES_EMPLOYEUR",
    "exclusion_cfa": "EXCLUSION_DEFINITIVE_CFA",
    "demission": "DEMISSION",
    "obtention_diplome": "OBTENTION_DIPLOME",
    "liquidation_judiciaire": "LIQUIDATION_JUDICIAIRE",
    "decision_administrative": "DECISION_ADMINISTRATIVE",
}


def rupture_body(rupture: OutgoingRupture) -> dict[str, Any]:
    """R2: flat, the dossier's numbers beside the rupture's fields; R3: dates as the Cerfa's (midnight in France)."""
    body: dict[str, Any] = {
        "numeroInterne": rupture.numero_interne,
        "numeroExterne": rupture.numero_externe,
        "numeroDeca": rupture.numero_deca,
        "dateEffetRupture": write_date(rupture.date_effet, DateForm.PARIS),
        "codeMotifRupture": MOTIF_CODES.get(rupture.motif, rupture.motif.upper()),
        "initiativeRupture": rupture.initiative.upper(),  # R5: not observed anywhere
        "dateSignalement": write_date(rupture.date_signalement, DateForm.PARIS),
        "commentaireRupture": rupture.commentaire,
    }
    return {key: value for key, value in body.items() if value is not None}


def parse_sent_rupture(body: Any) -> SentRupture:
    """R6: the answer is unknown; read `etat` and `numeroExterne` where present (possibly under `cerfa`), else
    nothing: a 2xx alone means the OPCO took it."""
    document = body[0] if isinstance(body, list) and body else body
    if not isinstance(document, dict):
        return SentRupture(etat=None)
    cerfa = document.get("cerfa")
    inner: dict[str, Any] = cerfa if isinstance(cerfa, dict) else document
    etat, numero = inner.get("etat"), inner.get("numeroExterne")
    return SentRupture(
        etat=etat if isinstance(etat, str) and etat else None,
        numero_externe=numero if isinstance(numero, str) and numero else None,
    )
