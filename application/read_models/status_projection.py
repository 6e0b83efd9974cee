"""What each dossier event changes in the status read model (application/read_models/status.py): pure logic, no I/O.

The projection keeps a private memo per dossier (a JSON-serialisable dict: the normalised Cerfa while the dossier
is a draft, the OPCO choice, the mandate flag, the submitted OPCO, timestamps and the shown fields) and derives the
dossier's row from it. The blocking problems are recomputed only when the Cerfa or the OPCO choice change (a
parse and a check cost ~200 µs for a complete Cerfa); a mandate removes exactly one of them, and they are 0 once
the dossier has left its draft states; the Cerfa is then dropped from the memo, since it can no longer change. A
rebuild, which shows only each dossier's last version, defers the counts (`advance(..., deferred=True)`) and
counts once per dossier still in draft at the end (`settle`). A view may also hand the projection a
`ProblemCounts`: the count of a Cerfa already counted (same content, OPCO choice and mandate) is then taken from it
instead of being computed again.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

from application.read_models.status import StatusRow
from application.topics import stored_topics
from domain.cerfa.personal import CERFA_PERSONAL_FIELDS, without_personal
from domain.contracts.cerfa_document import InvalidCerfa, parse_cerfa
from domain.contracts.contract import IMPORTED, SENT, Contract
from domain.contracts.contract_state import DRAFT_STATES, ContractState
from domain.contracts.submission import submission_problems
from domain.merge_patch import apply_merge_patch
from domain.opco.opco_lookup import looked_up_opco
from domain.opco.opcos import IdccRouting, Opco
from domain.opco.transmission import OPCO_STATES
from domain.postcodes import departement_of_postcode

Memo = dict[str, Any]

SHOWN_EVENTS = (
    "Drafted",
    "Imported",
    "CerfaReplaced",
    "CerfaPatched",
    "OpcoChosen",
    "OpcoLookedUp",
    "MandateRecorded",
    "SubmissionRequested",
    "Cancelled",
    "Sent",
    "TransmissionParked",
    "TransmissionResumed",
    "RefusedOnTransmission",
    "OpcoStateChanged",
    "FundingCommitted",
    "PersonalDataErased",
)
# TransmissionStarted and TransmissionFailed change nothing shown: the runner does not even read them.
TOPICS = stored_topics(*(f"{Contract.__module__}:Contract.{name}" for name in SHOWN_EVENTS))

FINAL_STATES = frozenset({"accepted", "refused", "cancelled", "terminated", "closed"})
PENDING_STATES = ("drafted", "mandate_checked", "submitted", "sent", "in_review")
ATTENTION_STATES = ("drafted", "mandate_checked", "submitted", "refused")


class CursorExpired(Exception):
    """A walk's snapshot (`Cursor.as_of`) is older than the pruned horizon: start the walk again.

    (Defined here rather than in application/read_models/status.py, which this change does not touch.)"""


class UnknownDossier(Exception):
    """An event of a dossier whose Drafted event the projection never saw: the log was not read from its start."""


# -- searching by name ----------------------------------------------------------------------------------------

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "ł": "l", "đ": "d"})  # no NFKD form


def normalise_name(text: str | None) -> str:
    """Lower case, accents removed (NFKD), every non-letter a space, words separated by one space."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_LIGATURES))
    letters = "".join(
        c if c.isalpha() else " " for c in decomposed if not unicodedata.combining(c)
    )  # combining marks (the accents) vanish, everything else that is not a letter separates words
    return " ".join(letters.split())


def search_words(query: str | None) -> list[str]:
    """The words of a name query, normalised as the stored names are; each must start a word of the name."""
    return normalise_name(query).split()


@functools.lru_cache(maxsize=16384)  # a dossier keeps its name over its versions: its next versions find it here
def search_column(apprentice_name: str | None) -> str:
    """What is stored for the search: the normalised name with a leading space, so `LIKE '% word%'` matches the
    start of any word, the first included."""
    return " " + normalise_name(apprentice_name)


# -- the projection -------------------------------------------------------------------------------------------


def project(
    event: Any, memo: Memo | None, position: int, routing: IdccRouting, counts: ProblemCounts | None = None
) -> tuple[Memo | None, StatusRow | None]:
    """The memo and the row of the event's dossier after it: (memo, None) when nothing shown changes."""
    after = advance(event, memo, position, routing, counts)
    if after is None:
        return memo, None
    return after, status_row(event.originator_id, after)


