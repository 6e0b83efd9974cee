"""The OPCO's commitment on the contract: the first-equipment ceiling and the annex costs engaged, read from its
dossier, and commitments stored before those fields existed (FundingCommitted versions 1 and 2), read back through
the upcasters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from application.contracts.funding import funding
from application.opco.opco_gateway import FraisAnnexe, OpcoError
from domain.contracts.contract import Contract
from domain.invoicing.kinds import InvoiceKind
from infrastructure.opco.opco_client.parsing import parse_dossier
from tests.invoicing import CFA, accepted_contract
from tests.support import dossiers, opened, principal

ENGAGED = {  # as WEDOF-TEST's synthetic CFA Dock answer writes them, with a nature spelt otherwise
    "cerfa": {"numeroInterne": "C-1", "etat": "ENGAGE"},
    "engagementsFraisAnnexe": [
        {"natureFrais": "Restauration", "quantite": 100, "prixUnitaire": 3, "montantTotal": 300},
        {"natureFrais": "Premierequipement", "quantite": 1, "prixUnitaire": 500, "montantTotal": 500},
        {"natureFrais": "HEBERGEMENT", "quantite": "20", "prixUnitaire": "5,50", "montantTotal": "110.00"},
        {"natureFrais": "Mobilité internationale", "montantTotal": "1 200,00"},
        {"natureFrais": "Transport", "montantTotal": 80},
        {"quantite": 3},
    ],
}


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


def test_the_annex_costs_engaged_are_read_per_nature() -> None:
    found = parse_dossier(ENGAGED, "C-1")

    assert found is not None
    assert found.frais_annexes == (
        FraisAnnexe("Restauration", InvoiceKind.RESTAURATION, Decimal(100), Decimal(3), Decimal(300)),
        FraisAnnexe("Premierequipement", InvoiceKind.PREMIER_EQUIPEMENT, Decimal(1), Decimal(500), Decimal(500)),
        FraisAnnexe("HEBERGEMENT", InvoiceKind.HEBERGEMENT, Decimal(20), Decimal("5.50"), Decimal("110.00")),
        FraisAnnexe("Mobilité internationale", InvoiceKind.MOBILITE_INTERNATIONALE, None, None, Decimal("1200.00")),
        FraisAnnexe("Transport", None, None, None, Decimal(80)),
    )  # an item without a nature is no engagement
    assert parse_dossier({"cerfa": {"numeroInterne": "C-1"}, "engagementsFraisAnnexe": []}, "C-1") is not None


def test_an_unreadable_annex_amount_fails_rather_than_becoming_no_ceiling() -> None:
    body = {**ENGAGED, "engagementsFraisAnnexe": [{"natureFrais": "Restauration", "montantTotal": "trois cents"}]}
    with pytest.raises(OpcoError, match=r"engagementsFraisAnnexe\[0\]\.montantTotal"):
        parse_dossier(body, "C-1")


def test_the_funding_shows_the_annex_costs_and_what_was_invoiced_of_them(complete_cerfa: dict[str, Any]) -> None:
    found = parse_dossier(ENGAGED, "C-1")
    assert found is not None
    records = [item.as_record() for item in found.frais_annexes]
    contract = accepted_contract(dossiers(), principal(CFA), complete_cerfa, frais_annexes=records)

    shown = funding(contract)["fraisAnnexes"]

    assert shown[0] == {
        "kind": "restauration",
        "natureFrais": "Restauration",
        "quantite": "100",
        "prixUnitaire": "3",
        "montantTotal": "300",
        "invoiced": "0.00",
    }
    assert [(item["kind"], item["montantTotal"]) for item in shown[1:]] == [
        ("premierEquipement", "500"),
        ("hebergement", "110.00"),
        ("mobiliteInternationale", "1200.00"),
        (None, "80"),
    ]


def test_a_version_2_commitment_reads_without_annex_costs(complete_cerfa: dict[str, Any]) -> None:
    app = dossiers()
    frais = [{"kind": "restauration", "natureFrais": "Restauration", "quantite": "1", "prixUnitaire": "3",
              "montantTotal": "3"}]  # fmt: skip
    contract = accepted_contract(app, principal(CFA), complete_cerfa, frais_annexes=frais)
    [stored] = [e for e in app.recorder.select_events(contract.id) if e.topic.endswith("Contract.FundingCommitted")]
    state = app.mapper.transcoder.decode(opened(app, stored.state))
    assert (state["frais_annexes"], state["class_version"]) == (frais, 3)
    del state["frais_annexes"]
    state["class_version"] = 2  # as version 2 stored it
    old = StoredEvent(
        stored.originator_id, stored.originator_version, stored.topic, app.mapper.transcoder.encode(state)
    )
    event = app.mapper.to_domain_event(old)
    assert isinstance(event, Contract.FundingCommitted)
    assert (event.frais_annexes, event.engagement) == ([], "9000.00")


def test_a_version_1_commitment_reads_without_a_ceiling(complete_cerfa: dict[str, Any]) -> None:
    app = dossiers()
    contract = accepted_contract(app, principal(CFA), complete_cerfa, equipment_ceiling="300.00")
    [stored] = [e for e in app.recorder.select_events(contract.id) if e.topic.endswith("Contract.FundingCommitted")]
    state = app.mapper.transcoder.decode(opened(app, stored.state))
    assert (state["premier_equipement_ceiling"], state["class_version"]) == ("300.00", 3)
    del state["premier_equipement_ceiling"], state["frais_annexes"], state["class_version"]  # as version 1 stored it
    old = StoredEvent(
        stored.originator_id, stored.originator_version, stored.topic, app.mapper.transcoder.encode(state)
    )
    event = app.mapper.to_domain_event(old)
    assert isinstance(event, Contract.FundingCommitted)
    assert (event.premier_equipement_ceiling, event.frais_annexes, event.engagement) == (None, [], "9000.00")
