"""How a contract's rupture is written on the wire (GET /contracts/{id}, GET /contracts/{id}/rupture)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.contracts.contract import Contract
from domain.ruptures.rupture_funding import last_invoice_by
from interfaces.bootstrap import Container


def rupture_view(contract: Contract, services: Container, at: datetime | None = None) -> dict[str, Any] | None:
    """The rupture as GET /contracts/{id} shows it (`at`: as it was at that moment); None without one."""
    if contract.rupture is None:
        return None
    termination = services.terminations.of_contract(contract, at)
    transmission = None
    if termination is not None:
        record = termination.as_record()
        transmission = {
            **{k: v for k, v in record.items() if k not in {"id", "transmission"}},
            **{k: _iso(v) for k, v in record["transmission"].items()},
        }
    deadline = last_invoice_by(contract)
    return {
        **{k: v for k, v in contract.rupture.items() if k != "terminationId"},
        "lastInvoiceBy": deadline.isoformat() if deadline else None,
        "traineeship": contract.traineeship,
        "transmission": transmission,
    }


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
