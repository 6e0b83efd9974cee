"""The reference OPCO sandbox, served by a real uvicorn on loopback and driven by httpx as our client would."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from domain.contracts.cerfa_document import parse_cerfa
from infrastructure.opco.opco_sandbox import Faults, SandboxConfig, create_sandbox_app
from infrastructure.opco.opco_sandbox.schedule import compute_schedule
from infrastructure.opco.opco_wire import OBSERVED, dossier_body, encode
from tests.integration.sandbox_server import (
    ADMIN_TOKEN,
    SANDBOX_OPERATOR,
    oauth_client,
    running_app,
    running_sandbox,
    sandbox_token,
)
from tests.support import with_changes

CFA_SIRET = "79852413800012"  # organismeFormation.siret of docs/examples/cerfa-complete.json
OTHER_CFA_SIRET = "13002526500013"
IDENTITY = {"EDITEUR": "Convergence", "LOGICIEL": "convergence", "VERSION": "0.1.0"}
INVALID_KEY = {
    "errors": [
        {
            "code": "CLE_API_INVALIDE",
            "description": "Clé API CFA invalide : vérifiez la clé API CFA et ses habilitations",
        }
    ]
}
START = datetime(2026, 8, 20, 8, 0, tzinfo=UTC)


class ManualClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def config(clock: ManualClock) -> SandboxConfig:
    return SandboxConfig(clock=clock, instruction_delay=0, decision_delay=0, admin_token=ADMIN_TOKEN)


@pytest.fixture
def sandbox(config: SandboxConfig) -> Iterator[httpx.Client]:
    """A client on the sandbox's root URL."""
    with running_sandbox(config) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def issue_key(client: httpx.Client, opco: str, siret: str = CFA_SIRET) -> str:
    response = client.post("/_sandbox/keys", json={"opco": opco, "siret": siret}, headers=SANDBOX_OPERATOR)
    assert response.status_code == 201, response.text
    key: str = response.json()["apiKey"]
    return key


def headers_for(client: httpx.Client, opco: str, siret: str = CFA_SIRET) -> dict[str, str]:
    return {**IDENTITY, "X-API-KEY": issue_key(client, opco, siret), **token_for(client, opco)}


def token_for(client: httpx.Client, opco: str) -> dict[str, str]:
    """The Authorization header of a token in the OPCO's own dialect (DPoP proofs then added per request)."""
    scheme_token = sandbox_token(client, opco)
    return {} if scheme_token is None else {"Authorization": " ".join(scheme_token)}


def submission(cerfa: dict[str, Any], numero_interne: str | None, **wire_changes: dict[str, Any]) -> dict[str, Any]:
    """The body our client sends for this Cerfa (the real wire), with some of its wire fields changed."""
    body: dict[str, Any] = json.loads(encode(dossier_body(numero_interne or "", parse_cerfa(cerfa), OBSERVED)))
    if numero_interne is None:
        del body["cerfa"]["numeroInterne"]
    return {"cerfa": with_changes(body["cerfa"], **wire_changes)}


