"""The sandbox takes a POSTed dossier as the real OPCOs take it, by the same description of the wire the client
translates with: the bodies of the real clients (CerFacil's, Wedof's), datetimes with offsets, 200 with both numbers;
in strict mode, a key or a type outside the description is refused in the OPCO's error format."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from domain.contracts.cerfa_document import parse_cerfa
from infrastructure.opco.opco_sandbox import SandboxConfig
from infrastructure.opco.opco_wire import CERFACIL, OBSERVED, WEDOF, WireVariant, dossier_body, encode
from interfaces.bootstrap import sandbox_config
from tests.conformance.strict_opco import API, TOKEN_PATH, StrictOpco
from tests.integration.sandbox_server import ManualClock, running_app, running_sandbox, sandbox_headers
from tests.support import settings

CFA = "79852413800012"
START = datetime(2026, 8, 20, 8, 0, tzinfo=UTC)  # the sandbox's clock: before the contracts start


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def sandbox(clock: ManualClock, strict: bool = False) -> Any:
    return running_sandbox(SandboxConfig(clock=clock, instruction_delay=0, decision_delay=0, strict_dossiers=strict))


def body_of(cerfa: dict[str, Any], variant: WireVariant, numero: str = "W-1") -> bytes:
    return encode(dossier_body(numero, parse_cerfa(cerfa), variant))


def post(client: httpx.Client, headers: dict[str, str], body: bytes | dict[str, Any]) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        "/opcos/ATLAS/v1/dossiers", content=content, headers={**headers, "Content-Type": "application/json"}
    )


@pytest.fixture
def lenient(clock: ManualClock) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    with sandbox(clock) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client, sandbox_headers(client, "ATLAS", CFA)


@pytest.fixture
def strict(clock: ManualClock) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    with sandbox(clock, strict=True) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client, sandbox_headers(client, "ATLAS", CFA)


def test_cerfacils_body_is_taken_and_given_a_numero_interne(
    lenient: tuple[httpx.Client, dict[str, str]], complete_cerfa: dict[str, Any]
) -> None:
    client, headers = lenient
    with_second = {**complete_cerfa, "maitre2": {**complete_cerfa["maitre1"], "nom": "Roussel"}}
    body = json.loads(body_of(with_second, CERFACIL))
    assert "numeroInterne" not in body["cerfa"]
    assert body["maitre2"]["nom"] == "Roussel"

    sent = post(client, headers, body)

    assert sent.status_code == 200, sent.text
    assert set(sent.json()) == {"numeroExterne", "numeroInterne"}
    numero = sent.json()["numeroInterne"]
    read = client.get("/opcos/ATLAS/v1/dossiers", params={"numeroInterne": numero}, headers=headers)
    dossier = read.json(parse_float=Decimal)
    assert dossier["cerfa"]["maitre2"]["nom"] == "Roussel"  # kept inside the dossier
    assert dossier["cerfa"]["etat"] == "ENGAGE"
    assert dossier["cerfa"]["numeroDeca"] == "069202609NC0001"
    assert dossier["echeances"][0]["dateOuverture"] == "2026-09-01"


def test_wedofs_body_is_read_with_its_utc_dates_and_its_bare_rncp(
    lenient: tuple[httpx.Client, dict[str, str]], complete_cerfa: dict[str, Any]
) -> None:
    client, headers = lenient
    body = json.loads(body_of(complete_cerfa, WEDOF))
    body["cerfa"]["numeroInterne"] = "W-7"  # Wedof's own body has none: with one, the dossier is found by it
    assert body["cerfa"]["formation"]["rncp"] == "35340"

    assert post(client, headers, body).json() == {"numeroExterne": "ATLAS-2026-000001", "numeroInterne": "W-7"}
    dossier = client.get("/opcos/ATLAS/v1/dossiers", params={"numeroInterne": "W-7"}, headers=headers).json()
    assert dossier["cerfa"]["etat"] == "ENGAGE"
    assert dossier["cerfa"]["numeroDeca"] == "069202609NC0001"  # the start month read from 2026-09-01T00:00:00+00:00
    assert dossier["echeances"][0]["dateOuverture"] == "2026-09-01"


def test_the_strict_sandbox_takes_what_our_client_sends(
    strict: tuple[httpx.Client, dict[str, str]], complete_cerfa: dict[str, Any]
) -> None:
    client, headers = strict
    for number, variant in enumerate((OBSERVED, CERFACIL, WEDOF)):
        answer = post(client, headers, body_of(complete_cerfa, variant, f"S-{number}"))
        assert answer.status_code == 200, (variant.name, answer.text)


def test_the_strict_sandbox_refuses_an_unknown_key_and_a_wrong_type_in_the_opco_error_format(
    strict: tuple[httpx.Client, dict[str, str]], complete_cerfa: dict[str, Any]
) -> None:
    client, headers = strict
    body = json.loads(body_of(complete_cerfa, OBSERVED))
    body["cerfa"]["apprenti"]["pointure"] = 42
    body["cerfa"]["apprenti"]["handicap"] = "oui"
    body["cerfa"]["contrat"]["dateDebutContrat"] = "2026-09-01"
    body["signature"] = True

    refused = post(client, headers, body)

    assert refused.status_code == 400
    assert {(e["code"], e["champ"]) for e in refused.json()["errors"]} == {
        ("CHAMP_INCONNU", "signature"),
        ("CHAMP_INCONNU", "apprenti.pointure"),
        ("FORMAT_INVALIDE", "apprenti.handicap"),
        ("FORMAT_INVALIDE", "contrat.dateDebutContrat"),
    }
    assert all(set(e) == {"code", "description", "champ"} for e in refused.json()["errors"])


def test_the_lenient_sandbox_takes_the_same_body(
    lenient: tuple[httpx.Client, dict[str, str]], complete_cerfa: dict[str, Any]
) -> None:
    client, headers = lenient
    body = json.loads(body_of(complete_cerfa, OBSERVED))
    body["cerfa"]["apprenti"]["pointure"] = 42
    body["cerfa"]["contrat"]["dateDebutContrat"] = "2026-09-01"

    assert post(client, headers, body).status_code == 200


def test_the_strict_fake_opco_refuses_the_wire_convergence_used_to_send(complete_cerfa: dict[str, Any]) -> None:
    """The body before the translation (our REST API's Cerfa under `cerfa`) is not what real clients send."""
    opco = StrictOpco("key", ("client", "secret"))
    with running_app(opco.app) as url:
        form = {"grant_type": "client_credentials", "client_id": "client", "client_secret": "secret"}
        token = httpx.post(f"{url}{TOKEN_PATH}", data={**form, "scope": "api.read api.write"}).json()["access_token"]
        headers = {"X-API-KEY": "key", "EDITEUR": "E", "LOGICIEL": "L", "VERSION": "1"}
        headers["Authorization"] = f"Bearer {token}"
        url += API
        old = httpx.post(
            f"{url}/v1/dossiers", json={"cerfa": {"numeroInterne": "OLD-1", **complete_cerfa}}, headers=headers
        )
        new = httpx.post(
            f"{url}/v1/dossiers",
            content=body_of(complete_cerfa, OBSERVED, "NEW-1"),
            headers={**headers, "Content-Type": "application/json"},
        )

    assert old.status_code == 400
    descriptions = [e["description"] for e in old.json()["errors"]]
    assert "cerfa.employeur.adresse.voie: no real client sends this key" in descriptions
    assert "cerfa.contrat.dateDebutContrat: '2026-09-01' is none of ['datetime']" in descriptions
    assert (new.status_code, new.json()) == (200, {"numeroExterne": "CA-0000001-1", "numeroInterne": "NEW-1"})


def test_the_strict_mode_is_a_setting() -> None:
    assert sandbox_config(settings(sandbox_state_path=":memory:")).strict_dossiers is False
    assert sandbox_config(settings(sandbox_state_path=":memory:", sandbox_strict=True)).strict_dossiers is True
