"""Invoices at the reference OPCO sandbox, over HTTP (uvicorn on loopback, httpx as our client would call it).

The dossier of docs/examples/cerfa-complete.json, sent on 2026-09-01 and engaged at once, has the échéancier of the
40/30/20/10 % regime on an NPEC of 8000.00: E1 = 3200.00 opens 2026-09-01, E2 = 2400.00 opens 2027-03-01.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.cerfa_document import parse_cerfa
from infrastructure.opco_sandbox import SandboxConfig
from infrastructure.opco_wire import OBSERVED, dossier_body, encode
from tests.integration.sandbox_server import SANDBOX_OPERATOR, ManualClock, running_sandbox, sandbox_headers

CFA_SIRET = "79852413800012"
OTHER_CFA_SIRET = "13002526500013"
START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
INSTRUCTION, VALIDATION, PAYMENT = 10, 20, 30  # the invoice delays of these tests, in seconds


def line(
    montant: str, nature: str = "PEDAGOGIE", *, echeance: int = 1, quantite: int = 1, codification: str | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {"numeroEcheance": echeance, "nature": nature, "quantite": quantite, "montant": montant}
    return item if codification is None else {**item, "codification": codification}


def part(numero_interne: str, *lines: dict[str, Any], montant: str | None = None, **fields: Any) -> dict[str, Any]:
    total = montant or str(sum((Decimal(item["montant"]) for item in lines), Decimal("0.00")))
    return {"numeroInterneDossier": numero_interne, "montant": total, "lignes": list(lines), **fields}


def invoice(numero: str, *parts: dict[str, Any], montant: str | None = None, siret: str = CFA_SIRET) -> dict[str, Any]:
    total = montant or str(sum((Decimal(item["montant"]) for item in parts), Decimal("0.00")))
    return {
        "numeroInterneFacture": numero,
        "dateFacture": "2026-09-01",
        "montantFacture": total,
        "organismeFormation": {"siret": siret},
        "dossiers": list(parts),
    }


def pedagogie(numero: str, montant: str, dossier: str = "CVG-1", echeance: int = 1) -> dict[str, Any]:
    """An invoice of pédagogie only, on one échéance of one dossier."""
    return invoice(numero, part(dossier, line(montant, echeance=echeance)))


@dataclass
class Desk:
    """One CFA at one OPCO of the sandbox."""

    client: httpx.Client
    opco: str
    headers: dict[str, str]
    cerfa: dict[str, Any]

    def dossier(self, numero_interne: str = "CVG-1") -> str:
        """Sends the dossier; its numeroExterne."""
        body = encode(dossier_body(numero_interne, parse_cerfa(self.cerfa), OBSERVED))
        headers = {**self.headers, "Content-Type": "application/json"}
        sent = self.client.post(f"/opcos/{self.opco}/v1/dossiers", content=body, headers=headers)
        assert sent.status_code == 200, sent.text
        numero: str = sent.json()["numeroExterne"]
        return numero

    def send(self, body: dict[str, Any], version: str = "v1") -> httpx.Response:
        return self.client.post(f"/opcos/{self.opco}/{version}/factures", json=body, headers=self.headers)

    def accepted(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.send(body)
        assert answer.status_code == 201, answer.text
        accepted: dict[str, Any] = answer.json()
        return accepted

    def refusal(self, body: dict[str, Any], status: int = 422) -> list[dict[str, str]]:
        answer = self.send(body)
        assert answer.status_code == status, answer.text
        errors: list[dict[str, str]] = answer.json()["errors"]
        return errors

    def find(self, numero: str) -> httpx.Response:
        params = {"numeroInterneFacture": numero}
        return self.client.get(f"/opcos/{self.opco}/v1/factures", params=params, headers=self.headers)

    def state(self, numero: str) -> dict[str, Any]:
        found = self.find(numero)
        assert found.status_code == 200, found.text
        state: dict[str, Any] = found.json(parse_float=Decimal)
        return state

    def read_dossier(self, numero_interne: str = "CVG-1") -> dict[str, Any]:
        params = {"numeroInterne": numero_interne}
        found = self.client.get(f"/opcos/{self.opco}/v1/dossiers", params=params, headers=self.headers)
        assert found.status_code == 200, found.text
        dossier: dict[str, Any] = found.json(parse_float=Decimal)
        return dossier

    def figures(self, numero: int = 1, dossier: str = "CVG-1") -> tuple[Decimal, Decimal]:
        """(montantRegle, montantEnCoursInstruction) of one échéance of the dossier."""
        echeance = self.read_dossier(dossier)["echeances"][numero - 1]
        assert echeance["numero"] == numero
        return echeance["montantRegle"], echeance["montantEnCoursInstruction"]

    def states_page(self, page: int) -> httpx.Response:
        params = {"numeroPage": page}
        return self.client.get(f"/opcos/{self.opco}/v2/factures/etats", params=params, headers=self.headers)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def config(clock: ManualClock) -> SandboxConfig:
    return SandboxConfig(
        clock=clock,
        instruction_delay=0,
        decision_delay=0,
        invoice_instruction_delay=INSTRUCTION,
        invoice_validation_delay=VALIDATION,
        invoice_payment_delay=PAYMENT,
    )


@pytest.fixture
def sandbox(config: SandboxConfig) -> Iterator[httpx.Client]:
    with running_sandbox(config) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def desk(client: httpx.Client, cerfa: dict[str, Any], opco: str = "ATLAS", siret: str = CFA_SIRET) -> Desk:
    return Desk(client, opco, sandbox_headers(client, opco, siret), cerfa)


def of_cfa(cerfa: dict[str, Any], siret: str) -> dict[str, Any]:
    return {**cerfa, "organismeFormation": {**cerfa["organismeFormation"], "siret": siret}}


@pytest.fixture
def atlas(sandbox: httpx.Client, complete_cerfa: dict[str, Any]) -> Desk:
    """The CFA at ATLAS (v2, invoices and their states), with its dossier CVG-1 engaged."""
    cfa = desk(sandbox, complete_cerfa)
    cfa.dossier("CVG-1")
    return cfa


def stats(client: httpx.Client) -> dict[str, Any]:
    answer: dict[str, Any] = client.get("/_sandbox/stats", headers=SANDBOX_OPERATOR).json()
    return answer


def set_faults(client: httpx.Client, **faults: Any) -> None:
    response = client.put("/_sandbox/faults", json=faults, headers=SANDBOX_OPERATOR)
    assert response.status_code == 200, response.text


# --- acceptance -------------------------------------------------------------------------------------------------


def test_an_invoice_is_accepted_numbered_and_read_back(atlas: Desk) -> None:
    body = invoice(
        "FAC-2026-0001",
        part(
            "CVG-1",
            line("2400.00", codification="E1"),
            line("50.00", "RESTAURATION", quantite=20, codification="E1"),
            numeroExterneDossier="ATLAS-2026-000001",
        ),
    )

    answer = atlas.send(body)

    assert answer.status_code == 201
    assert answer.json() == {
        "numeroInterneFacture": "FAC-2026-0001",
        "numeroExterneFacture": "FAC-ATLAS-2026-000001",
        "etatFacture": "TRANSMISE",
    }
    assert atlas.state("FAC-2026-0001") == {
        "numeroInterneFacture": "FAC-2026-0001",
        "numeroExterneFacture": "FAC-ATLAS-2026-000001",
        "referenceFactureCFA": "FAC-2026-0001",
        "dateFacture": "2026-09-01",
        "montantFacture": Decimal("2450.00"),
        "montantRegle": Decimal("0.00"),
        "etatFacture": "TRANSMISE",
        "referenceVirement": None,
        "dateReglement": None,
        "reglements": [],
        "commentaire": None,
        "organismeFormation": {"siret": CFA_SIRET},
        "dossiers": [
            {
                "numeroInterneDossier": "CVG-1",
                "numeroExterneDossier": "ATLAS-2026-000001",
                "montant": Decimal("2450.00"),
            }
        ],
    }
    assert '"montantFacture":2450.00' in atlas.find("FAC-2026-0001").text
    assert atlas.figures(1) == (Decimal("0.00"), Decimal("2400.00"))  # the pédagogie only
    assert atlas.figures(2) == (Decimal("0.00"), Decimal("0.00"))
    assert stats(atlas.client)["invoicesStored"] == {"ATLAS/FAC-2026-0001": 1}


def test_an_invoice_may_be_sent_under_v2_and_cover_several_dossiers(atlas: Desk) -> None:
    atlas.dossier("CVG-2")
    body = invoice(
        "FAC-2", part("CVG-1", line("1000.00")), part("CVG-2", line("300.00"), line("20.00", "HEBERGEMENT", quantite=4))
    )

    assert atlas.send(body, version="v2").status_code == 201

    state = atlas.state("FAC-2")
    assert state["montantFacture"] == Decimal("1320.00")
    assert [(d["numeroInterneDossier"], d["numeroExterneDossier"], d["montant"]) for d in state["dossiers"]] == [
        ("CVG-1", "ATLAS-2026-000001", Decimal("1000.00")),
        ("CVG-2", "ATLAS-2026-000002", Decimal("320.00")),
    ]
    assert atlas.figures(1, "CVG-1") == (Decimal("0.00"), Decimal("1000.00"))
    assert atlas.figures(1, "CVG-2") == (Decimal("0.00"), Decimal("300.00"))


def test_amounts_may_be_json_numbers_read_through_their_text(atlas: Desk) -> None:
    body = invoice("FAC-N", part("CVG-1", line("0.1"), line("0.2"), montant="0.3"), montant="0.3")
    body["montantFacture"] = 0.3
    body["dossiers"][0]["lignes"][0]["montant"] = 0.1

    assert atlas.send(body).status_code == 201  # 0.1 + 0.2 == 0.3 exactly
    assert atlas.figures(1) == (Decimal("0.00"), Decimal("0.30"))


# --- refusals: each rule on both sides of its boundary --------------------------------------------------------


def test_pedagogie_up_to_what_is_left_of_the_echeance(atlas: Desk) -> None:
    atlas.accepted(pedagogie("FAC-1", "1200.00"))  # E1 = 3200.00: 2000.00 left

    assert atlas.refusal(pedagogie("FAC-2", "2000.01")) == [
        {
            "code": "MONTANT_ECHEANCE_DEPASSE",
            "description": "Dossier CVG-1, échéance 1 : la pédagogie facturée (2000.01) dépasse le reste à facturer "
            "(2000.00)",
            "champ": "dossiers[0].lignes",
        }
    ]
    two_lines = invoice("FAC-3", part("CVG-1", line("1000.00"), line("1000.01")))
    assert [error["code"] for error in atlas.refusal(two_lines)] == ["MONTANT_ECHEANCE_DEPASSE"]
    atlas.accepted(pedagogie("FAC-4", "2000.00"))
    assert atlas.figures(1) == (Decimal("0.00"), Decimal("3200.00"))
    assert [error["code"] for error in atlas.refusal(pedagogie("FAC-5", "0.01"))] == ["MONTANT_ECHEANCE_DEPASSE"]
    assert stats(atlas.client)["invoicesStored"] == {"ATLAS/FAC-1": 1, "ATLAS/FAC-4": 1}


@pytest.mark.parametrize(
    ("nature", "quantite", "cap", "code", "description"),
    [
        ("HEBERGEMENT", 5, "30.00", "PLAFOND_HEBERGEMENT", "6.00 € par nuitée × 5 = 30.00"),
        ("RESTAURATION", 20, "60.00", "PLAFOND_RESTAURATION", "3.00 € par repas × 20 = 60.00"),
    ],
)
def test_frais_annexes_up_to_their_unit_cap(
    atlas: Desk, nature: str, quantite: int, cap: str, code: str, description: str
) -> None:
    over = str(Decimal(cap) + Decimal("0.01"))

    errors = atlas.refusal(invoice("FAC-1", part("CVG-1", line(over, nature, quantite=quantite))))

    assert errors == [
        {
            "code": code,
            "description": f"Dossier CVG-1, {nature} : {over} dépasse le plafond de {description}",
            "champ": "dossiers[0].lignes[0].montant",
        }
    ]
    atlas.accepted(invoice("FAC-2", part("CVG-1", line(cap, nature, quantite=quantite))))
    assert atlas.figures(1) == (Decimal("0.00"), Decimal("0.00"))  # frais annexes are not pédagogie


def test_premier_equipement_up_to_500_per_dossier(atlas: Desk) -> None:
    def equipment(numero: str, montant: str) -> dict[str, Any]:
        return invoice(numero, part("CVG-1", line(montant, "PREMIER_EQUIPEMENT")))

    assert atlas.refusal(equipment("FAC-1", "500.01")) == [
        {
            "code": "PLAFOND_PREMIER_EQUIPEMENT",
            "description": "Dossier CVG-1 : premier équipement 500.01 (déjà facturé : 0.00) au-delà du plafond de "
            "500.00 €",
            "champ": "dossiers[0].lignes",
        }
    ]
    atlas.accepted(equipment("FAC-2", "300.00"))
    assert [error["code"] for error in atlas.refusal(equipment("FAC-3", "200.01"))] == ["PLAFOND_PREMIER_EQUIPEMENT"]
    atlas.accepted(equipment("FAC-4", "200.00"))


def test_no_invoice_before_the_echeance_opens(
    sandbox: httpx.Client, complete_cerfa: dict[str, Any], clock: ManualClock
) -> None:
    clock.now = datetime(2026, 8, 31, 21, 30, tzinfo=UTC)  # 23:30 in Paris: E1 opens tomorrow
    cfa = desk(sandbox, complete_cerfa)
    cfa.dossier("CVG-1")

    assert cfa.refusal(pedagogie("FAC-1", "100.00")) == [
        {
            "code": "ECHEANCE_NON_OUVERTE",
            "description": "Dossier CVG-1 : l'échéance 1 n'ouvre à la facturation que le 2026-09-01",
            "champ": "dossiers[0].lignes[0].numeroEcheance",
        }
    ]
    clock.advance(2700)  # 00:15 in Paris, 2026-09-01 (and the OAuth token of an hour still good)
    cfa.accepted(pedagogie("FAC-1", "100.00"))
    assert [e["code"] for e in cfa.refusal(pedagogie("FAC-2", "100.00", echeance=2))] == ["ECHEANCE_NON_OUVERTE"]


def test_no_invoice_before_the_dossier_is_engaged(complete_cerfa: dict[str, Any], clock: ManualClock) -> None:
    config = SandboxConfig(clock=clock, instruction_delay=10, decision_delay=20)
    with running_sandbox(config) as url, httpx.Client(base_url=url) as client:
        cfa = desk(client, complete_cerfa)
        cfa.dossier("CVG-1")
        early = [cfa.refusal(pedagogie(f"FAC-{n}", "100.00")) for n in (1, 2)]
        for seconds in (10, 19):
            clock.advance(seconds)
            early.append(cfa.refusal(pedagogie("FAC-3", "100.00")))
        clock.advance(1)
        accepted = cfa.send(pedagogie("FAC-3", "100.00"))

    assert early[0] == [
        {
            "code": "DOSSIER_NON_ENGAGE",
            "description": "Le dossier CVG-1 n'est pas engagé (état TRANSMIS) : pas de facture avant l'accord de "
            "prise en charge",
            "champ": "dossiers[0].numeroInterneDossier",
        }
    ]
    assert ["(état EN_COURS_INSTRUCTION)" in errors[0]["description"] for errors in early] == [
        False,
        False,
        True,
        True,
    ]
    assert accepted.status_code == 201


def test_a_refused_dossier_takes_no_invoice(sandbox: httpx.Client, complete_cerfa: dict[str, Any]) -> None:
    ineligible = {**complete_cerfa, "formation": {**complete_cerfa["formation"], "rncp": "RNCP00000"}}
    cfa = desk(sandbox, ineligible)
    cfa.dossier("CVG-1")

    assert "(état REFUSE)" in cfa.refusal(pedagogie("FAC-1", "100.00"))[0]["description"]


def test_only_this_cfas_dossiers_at_this_opco_can_be_invoiced(
    atlas: Desk, sandbox: httpx.Client, complete_cerfa: dict[str, Any]
) -> None:
    other_cfa = desk(sandbox, of_cfa(complete_cerfa, OTHER_CFA_SIRET), siret=OTHER_CFA_SIRET)
    constructys = desk(sandbox, complete_cerfa, opco="CONSTRUCTYS")

    for cfa, siret in ((other_cfa, OTHER_CFA_SIRET), (constructys, CFA_SIRET)):
        body = invoice("FAC-1", part("CVG-1", line("100.00")), siret=siret)
        assert cfa.refusal(body) == [
            {
                "code": "DOSSIER_INCONNU",
                "description": "Aucun dossier de numéro interne CVG-1 pour ce CFA",
                "champ": "dossiers[0].numeroInterneDossier",
            }
        ]
    assert other_cfa.refusal(pedagogie("FAC-1", "100.00"), status=403) == [  # an invoice of another CFA
        {"code": "CLE_API_INVALIDE", "description": "Cette facture n'est pas celle du CFA de la clé API"}
    ]
    assert stats(sandbox)["invoicesStored"] == {}


def test_the_numbers_of_the_dossier_and_of_the_echeance_must_match(atlas: Desk) -> None:
    body = invoice(
        "FAC-1",
        part(
            "CVG-1",
            line("10.00", codification="E2"),
            line("10.00", echeance=99),
            numeroExterneDossier="ATLAS-2026-999999",
        ),
    )

    assert atlas.refusal(body) == [
        {
            "code": "NUMERO_EXTERNE_INCOHERENT",
            "description": "Le dossier CVG-1 a pour numéro externe ATLAS-2026-000001",
            "champ": "dossiers[0].numeroExterneDossier",
        },
        {
            "code": "ECHEANCE_INCONNUE",
            "description": "Le dossier CVG-1 n'a pas d'échéance 1 (E2)",
            "champ": "dossiers[0].lignes[0].numeroEcheance",
        },
        {
            "code": "ECHEANCE_INCONNUE",
            "description": "Le dossier CVG-1 n'a pas d'échéance 99",
            "champ": "dossiers[0].lignes[1].numeroEcheance",
        },
    ]


def test_the_figures_must_add_up(atlas: Desk) -> None:
    body = invoice("FAC-1", part("CVG-1", line("100.00"), line("50.00"), montant="150.01"), montant="150.00")

    assert atlas.refusal(body) == [
        {
            "code": "TOTAL_INCOHERENT",
            "description": "Dossier CVG-1 : les lignes totalisent 150.00, le montant est 150.01",
            "champ": "dossiers[0].montant",
        },
        {
            "code": "TOTAL_INCOHERENT",
            "description": "Les dossiers totalisent 150.01, le montant de la facture est 150.00",
            "champ": "montantFacture",
        },
    ]
    atlas.accepted(invoice("FAC-1", part("CVG-1", line("100.00"), line("50.00"), montant="150.00")))


def test_a_malformed_invoice_is_a_bad_request_naming_each_field(atlas: Desk) -> None:
    body = {
        "numeroInterneFacture": 12,
        "dateFacture": "27/11/2026",
        "montantFacture": "12.345",
        "organismeFormation": {"siret": "798524138"},
        "dossiers": [
            {"numeroInterneDossier": "CVG-1", "montant": "1e3", "lignes": [{"numeroEcheance": 0, "nature": "REPAS"}]},
            {"numeroInterneDossier": "CVG-1", "montant": "-1", "lignes": []},
        ],
    }

    errors = atlas.refusal(body, status=400)

    assert [(error["champ"], error["code"]) for error in errors] == [
        ("numeroInterneFacture", "FORMAT_INVALIDE"),
        ("dateFacture", "FORMAT_INVALIDE"),
        ("montantFacture", "MONTANT_INVALIDE"),
        ("organismeFormation.siret", "FORMAT_INVALIDE"),
        ("dossiers[0].montant", "MONTANT_INVALIDE"),
        ("dossiers[0].lignes[0].numeroEcheance", "FORMAT_INVALIDE"),
        ("dossiers[0].lignes[0].nature", "NATURE_INCONNUE"),
        ("dossiers[0].lignes[0].montant", "CHAMP_OBLIGATOIRE"),
        ("dossiers[1].montant", "MONTANT_INVALIDE"),
        ("dossiers[1].lignes", "CHAMP_OBLIGATOIRE"),
        ("dossiers[1].numeroInterneDossier", "DOSSIER_EN_DOUBLE"),
    ]
    assert atlas.refusal({}, status=400)[0] == {
        "code": "CHAMP_OBLIGATOIRE",
        "description": "Le champ numeroInterneFacture est obligatoire",
        "champ": "numeroInterneFacture",
    }
    assert stats(atlas.client)["invoicesStored"] == {}


def test_a_second_invoice_with_the_same_numero_is_a_conflict(
    atlas: Desk, sandbox: httpx.Client, complete_cerfa: dict[str, Any]
) -> None:
    atlas.accepted(pedagogie("FAC-1", "100.00"))

    again = atlas.send(pedagogie("FAC-1", "100.00"))

    assert again.status_code == 409
    assert again.json() == {
        "errors": [
            {
                "code": "FACTURE_EXISTANTE",
                "description": "Une facture de numéro interne FAC-1 existe déjà (numéro externe FAC-ATLAS-2026-000001)",
                "champ": "numeroInterneFacture",
            }
        ]
    }
    assert atlas.figures(1) == (Decimal("0.00"), Decimal("100.00"))  # counted once
    ocapiat = desk(sandbox, complete_cerfa, opco="OCAPIAT")
    other_cfa = desk(sandbox, of_cfa(complete_cerfa, OTHER_CFA_SIRET), siret=OTHER_CFA_SIRET)
    for cfa, siret in ((ocapiat, CFA_SIRET), (other_cfa, OTHER_CFA_SIRET)):
        cfa.dossier("CVG-1")
        assert cfa.send(invoice("FAC-1", part("CVG-1", line("100.00")), siret=siret)).status_code == 201
    observed = stats(atlas.client)
    assert observed["invoicePostsReceived"] == {"ATLAS/FAC-1": 3, "OCAPIAT/FAC-1": 1}
    assert observed["invoicesStored"] == {"ATLAS/FAC-1": 2, "OCAPIAT/FAC-1": 1}  # at ATLAS, one for each CFA
    assert observed["duplicateInvoicesRefused"] == 1


def test_opco_ep_answers_with_a_comment_and_400_for_an_unknown_invoice(
    sandbox: httpx.Client, complete_cerfa: dict[str, Any]
) -> None:
    cfa = desk(sandbox, complete_cerfa, opco="OPCOEP")
    cfa.dossier("EP-1")

    refused = cfa.send(pedagogie("FAC-1", "3200.01", dossier="EP-1"))
    cfa.accepted(pedagogie("FAC-1", "3200.00", dossier="EP-1"))
    duplicate = cfa.send(pedagogie("FAC-1", "3200.00", dossier="EP-1"))
    unknown = cfa.find("FAC-404")

    assert (refused.status_code, refused.json()) == (
        422,
        {"comment": "Dossier EP-1, échéance 1 : la pédagogie facturée (3200.01) dépasse le reste à facturer (3200.00)"},
    )
    assert (duplicate.status_code, duplicate.json()) == (
        409,
        {"comment": "Une facture de numéro interne FAC-1 existe déjà (numéro externe FAC-OPCOEP-2026-000001)"},
    )
    assert (unknown.status_code, unknown.json()) == (400, {"comment": "Aucune facture de numéro interne FAC-404"})
    assert cfa.state("FAC-1")["etatFacture"] == "TRANSMISE"


def test_an_unknown_invoice_is_not_found_and_the_numero_is_required(atlas: Desk) -> None:
    missing = atlas.client.get("/opcos/ATLAS/v1/factures", headers=atlas.headers)

    assert atlas.find("FAC-404").status_code == 404
    assert (missing.status_code, missing.json()["errors"][0]["code"]) == (400, "PARAMETRE_MANQUANT")


# --- life of an invoice -----------------------------------------------------------------------------------------


def test_an_invoice_is_instructed_validated_then_paid_and_the_echeance_figures_follow(
    atlas: Desk, clock: ManualClock
) -> None:
    atlas.accepted(
        invoice(
            "FAC-1",
            part(
                "CVG-1",
                line("2400.00"),
                line("50.00", "RESTAURATION", quantite=20),
                line("300.00", "PREMIER_EQUIPEMENT"),
            ),
        )
    )
    seen = []
    for seconds in (INSTRUCTION - 1, 1, VALIDATION - 1, 1, PAYMENT - 1, 1):
        state = atlas.state("FAC-1")
        seen.append((state["etatFacture"], state["montantRegle"], atlas.figures(1)))
        clock.advance(seconds)
    paid, dossier = atlas.state("FAC-1"), atlas.read_dossier()

    in_instruction = (Decimal("0.00"), Decimal("2400.00"))
    assert seen == [
        ("TRANSMISE", Decimal("0.00"), in_instruction),
        ("TRANSMISE", Decimal("0.00"), in_instruction),
        ("EN_COURS_INSTRUCTION", Decimal("0.00"), in_instruction),
        ("EN_COURS_INSTRUCTION", Decimal("0.00"), in_instruction),
        ("VALIDEE", Decimal("0.00"), in_instruction),
        ("VALIDEE", Decimal("0.00"), in_instruction),
    ]
    assert (paid["etatFacture"], paid["montantRegle"], paid["montantFacture"]) == (
        "REGLE",
        Decimal("2750.00"),
        Decimal("2750.00"),
    )
    assert (paid["referenceVirement"], paid["dateReglement"], paid["commentaire"]) == (
        "VIR-ATLAS-20260901-000001",
        "2026-09-01",
        None,
    )
    assert atlas.figures(1) == (Decimal("2400.00"), Decimal("0.00"))
    assert dossier["detailsFacturation"]["fraisPremierEquipementRegles"] == Decimal("300.00")
    # what was paid is no longer left to invoice: 3200.00 − 2400.00
    assert [e["code"] for e in atlas.refusal(pedagogie("FAC-2", "800.01"))] == ["MONTANT_ECHEANCE_DEPASSE"]
    atlas.accepted(pedagogie("FAC-2", "800.00"))
    assert atlas.figures(1) == (Decimal("2400.00"), Decimal("800.00"))


def test_partial_payment_pays_half_then_the_whole(
    complete_cerfa: dict[str, Any], config: SandboxConfig, clock: ManualClock
) -> None:
    with running_sandbox(replace(config, partial_payment=True)) as url, httpx.Client(base_url=url) as client:
        cfa = desk(client, complete_cerfa)
        cfa.dossier("CVG-1")
        cfa.accepted(invoice("FAC-1", part("CVG-1", line("2400.05"), line("50.00", "RESTAURATION", quantite=20))))
        clock.advance(INSTRUCTION + VALIDATION + PAYMENT)
        half = (cfa.state("FAC-1"), cfa.figures(1))
        clock.advance(PAYMENT - 1)
        still_half = cfa.state("FAC-1")["etatFacture"]
        clock.advance(1)
        whole = (cfa.state("FAC-1"), cfa.figures(1))

    state, figures = half
    assert (state["etatFacture"], state["montantRegle"], state["referenceVirement"], state["dateReglement"]) == (
        "REGLE_PARTIEL",
        Decimal("1225.03"),  # 2450.05 / 2, rounded half up
        "VIR-ATLAS-20260901-000001-1",
        "2026-09-01",
    )
    assert figures == (Decimal("1200.03"), Decimal("1200.02"))
    assert still_half == "REGLE_PARTIEL"
    state, figures = whole
    assert (state["etatFacture"], state["montantRegle"], state["referenceVirement"]) == (
        "REGLE",
        Decimal("2450.05"),
        "VIR-ATLAS-20260901-000001-2",
    )
    assert [(t["montant"], t["referenceVirement"]) for t in state["reglements"]] == [  # each transfer, listed
        (Decimal("1225.03"), "VIR-ATLAS-20260901-000001-1"),
        (Decimal("1225.02"), "VIR-ATLAS-20260901-000001-2"),
    ]
    assert figures == (Decimal("2400.05"), Decimal("0.00"))


def test_partial_payment_can_be_switched_on_for_the_invoices_to_come(atlas: Desk, clock: ManualClock) -> None:
    assert atlas.client.get("/_sandbox/invoice-settings", headers=SANDBOX_OPERATOR).json()["partialPayment"] is False
    atlas.accepted(pedagogie("FAC-1", "100.00"))
    switched = atlas.client.put("/_sandbox/invoice-settings", json={"partialPayment": True}, headers=SANDBOX_OPERATOR)
    atlas.accepted(pedagogie("FAC-2", "100.00"))
    clock.advance(INSTRUCTION + VALIDATION + PAYMENT)

    assert switched.json()["partialPayment"] is True
    assert [atlas.state(numero)["etatFacture"] for numero in ("FAC-1", "FAC-2")] == ["REGLE", "REGLE_PARTIEL"]
    assert (
        atlas.client.put("/_sandbox/invoice-settings", json={"paymentDelay": 0}, headers=SANDBOX_OPERATOR).status_code
        == 400
    )
    assert (
        atlas.client.put(
            "/_sandbox/invoice-settings", json={"partialPayment": "yes"}, headers=SANDBOX_OPERATOR
        ).status_code
        == 400
    )


def test_the_refusal_rule_refuses_the_invoice_and_releases_its_amounts(atlas: Desk, clock: ManualClock) -> None:
    atlas.accepted(pedagogie("FAC-REFUS-1", "3200.00"))
    assert [e["code"] for e in atlas.refusal(pedagogie("FAC-2", "0.01"))] == ["MONTANT_ECHEANCE_DEPASSE"]

    clock.advance(INSTRUCTION + VALIDATION - 1)
    before = atlas.state("FAC-REFUS-1")["etatFacture"]
    clock.advance(1)
    refused = atlas.state("FAC-REFUS-1")

    assert before == "EN_COURS_INSTRUCTION"
    assert (refused["etatFacture"], refused["montantRegle"], refused["referenceVirement"]) == (
        "REFUSEE",
        Decimal("0.00"),
        None,
    )
    assert refused["commentaire"] == (
        "Facture refusée : motif de refus simulé par le bac à sable (numéro interne contenant « REFUS »)"
    )
    assert atlas.figures(1) == (Decimal("0.00"), Decimal("0.00"))
    atlas.accepted(pedagogie("FAC-2", "3200.00"))
    clock.advance(INSTRUCTION + VALIDATION + PAYMENT)
    assert atlas.state("FAC-REFUS-1")["etatFacture"] == "REFUSEE"  # and stays so


# --- states, capabilities ---------------------------------------------------------------------------------------


def test_invoice_states_are_paged_in_order_of_receipt(complete_cerfa: dict[str, Any], config: SandboxConfig) -> None:
    with running_sandbox(replace(config, page_size=2)) as url, httpx.Client(base_url=url) as client:
        cfa = desk(client, complete_cerfa, opco="MOBILITES")
        cfa.dossier("CVG-1")
        for number in range(1, 6):
            cfa.accepted(pedagogie(f"FAC-{number}", "100.00"))
        other = desk(client, complete_cerfa, opco="MOBILITES", siret=OTHER_CFA_SIRET)
        pages = [cfa.states_page(page).json(parse_float=Decimal) for page in (1, 2, 3, 4)]
        others = other.states_page(1).json()

    assert [(p["total"], p["count"], p["page"]) for p in pages] == [(5, 2, 1), (5, 2, 2), (5, 1, 3), (5, 0, 4)]
    assert [item["numeroInterneFacture"] for page in pages for item in page["factures"]] == [
        f"FAC-{n}" for n in range(1, 6)
    ]
    assert pages[0]["factures"][0] == {
        "numeroInterneFacture": "FAC-1",
        "numeroExterneFacture": "FAC-MOBILITES-2026-000001",
        "referenceFactureCFA": "FAC-1",
        "dateFacture": "2026-09-01",
        "montantFacture": Decimal("100.00"),
        "montantRegle": Decimal("0.00"),
        "etatFacture": "TRANSMISE",
        "referenceVirement": None,
        "dateReglement": None,
        "reglements": [],
        "commentaire": None,
        "organismeFormation": {"siret": CFA_SIRET},
        "dossiers": [
            {
                "numeroInterneDossier": "CVG-1",
                "numeroExterneDossier": "MOBILITES-2026-000001",
                "montant": Decimal("100.00"),
            }
        ],
    }
    assert (others["total"], others["factures"]) == (0, [])


def test_invoices_only_where_the_opco_offers_them(sandbox: httpx.Client, complete_cerfa: dict[str, Any]) -> None:
    cohesion = desk(sandbox, complete_cerfa, opco="COHESION_SOCIALE")
    afdas = desk(sandbox, complete_cerfa, opco="AFDAS")  # v1: invoices, not their states
    afdas.dossier("CVG-1")

    refused = cohesion.send(pedagogie("FAC-1", "100.00"))
    afdas_states = afdas.states_page(1)

    assert (refused.status_code, refused.json()) == (
        501,
        {
            "errors": [
                {"code": "NOT_SUPPORTED", "description": "COHESION_SOCIALE ne propose pas la facturation par l'API"}
            ]
        },
    )
    assert cohesion.find("FAC-1").status_code == 501
    assert cohesion.states_page(1).status_code == 501
    assert (afdas_states.status_code, afdas_states.json()["errors"][0]["description"]) == (
        501,
        "AFDAS ne propose pas l'état des factures par l'API",
    )
    assert afdas.send(pedagogie("FAC-1", "100.00")).status_code == 201
    assert afdas.state("FAC-1")["numeroExterneFacture"] == "FAC-AFDAS-2026-000001"


# --- faults, storage, administration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "seen"),
    [("timeoutRate", httpx.ReadTimeout), ("resetRate", httpx.RemoteProtocolError), ("errorRate", None)],
)
def test_a_fault_after_the_store_leaves_the_invoice_stored_once(
    atlas: Desk, fault: str, seen: type[Exception] | None
) -> None:
    set_faults(atlas.client, **{fault: 1.0}, afterStoreShare=1.0, timeoutSeconds=5)
    url, body = "/opcos/ATLAS/v1/factures", pedagogie("FAC-1", "1000.00")

    if seen is None:
        assert atlas.client.post(url, json=body, headers=atlas.headers).status_code in {500, 502, 503}
    else:
        with pytest.raises(seen):
            atlas.client.post(url, json=body, headers=atlas.headers, timeout=0.5)
    set_faults(atlas.client, **{fault: 0.0})

    assert atlas.state("FAC-1")["etatFacture"] == "TRANSMISE"
    assert atlas.send(body).status_code == 409  # a blind re-send is refused: look it up instead
    observed = stats(atlas.client)
    assert observed["faultsAfterStore"] == {fault.removesuffix("Rate"): 1}
    assert observed["invoicesStored"] == {"ATLAS/FAC-1": 1}
    assert atlas.figures(1) == (Decimal("0.00"), Decimal("1000.00"))


def test_a_fault_before_the_store_leaves_nothing_stored(atlas: Desk) -> None:
    set_faults(atlas.client, errorRate=1.0, afterStoreShare=0.0)

    assert atlas.send(pedagogie("FAC-1", "100.00")).status_code >= 500
    set_faults(atlas.client, errorRate=0.0)

    assert atlas.find("FAC-1").status_code == 404
    assert (stats(atlas.client)["invoicePostsReceived"], stats(atlas.client)["faultsInjected"]) == ({}, {"error": 1})


def test_a_sqlite_sandbox_keeps_the_invoices_across_restarts(
    tmp_path: Path, config: SandboxConfig, complete_cerfa: dict[str, Any], clock: ManualClock
) -> None:
    persistent = replace(config, state_path=tmp_path / "sandbox.db", partial_payment=True)
    with running_sandbox(persistent) as url, httpx.Client(base_url=url) as client:
        cfa = desk(client, complete_cerfa)
        cfa.dossier("CVG-1")
        cfa.accepted(invoice("FAC-1", part("CVG-1", line("1000.00"), line("12.00", "HEBERGEMENT", quantite=2))))

    with running_sandbox(replace(persistent, partial_payment=False)) as url, httpx.Client(base_url=url) as client:
        cfa.client = client
        first = cfa.state("FAC-1")
        assert cfa.send(pedagogie("FAC-1", "1.00")).status_code == 409
        assert [e["code"] for e in cfa.refusal(pedagogie("FAC-2", "2200.01"))] == ["MONTANT_ECHEANCE_DEPASSE"]
        second = cfa.accepted(pedagogie("FAC-2", "2200.00"))
        clock.advance(INSTRUCTION + VALIDATION + PAYMENT)
        paid = [cfa.state(numero)["etatFacture"] for numero in ("FAC-1", "FAC-2")]

    assert (first["numeroExterneFacture"], first["montantFacture"]) == ("FAC-ATLAS-2026-000001", Decimal("1012.00"))
    assert second["numeroExterneFacture"] == "FAC-ATLAS-2026-000002"
    assert paid == ["REGLE_PARTIEL", "REGLE"]  # each keeps the way of payment of its receipt


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_concurrent_invoices_cannot_both_take_what_is_left_of_an_echeance(
    tmp_path: Path, config: SandboxConfig, complete_cerfa: dict[str, Any], storage: str
) -> None:
    state = tmp_path / "sandbox.db" if storage == "sqlite" else None
    with running_sandbox(replace(config, state_path=state)) as url, httpx.Client(base_url=url) as client:
        cfa = desk(client, complete_cerfa)
        cfa.dossier("CVG-1")
        target = f"{url}/opcos/ATLAS/v1/factures"

        def send(number: int) -> int:
            body = pedagogie(f"FAC-{number}", "2000.00")  # E1 = 3200.00: room for one only
            return httpx.post(target, json=body, headers=cfa.headers, timeout=10).status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            codes = list(pool.map(send, range(12)))
        figures = cfa.figures(1)

    assert sorted(codes) == [201] + [422] * 11
    assert figures == (Decimal("0.00"), Decimal("2000.00"))


def test_the_invoices_can_be_observed_and_forgotten(atlas: Desk) -> None:
    atlas.accepted(pedagogie("FAC-1", "3200.00"))

    listed = atlas.client.get("/_sandbox/factures", params={"opco": "ATLAS"}, headers=SANDBOX_OPERATOR).json()
    elsewhere = atlas.client.get("/_sandbox/factures", params={"opco": "AKTO"}, headers=SANDBOX_OPERATOR).json()
    forgotten = atlas.client.delete("/_sandbox/factures", headers=SANDBOX_OPERATOR)

    assert [
        (i["opco"], i["siren"], i["numeroInterneFacture"], i["etatFacture"], i["partialPayment"]) for i in listed
    ] == [("ATLAS", "798524138", "FAC-1", "TRANSMISE", False)]
    assert listed[0]["receivedAt"] == START.isoformat()
    assert elsewhere == []
    assert forgotten.status_code == 204
    assert atlas.find("FAC-1").status_code == 404
    assert atlas.figures(1) == (Decimal("0.00"), Decimal("0.00"))
    atlas.accepted(pedagogie("FAC-1", "3200.00"))  # the échéance is free again
    assert atlas.read_dossier()["cerfa"]["etat"] == "ENGAGE"  # the dossiers stay


def test_reset_forgets_the_invoices_too(atlas: Desk) -> None:
    atlas.accepted(pedagogie("FAC-1", "100.00"))

    assert atlas.client.post("/_sandbox/reset", headers=SANDBOX_OPERATOR).status_code == 204

    assert atlas.client.get("/_sandbox/factures", headers=SANDBOX_OPERATOR).json() == []
    assert (stats(atlas.client)["invoicesStored"], stats(atlas.client)["duplicateInvoicesRefused"]) == ({}, 0)
