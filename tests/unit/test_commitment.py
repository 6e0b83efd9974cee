"""The OPCO's commitment on the contract: the first-equipment ceiling read from its dossier, and commitments
stored before that field existed (FundingCommitted version 1), read back through the upcaster."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from eventsourcing.persistence import StoredEvent

from domain.contract import Contract
from infrastructure.opco_client.parsing import parse_dossier
from tests.invoicing import CFA, accepted_contract
from tests.support import dossiers, principal


def test_the_ceiling_is_read_from_the_details_of_invoicing() -> None:
    body = {
        "cerfa": {"numeroInterne": "C-1", "etat": "ENGAGE"},
        "echeances": [],
        "detailsFacturation": {"plafondFraisPremierEquipement": "350.50"},
    }
    found = parse_dossier(body, "C-1")
    assert found is not None
    assert found.premier_equipement_ceiling == Decimal("350.50")
    without = parse_dossier({"cerfa": {"numeroInterne": "C-1", "etat": "ENGAGE"}}, "C-1")
    assert without is not None
    assert without.premier_equipement_ceiling is None


def test_a_version_1_commitment_reads_without_a_ceiling(complete_cerfa: dict[str, Any]) -> None:
    app = dossiers()
    contract = accepted_contract(app, principal(CFA), complete_cerfa, equipment_ceiling="300.00")
    [stored] = [e for e in app.recorder.select_events(contract.id) if e.topic.endswith("Contract.FundingCommitted")]
    state = app.mapper.transcoder.decode(stored.state)
    assert (state["premier_equipement_ceiling"], state["class_version"]) == ("300.00", 2)
    del state["premier_equipement_ceiling"], state["class_version"]  # as version 1 stored it
    old = StoredEvent(
        stored.originator_id, stored.originator_version, stored.topic, app.mapper.transcoder.encode(state)
    )
    event = app.mapper.to_domain_event(old)
    assert isinstance(event, Contract.FundingCommitted)
    assert (event.premier_equipement_ceiling, event.engagement) == (None, "9000.00")
