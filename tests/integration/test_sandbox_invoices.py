"""Invoices at the reference OPCO sandbox, over HTTP (uvicorn on loopback, httpx as our client would call it), sent
as real clients send them: multipart/form-data, a `facture` part of JSON and a `fichier` part holding the PDF.

The dossier of docs/examples/cerfa-complete.json, sent on 2026-09-01 and engaged at once (numeroExterne
ATLAS-2026-000001), has the échéancier of the 40/30/20/10 % regime on an NPEC of 8000.00: E1 = 3200.00 opens
2026-09-01, E2 = 2400.00 opens 2027-03-01.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.contracts.cerfa_document import parse_cerfa
from infrastructure.opco.opco_sandbox import SandboxConfig
from infrastructure.opco.opco_wire import OBSERVED, dossier_body, encode
from infrastructure.opco.opco_wire.invoice import multipart_files
from tests.integration.sandbox_server import SANDBOX_OPERATOR, ManualClock, running_sandbox, sandbox_headers

CFA_SIRET = "79852413800012"
SAME_CFA_OTHER_SITE = "79852413800020"  # another establishment of the same SIREN
OTHER_CFA_SIRET = "13002526500013"
IBAN = "FR7630006000011234567890189"
DOSSIER = "ATLAS-2026-000001"  # the numeroExterne of the first dossier sent to ATLAS
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
INSTRUCTION, VALIDATION, PAYMENT = 10, 20, 30  # the invoice delays of these tests, in seconds


def line(
    montant: str,
    nature: str = "PEDAGOGIE",
    *,
    echeance: int = 1,
    quantite: int = 1,
    codification: str | None = None,
    dossier: str = DOSSIER,
    deca: str | None = None,
) -> dict[str, Any]:
    return {
        "montant": Decimal(montant),
        "natureLigne": nature,
        "quantite": quantite,
        "numeroEcheance": echeance,
        "codificationEcheance": codification,
        "numeroDeca": deca,
        "numeroDossier": dossier,
    }


def facture(numero: str, *lines: dict[str, Any], montant: str | None = None, siret: str = CFA_SIRET) -> dict[str, Any]:
    """A `facture` part as our client writes it (infrastructure/opco/opco_wire/invoice.py `facture_part`)."""
    total = Decimal(montant) if montant else sum((item["montant"] for item in lines), Decimal("0.00"))
    return {
        "montantTotal": total,
        "numero": numero,
        "dateEmission": "2026-09-01T00:00:00+02:00",
        "ibanEmetteur": IBAN,
        "siretEmetteur": siret,
        "estCertificatRealisation": False,
        "lignes": list(lines),
    }


def pedagogie(numero: str, montant: str, dossier: str = DOSSIER, echeance: int = 1) -> dict[str, Any]:
    """An invoice of pédagogie only, on one échéance of one dossier."""
    return facture(numero, line(montant, echeance=echeance, dossier=dossier))


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

    @property
    def url(self) -> str:
        return f"/opcos/{self.opco}/v1/factures"

    def send(self, body: dict[str, Any], version: str = "v1", pdf: bytes = PDF) -> httpx.Response:
        files = multipart_files(body, pdf, str(body.get("numero")))
        return self.client.post(f"/opcos/{self.opco}/{version}/factures", files=files, headers=self.headers)

    def accepted(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.send(body)
        assert answer.status_code == 200, answer.text
        accepted: dict[str, Any] = answer.json()
        return accepted

    def refusal(self, body: dict[str, Any], status: int = 422) -> list[dict[str, str]]:
        answer = self.send(body)
        assert answer.status_code == status, answer.text
        errors: list[dict[str, str]] = answer.json()["errors"]
        return errors

    def find(self, numero: str, by: str = "numero") -> httpx.Response:
        return self.client.get(f"/opcos/{self.opco}/v1/factures", params={by: numero}, headers=self.headers)

    def state(self, numero: str, by: str = "numero") -> dict[str, Any]:
        found = self.find(numero, by)
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
    """The CFA at ATLAS (v2, invoices and their states), with its dossier CVG-1 (ATLAS-2026-000001) engaged."""
    cfa = desk(sandbox, complete_cerfa)
    assert cfa.dossier("CVG-1") == DOSSIER
    return cfa


def stats(client: httpx.Client) -> dict[str, Any]:
    answer: dict[str, Any] = client.get("/_sandbox/stats", headers=SANDBOX_OPERATOR).json()
    return answer


def set_faults(client: httpx.Client, **faults: Any) -> None:
    response = client.put("/_sandbox/faults", json=faults, headers=SANDBOX_OPERATOR)
    assert response.status_code == 200, response.text


def stored_invoices(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = client.get("/_sandbox/factures", params=params, headers=SANDBOX_OPERATOR).json()
    return listed


# --- acceptance -------------------------------------------------------------------------------------------------


def test_an_invoice_is_accepted_numbered_by_the_opco_and_read_back_by_either_number(atlas: Desk) -> None:
    deca = atlas.read_dossier()["cerfa"]["numeroDeca"]
    body = facture(
        "FAC-2026-0001",
        line("2400.00", codification="E1", deca=deca),
        line("50.00", "RESTAURATION", quantite=20, codification="E1", deca=deca),
    )

    answer = atlas.send(body)

    assert (answer.status_code, answer.json()) == (
        200,
        {"numeroInterneFacture": "FAC-ATLAS-2026-000001", "numeroInterneDocument": "DOC-ATLAS-2026-000001"},
    )
    expected = {
        "numeroInterneFacture": "FAC-ATLAS-2026-000001",
        "numeroInterneDocument": "DOC-ATLAS-2026-000001",
        "numero": "FAC-2026-0001",
        "referenceFactureCFA": "FAC-2026-0001",
        "dateEmission": "2026-09-01T00:00:00+02:00",
        "montantFacture": Decimal("2450.00"),
        "montantRegle": Decimal("0.00"),
        "etatFacture": "TRANSMISE",
        "referenceVirement": None,
        "dateReglement": None,
        "reglements": [],
        "commentaire": None,
        "organismeFormation": {"siret": CFA_SIRET, "IBAN": IBAN},
        "dossiers": [{"numeroInterneDossier": "CVG-1", "numeroExterneDossier": DOSSIER, "montant": Decimal("2450.00")}],
    }
    assert atlas.state("FAC-2026-0001") == expected
    assert atlas.state("FAC-ATLAS-2026-000001", by="numeroInterneFacture") == expected
    assert '"montantFacture":2450.00' in atlas.find("FAC-2026-0001").text
    assert atlas.figures(1) == (Decimal("0.00"), Decimal("2400.00"))  # the pédagogie only
    assert atlas.figures(2) == (Decimal("0.00"), Decimal("0.00"))
    assert stats(atlas.client)["invoicesStored"] == {"ATLAS/FAC-2026-0001": 1}


def test_an_invoice_may_be_sent_under_v2_and_cover_several_dossiers_and_echeances(
    atlas: Desk, clock: ManualClock
) -> None:
    second = atlas.dossier("CVG-2")
    clock.now = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)  # E2 is open too
    atlas.headers = sandbox_headers(atlas.client, "ATLAS", CFA_SIRET)  # a token of this day
    body = facture(
        "FAC-2",
        line("1000.00"),
        line("300.00", dossier=second),
        line("500.00", echeance=2),
        line("20.00", "HEBERGEMENT", quantite=4, dossier=second),
    )

    assert atlas.send(body, version="v2").status_code == 200

    state = atlas.state("FAC-2")
    assert state["montantFacture"] == Decimal("1820.00")
    assert [(d["numeroInterneDossier"], d["numeroExterneDossier"], d["montant"]) for d in state["dossiers"]] == [
        ("CVG-1", DOSSIER, Decimal("1500.00")),
        ("CVG-2", "ATLAS-2026-000002", Decimal("320.00")),
    ]
    assert atlas.figures(1, "CVG-1") == (Decimal("0.00"), Decimal("1000.00"))
    assert atlas.figures(2, "CVG-1") == (Decimal("0.00"), Decimal("500.00"))
    assert atlas.figures(1, "CVG-2") == (Decimal("0.00"), Decimal("300.00"))


def test_amounts_are_read_exactly_as_json_numbers_or_decimal_strings(atlas: Desk) -> None:
    body = facture("FAC-N", line("0.1"), line("0.2"), montant="0.3")
    body["lignes"][1]["montant"] = "0.20"

    assert atlas.send(body).status_code == 200  # 0.1 + 0.2 == 0.3 exactly
    assert atlas.figures(1) == (Decimal("0.00"), Decimal("0.30"))


# --- the multipart body ------------------------------------------------------------------------------------------


def test_a_json_body_is_refused_saying_multipart_is_expected(atlas: Desk) -> None:
    headers = {**atlas.headers, "Content-Type": "application/json"}
    answer = atlas.client.post(atlas.url, content=encode(pedagogie("FAC-1", "100.00")), headers=headers)

    assert answer.status_code == 415
    assert answer.json() == {
        "errors": [
            {
                "code": "TYPE_DE_CONTENU",
                "description": "Corps application/json refusé : multipart/form-data attendu, avec une partie facture "
                "(JSON) et une partie fichier (la facture en PDF)",
                "champ": "Content-Type",
            }
        ]
    }
    assert stats(atlas.client)["invoicesStored"] == {}


def test_the_file_must_be_a_pdf_by_its_content_whatever_its_name_or_type(atlas: Desk) -> None:
    part = encode(pedagogie("FAC-1", "100.00"))
    disguised = {
        "facture": (None, part, "application/json"),
        "fichier": ("FAC-1.pdf", b"PK\x03\x04", "application/pdf"),
    }
    plain = {"facture": (None, part, "application/json"), "fichier": ("facture.bin", PDF, "application/octet-stream")}

    refused = atlas.client.post(atlas.url, files=disguised, headers=atlas.headers)
    taken = atlas.client.post(atlas.url, files=plain, headers=atlas.headers)

    assert (refused.status_code, refused.json()["errors"]) == (
        400,
        [
            {
                "code": "FICHIER_NON_PDF",
                "description": "La partie fichier doit être un PDF (commençant par %PDF-)",
                "champ": "fichier",
            }
        ],
    )
    assert taken.status_code == 200, taken.text
    [stored] = stored_invoices(atlas.client)
    assert stored["fichier"] == {"sha256": hashlib.sha256(PDF).hexdigest(), "taille": len(PDF), "nom": "facture.bin"}


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"fichier": ("F.pdf", PDF, "application/pdf")}, [("CHAMP_OBLIGATOIRE", "facture")]),
        (
            {"facture": (None, b"{not json", "application/json")},
            [("FORMAT_INVALIDE", "facture"), ("CHAMP_OBLIGATOIRE", "fichier")],
        ),
        (
            {"facture": (None, b"[]", "application/json"), "fichier": ("F.pdf", PDF, "application/pdf")},
            [("FORMAT_INVALIDE", "facture")],
        ),
        (
            {
                "facture": (None, encode(pedagogie("FAC-1", "1.00")), "application/json"),
                "fichier": ("F.pdf", PDF, "application/pdf"),
                "infosFichier": (None, b"{}", "application/json"),
            },
            [("CHAMP_INCONNU", "infosFichier")],
        ),
    ],
)
def test_each_faulty_part_is_named(atlas: Desk, files: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    answer = atlas.client.post(atlas.url, files=files, headers=atlas.headers)

    assert answer.status_code == 400, answer.text
    assert [(error["code"], error["champ"]) for error in answer.json()["errors"]] == expected
    assert stats(atlas.client)["invoicesStored"] == {}


def test_a_malformed_facture_is_a_bad_request_naming_each_field(atlas: Desk) -> None:
    body = {
        "montantTotal": "12.345",
        "numero": 12,
        "dateEmission": "2026-09-01T00:00:00",
        "ibanEmetteur": "FR7630006000011234567890188",
        "siretEmetteur": "798524138",
        "estCertificatRealisation": "non",
        "montantFacture": "100.00",
        "lignes": [
            {**line("100.00"), "natureLigne": "REPAS", "numeroEcheance": 0},
            {**line("-1"), "numeroDossier": None, "quantite": None, "nature": "PEDAGOGIE"},
        ],
    }

    errors = atlas.refusal(body, status=400)

    assert [(error["champ"], error["code"]) for error in errors] == [
        ("montantFacture", "CHAMP_INCONNU"),
        ("numero", "FORMAT_INVALIDE"),
        ("dateEmission", "FORMAT_INVALIDE"),
        ("montantTotal", "MONTANT_INVALIDE"),
        ("ibanEmetteur", "IBAN_INVALIDE"),
        ("siretEmetteur", "FORMAT_INVALIDE"),
        ("estCertificatRealisation", "FORMAT_INVALIDE"),
        ("lignes[0].natureLigne", "NATURE_INCONNUE"),
        ("lignes[0].numeroEcheance", "FORMAT_INVALIDE"),
        ("lignes[1].nature", "CHAMP_INCONNU"),
        ("lignes[1].montant", "MONTANT_INVALIDE"),
        ("lignes[1].quantite", "CHAMP_OBLIGATOIRE"),
        ("lignes[1].numeroDossier", "CHAMP_OBLIGATOIRE"),
    ]
    assert errors[2]["description"] == (
        "Le champ dateEmission doit être une date ISO 8601 avec heure et décalage (2026-09-01T00:00:00+02:00)"
    )
    assert atlas.refusal({}, status=400)[0] == {
        "code": "CHAMP_OBLIGATOIRE",
        "description": "Le champ numero est obligatoire",
        "champ": "numero",
    }
    assert stats(atlas.client)["invoicesStored"] == {}


def test_an_invoice_of_another_siren_than_the_keys_is_forbidden(atlas: Desk) -> None:
    assert atlas.refusal(pedagogie("FAC-1", "100.00") | {"siretEmetteur": OTHER_CFA_SIRET}, status=403) == [
        {
            "code": "CLE_API_INVALIDE",
            "description": "Cette facture n'est pas celle du CFA de la clé API",
            "champ": "siretEmetteur",
        }
    ]
    assert stats(atlas.client)["invoicesStored"] == {}


# --- refusals: each rule on both sides of its boundary --------------------------------------------------------


def test_pedagogie_up_to_what_is_left_of_the_echeance(atlas: Desk) -> None:
    atlas.accepted(pedagogie("FAC-1", "1200.00"))  # E1 = 3200.00: 2000.00 left

    assert atlas.refusal(pedagogie("FAC-2", "2000.01")) == [
        {
            "code": "MONTANT_ECHEANCE_DEPASSE",
            "description": f"Dossier {DOSSIER}, échéance 1 : la pédagogie facturée (2000.01) dépasse le reste à "
            "facturer (2000.00)",
            "champ": "lignes[0].montant",
        }
    ]
    two_lines = facture("FAC-3", line("1000.00"), line("1000.01"))
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

    errors = atlas.refusal(facture("FAC-1", line(over, nature, quantite=quantite)))

    assert errors == [
        {
            "code": code,
            "description": f"Dossier {DOSSIER}, {nature} : {over} dépasse le plafond de {description}",
            "champ": "lignes[0].montant",
        }
    ]
    atlas.accepted(facture("FAC-2", line(cap, nature, quantite=quantite)))
    assert atlas.figures(1) == (Decimal("0.00"), Decimal("0.00"))  # frais annexes are not pédagogie


def test_premier_equipement_up_to_500_per_dossier(atlas: Desk) -> None:
    def equipment(numero: str, montant: str) -> dict[str, Any]:
        return facture(numero, line(montant, "PREMIEREQUIPEMENT"))

    assert atlas.refusal(equipment("FAC-1", "500.01")) == [
        {
            "code": "PLAFOND_PREMIER_EQUIPEMENT",
            "description": f"Dossier {DOSSIER} : premier équipement 500.01 (déjà facturé : 0.00) au-delà du plafond "
            "de 500.00 €",
            "champ": "lignes[0].montant",
        }
    ]
    atlas.accepted(equipment("FAC-2", "300.00"))
    assert [error["code"] for error in atlas.refusal(equipment("FAC-3", "200.01"))] == ["PLAFOND_PREMIER_EQUIPEMENT"]
    atlas.accepted(equipment("FAC-4", "200.00"))


def test_every_nature_real_clients_send_is_taken(atlas: Desk) -> None:
    body = facture(
        "FAC-1",
        line("100.00"),
        line("100.00", "PREMIEREQUIPEMENT"),
        line("3.00", "RESTAURATION"),
        line("6.00", "HEBERGEMENT"),
        line("50.00", "MOBILITE"),
        line("40.00", "MAJORATION_RQTH"),
    )

    atlas.accepted(body)

    assert [item["natureLigne"] for item in stored_invoices(atlas.client)[0]["facture"]["lignes"]] == [
        "PEDAGOGIE",
        "PREMIEREQUIPEMENT",
        "RESTAURATION",
        "HEBERGEMENT",
        "MOBILITE",
        "MAJORATION_RQTH",
    ]
    assert atlas.figures(1) == (Decimal("0.00"), Decimal("100.00"))


def test_no_invoice_before_the_echeance_opens(
    sandbox: httpx.Client, complete_cerfa: dict[str, Any], clock: ManualClock
) -> None:
    clock.now = datetime(2026, 8, 31, 21, 30, tzinfo=UTC)  # 23:30 in Paris: E1 opens tomorrow
    cfa = desk(sandbox, complete_cerfa)
    cfa.dossier("CVG-1")

    assert cfa.refusal(pedagogie("FAC-1", "100.00")) == [
        {
            "code": "ECHEANCE_NON_OUVERTE",
            "description": f"Dossier {DOSSIER} : l'échéance 1 n'ouvre à la facturation que le 2026-09-01",
            "champ": "lignes[0].numeroEcheance",
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
            "description": f"Le dossier {DOSSIER} n'est pas engagé (état TRANSMIS) : pas de facture avant l'accord de "
            "prise en charge",
            "champ": "lignes[0].numeroDossier",
        }
    ]
    assert ["(état EN_COURS_INSTRUCTION)" in errors[0]["description"] for errors in early] == [
        False,
        False,
        True,
        True,
    ]
    assert accepted.status_code == 200


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
        body = facture("FAC-1", line("100.00"), line("100.00", dossier="ATLAS-2026-999999"), siret=siret)
        assert cfa.refusal(body) == [
            {
                "code": "DOSSIER_INCONNU",
                "description": f"Aucun dossier de numéro externe {DOSSIER} pour ce CFA",
                "champ": "lignes[0].numeroDossier",
            },
            {
                "code": "DOSSIER_INCONNU",
                "description": "Aucun dossier de numéro externe ATLAS-2026-999999 pour ce CFA",
                "champ": "lignes[1].numeroDossier",
            },
        ]
    assert stats(sandbox)["invoicesStored"] == {}


def test_the_deca_number_and_the_codification_must_match_the_dossiers(atlas: Desk) -> None:
    deca = atlas.read_dossier()["cerfa"]["numeroDeca"]
    body = facture(
        "FAC-1",
        line("10.00", codification="E1", deca=deca),
        line("10.00", codification="E2"),
        line("10.00", echeance=99),
        line("10.00", deca="069202609NC9999"),
    )

    assert atlas.refusal(body) == [
        {
            "code": "ECHEANCE_INCONNUE",
            "description": f"Dossier {DOSSIER} : l'échéance 1 a pour codification E1, pas E2",
            "champ": "lignes[1].codificationEcheance",
        },
        {
            "code": "ECHEANCE_INCONNUE",
            "description": f"Le dossier {DOSSIER} n'a pas d'échéance 99",
            "champ": "lignes[2].numeroEcheance",
        },
        {
            "code": "NUMERO_DECA_INCOHERENT",
            "description": f"Le dossier {DOSSIER} a pour numéro DECA {deca}",
            "champ": "lignes[3].numeroDeca",
        },
    ]
    atlas.accepted(facture("FAC-1", line("10.00", codification="E1", deca=deca)))


def test_the_lines_must_add_up_to_the_total(atlas: Desk) -> None:
    body = facture("FAC-1", line("100.00"), line("50.00"), montant="150.01")

    assert atlas.refusal(body) == [
        {
            "code": "TOTAL_INCOHERENT",
            "description": "Les lignes totalisent 150.00, le montant total de la facture est 150.01",
            "champ": "montantTotal",
        }
    ]
    atlas.accepted(facture("FAC-1", line("100.00"), line("50.00"), montant="150.00"))


# --- one invoice once ------------------------------------------------------------------------------------------


def test_a_second_invoice_with_the_same_numero_from_the_same_siret_is_a_conflict_naming_the_first(
    atlas: Desk, sandbox: httpx.Client, complete_cerfa: dict[str, Any]
) -> None:
    first = atlas.accepted(pedagogie("FAC-1", "100.00"))

    again = atlas.send(pedagogie("FAC-1", "100.00"))

    assert again.status_code == 409
    assert again.json() == {
        "errors": [
            {
                "code": "FACTURE_EXISTANTE",
                "description": "Une facture de numéro FAC-1 de ce SIRET existe déjà : numéro interne "
                "FAC-ATLAS-2026-000001",
                "champ": "numero",
            }
        ]
    }
    assert first["numeroInterneFacture"] == "FAC-ATLAS-2026-000001"
    assert atlas.figures(1) == (Decimal("0.00"), Decimal("100.00"))  # counted once
    other_site = atlas.accepted(facture("FAC-1", line("100.00"), siret=SAME_CFA_OTHER_SITE))
    assert other_site["numeroInterneFacture"] == "FAC-ATLAS-2026-000002"
    ocapiat = desk(sandbox, complete_cerfa, opco="OCAPIAT")
    other_cfa = desk(sandbox, of_cfa(complete_cerfa, OTHER_CFA_SIRET), siret=OTHER_CFA_SIRET)
    for cfa, siret in ((ocapiat, CFA_SIRET), (other_cfa, OTHER_CFA_SIRET)):
        dossier = cfa.dossier("CVG-1")
        assert cfa.send(facture("FAC-1", line("100.00", dossier=dossier), siret=siret)).status_code == 200
    observed = stats(atlas.client)
    assert observed["invoicePostsReceived"] == {"ATLAS/FAC-1": 4, "OCAPIAT/FAC-1": 1}
    assert observed["invoicesStored"] == {"ATLAS/FAC-1": 3, "OCAPIAT/FAC-1": 1}  # the two SIRETs, the other CFA
    assert observed["duplicateInvoicesRefused"] == 1


def test_opco_ep_answers_with_a_comment_and_400_for_an_unknown_invoice(
    sandbox: httpx.Client, complete_cerfa: dict[str, Any]
) -> None:
    cfa = desk(sandbox, complete_cerfa, opco="OPCOEP")
    dossier = cfa.dossier("EP-1")

    refused = cfa.send(pedagogie("FAC-1", "3200.01", dossier=dossier))
    cfa.accepted(pedagogie("FAC-1", "3200.00", dossier=dossier))
    duplicate = cfa.send(pedagogie("FAC-1", "3200.00", dossier=dossier))
    unknown = cfa.find("FAC-404")

    assert (refused.status_code, refused.json()) == (
        422,
        {
            "comment": f"Dossier {dossier}, échéance 1 : la pédagogie facturée (3200.01) dépasse le reste à facturer "
            "(3200.00)"
        },
    )
    assert (duplicate.status_code, duplicate.json()) == (
        409,
        {"comment": "Une facture de numéro FAC-1 de ce SIRET existe déjà : numéro interne FAC-OPCOEP-2026-000001"},
    )
    assert (unknown.status_code, unknown.json()) == (400, {"comment": "Aucune facture de numéro FAC-404"})
    assert cfa.state("FAC-1")["etatFacture"] == "TRANSMISE"


def test_an_unknown_invoice_is_not_found_and_one_number_is_required(
    atlas: Desk, sandbox: httpx.Client, complete_cerfa: dict[str, Any]
) -> None:
    atlas.accepted(pedagogie("FAC-1", "100.00"))
    other_cfa = desk(sandbox, of_cfa(complete_cerfa, OTHER_CFA_SIRET), siret=OTHER_CFA_SIRET)
    missing = atlas.client.get(atlas.url, headers=atlas.headers)
    both = atlas.client.get(
        atlas.url, params={"numero": "FAC-1", "numeroInterneFacture": "FAC-ATLAS-2026-000001"}, headers=atlas.headers
    )

    assert atlas.find("FAC-404").status_code == 404
    assert atlas.find("FAC-1", by="numeroInterneFacture").status_code == 404  # the CFA's number is not the OPCO's
    assert other_cfa.find("FAC-1").status_code == 404  # another CFA's invoice
    assert other_cfa.find("FAC-ATLAS-2026-000001", by="numeroInterneFacture").status_code == 404
    assert (missing.status_code, missing.json()["errors"][0]["code"]) == (400, "PARAMETRE_MANQUANT")
    assert both.status_code == 400


# --- life of an invoice -----------------------------------------------------------------------------------------


def test_an_invoice_is_instructed_validated_then_paid_and_the_echeance_figures_follow(
    atlas: Desk, clock: ManualClock
) -> None:
    atlas.accepted(
        facture(
            "FAC-1",
            line("2400.00"),
            line("50.00", "RESTAURATION", quantite=20),
            line("300.00", "PREMIEREQUIPEMENT"),
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
        cfa.accepted(facture("FAC-1", line("2400.05"), line("50.00", "RESTAURATION", quantite=20)))
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
        "Facture refusée : motif de refus simulé par le bac à sable (numéro de facture contenant « REFUS »)"
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
            cfa.accepted(pedagogie(f"FAC-{number}", "100.00", dossier="MOBILITES-2026-000001"))
        other = desk(client, complete_cerfa, opco="MOBILITES", siret=OTHER_CFA_SIRET)
        pages = [cfa.states_page(page).json(parse_float=Decimal) for page in (1, 2, 3, 4)]
        others = other.states_page(1).json()

    assert [(p["total"], p["count"], p["page"]) for p in pages] == [(5, 2, 1), (5, 2, 2), (5, 1, 3), (5, 0, 4)]
    assert [(item["numero"], item["numeroInterneFacture"]) for page in pages for item in page["factures"]] == [
        (f"FAC-{n}", f"FAC-MOBILITES-2026-00000{n}") for n in range(1, 6)
    ]
    assert pages[0]["factures"][0] == {
        "numeroInterneFacture": "FAC-MOBILITES-2026-000001",
        "numeroInterneDocument": "DOC-MOBILITES-2026-000001",
        "numero": "FAC-1",
        "referenceFactureCFA": "FAC-1",
        "dateEmission": "2026-09-01T00:00:00+02:00",
        "montantFacture": Decimal("100.00"),
        "montantRegle": Decimal("0.00"),
        "etatFacture": "TRANSMISE",
        "referenceVirement": None,
        "dateReglement": None,
        "reglements": [],
        "commentaire": None,
        "organismeFormation": {"siret": CFA_SIRET, "IBAN": IBAN},
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
    assert afdas.send(pedagogie("FAC-1", "100.00", dossier="AFDAS-2026-000001")).status_code == 200
    assert afdas.state("FAC-1")["numeroInterneFacture"] == "FAC-AFDAS-2026-000001"


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

    files = multipart_files(body, PDF, "FAC-1")
    if seen is None:
        assert atlas.client.post(url, files=files, headers=atlas.headers).status_code in {500, 502, 503}
    else:
        with pytest.raises(seen):
            atlas.client.post(url, files=files, headers=atlas.headers, timeout=0.5)
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
        cfa.accepted(facture("FAC-1", line("1000.00"), line("12.00", "HEBERGEMENT", quantite=2)))

    with running_sandbox(replace(persistent, partial_payment=False)) as url, httpx.Client(base_url=url) as client:
        cfa.client = client
        first = cfa.state("FAC-1")
        kept = stored_invoices(client)[0]["fichier"]
        assert cfa.send(pedagogie("FAC-1", "1.00")).status_code == 409
        assert [e["code"] for e in cfa.refusal(pedagogie("FAC-2", "2200.01"))] == ["MONTANT_ECHEANCE_DEPASSE"]
        second = cfa.accepted(pedagogie("FAC-2", "2200.00"))
        clock.advance(INSTRUCTION + VALIDATION + PAYMENT)
        paid = [cfa.state(numero)["etatFacture"] for numero in ("FAC-1", "FAC-2")]

    assert (first["numeroInterneFacture"], first["montantFacture"]) == ("FAC-ATLAS-2026-000001", Decimal("1012.00"))
    assert second == {"numeroInterneFacture": "FAC-ATLAS-2026-000002", "numeroInterneDocument": "DOC-ATLAS-2026-000002"}
    assert paid == ["REGLE_PARTIEL", "REGLE"]  # each keeps the way of payment of its receipt
    assert kept == {"sha256": hashlib.sha256(PDF).hexdigest(), "taille": len(PDF), "nom": "FAC-1.pdf"}


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
            files = multipart_files(body, PDF, body["numero"])
            return httpx.post(target, files=files, headers=cfa.headers, timeout=10).status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            codes = list(pool.map(send, range(12)))
        figures = cfa.figures(1)

    assert sorted(codes) == [200] + [422] * 11
    assert figures == (Decimal("0.00"), Decimal("2000.00"))


def test_the_invoices_can_be_observed_and_forgotten(atlas: Desk) -> None:
    atlas.accepted(pedagogie("FAC-1", "3200.00"))

    listed = stored_invoices(atlas.client, opco="ATLAS")
    elsewhere = stored_invoices(atlas.client, opco="AKTO")
    forgotten = atlas.client.delete("/_sandbox/factures", headers=SANDBOX_OPERATOR)

    assert [
        (i["opco"], i["siren"], i["numero"], i["numeroInterneFacture"], i["etatFacture"], i["partialPayment"])
        for i in listed
    ] == [("ATLAS", "798524138", "FAC-1", "FAC-ATLAS-2026-000001", "TRANSMISE", False)]
    assert listed[0]["receivedAt"] == START.isoformat()
    assert listed[0]["fichier"] == {"sha256": hashlib.sha256(PDF).hexdigest(), "taille": len(PDF), "nom": "FAC-1.pdf"}
    assert listed[0]["facture"] == {
        "numero": "FAC-1",
        "dateEmission": "2026-09-01T00:00:00+02:00",
        "montantTotal": "3200.00",
        "ibanEmetteur": IBAN,
        "siretEmetteur": CFA_SIRET,
        "estCertificatRealisation": False,
        "lignes": [
            {
                "montant": "3200.00",
                "natureLigne": "PEDAGOGIE",
                "quantite": 1,
                "numeroEcheance": 1,
                "codificationEcheance": None,
                "numeroDeca": None,
                "numeroDossier": DOSSIER,
                "numeroInterneDossier": "CVG-1",
            }
        ],
    }
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


def test_a_sqlite_file_of_the_json_wire_opens_and_its_old_invoices_are_left_unread(
    tmp_path: Path, config: SandboxConfig, complete_cerfa: dict[str, Any]
) -> None:
    path = tmp_path / "sandbox.db"
    with sqlite3.connect(path) as db:  # the table of invoices before issue 12, with one of them
        db.execute(
            "CREATE TABLE invoices (id INTEGER PRIMARY KEY AUTOINCREMENT, opco TEXT NOT NULL, siren TEXT NOT NULL, "
            "numero_interne TEXT NOT NULL, numero_externe TEXT NOT NULL, sequence INTEGER NOT NULL, "
            "submitted_at TEXT NOT NULL, partial INTEGER NOT NULL, invoice TEXT NOT NULL)"
        )
        db.execute("INSERT INTO invoices VALUES (1, 'ATLAS', '798524138', 'FAC-1', 'X', 1, '2026-09-01', 0, '{}')")

    with running_sandbox(replace(config, state_path=path)) as url, httpx.Client(base_url=url) as client:
        cfa = desk(client, complete_cerfa)
        cfa.dossier("CVG-1")
        before = stored_invoices(client)
        answer = cfa.accepted(pedagogie("FAC-1", "100.00"))

    assert before == []
    assert answer["numeroInterneFacture"] == "FAC-ATLAS-2026-000001"
