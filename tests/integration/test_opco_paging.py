"""Paging through misbehaving OPCOs, counting the requests: every page shape of opco-wire.md §8 is read, and no OPCO
makes a sync ask for more pages than its total announces, plus one (one such OPCO used to cost 10,000 requests)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from application.opco.opco_gateway import DossierState, InvoiceState, OpcoEndpoint
from domain.opco.opcos import Opco
from infrastructure.opco.opco_client import ClientIdentity, HttpOpcoGateway

BASE = "https://opco.test/ApiEchangeCFA"
PAGE_SIZE = 50
DOSSIERS = 120  # three pages: 50, 50, 20

Page = Callable[[int], Any]  # numeroPage → the JSON body of the answer


class MisbehavingOpco:
    """Answers GET …/etats?numeroPage=n with `page(n)` and counts what it is asked."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.pages_asked: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["numeroPage"])
        self.pages_asked.append(number)
        return httpx.Response(200, json=self.page(number))

    def states(self, protocol: int = 2) -> list[DossierState]:
        endpoint = OpcoEndpoint(Opco.AKTO, BASE, protocol, "cfa-key")
        with HttpOpcoGateway(ClientIdentity("E", "L", "1"), transport=httpx.MockTransport(self)) as gateway:
            return list(gateway.dossier_states(endpoint))

    def invoice_states(self) -> list[InvoiceState]:
        endpoint = OpcoEndpoint(Opco.AKTO, BASE, 2, "cfa-key")
        with HttpOpcoGateway(ClientIdentity("E", "L", "1"), transport=httpx.MockTransport(self)) as gateway:
            return list(gateway.invoice_states(endpoint))


def items(page: int, held: int = DOSSIERS) -> list[dict[str, Any]]:
    first = (page - 1) * PAGE_SIZE
    return [
        {"numeroInterne": f"N-{n}", "numeroExterne": f"E-{n}", "numeroDeca": None, "etat": "ENGAGE"}
        for n in range(first, min(first + PAGE_SIZE, held))
    ]


def envelope(page: int, total: int = DOSSIERS, held: int = DOSSIERS) -> dict[str, Any]:
    found = items(page, held)
    return {"total": total, "count": len(found), "page": page, "EtatDossierResult": found}


def announced_pages(total: int) -> int:
    return math.ceil(total / PAGE_SIZE)


def test_the_v2_envelope_is_read_to_its_total() -> None:
    opco = MisbehavingOpco(envelope)

    states = opco.states()

    assert len({state.numero_interne for state in states}) == DOSSIERS
    assert opco.pages_asked == [1, 2, 3]


def test_an_envelope_wrapped_in_a_one_element_list_is_read_like_the_envelope() -> None:
    opco = MisbehavingOpco(lambda page: [envelope(page)])

    states = opco.states()

    assert len({state.numero_interne for state in states}) == DOSSIERS
    assert states[0] == DossierState(numero_interne="N-0", numero_externe="E-0", numero_deca=None, etat="ENGAGE")
    assert opco.pages_asked == [1, 2, 3]


def test_a_wrapped_envelope_past_its_end_stops_at_the_first_empty_page() -> None:
    opco = MisbehavingOpco(lambda page: [envelope(page, total=1000)])  # a total far beyond what it holds

    states = opco.states()

    assert len(opco.pages_asked) == 4  # it used to be 10,000: every wrapped page looked new
    assert len(states) == DOSSIERS


def test_bare_arrays_without_total_stop_at_the_first_empty_page() -> None:
    opco = MisbehavingOpco(items)

    states = opco.states(protocol=1)

    assert len({state.numero_interne for state in states}) == DOSSIERS
    assert opco.pages_asked == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "shape",
    [envelope, lambda page: [envelope(page)], items],
    ids=["envelope", "wrapped envelope", "bare array"],
)
def test_an_opco_that_ignores_numero_page_costs_two_requests(shape: Page) -> None:
    opco = MisbehavingOpco(lambda _: shape(1))  # the same first page, whatever is asked

    states = opco.states()

    assert len(states) == PAGE_SIZE
    assert opco.pages_asked == [1, 2]


def test_a_total_larger_than_what_the_opco_holds_stops_at_the_empty_page() -> None:
    opco = MisbehavingOpco(lambda page: envelope(page, total=1000))

    assert len(opco.states()) == DOSSIERS
    assert opco.pages_asked == [1, 2, 3, 4]


def test_a_total_smaller_than_what_the_opco_holds_stops_at_the_total() -> None:
    opco = MisbehavingOpco(lambda page: envelope(page, total=60))

    assert len(opco.states()) == 2 * PAGE_SIZE  # the page that reached the total is read whole
    assert opco.pages_asked == [1, 2]


def test_an_opco_repeating_its_last_page_past_a_wrong_total_stops_on_the_repeat() -> None:
    opco = MisbehavingOpco(lambda page: envelope(min(page, 3), total=1000))

    assert len(opco.states()) == DOSSIERS
    assert opco.pages_asked == [1, 2, 3, 4]


def test_overlapping_pages_are_read_to_the_announced_pages_plus_one() -> None:
    def sliding(page: int) -> dict[str, Any]:  # each page moves by half a page: half of it was read before
        window = [{"numeroInterne": f"N-{n}", "etat": "TRANSMIS"} for n in range((page - 1) * 25, (page + 1) * 25)]
        return {"total": 200, "count": len(window), "page": page, "EtatDossierResult": window}

    opco = MisbehavingOpco(sliding)

    states = opco.states()

    assert opco.pages_asked == [1, 2, 3, 4, 5]  # 200 announced in pages of 50: 4 pages, plus one
    assert len(states) == 150  # every item read once


def test_invoice_states_wrapped_in_a_list_are_read() -> None:
    invoices = [{"numeroInterneFacture": f"F-{n}", "etatFacture": "REGLE", "montantFacture": "10.00"} for n in range(3)]
    opco = MisbehavingOpco(lambda page: [{"total": 3, "count": 3, "page": page, "factures": invoices}])

    states = opco.invoice_states()

    assert [state.numero_interne_facture for state in states] == ["F-0", "F-1", "F-2"]
    assert opco.pages_asked == [1]