def advance(
    event: Any,
    memo: Memo | None,
    position: int,
    routing: IdccRouting,
    counts: ProblemCounts | None = None,
    *,
    deferred: bool = False,
) -> Memo | None:
    """The memo of the event's dossier after it (its row follows from it: status_row), or None when nothing shown
    changes. The caller's memo is left as it was (a failed batch changes nothing).

    `deferred` (a rebuild, which shows only each dossier's last version): a draft's blocking problems are not
    counted, its problem_count left None until `settle` counts them for the version shown."""
    name = type(event).__name__
    handler = _HANDLERS.get(name)
    if handler is None:
        return None
    if memo is None and name not in ("Drafted", "Imported"):
        raise UnknownDossier(f"{name} at position {position} for dossier {event.originator_id} never drafted")
    after: Memo = dict(memo or {})
    reassess = handler(after, event)
    if reassess:
        _assess(after, routing, counts, deferred)
    after["updated_at"] = event.timestamp.isoformat()
    after["position"] = position
    return after


def tally(memo: Memo) -> tuple[str, str, str, bool, str | None]:
    """What the dashboard counts of the dossier's row: (CFA, state, OPCO or "", parked, commitment)."""
    return memo["cfa_siret"], memo["state"], shown_opco(memo) or "", memo["parked"], memo["commitment"]


def shown_opco(memo: Memo) -> str | None:
    """The OPCO shown: the one it was submitted to, else the one chosen or looked up by SIRET, else the one the IDCC
    routes to."""
    opco: str | None = memo["submitted_to"] or memo.get("decided_opco") or memo["opco_choice"] or memo["routed_opco"]
    return opco


def status_row(contract_id: UUID, memo: Memo) -> StatusRow:
    return StatusRow(
        contract_id=contract_id,
        cfa_siret=memo["cfa_siret"],
        numero_interne=memo["numero_interne"],
        state=memo["state"],
        opco=shown_opco(memo),
        apprentice_name=memo["apprentice_name"],
        employer_name=memo["employer_name"],
        employer_siret=memo["employer_siret"],
        formation_rncp=memo["formation_rncp"],
        formation_title=memo["formation_title"],
        start_date=_date(memo["start_date"]),
        end_date=_date(memo["end_date"]),
        numero_externe=memo["numero_externe"],
        numero_deca=memo["numero_deca"],
        opco_state=memo["opco_state"],
        problem_count=memo["problem_count"],
        has_mandate=memo["has_mandate"],
        parked=memo["parked"],
        commitment=Decimal(memo["commitment"]) if memo["commitment"] is not None else None,
        created_at=datetime.fromisoformat(memo["created_at"]),
        updated_at=datetime.fromisoformat(memo["updated_at"]),
        submitted_at=_moment(memo["submitted_at"]),
        sent_at=_moment(memo["sent_at"]),
        position=memo["position"],
        workplace_departement=memo["workplace_departement"],
        origin=memo.get("origin") or SENT,  # memos made before imports (issue 13) have none
    )


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# -- what each event does to the memo; True: the problems must be computed again --------------------------------


def _drafted(memo: Memo, event: Any) -> bool:
    memo.update(
        cfa_siret=event.cfa_siret,
        numero_interne=event.numero_interne,
        opco_choice=event.opco,
        submitted_to=None,
        has_mandate=False,
        state=ContractState.DRAFTED.value,
        parked=False,
        numero_externe=None,
        numero_deca=None,
        opco_state=None,
        commitment=None,
        created_at=event.timestamp.isoformat(),
        submitted_at=None,
        sent_at=None,
    )
    _set_cerfa(memo, event.cerfa)
    return True


def _imported(memo: Memo, event: Any) -> bool:
    """A dossier imported from its OPCO: past the draft states from its first event, the OPCO's word counts."""
    _drafted(memo, event)
    state = OPCO_STATES.get(event.etat or "", ContractState.SENT)
    memo.update(
        origin=IMPORTED,
        submitted_to=event.opco,
        state=state.value,
        numero_externe=event.numero_externe,
        numero_deca=event.numero_deca,
        opco_state=event.etat,
        submitted_at=event.timestamp.isoformat(),
        sent_at=event.timestamp.isoformat(),
    )
    return _leave_draft(memo)


def _cerfa_replaced(memo: Memo, event: Any) -> bool:
    _set_cerfa(memo, event.cerfa)
    return True


def _cerfa_patched(memo: Memo, event: Any) -> bool:
    _set_cerfa(memo, apply_merge_patch(memo["cerfa"], event.changes))
    return True


def _opco_chosen(memo: Memo, event: Any) -> bool:
    memo["opco_choice"] = event.opco
    return True


