"""The states of a contract dossier, from the CFA's draft to the OPCO's last word."""

from __future__ import annotations

from enum import StrEnum


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
# States in which the OPCO holds the dossier and may still change its state.
AT_OPCO_STATES = frozenset({ContractState.SENT, ContractState.IN_REVIEW, ContractState.ACCEPTED, ContractState.REFUSED})