def post(client: httpx.Client, opco: str, headers: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    return client.post(f"/opcos/{opco}/v1/dossiers", json=body, headers=headers)


def read(client: httpx.Client, opco: str, headers: dict[str, str], **query: str) -> httpx.Response:
    return client.get(f"/opcos/{opco}/v2/dossiers", params=query, headers=headers)


def set_faults(client: httpx.Client, **faults: Any) -> None:
    response = client.put("/_sandbox/faults", json=faults, headers=SANDBOX_OPERATOR)
    assert response.status_code == 200, response.text


# --- keys, headers, OAuth ---------------------------------------------------------------------------------------


def test_calls_without_a_valid_key_of_this_opco_are_refused(sandbox: httpx.Client) -> None:
    atlas_key = issue_key(sandbox, "ATLAS")
    assert len(atlas_key) >= 32
    status = "/opcos/ATLAS/v1/status"
    identity = {**IDENTITY, **token_for(sandbox, "ATLAS")}  # ATLAS's SOR dialect wants a token on top of the key

    assert sandbox.get(status, headers={**identity, "X-API-KEY": atlas_key}).json() == {
        "status": "OK",
        "version": "sandbox",
        "opco": "ATLAS",
    }
    for key in ("not-a-key", atlas_key):
        other_opco = sandbox.get("/opcos/OCAPIAT/v1/status", headers={**IDENTITY, "X-API-KEY": key})
        assert (other_opco.status_code, other_opco.json()) == (403, INVALID_KEY)
    assert sandbox.get(status, headers=identity).status_code == 403

    assert sandbox.delete(f"/_sandbox/keys/{atlas_key}", headers=SANDBOX_OPERATOR).status_code == 204
    assert sandbox.get(status, headers={**identity, "X-API-KEY": atlas_key}).status_code == 403


def test_a_missing_identity_header_is_a_bad_request(sandbox: httpx.Client) -> None:
    headers = {**IDENTITY, "X-API-KEY": issue_key(sandbox, "ATLAS")}
    del headers["LOGICIEL"]

    response = sandbox.get("/opcos/ATLAS/v1/status", headers=headers)

    assert response.status_code == 400
    assert [error["champ"] for error in response.json()["errors"]] == ["LOGICIEL"]


def test_an_unknown_opco_or_version_is_not_found(sandbox: httpx.Client) -> None:
    assert sandbox.get("/opcos/NOPE/v1/status", headers=IDENTITY).status_code == 404
    headers = {**IDENTITY, "X-API-KEY": issue_key(sandbox, "ATLAS")}
    assert sandbox.get("/opcos/ATLAS/v3/dossiers/etats", headers=headers).status_code == 404


def test_an_expired_key_is_refused_and_key_info_tells_it(sandbox: httpx.Client, clock: ManualClock) -> None:
    expired = {
        "opco": "ATLAS",
        "siret": CFA_SIRET,
        "dateFinValidite": (clock.now.date() - timedelta(days=1)).isoformat(),
    }
    old_key = sandbox.post("/_sandbox/keys", json=expired, headers=SANDBOX_OPERATOR).json()["apiKey"]
    new_key = issue_key(sandbox, "ATLAS")
    headers = {**IDENTITY, "X-API-KEY": new_key, **token_for(sandbox, "ATLAS")}

    assert sandbox.get("/opcos/ATLAS/v1/status", headers={**headers, "X-API-KEY": old_key}).status_code == 403
    info = sandbox.get("/opcos/ATLAS/v2/cfakeyinfo", params={"siren": "798524138", "XAPIKEY": new_key}, headers=headers)
    assert info.json()["status"] == "success"
    assert info.json()["dateFinValidite"] == (clock.now.date() + timedelta(days=365)).isoformat()
    for siren, key in (("798524138", old_key), ("130025265", new_key)):
        info = sandbox.get("/opcos/ATLAS/v2/cfakeyinfo", params={"siren": siren, "XAPIKEY": key}, headers=headers)
        assert info.json()["status"] == "error"
    assert info.json()["dateFinValidite"] is None  # another CFA's SIREN: nothing is told about the key


def test_oauth_opcos_want_a_live_bearer_on_top_of_the_key(sandbox: httpx.Client, clock: ManualClock) -> None:
    headers = {**IDENTITY, "X-API-KEY": issue_key(sandbox, "AKTO")}
    status = "/opcos/AKTO/v1/status"

    missing = sandbox.get(status, headers=headers)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    bad_client = {"grant_type": "client_credentials", "client_id": oauth_client(sandbox)[0], "client_secret": "nope"}
    refused = sandbox.post("/opcos/AKTO/SorApiIdentityServer/connect/token", data=bad_client)
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")

    scheme_token = sandbox_token(sandbox, "AKTO")
    assert scheme_token is not None
    access = scheme_token[1]
    assert sandbox.get(status, headers={**headers, "Authorization": f"Bearer {access}"}).status_code == 200
    assert (
        sandbox.get("/opcos/ATLAS/v1/status", headers={**headers, "Authorization": f"Bearer {access}"}).status_code
        == 401
    )
    clock.advance(3600)
    assert sandbox.get(status, headers={**headers, "Authorization": f"Bearer {access}"}).status_code == 401


def test_the_token_answer_follows_rfc_6749(sandbox: httpx.Client) -> None:
    form = {"grant_type": "client_credentials", "scope": "api.read api.write"}
    url = "/opcos/ATLAS/SorApiIdentityServer/connect/token"
    answer = sandbox.post(url, data=form, auth=oauth_client(sandbox))

    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.json()["token_type"] == "Bearer"
    assert answer.json()["expires_in"] == 3600
    assert answer.json()["scope"] == "api.read api.write"
    assert sandbox.post(url, data={"grant_type": "password"}).json() == {"error": "unsupported_grant_type"}


# --- dossiers ---------------------------------------------------------------------------------------------------


def test_a_dossier_sent_can_be_read_back(sandbox: httpx.Client, complete_cerfa: dict[str, Any]) -> None:
    headers = headers_for(sandbox, "ATLAS")

    body = submission(complete_cerfa, "CFA-0001")
    sent = post(sandbox, "ATLAS", headers, body)

    assert sent.status_code == 200  # what CerFacil expects, and nothing else (opco-wire.md §8)
    assert sent.json() == {"numeroExterne": "ATLAS-2026-000001", "numeroInterne": "CFA-0001"}
    by_interne = read(sandbox, "ATLAS", headers, numeroInterne="CFA-0001").json()
    assert by_interne == read(sandbox, "ATLAS", headers, numeroExterne="ATLAS-2026-000001").json()
    assert by_interne["cerfa"]["apprenti"] == body["cerfa"]["apprenti"]
    assert by_interne["cerfa"]["contrat"]["dateDebutContrat"] == "2026-09-01T00:00:00+02:00"
    assert by_interne["cerfa"]["numeroExterne"] == "ATLAS-2026-000001"
    assert by_interne["cerfa"]["numeroDeca"] == "069202609NC0001"
    assert read(sandbox, "ATLAS", headers, numeroDeca="069202609NC0001").json() == by_interne
    assert set(by_interne) == {"cerfa", "engagement", "echeances", "detailsFacturation", "engagementsFraisAnnexe"}
    assert read(sandbox, "ATLAS", headers, numeroInterne="CFA-9999").status_code == 404


def test_the_opco_checks_the_required_fields(sandbox: httpx.Client, complete_cerfa: dict[str, Any]) -> None:
    headers = headers_for(sandbox, "ATLAS")
    changes: dict[str, dict[str, Any]] = {
        "apprenti": {"nom": None},
        "formation": {"rncp": ""},
        "contrat": {"dateFinContrat": "2028-31-08"},
    }

    refused = post(sandbox, "ATLAS", headers, submission(complete_cerfa, "CFA-0002", **changes))

    assert refused.status_code == 400
    fields = {error["champ"]: error["code"] for error in refused.json()["errors"]}
    assert fields == {
        "apprenti.nom": "CHAMP_OBLIGATOIRE",
        "formation.rncp": "CHAMP_OBLIGATOIRE",
        "contrat.dateFinContrat": "FORMAT_INVALIDE",
    }
    numero = {"cerfa": {**submission(complete_cerfa, "CFA-0003")["cerfa"], "numeroInterne": 3}}
    assert post(sandbox, "ATLAS", headers, numero).json()["errors"][0]["champ"] == "numeroInterne"


def test_a_cfa_neither_sends_nor_sees_another_cfas_dossiers(
    sandbox: httpx.Client, complete_cerfa: dict[str, Any]
) -> None:
    mine, theirs = headers_for(sandbox, "ATLAS"), headers_for(sandbox, "ATLAS", OTHER_CFA_SIRET)

    assert post(sandbox, "ATLAS", theirs, submission(complete_cerfa, "X-1")).status_code == 403
    assert post(sandbox, "ATLAS", mine, submission(complete_cerfa, "X-1")).status_code == 200
    assert read(sandbox, "ATLAS", theirs, numeroInterne="X-1").status_code == 404
    assert sandbox.get("/opcos/ATLAS/v2/dossiers/etats", headers=theirs).json()["total"] == 0


def test_a_second_post_of_the_same_numero_interne_is_refused(
    sandbox: httpx.Client, complete_cerfa: dict[str, Any]
) -> None:
    headers, constructys = headers_for(sandbox, "ATLAS"), headers_for(sandbox, "CONSTRUCTYS")
    assert post(sandbox, "ATLAS", headers, submission(complete_cerfa, "D-1")).status_code == 200

    again = post(sandbox, "ATLAS", headers, submission(complete_cerfa, "D-1"))

    assert again.status_code == 400
    assert again.json() == {
        "errors": [{"code": "DOSSIER_EXISTANT", "description": "Un dossier avec ce numéro interne existe déjà"}]
    }
    assert post(sandbox, "CONSTRUCTYS", constructys, submission(complete_cerfa, "D-1")).status_code == 200
    stats = sandbox.get("/_sandbox/stats", headers=SANDBOX_OPERATOR).json()
    assert stats["postsReceived"] == {"ATLAS/D-1": 2, "CONSTRUCTYS/D-1": 1}
    assert stats["stored"] == {"ATLAS/D-1": 1, "CONSTRUCTYS/D-1": 1}
    assert stats["duplicatesRefused"] == 1
    listed = sandbox.get("/_sandbox/dossiers", params={"opco": "ATLAS"}, headers=SANDBOX_OPERATOR).json()
    assert [(d["numeroInterne"], d["siren"], d["opco"]) for d in listed] == [("D-1", "798524138", "ATLAS")]


def test_opco_ep_answers_with_a_comment_and_400_for_an_unknown_dossier(
    sandbox: httpx.Client, complete_cerfa: dict[str, Any]
) -> None:
    headers = headers_for(sandbox, "OPCOEP")
    assert post(sandbox, "OPCOEP", headers, submission(complete_cerfa, "EP-1")).status_code == 200

    duplicate = post(sandbox, "OPCOEP", headers, submission(complete_cerfa, "EP-1"))
    unknown = read(sandbox, "OPCOEP", headers, numeroInterne="EP-404")
    bad_key = sandbox.get("/opcos/OPCOEP/v1/status", headers={**headers, "X-API-KEY": "nope"})

    assert (duplicate.status_code, duplicate.json()) == (
        400,
        {"comment": "Un dossier avec ce numéro interne existe déjà"},
    )
    assert unknown.status_code == 400
    assert set(unknown.json()) == {"comment"}
    assert bad_key.status_code == 403
    assert bad_key.json() == {"comment": INVALID_KEY["errors"][0]["description"]}


def test_dossier_states_are_paged_in_order_of_submission(complete_cerfa: dict[str, Any], clock: ManualClock) -> None:
    config = SandboxConfig(clock=clock, page_size=2)
    with running_sandbox(config) as url, httpx.Client(base_url=url) as client:
        headers = headers_for(client, "MOBILITES")
        for number in range(1, 6):
            assert post(client, "MOBILITES", headers, submission(complete_cerfa, f"P-{number}")).status_code == 200

        pages = [
            client.get("/opcos/MOBILITES/v2/dossiers/etats", params={"numeroPage": page}, headers=headers).json()
            for page in (1, 2, 3, 4)
        ]

    assert [(p["total"], p["count"], p["page"]) for p in pages] == [(5, 2, 1), (5, 2, 2), (5, 1, 3), (5, 0, 4)]
    numeros = [item["numeroInterne"] for page in pages for item in page["EtatDossierResult"]]
    assert numeros == ["P-1", "P-2", "P-3", "P-4", "P-5"]
    assert pages[0]["EtatDossierResult"][0] == {
        "numeroInterne": "P-1",
        "numeroExterne": "MOBILITES-2026-000001",
        "numeroDeca": None,
        "etat": "TRANSMIS",
        "commentaireEtat": None,
    }


# --- life of a dossier ------------------------------------------------------------------------------------------


def test_a_dossier_is_instructed_then_engaged_with_its_schedule(
    complete_cerfa: dict[str, Any], clock: ManualClock
) -> None:
    config = SandboxConfig(clock=clock, instruction_delay=10, decision_delay=20)
    with running_sandbox(config) as url, httpx.Client(base_url=url) as client:
        headers = headers_for(client, "ATLAS")
        post(client, "ATLAS", headers, submission(complete_cerfa, "L-1"))
        states = []
        for seconds in (9, 1, 19, 1):
            states.append(read(client, "ATLAS", headers, numeroInterne="L-1").json())
            clock.advance(seconds)
        engaged = read(client, "ATLAS", headers, numeroInterne="L-1")

    assert [s["cerfa"]["etat"] for s in states] == [
        "TRANSMIS",
        "TRANSMIS",
        "EN_COURS_INSTRUCTION",
        "EN_COURS_INSTRUCTION",
    ]
    assert [(s["engagement"], s["echeances"], s["cerfa"]["numeroDeca"]) for s in states] == [(None, [], None)] * 4
    dossier = engaged.json(parse_float=Decimal)
    assert dossier["cerfa"]["etat"] == "ENGAGE"
    assert dossier["cerfa"]["numeroDeca"] == "069202609NC0001"
    assert dossier["engagement"] == Decimal("16000.00")
    assert sum(e["montantTotal"] for e in dossier["echeances"]) == dossier["engagement"]
    # concluded 2026-07-10: the 40/30/20/10 regime, two contract years from 2026-09-01
    assert [(e["codification"], e["montantTotal"], e["dateOuverture"]) for e in dossier["echeances"][:4]] == [
        ("E1", Decimal("3200.00"), "2026-09-01"),
        ("E2", Decimal("2400.00"), "2027-03-01"),
        ("E3", Decimal("1600.00"), "2027-06-01"),
        ("E4", Decimal("800.00"), "2027-08-31"),
    ]
    assert '"montantTotal":3200.00' in engaged.text
    assert [e["numero"] for e in dossier["echeances"]] == list(range(1, 9))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"formation": {"rncp": "RNCP00000"}}, "RNCP00000"),
        ({"apprenti": {"dateNaissance": "1995-08-31"}}, "âge de l'apprenti"),
    ],
)
def test_a_refusal_rule_makes_the_dossier_refused(
    sandbox: httpx.Client, complete_cerfa: dict[str, Any], changes: dict[str, dict[str, Any]], reason: str
) -> None:
    headers = headers_for(sandbox, "ATLAS")
    post(sandbox, "ATLAS", headers, submission(with_changes(complete_cerfa, **changes), "R-1"))

    dossier = read(sandbox, "ATLAS", headers, numeroInterne="R-1").json()

    assert dossier["cerfa"]["etat"] == "REFUSE"
    assert reason in dossier["cerfa"]["commentaireEtat"]
    assert (dossier["engagement"], dossier["echeances"], dossier["cerfa"]["numeroDeca"]) == (None, [], None)


