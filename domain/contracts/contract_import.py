"""What the OPCO holds of a dossier deposited some other way, as an import records it (Contract.imported)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ImportRecord:
    opco: str  # the OPCO's code
    import_run: str  # the import that creates it: "<journal id>/<run number>" (domain.opco.opco_import)
    numero_interne: str | None  # the OPCO's numeroInterne, where it has one (deposited elsewhere: often none)
    numero_externe: str | None
    numero_deca: str | None
    etat: str | None
    commentaire: str | None = None
    cerfa: dict[str, Any] = field(default_factory=dict, repr=False)  # in our Cerfa's terms (opco_wire translated it)

    @property
    def opco_key(self) -> str:
        """The OPCO's number the dossier is known by there: numeroInterne, else numeroExterne, else DECA number."""
        for prefix, value in (("ni", self.numero_interne), ("ne", self.numero_externe), ("deca", self.numero_deca)):
            if value:
                return f"{prefix}:{value}"
        raise ValueError("an imported dossier needs at least one of the OPCO's numbers")
