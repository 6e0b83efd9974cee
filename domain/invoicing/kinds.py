"""What an invoice line pays for, and the legal ceilings of the frais annexes (D6332-83; see
../shared/reference/apprenticeship-rules.md §2: 6 € a night, 3 € a meal, 500 € of first equipment)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum


class InvoiceKind(StrEnum):
    PEDAGOGIE = "pedagogie"
    HEBERGEMENT = "hebergement"
    RESTAURATION = "restauration"
    PREMIER_EQUIPEMENT = "premierEquipement"
    MOBILITE_INTERNATIONALE = "mobiliteInternationale"
    MAJORATION_RQTH = "majorationRqth"  # the NPEC's majoration for an apprentice with an RQTH (disability)


# Per unit (a night, a meal): the line's quantity is required and the amount may not exceed quantity × ceiling.
UNIT_CEILINGS: dict[InvoiceKind, tuple[Decimal, str]] = {
    InvoiceKind.HEBERGEMENT: (Decimal("6.00"), "night"),
    InvoiceKind.RESTAURATION: (Decimal("3.00"), "meal"),
}
# Per contract, over all its invoices (an OPCO may set a lower one: it then refuses the invoice when it is sent).
PREMIER_EQUIPEMENT_CEILING = Decimal("500.00")
# The RQTH majoration: up to 50 % of the NPEC, at most 4,000 € a year of contract ([C] AKTO's rules of funding,
# ../shared/reference/apprenticeship-rules.md §2); an OPCO's lower engagement wins.
RQTH_YEARLY_CEILING = Decimal("4000.00")