def test_an_apprentice_over_30_with_rqth_is_engaged(sandbox: httpx.Client, complete_cerfa: dict[str, Any]) -> None:
    headers = headers_for(sandbox, "ATLAS")
    cerfa = with_changes(complete_cerfa, apprenti={"dateNaissance": "1990-01-01", "handicap": True})
    post(sandbox, "ATLAS", headers, submission(cerfa, "R-2"))

    assert read(sandbox, "ATLAS", headers, numeroInterne="R-2").json()["cerfa"]["etat"] == "ENGAGE"


# --- échéancier (unit level) --------------------------------------------------------------------------------------

EXPECTED_ONE_YEAR = {
    # regime: (conclusion date, [(codification, amount, opens, covers from, covers to)]) for 2024-09-01..2025-08-31
    "2020": (
        date(2020, 6, 1),
        [("E1", "4000.00", "09-01", "09-01", "02-28"), ("E2", "2000.00", "03-01", "03-01", "05-31"),
         ("E3", "2000.00", "06-01", "06-01", "08-31")],
    ),
    "2021-2025": (
        date(2024, 6, 1),
        [("E1", "3200.00", "09-01", "09-01", "02-28"), ("E2", "2400.00", "03-01", "03-01", "05-31"),
         ("E3", "2400.00", "06-01", "06-01", "08-31")],
    ),
    "from 2025-07": (
        date(2025, 7, 1),
        [("E1", "3200.00", "09-01", "09-01", "02-28"), ("E2", "2400.00", "03-01", "03-01", "05-31"),
         ("E3", "1600.00", "06-01", "06-01", "08-31"), ("E4", "800.00", "08-31", "09-01", "08-31")],
    ),
}  # fmt: skip


