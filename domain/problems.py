"""What stands between a dossier and its submission, in a shape a front-end can show next to each field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One blocking problem: `field` is a dotted path from the dossier root (``cerfa.apprenti.nir``,
    ``cerfa.contrat.remunerationsAnnuelles.0.taux``, ``opco``), `code` a stable snake_case rule name."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}
