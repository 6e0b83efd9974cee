"""What an import reads of the OPCO and of the dossiers here: the OPCO's numbers of each, and the reads themselves,
tried again after a transient failure (a read changes nothing at the OPCO)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from application.contracts.imports.matching import Numbers
from application.opco.opco_gateway import ListedDossier, OpcoDossier, OpcoEndpoint, OpcoGateway, TransientOpcoError
from domain.contracts.contract import IMPORTED, Contract

READ_ATTEMPTS = 3  # a read that fails transiently is tried this many times before the import stops
RETRY_PAUSE, MAX_RETRY_PAUSE = 0.2, 5.0  # seconds, times the attempt; at most (Retry-After included)
T = TypeVar("T")


def numbers_of(contract: Contract) -> Numbers:
    """The OPCO's numbers of a dossier known here: for one sent from here, the numeroInterne the OPCO knows it by."""
    interne = contract.opco_numero_interne if contract.origin == IMPORTED else contract.opco_reference
    return Numbers(interne, contract.numero_externe, contract.numero_deca)


def listed_numbers(row: ListedDossier) -> Numbers:
    return Numbers(row.numero_interne, row.numero_externe, row.numero_deca)


def retried(read: Callable[[], T]) -> T:
    """A read, tried again after a transient failure of the OPCO (a read changes nothing there): the import stops
    (to be resumed) only when the OPCO keeps failing."""
    for attempt in range(1, READ_ATTEMPTS + 1):
        try:
            return read()
        except TransientOpcoError as failure:
            if attempt == READ_ATTEMPTS:
                raise
            time.sleep(min(failure.retry_after or RETRY_PAUSE * attempt, MAX_RETRY_PAUSE))
    raise AssertionError("unreachable")


def find_listed(gateway: OpcoGateway, endpoint: OpcoEndpoint, row: ListedDossier) -> OpcoDossier | None:
    return retried(lambda: _find_once(gateway, endpoint, row))


def _find_once(gateway: OpcoGateway, endpoint: OpcoEndpoint, row: ListedDossier) -> OpcoDossier | None:
    if row.numero_interne:
        return gateway.find_dossier(endpoint, row.numero_interne)
    if row.numero_externe:
        return gateway.find_dossier_by(endpoint, "numeroExterne", row.numero_externe)
    if row.numero_deca:
        return gateway.find_dossier_by(endpoint, "numeroDeca", row.numero_deca)
    return None