def in_year(month_day: str, start_year: int) -> date:
    month = int(month_day[:2])
    return date.fromisoformat(f"{start_year + (month < 9)}-{month_day}")


@pytest.mark.parametrize("regime", list(EXPECTED_ONE_YEAR))
@pytest.mark.parametrize("years", [1, 2])
def test_the_schedule_of_each_regime(regime: str, years: int) -> None:
    concluded, expected_year = EXPECTED_ONE_YEAR[regime]
    end = date(2024 + years, 8, 31)

    schedule = compute_schedule(date(2024, 9, 1), end, concluded, Decimal("8000.00"), engaged_on=date(2024, 8, 1))

    expected = [
        (f"E{len(expected_year) * year + index + 1}", Decimal(amount),
         in_year(opens, 2024 + year), in_year(start, 2024 + year), in_year(stop, 2024 + year))
        for year in range(years)
        for index, (_, amount, opens, start, stop) in enumerate(expected_year)
    ]  # fmt: skip
    actual = [
        (i.codification, i.montant_total, i.date_ouverture, i.date_debut, i.date_fin) for i in schedule.instalments
    ]
    assert actual == [(e[0], e[1], e[2], e[3], e[4]) for e in expected]
    assert [i.numero for i in schedule.instalments] == list(range(1, len(expected) + 1))
    assert schedule.engagement == Decimal(8000 * years) == sum(i.montant_total for i in schedule.instalments)


