"""A log of dossier events made in bulk for the status rebuild benchmark: domain commands on in-memory aggregates,
many aggregates per save (one transaction each), a realistic share of each journey.

Each dossier is its own apprentice (name, first name, phone and e-mail of its own), as in a real log: no two
Cerfas have the same content, so a memo of problem counts keyed by content finds nothing to reuse."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from application.dossiers import Dossiers
from domain.contracts.cerfa_document import parse_cerfa
from domain.contracts.contract import Contract
from tests.conftest import load_example
from tests.support import with_changes

ACTOR = "token:bench"
WORKER = "worker"
TODAY = date(2026, 11, 27)
SIGNATORY = {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}
NOMS = ("Martin", "Petit", "Lefèvre", "Roux", "Garcia", "Dubois", "Moreau", "Laurent", "Simon", "Michel", "Durand")
PRENOMS = ("Léa", "Hugo", "Éloïse", "Léon", "Inès", "Louis", "Zoé", "Jules", "Manon", "Noé", "Chloé", "Gabriel")
LETTERS = "abcdefghijklmnopqrstuvwxyz"
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
    nom, prenom = apprentice(n)
    contact = {"telephone": f"06{n:08d}", "courriel": f"apprenti.{n}@example.com"}
    cerfa = parse_cerfa(with_changes(document, apprenti={"nom": nom, "prenom": prenom, **contact}))
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


def apprentice(n: int) -> tuple[str, str]:
    """A name of its own for dossier n: a common surname with a suffix of letters made from n, a first name."""
    suffix, rest = "", n
    while True:
        rest, letter = divmod(rest, len(LETTERS))
        suffix += LETTERS[letter]
        if not rest:
            break
    return f"{NOMS[n % len(NOMS)]}-{suffix.capitalize()}", PRENOMS[(n // len(NOMS)) % len(PRENOMS)]


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
