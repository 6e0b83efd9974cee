"""The exact body sent for four representative dossiers, committed as golden files, and its key structure compared
with the bodies real clients send (opco-wire.md §2.2, §2.2b), key by key.

The body is captured from the gateway itself (httpx.MockTransport), laid out with two-space indents by the same
encoder (same keys, order and numbers as the compact bytes sent). A deliberate change of the wire rewrites the
files: `CONVERGENCE_REWRITE_GOLDEN=1 python3 dev.py test tests/conformance`, then review the diff.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from application.opco.opco_gateway import OpcoEndpoint
from domain.cerfa import Cerfa
from domain.contracts.cerfa_document import parse_cerfa
from domain.opco.opcos import Opco
from infrastructure.opco.opco_client import ClientIdentity, HttpOpcoGateway
from infrastructure.opco.opco_wire import CERFACIL, OBSERVED, WEDOF, dossier_body, encode
from tests.conformance.observed import leaves, mismatches, paths, structure

HERE: Final = Path(__file__).resolve().parent
DOSSIERS: Final = sorted(path.stem for path in (HERE / "dossiers").glob("*.json"))
REWRITE: Final = os.environ.get("CONVERGENCE_REWRITE_GOLDEN") == "1"


def cerfa_of(name: str) -> Cerfa:
    return parse_cerfa(json.loads((HERE / "dossiers" / f"{name}.json").read_text(encoding="utf-8")))


def numero_of(name: str) -> str:
    return f"CVG-{name}"


def sent_by_the_gateway(name: str, opco: Opco = Opco.ATLAS) -> bytes:
    """The bytes the production gateway POSTs for this dossier."""
    bodies: list[bytes] = []

    def opco_side(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(200, json={"numeroExterne": "CA-1", "numeroInterne": numero_of(name)})

    endpoint = OpcoEndpoint(opco=opco, base_url="https://opco.test/SorApiEchangeCFA", protocol=1, api_key="cfa-key")
    with HttpOpcoGateway(
        ClientIdentity("Editeur", "Convergence", "1.0"), transport=httpx.MockTransport(opco_side)
    ) as gw:
        gw.send_contract(endpoint, numero_of(name), cerfa_of(name))
    [body] = bodies
    return body


def test_the_four_representative_dossiers_are_there() -> None:
    assert DOSSIERS == ["minor-with-legal-representative", "public-employer", "rqth-apprentice", "second-maitre"]


@pytest.mark.parametrize("name", DOSSIERS)
def test_the_body_sent_is_the_golden_file_byte_for_byte(name: str) -> None:
    sent = sent_by_the_gateway(name)
    document = json.loads(sent, parse_float=Decimal)
    assert sent == encode(document), "the bytes sent are the compact form of the golden file"
    laid_out = encode(document, indent=2) + b"\n"
    golden = HERE / "golden" / f"{name}.json"
    if REWRITE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_bytes(laid_out)
    assert golden.exists(), f"no golden file for {name}: run with CONVERGENCE_REWRITE_GOLDEN=1 and review it"
    assert laid_out == golden.read_bytes()


@pytest.mark.parametrize("name", DOSSIERS)
def test_every_key_sent_is_one_a_real_client_sends_with_a_value_of_the_form_seen(name: str) -> None:
    golden = json.loads((HERE / "golden" / f"{name}.json").read_text(encoding="utf-8"))
    assert mismatches(golden, "cerfacil", "wedof") == []


@pytest.mark.parametrize("name", DOSSIERS)
def test_the_cerfacil_variant_sends_cerfacils_body_key_for_key(name: str) -> None:
    body = json.loads(encode(dossier_body(numero_of(name), cerfa_of(name), CERFACIL)))
    expected = paths(structure("cerfacil"))
    if body["maitre2"] is None:  # CerFacil sends maitre2: null when there is none
        expected = {p for p in expected if not p.startswith("maitre2.")} | {"maitre2"}
    assert sorted(paths(body) - expected) == [], "keys CerFacil does not send"
    assert sorted(expected - paths(body)) == [], "keys CerFacil sends that we left out"
    assert [m for m in mismatches(body, "cerfacil", added=frozenset()) if ".ordre" not in m] == []


@pytest.mark.parametrize("name", DOSSIERS)
def test_the_wedof_variant_sends_only_wedofs_keys_in_wedofs_forms(name: str) -> None:
    body = json.loads(encode(dossier_body(numero_of(name), cerfa_of(name), WEDOF)))
    assert mismatches(body, "wedof", added=frozenset()) == []
    assert body["cerfa"]["formation"]["rncp"].isdigit()
    dates = [value for path, value in leaves(body) if path.endswith(("dateNaissance", "dateDebutContrat"))]
    assert dates
    assert all(value.endswith("T00:00:00+00:00") for value in dates)


def test_dates_carry_the_paris_offset_of_their_day() -> None:
    body: dict[str, Any] = json.loads(sent_by_the_gateway("second-maitre"))
    contrat, apprenti = body["cerfa"]["contrat"], body["cerfa"]["apprenti"]
    assert contrat["dateDebutContrat"] == "2026-09-01T00:00:00+02:00"  # summer time
    assert apprenti["dateNaissance"] == "2007-03-14T00:00:00+01:00"  # winter time
    assert body["cerfa"]["versionCERFA"] == OBSERVED.version_cerfa == "10103*14"
    assert body["cerfa"]["CERFAsignatureProbante"] is True


def test_each_representative_trait_reaches_the_wire() -> None:
    minor = json.loads(sent_by_the_gateway("minor-with-legal-representative"))["cerfa"]
    assert minor["apprenti"]["responsableLegal"] == {
        "nom": "Lefèvre",
        "prenom": "Nathalie",
        "courriel": "n.lefevre@example.com",
        "adresse": {
            "adresse1": "3 place Bellecour",
            "adresse2": "Bâtiment C",
            "codePostal": "69002",
            "commune": "Lyon",
        },
    }
    second = json.loads(sent_by_the_gateway("second-maitre"))["cerfa"]
    assert second["maitre2"]["intituleDiplomeObtenu"] == "Licence professionnelle Administration de réseaux"
    assert second["maitre2"]["niveauDiplomeObtenu"] == 6
    assert second["organismeFormation"]["lieuFormationIdentique"] is False
    assert second["organismeFormationLieuFormationPrincipal"]["adresse"]["adresse1"] == "25 T avenue Henri Barbusse"
    assert json.loads(sent_by_the_gateway("rqth-apprentice"))["cerfa"]["apprenti"]["handicap"] is True
    public = json.loads(sent_by_the_gateway("public-employer"))["cerfa"]["employeur"]
    assert (public["typeEmployeur"], public["regimeSpecifique"]) == (25, True)