def test_the_last_year_is_prorated_by_days_and_the_last_instalment_takes_the_remainder() -> None:
    # 2027-09-01..2028-02-29 is 182 days of a 366-day contract year: 7777.77 × 182 / 366 = 3867.63
    schedule = compute_schedule(
        date(2026, 9, 1), date(2028, 2, 29), date(2026, 7, 10), Decimal("7777.77"), date(2026, 8, 1)
    )

    amounts = [i.montant_total for i in schedule.instalments]
    assert amounts[:4] == [Decimal("3111.11"), Decimal("2333.33"), Decimal("1555.55"), Decimal("777.78")]
    assert sum(amounts[4:]) == Decimal("3867.63")
    assert schedule.engagement == Decimal("11645.40") == sum(amounts)
    assert schedule.instalments[-1].date_ouverture == date(2028, 2, 29)


def test_amounts_round_half_up_and_nothing_opens_before_the_engagement() -> None:
    schedule = compute_schedule(
        date(2020, 9, 1), date(2021, 8, 31), date(2020, 8, 1), Decimal("8000.01"), date(2020, 10, 15)
    )

    assert [i.montant_total for i in schedule.instalments] == [
        Decimal("4000.01"),
        Decimal("2000.00"),
        Decimal("2000.00"),
    ]
    assert schedule.instalments[0].date_ouverture == date(2020, 10, 15)
    assert schedule.instalments[0].date_debut == date(2020, 9, 1)


