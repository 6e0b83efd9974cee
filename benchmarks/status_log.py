"""A log of dossier events made in bulk for the status rebuild benchmark: domain commands on in-memory aggregates,
many aggregates per save (one transaction each), a realistic share of each journey."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from application.dossiers import Dossiers
from domain.cerfa_document import parse_cerfa
from domain.contract import Contract
from tests.conftest import load_example
from tests.support import with_changes

ACTOR = "token:bench"
WORKER = "worker"
TODAY = date(2026, 11, 27)
SIGNATORY = {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}
NAMES = (("Martin", "Léa"), ("Petit", "Hugo"), ("Lefèvre", "Éloïse"), ("Roux", "Léon"), ("Garcia", "Inès"))
PER_SAVE = 200


def fill_log(app: Dossiers, dossiers: int, seed: int = 11) -> int:
    """Save `dossiers` dossiers; the number of events saved."""
    rng = random.Random(seed)
    document = load_example("cerfa-complete.json")
    events = 0
    for start in range(0, dossiers, PER_SAVE):
        batch = [journey(app, document, n, rng) for n in range(start, min(dossiers, start + PER_SAVE))]
        events += sum(len(contract.pending_events) for contract in batch)
        app.save(*batch)
    return events


def journey(app: Dossiers, document: dict[str, Any], n: int, rng: random.Random) -> Contract:
    nom, prenom = NAMES[n % len(NAMES)]
    cerfa = parse_cerfa(with_changes(document, apprenti={"nom": nom, "prenom": prenom}))
    siret = str(cerfa.organismeFormation.siret) if cerfa.organismeFormation else ""
    contract = Contract.draft(cfa_siret=siret, numero_interne=f"B-{n:07d}", cerfa=cerfa, opco=None, actor=ACTOR)
    if rng.random() < 0.3:
        contract.patch_cerfa({"apprenti": {"telephone": f"06{rng.randrange(10**8):08d}"}}, ACTOR)
    if rng.random() < 0.05:
        contract.cancel("abandon", ACTOR)
        return contract
    if rng.random() < 0.1:
        return contract
    contract.record_mandate(
        signed_on=date(2026, 6, 15), signatory=SIGNATORY, document_sha256=None, actor=ACTOR, today=TODAY
    )
    if rng.random() < 0.15:
        return contract
    contract.submit(app.routing, ACTOR)
    _at_the_opco(contract, n, rng)
    return contract


def _at_the_opco(contract: Contract, n: int, rng: random.Random) -> None:
    contract.start_transmission(WORKER)
    if rng.random() < 0.05:
        contract.record_transmission_failure(error="timeout", transient=True, retry_at=None, actor=WORKER)
        contract.park_transmission("too many failures", WORKER)
        return
    contract.record_sent(numero_externe=f"EXT-{n}", etat="TRANSMIS", found_by_lookup=False, actor=WORKER)
    if rng.random() < 0.2:
        return
    contract.record_opco_state(
        etat="EN_COURS_INSTRUCTION", commentaire=None, numero_externe=None, numero_deca=None, actor=WORKER
    )
    if rng.random() < 0.15:
        return
    contract.record_opco_state(etat="ENGAGE", commentaire=None, numero_externe=None, numero_deca=f"D-{n}", actor=WORKER)
    echeances = [{"numero": 1, "montant": "1234.56", "date": "2026-10-31"}]
    contract.record_commitment(
        engagement=f"{rng.randrange(500000, 2500000) / 100:.2f}", echeances=echeances, actor=WORKER
    )
