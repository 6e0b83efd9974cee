"""How long a dossier's personal data are kept (../shared/reference/apprenticeship-rules.md §1.1, docs/privacy.md):
the signed contract is kept until 31 December 2032 for a contract concluded in 2022 or before, and five years
from 2023 on. The five years run from the contract's end: its rupture, else its planned end (dateFinContrat);
a dossier that never had one (a draft, cancelled or abandoned) from its last change."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from application.access.access import OPERATOR
from application.dossiers import Dossiers
from application.privacy.erasure import Erasure, Erasures
from application.topics import stored_topics
from domain.contracts.contract import Contract

RETENTION_YEARS = 5
BEFORE_2023_UNTIL = date(2032, 12, 31)


def retention_end(contract: Contract) -> date:
    """The last day the dossier's personal data are kept."""
    terms = (contract.cerfa or {}).get("contrat", {})
    concluded = _day(terms.get("dateConclusion")) or _day(terms.get("dateDebutContrat"))
    if concluded is not None and concluded.year <= 2022:
        return BEFORE_2023_UNTIL
    ended = contract.rupture_date or _day(terms.get("dateFinContrat")) or contract.modified_on.date()
    return _plus_years(ended, RETENTION_YEARS)


@dataclass(frozen=True, slots=True)
class Due:
    contract_id: UUID
    cfa_siret: str
    numero_interne: str
    retention_end: date

    def to_json(self) -> dict[str, Any]:
        return {
            "contractId": str(self.contract_id),
            "cfaSiret": self.cfa_siret,
            "numeroInterne": self.numero_interne,
            "retentionEnd": self.retention_end.isoformat(),
        }


class Retention:
    def __init__(self, dossiers: Dossiers, erasures: Erasures) -> None:
        self._dossiers = dossiers
        self._erasures = erasures

    def due(self, today: date) -> Iterator[Due]:
        """The dossiers whose retention ended before `today` and whose personal data are not erased yet."""
        for contract in self._contracts():
            end = retention_end(contract)
            if end < today and contract.personal_data_erased_at is None:
                yield Due(contract.id, contract.cfa_siret, contract.numero_interne, end)

    def apply(self, today: date) -> Iterator[Erasure]:
        """Erase what is due, each dossier under its own Idempotency-Key (a run interrupted and started again
        erases each once), one at a time as the log is read: nothing held grows with the store."""
        for due in self.due(today):
            yield self._erasures.erase(OPERATOR, due.contract_id, f"retention:{due.contract_id}")

    def _contracts(self) -> Iterator[Contract]:
        topics = stored_topics(*(f"{Contract.__module__}:Contract.{name}" for name in ("Drafted", "Imported")))
        start: int | None = None
        recorder = self._dossiers.recorder
        while page := recorder.select_notifications(start=start, limit=500, topics=topics):
            for notification in page:
                contract: object = self._dossiers.repository.get(UUID(str(notification.originator_id)))
                if isinstance(contract, Contract):
                    yield contract
            start = page[-1].id + 1


def _day(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