# --- faults -----------------------------------------------------------------------------------------------------


def test_each_fault_is_seen_by_httpx_as_in_production(sandbox: httpx.Client, complete_cerfa: dict[str, Any]) -> None:
    headers = headers_for(sandbox, "ATLAS")
    status = "/opcos/ATLAS/v1/status"

    set_faults(sandbox, errorRate=1.0, seed=1)
    assert {sandbox.get(status, headers=headers).status_code for _ in range(20)} == {500, 502, 503}
    set_faults(sandbox, errorRate=0.0, rateLimitRate=1.0, retryAfterSeconds=7)
    limited = sandbox.get(status, headers=headers)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "7")
    set_faults(sandbox, rateLimitRate=0.0, timeoutRate=1.0, timeoutSeconds=5)
    with pytest.raises(httpx.ReadTimeout):
        sandbox.get(status, headers=headers, timeout=0.3)
    set_faults(sandbox, timeoutRate=0.0, resetRate=1.0)
    with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
        sandbox.get(status, headers=headers)
    set_faults(sandbox, resetRate=0.0)
    assert sandbox.get(status, headers=headers).status_code == 200
    assert sandbox.get("/_sandbox/stats", headers=SANDBOX_OPERATOR).json()["faultsInjected"] == {
        "error": 20,
        "rateLimit": 1,
        "timeout": 1,
        "reset": 1,
    }