def _opco_looked_up(memo: Memo, event: Any) -> bool:
    memo["opco_lookup"] = event.lookup
    return True


def _mandate_recorded(memo: Memo, event: Any) -> bool:
    """The count follows from the previous one, without a parse: the mandate changes exactly one problem,
    mandate_missing, present if and only if no mandate was recorded (domain/contracts/submission.py; pinned by
    tests/unit/test_status_projection.py)."""
    had = memo["has_mandate"]
    memo.update(has_mandate=True, state=ContractState.MANDATE_CHECKED.value)
    if memo["cerfa"] is None:  # past the draft states (a log the aggregate would not have made): nothing blocks
        memo["problem_count"] = 0
    elif not had and memo["problem_count"] is not None:  # None: to be counted (deferred), with the mandate
        memo["problem_count"] -= 1
    return False


def _submission_requested(memo: Memo, event: Any) -> bool:
    memo.update(submitted_to=event.opco, state=ContractState.SUBMITTED.value, submitted_at=event.timestamp.isoformat())
    return _leave_draft(memo)


def _cancelled(memo: Memo, event: Any) -> bool:
    memo["state"] = ContractState.CANCELLED.value
    return _leave_draft(memo)


def _sent(memo: Memo, event: Any) -> bool:
    memo.update(
        numero_externe=event.numero_externe,
        opco_state=event.etat,
        state=OPCO_STATES.get(event.etat or "", ContractState.SENT).value,
        sent_at=event.timestamp.isoformat(),
    )
    return False


def _parked(memo: Memo, event: Any) -> bool:
    memo["parked"] = True
    return False


def _resumed(memo: Memo, event: Any) -> bool:
    memo["parked"] = False
    return False


def _refused(memo: Memo, event: Any) -> bool:
    memo["state"] = ContractState.REFUSED.value
    return False


def _opco_state_changed(memo: Memo, event: Any) -> bool:
    submitted = memo["state"] == ContractState.SUBMITTED.value
    fallback = ContractState.SENT.value if submitted else memo["state"]  # an unknown etat changes nothing else
    known = OPCO_STATES.get(event.etat)
    memo.update(
        opco_state=event.etat,
        numero_externe=event.numero_externe or memo["numero_externe"],
        numero_deca=event.numero_deca or memo["numero_deca"],
        state=known.value if known is not None else fallback,
    )
    if submitted and memo["sent_at"] is None:  # the OPCO has it: its sending outcome was lost, it was sent
        memo["sent_at"] = event.timestamp.isoformat()
    return False


def _funding_committed(memo: Memo, event: Any) -> bool:
    memo["commitment"] = str(Decimal(event.engagement)) if event.engagement is not None else None
    return False


def _personal_data_erased(memo: Memo, event: Any) -> bool:
    """The name leaves the row; a draft's Cerfa, kept for its problems, loses its personal fields."""
    memo["apprentice_name"] = None
    if memo.get("cerfa") is not None:
        _set_cerfa(memo, without_personal(memo["cerfa"], CERFA_PERSONAL_FIELDS) or {})
        return True
    return False


_HANDLERS: dict[str, Callable[[Memo, Any], bool]] = {
    "Drafted": _drafted,
    "Imported": _imported,
    "CerfaReplaced": _cerfa_replaced,
    "CerfaPatched": _cerfa_patched,
    "OpcoChosen": _opco_chosen,
    "OpcoLookedUp": _opco_looked_up,
    "MandateRecorded": _mandate_recorded,
    "SubmissionRequested": _submission_requested,
    "Cancelled": _cancelled,
    "Sent": _sent,
    "TransmissionParked": _parked,
    "TransmissionResumed": _resumed,
    "RefusedOnTransmission": _refused,
    "OpcoStateChanged": _opco_state_changed,
    "FundingCommitted": _funding_committed,
    "PersonalDataErased": _personal_data_erased,
}  # any other event (TransmissionStarted, TransmissionFailed) changes nothing shown


def _set_cerfa(memo: Memo, document: dict[str, Any]) -> None:
    """Keep the document (for the next patch and the problems) and the fields a table shows."""
    employer = document.get("employeur", {})
    apprentice = document.get("apprenti", {})
    formation = document.get("formation", {})
    contract = document.get("contrat", {})
    memo.update(
        cerfa=document,
        apprentice_name=_apprentice_name(apprentice.get("nom"), apprentice.get("prenom")),
        employer_name=employer.get("denomination"),
        employer_siret=employer.get("siret"),
        formation_rncp=formation.get("rncp"),
        formation_title=formation.get("intituleQualification"),
        start_date=contract.get("dateDebutContrat"),
        end_date=contract.get("dateFinContrat"),
        workplace_departement=departement_of_postcode((employer.get("adresse") or {}).get("codePostal")),
    )
    idcc = employer.get("codeIdcc")
    memo["idcc"] = str(idcc) if idcc is not None else None  # routed in _assess, which holds the routing


