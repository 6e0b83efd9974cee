"""The apprenticeship contract dossier: an event-sourced aggregate whose events are the only source of truth."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.cerfa import Cerfa
from domain.cerfa_document import cfa_siret as cerfa_cfa_siret
from domain.cerfa_document import employer_idcc, parse_cerfa
from domain.errors import InvalidValue, NotAllowedInState, SubmissionBlocked
from domain.merge_patch import apply_merge_patch, merge_diff
from domain.opcos import IdccRouting, Opco
from domain.problems import Problem
from domain.submission import submission_problems


class ContractState(StrEnum):
    DRAFTED = "drafted"
    MANDATE_CHECKED = "mandate_checked"
    SUBMITTED = "submitted"
    SENT = "sent"
    IN_REVIEW = "in_review"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    TERMINATED = "terminated"
    CLOSED = "closed"


DRAFT_STATES = frozenset({ContractState.DRAFTED, ContractState.MANDATE_CHECKED})


def contract_id(cfa_siret: str, numero_interne: str) -> UUID:
    """Ids derive from the CFA's own reference, so a second dossier with that reference cannot be stored."""
    return uuid5(NAMESPACE_URL, f"/cfas/{cfa_siret}/contracts/{numero_interne}")


class Contract(Aggregate):
    @staticmethod
    def create_id(cfa_siret: str, numero_interne: str) -> UUID:
        return contract_id(cfa_siret, numero_interne)

    @classmethod
    def draft(cls, *, cfa_siret: str, numero_interne: str, cerfa: Cerfa, opco: Opco | None, actor: str) -> Contract:
        _check_cfa(cerfa, cfa_siret)
        return cls(
            cfa_siret=cfa_siret,
            numero_interne=numero_interne,
            cerfa=cerfa.to_document(),
            opco=opco.value if opco else None,
            actor=actor,
        )

    @event("Drafted")
    def __init__(
        self, cfa_siret: str, numero_interne: str, cerfa: dict[str, Any], opco: str | None, actor: str
    ) -> None:
        self.cfa_siret = cfa_siret
        self.numero_interne = numero_interne
        self.cerfa = cerfa
        self.opco_choice = opco
        self.mandate: dict[str, Any] | None = None
        self.state = ContractState.DRAFTED
        self.submitted_to: str | None = None

    # -- commands -------------------------------------------------------------------------------------------

    def replace_cerfa(self, cerfa: Cerfa, actor: str) -> None:
        self._require_draft("replace the Cerfa of")
        _check_cfa(cerfa, self.cfa_siret)
        document = cerfa.to_document()
        if document != self.cerfa:
            self._cerfa_replaced(cerfa=document, actor=actor)

    def patch_cerfa(self, patch: dict[str, Any], actor: str) -> None:
        self._require_draft("change the Cerfa of")
        cerfa = parse_cerfa(apply_merge_patch(self.cerfa, patch))
        _check_cfa(cerfa, self.cfa_siret)
        changes = merge_diff(self.cerfa, cerfa.to_document())
        if changes:
            self._cerfa_patched(changes=changes, actor=actor)

    def choose_opco(self, opco: Opco | None, actor: str) -> None:
        self._require_draft("choose the OPCO of")
        chosen = opco.value if opco else None
        if chosen != self.opco_choice:
            self._opco_chosen(opco=chosen, actor=actor)

    def record_mandate(
        self,
        *,
        signed_on: date,
        signatory: dict[str, str],
        document_sha256: str | None,
        actor: str,
        today: date,
    ) -> None:
        self._require_draft("record the mandate of")
        if signed_on > today:
            raise InvalidValue("signedOn", "in_future", f"the mandate cannot be signed in the future ({signed_on})")
        self._mandate_recorded(
            signed_on=signed_on, signatory=dict(signatory), document_sha256=document_sha256, actor=actor
        )

    def submit(self, routing: IdccRouting, actor: str) -> None:
        self._require_draft("submit")
        problems = self.problems(routing)
        if problems:
            raise SubmissionBlocked(problems)
        opco = self.effective_opco(routing)
        assert opco is not None  # no problem left means the OPCO is known
        self._submission_requested(opco=opco.value, actor=actor)

    def cancel(self, reason: str | None, actor: str) -> None:
        self._require_draft("cancel")
        self._cancelled(reason=reason, actor=actor)

    # -- queries --------------------------------------------------------------------------------------------

    @property
    def cerfa_model(self) -> Cerfa:
        return parse_cerfa(self.cerfa)

    def routed_opco(self, routing: IdccRouting) -> Opco | None:
        return routing.opco_for(employer_idcc(self.cerfa_model))

    def effective_opco(self, routing: IdccRouting) -> Opco | None:
        if self.submitted_to:
            return Opco(self.submitted_to)
        if self.opco_choice:
            return Opco(self.opco_choice)
        return self.routed_opco(routing)

    def problems(self, routing: IdccRouting, cerfa: Cerfa | None = None) -> list[Problem]:
        """Blocking problems, derived from the events so far; empty for a dossier past its draft.
        `cerfa` spares a second parse to a caller that already holds this dossier's parsed Cerfa."""
        if self.state not in DRAFT_STATES:
            return []
        return submission_problems(
            cerfa or self.cerfa_model,
            chosen_opco=Opco(self.opco_choice) if self.opco_choice else None,
            routing=routing,
            has_mandate=self.mandate is not None,
        )

    # -- events ---------------------------------------------------------------------------------------------

    @event("CerfaReplaced")
    def _cerfa_replaced(self, cerfa: dict[str, Any], actor: str) -> None:
        self.cerfa = cerfa

    @event("CerfaPatched")
    def _cerfa_patched(self, changes: dict[str, Any], actor: str) -> None:
        self.cerfa = apply_merge_patch(self.cerfa, changes)

    @event("OpcoChosen")
    def _opco_chosen(self, opco: str | None, actor: str) -> None:
        self.opco_choice = opco

    @event("MandateRecorded")
    def _mandate_recorded(
        self, signed_on: date, signatory: dict[str, str], document_sha256: str | None, actor: str
    ) -> None:
        self.mandate = {
            "signedOn": signed_on,
            "signatory": signatory,
            "documentSha256": document_sha256,
            "recordedBy": actor,
        }
        self.state = ContractState.MANDATE_CHECKED

    @event("SubmissionRequested")
    def _submission_requested(self, opco: str, actor: str) -> None:
        self.submitted_to = opco
        self.state = ContractState.SUBMITTED

    @event("Cancelled")
    def _cancelled(self, reason: str | None, actor: str) -> None:
        self.state = ContractState.CANCELLED

    def _require_draft(self, action: str) -> None:
        if self.state not in DRAFT_STATES:
            raise NotAllowedInState(action, self.state, frozenset(s.value for s in DRAFT_STATES))


def _check_cfa(cerfa: Cerfa, owner: str) -> None:
    siret = cerfa_cfa_siret(cerfa)
    if siret is not None and siret != owner:
        raise InvalidValue(
            "cerfa.organismeFormation.siret",
            "other_cfa",
            f"the dossier belongs to the CFA {owner}; organismeFormation.siret {siret} is another CFA",
        )