@pytest.mark.parametrize(
    ("fault", "seen"),
    [("timeoutRate", httpx.ReadTimeout), ("resetRate", httpx.RemoteProtocolError), ("errorRate", None)],
)
def test_a_fault_after_the_store_leaves_the_dossier_stored(
    sandbox: httpx.Client, complete_cerfa: dict[str, Any], fault: str, seen: type[Exception] | None
) -> None:
    headers = headers_for(sandbox, "ATLAS")
    set_faults(sandbox, **{fault: 1.0}, afterStoreShare=1.0, timeoutSeconds=5)
    url, body = "/opcos/ATLAS/v1/dossiers", submission(complete_cerfa, "A-1")

    if seen is None:
        assert sandbox.post(url, json=body, headers=headers).status_code in {500, 502, 503}
    else:
        with pytest.raises(seen):
            sandbox.post(url, json=body, headers=headers, timeout=0.5)
    set_faults(sandbox, **{fault: 0.0})

    assert read(sandbox, "ATLAS", headers, numeroInterne="A-1").status_code == 200
    stats = sandbox.get("/_sandbox/stats", headers=SANDBOX_OPERATOR).json()
    assert stats["faultsAfterStore"] == {fault.removesuffix("Rate"): 1}
    assert stats["stored"] == {"ATLAS/A-1": 1}


def test_a_fault_before_the_store_leaves_nothing_stored(sandbox: httpx.Client, complete_cerfa: dict[str, Any]) -> None:
    headers = headers_for(sandbox, "ATLAS")
    set_faults(sandbox, errorRate=1.0, afterStoreShare=0.0)

    assert post(sandbox, "ATLAS", headers, submission(complete_cerfa, "B-1")).status_code >= 500
    set_faults(sandbox, errorRate=0.0)
    assert read(sandbox, "ATLAS", headers, numeroInterne="B-1").status_code == 404
    assert sandbox.get("/_sandbox/stats", headers=SANDBOX_OPERATOR).json()["postsReceived"] == {}


def test_a_seed_makes_the_faults_reproducible(sandbox: httpx.Client) -> None:
    headers = headers_for(sandbox, "ATLAS")

    def run() -> list[int]:
        set_faults(sandbox, errorRate=0.3, rateLimitRate=0.3, seed=42)
        return [sandbox.get("/opcos/ATLAS/v1/status", headers=headers).status_code for _ in range(30)]

    first = run()
    assert first == run()
    assert {200, 429} <= set(first)
    assert any(code >= 500 for code in first)


def test_invalid_faults_are_refused(sandbox: httpx.Client) -> None:
    assert sandbox.put("/_sandbox/faults", json={"errorRate": 1.5}, headers=SANDBOX_OPERATOR).status_code == 400
    assert (
        sandbox.put("/_sandbox/faults", json={"errorRate": 0.6, "resetRate": 0.6}, headers=SANDBOX_OPERATOR).status_code
        == 400
    )
    assert sandbox.put("/_sandbox/faults", json={"nope": 1}, headers=SANDBOX_OPERATOR).status_code == 400
    assert sandbox.get("/_sandbox/faults", headers=SANDBOX_OPERATOR).json() == Faults().to_wire()


def test_latency_is_served_concurrently(sandbox: httpx.Client) -> None:
    headers = headers_for(sandbox, "ATLAS")
    set_faults(sandbox, latencyMs=400)
    url = str(sandbox.base_url.join("/opcos/ATLAS/v1/status"))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(lambda _: httpx.get(url, headers=headers, timeout=10).status_code, range(20)))
    elapsed = time.monotonic() - started

    assert codes == [200] * 20
    assert 0.4 <= elapsed < 3.0  # sequential would take 8 s


