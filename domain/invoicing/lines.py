"""One line of an invoice: one contract, one of its échéances, one kind, an amount."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.invoicing.kinds import InvoiceKind
from domain.money import euros, money_text


@dataclass(frozen=True, slots=True)
class LineRequest:
    """A line as the CFA asks for it, before it is checked against its contract."""

    contract_id: UUID
    numero_echeance: int
    kind: InvoiceKind
    amount: Decimal
    quantity: int | None = None


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """A checked line, with what the OPCO needs to recognise its dossier and its échéance."""

    contract_id: UUID
    numero_interne: str  # the contract's numeroInterne
    numero_externe: str | None  # the OPCO's number of the contract
    numero_echeance: int
    codification: str | None
    kind: InvoiceKind
    amount: Decimal
    quantity: int | None = None

    def as_record(self) -> dict[str, Any]:
        return {
            "contractId": str(self.contract_id),
            "numeroInterne": self.numero_interne,
            "numeroExterne": self.numero_externe,
            "numeroEcheance": self.numero_echeance,
            "codification": self.codification,
            "kind": self.kind.value,
            "amount": money_text(self.amount),
            "quantity": self.quantity,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> InvoiceLine:
        return cls(
            contract_id=UUID(record["contractId"]),
            numero_interne=record["numeroInterne"],
            numero_externe=record.get("numeroExterne"),
            numero_echeance=int(record["numeroEcheance"]),
            codification=record.get("codification"),
            kind=InvoiceKind(record["kind"]),
            amount=euros(record["amount"]),
            quantity=record.get("quantity"),
        )


def total(lines: list[InvoiceLine]) -> Decimal:
    return sum((line.amount for line in lines), Decimal("0.00"))
