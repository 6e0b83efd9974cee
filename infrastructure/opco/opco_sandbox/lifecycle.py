"""The life of a dossier at the OPCO, computed on every read from its submission time and the clock.

TRANSMIS → EN_COURS_INSTRUCTION after `instruction_delay` → ENGAGE (or REFUSE) `decision_delay` later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from infrastructure.clock import PARIS
from infrastructure.opco.opco_sandbox.config import SandboxConfig
from infrastructure.opco.opco_sandbox.records import StoredDossier, forced_deca
from infrastructure.opco.opco_sandbox.schedule import Schedule, compute_schedule
from infrastructure.opco.opco_sandbox.validation import field_at
from infrastructure.opco.opco_wire import read_date

MAX_AGE_WITHOUT_RQTH = 30


@dataclass(frozen=True, slots=True)
class Progress:
    etat: str
    commentaire: str | None = None
    numero_deca: str | None = None
    schedule: Schedule | None = None


def progress(dossier: StoredDossier, now: datetime, config: SandboxConfig) -> Progress:
    elapsed = (now - dossier.submitted_at).total_seconds()
    if elapsed < config.instruction_delay:
        return Progress("TRANSMIS")
    if elapsed < config.instruction_delay + config.decision_delay:
        return Progress("EN_COURS_INSTRUCTION")
    reason = refusal_reason(dossier.cerfa, config)
    if reason is not None:
        return Progress("REFUSE", commentaire=f"Refus de prise en charge : {reason}")
    return Progress("ENGAGE", numero_deca=numero_deca(dossier), schedule=schedule_of(dossier, config))


def decided_at(dossier: StoredDossier, config: SandboxConfig) -> datetime:
    return dossier.submitted_at + timedelta(seconds=config.instruction_delay + config.decision_delay)


def refusal_reason(cerfa: dict[str, Any], config: SandboxConfig) -> str | None:
    rncp = _rncp(cerfa)
    if rncp in config.ineligible_rncp:
        return f"certification {rncp} non éligible au financement par l'OPCO"
    age = age_at(_date(cerfa, "apprenti", "dateNaissance"), _start(cerfa))
    if age > MAX_AGE_WITHOUT_RQTH and _field(cerfa, "apprenti", "handicap") is not True:
        return f"âge de l'apprenti ({age} ans au début du contrat, sans RQTH)"
    return None


def age_at(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


AVENANTS = frozenset(str(code) for code in range(31, 39))


def numero_deca(dossier: StoredDossier) -> str:
    """DDD YYYY MM NC NNNN (api-convergence.md §3.6): employer's département, start year and month, a sequence;
    the one the operator forced on a dossier deposited elsewhere."""
    forced = forced_deca(dossier)
    if forced is not None:
        return forced
    contrat = dossier.cerfa.get("contrat") or {}
    if str(contrat.get("typeContratApp")) in AVENANTS and contrat.get("numeroContratPrecedent"):
        return str(contrat["numeroContratPrecedent"])  # an avenant keeps the DECA number it amends (opco-wire §2.3)
    start = _start(dossier.cerfa)
    postcode = str(_field(dossier.cerfa, "employeur", "adresse", "codePostal") or "")
    return f"{departement(postcode)}{start.year:04d}{start.month:02d}NC{dossier.sequence % 10_000:04d}"


def departement(postcode: str) -> str:
    """The 3-character département code: 069, 02A/02B for Corsica, 971..976 overseas; 099 when unknown."""
    if len(postcode) != 5 or not postcode.isdigit():
        return "099"
    if postcode.startswith("20"):
        return "02A" if postcode < "20200" else "02B"
    if postcode.startswith("97"):
        return postcode[:3]
    return "0" + postcode[:2]


def schedule_of(dossier: StoredDossier, config: SandboxConfig) -> Schedule:
    start, end = _start(dossier.cerfa), _date(dossier.cerfa, "contrat", "dateFinContrat")
    concluded_on = read_date(_field(dossier.cerfa, "contrat", "dateConclusion")) or start
    npec = config.npec_for(_rncp(dossier.cerfa))
    engaged_on = decided_at(dossier, config).astimezone(PARIS).date()
    return compute_schedule(start, end, concluded_on, npec, engaged_on)


def _start(cerfa: dict[str, Any]) -> date:
    return _date(cerfa, "contrat", "dateDebutContrat")


def _date(cerfa: dict[str, Any], *path: str) -> date:
    """A date the validation required and read (in any form real clients send)."""
    day = read_date(_field(cerfa, *path))
    assert day is not None, path
    return day


def _rncp(cerfa: dict[str, Any]) -> str:
    """With its prefix, however it was sent (Wedof sends the digits only)."""
    code = str(_field(cerfa, "formation", "rncp")).strip().upper()
    return code if code.startswith("RNCP") else f"RNCP{code}"


def _field(cerfa: dict[str, Any], *path: str) -> Any:
    return field_at(cerfa, ".".join(path))