# --- storage, reset, mounting -----------------------------------------------------------------------------------


def test_a_sqlite_sandbox_keeps_keys_and_dossiers_across_restarts(
    tmp_path: Path, config: SandboxConfig, complete_cerfa: dict[str, Any]
) -> None:
    persistent = replace(config, state_path=tmp_path / "sandbox.db")
    with running_sandbox(persistent) as url, httpx.Client(base_url=url) as client:
        headers = headers_for(client, "AKTO")
        assert post(client, "AKTO", headers, submission(complete_cerfa, "S-1")).status_code == 200

    with running_sandbox(persistent) as url, httpx.Client(base_url=url) as client:
        dossier = read(client, "AKTO", headers, numeroInterne="S-1")
        assert dossier.status_code == 200
        assert dossier.json()["cerfa"]["numeroExterne"] == "AKTO-2026-000001"
        assert post(client, "AKTO", headers, submission(complete_cerfa, "S-1")).status_code == 400
        assert post(client, "AKTO", headers, submission(complete_cerfa, "S-2")).json()["numeroExterne"].endswith("02")


def test_reset_forgets_everything(sandbox: httpx.Client, complete_cerfa: dict[str, Any]) -> None:
    headers = headers_for(sandbox, "ATLAS")
    post(sandbox, "ATLAS", headers, submission(complete_cerfa, "Z-1"))
    set_faults(sandbox, latencyMs=10)

    assert sandbox.post("/_sandbox/reset", headers=SANDBOX_OPERATOR).status_code == 204

    assert sandbox.get("/_sandbox/dossiers", headers=SANDBOX_OPERATOR).json() == []
    assert sandbox.get("/_sandbox/stats", headers=SANDBOX_OPERATOR).json()["stored"] == {}
    assert sandbox.get("/_sandbox/faults", headers=SANDBOX_OPERATOR).json()["latencyMs"] == 0
    assert sandbox.get("/opcos/ATLAS/v1/status", headers=headers).status_code == 401  # its token is forgotten too


def test_the_sandbox_works_mounted_under_a_sub_path(config: SandboxConfig, complete_cerfa: dict[str, Any]) -> None:
    parent = FastAPI()
    parent.mount("/sandbox", create_sandbox_app(config))
    with running_app(parent) as url, httpx.Client(base_url=f"{url}/sandbox") as client:
        headers = headers_for(client, "AFDAS")
        set_faults(client, errorRate=1.0, afterStoreShare=1.0)
        assert post(client, "AFDAS", headers, submission(complete_cerfa, "M-1")).status_code >= 500
        set_faults(client, errorRate=0.0)

        assert read(client, "AFDAS", headers, numeroInterne="M-1").json()["cerfa"]["etat"] == "ENGAGE"
        assert client.get("/_sandbox/stats", headers=SANDBOX_OPERATOR).json()["faultsAfterStore"] == {"error": 1}


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_concurrent_posts_of_one_dossier_store_it_once(
    tmp_path: Path, config: SandboxConfig, complete_cerfa: dict[str, Any], storage: str
) -> None:
    state = tmp_path / "sandbox.db" if storage == "sqlite" else None
    with running_sandbox(replace(config, state_path=state)) as url, httpx.Client(base_url=url) as client:
        headers = headers_for(client, "SANTE")
        body = submission(complete_cerfa, "C-1")
        with ThreadPoolExecutor(max_workers=16) as pool:
            codes = list(
                pool.map(
                    lambda _: httpx.post(f"{url}/opcos/SANTE/v2/dossiers", json=body, headers=headers).status_code,
                    range(16),
                )
            )
        stats = client.get("/_sandbox/stats", headers=SANDBOX_OPERATOR).json()

    assert sorted(codes) == [200] + [400] * 15
    assert (stats["postsReceived"], stats["stored"], stats["duplicatesRefused"]) == (
        {"SANTE/C-1": 16},
        {"SANTE/C-1": 1},
        15,
    )