def _apprentice_name(nom: str | None, prenom: str | None) -> str | None:
    parts = [part for part in ((nom or "").upper(), prenom or "") if part]
    return " ".join(parts) or None


def _leave_draft(memo: Memo) -> bool:
    """Past its draft states a dossier has no blocking problem, and its Cerfa can no longer change."""
    memo.update(cerfa=None, problem_count=0)
    return False


def _assess(memo: Memo, routing: IdccRouting, counts: ProblemCounts | None = None, deferred: bool = False) -> None:
    memo["routed_opco"] = _routed(routing, memo.get("idcc"))
    memo["decided_opco"] = _decided(memo)
    if memo["state"] not in DRAFT_STATES or memo["cerfa"] is None:
        memo["problem_count"] = 0
        return
    if deferred:
        memo["problem_count"] = None
        return
    settle(memo, routing, counts)


def settle(memo: Memo, routing: IdccRouting, counts: ProblemCounts | None = None) -> None:
    """Count a draft's blocking problems (in place) for its Cerfa, OPCO choice and mandate as they are now: what
    the counts made along its events say (a mandate removes exactly mandate_missing). For a memo whose count was
    deferred; a count already there is counted again."""
    if memo["state"] not in DRAFT_STATES or memo["cerfa"] is None:
        memo["problem_count"] = 0
        return
    if counts is not None and counts.routing is routing:
        memo["problem_count"] = counts.count(memo["cerfa"], _decided(memo), memo["has_mandate"])
    else:
        memo["problem_count"] = problem_count(memo["cerfa"], _decided(memo), memo["has_mandate"], routing)


def problem_count(document: dict[str, Any], opco_choice: str | None, has_mandate: bool, routing: IdccRouting) -> int:
    """What blocks the submission of a draft with this Cerfa, OPCO choice and mandate: how many problems."""
    try:
        cerfa = parse_cerfa(document)
    except InvalidCerfa as invalid:  # a document stored under older format rules: count what fails now
        return len(invalid.problems) + (0 if has_mandate else 1)
    chosen = Opco(opco_choice) if opco_choice else None
    return len(submission_problems(cerfa, chosen_opco=chosen, routing=routing, has_mandate=has_mandate))


class ProblemCounts:
    """A bounded memo of problem_count by what it depends on: the Cerfa's content (a digest of its canonical JSON),
    the OPCO choice and the mandate, under one routing. Counting parses and checks the whole Cerfa (~200 µs for a
    complete one); the digest costs a few µs. Versions share a Cerfa when dossiers are made from one template, or
    when a rebuild meets again the documents it has just counted. Thread-safe."""

    def __init__(self, routing: IdccRouting, size: int = 4096) -> None:
        self.routing = routing
        self._size = size
        self._memo: OrderedDict[tuple[bytes, str | None, bool], int] = OrderedDict()
        self._lock = threading.Lock()

    def count(self, document: dict[str, Any], opco_choice: str | None, has_mandate: bool) -> int:
        try:
            canonical = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # not plain JSON (never so in a stored event): counted without the memo
            return problem_count(document, opco_choice, has_mandate, self.routing)
        key = (hashlib.blake2b(canonical, digest_size=16).digest(), opco_choice, bool(has_mandate))
        with self._lock:
            found = self._memo.get(key)
            if found is not None:
                self._memo.move_to_end(key)
                return found
        counted = problem_count(document, opco_choice, has_mandate, self.routing)
        with self._lock:
            self._memo[key] = counted
            if len(self._memo) > self._size:
                self._memo.popitem(last=False)
        return counted


def _decided(memo: Memo) -> str | None:
    """The OPCO decided otherwise than by the table, as domain.contracts.contract.Contract.decided_opco says (the CFA's
    choice, else the lookup's answer for the SIRET the Cerfa names); a dossier past its draft keeps its last."""
    if memo["opco_choice"]:
        return str(memo["opco_choice"])
    if memo["cerfa"] is None:
        return memo.get("decided_opco")
    opco = looked_up_opco(memo.get("opco_lookup"), memo["cerfa"])
    return opco.value if opco else None


def _routed(routing: IdccRouting, idcc: str | None) -> str | None:
    opco = routing.opco_for(idcc)
    return opco.value if opco is not None else None
