"""Who did what and when, in-process: the person named in X-Acting-Person recorded with the token in every event,
the history of contracts (with their ruptures) and invoices, the dossier at a version or a moment, the timeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from application.access.access import WORKER
from application.audit.actor import Actor, acting
from application.audit.history import History
from domain.contracts.cerfa_document import parse_cerfa
from domain.invoicing.invoice import Invoice
from domain.opco.opcos import Opco
from domain.ruptures.termination import termination_id
from interfaces.bootstrap import Container
from tests.invoicing import CFA
from tests.support import MANDATE, OPERATOR_TOKEN, principal
from tests.unit.test_api import assert_problem, token
from tests.unit.test_api_invoices import accepted, invoice_body
from tests.unit.test_api_ruptures import BODY as RUPTURE

PERSON = {"X-Acting-Person": "jdupont@cfa-lyon"}


def drafted(client: TestClient, auth: dict[str, str], cerfa: dict[str, Any], numero: str = "H-1") -> str:
    created = client.post("/contracts", json={"cerfa": cerfa, "numeroInterne": numero}, headers={**auth, **PERSON})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_every_event_of_a_request_records_the_person_with_the_token_and_its_cfa(
    client: TestClient, complete_cerfa: dict[str, Any]
) -> None:
    cfa = token(client, CFA)
    ident = drafted(client, cfa, complete_cerfa)
    mandate = client.post(f"/contracts/{ident}/mandate", json=MANDATE, headers={**cfa, "X-Acting-Person": "Zoe M."})
    assert mandate.status_code == 200, mandate.text
    client.post(f"/contracts/{ident}/submission", headers=cfa)  # no person named: the token alone

    history = client.get(f"/contracts/{ident}/history", headers=cfa).json()
    assert [e["type"] for e in history] == ["Drafted", "MandateRecorded", "SubmissionRequested"]
    assert [e["version"] for e in history] == [1, 2, 3]
    first = history[0]["actor"]
    assert first == {
        "kind": "token",
        "name": f"frontend of {CFA}",
        "person": "jdupont@cfa-lyon",
        "tokenId": first["tokenId"],
        "cfa": CFA,
    }
    assert history[1]["actor"]["person"] == "Zoe M."
    assert "person" not in history[2]["actor"]
    assert history[2]["actor"]["kind"] == "token"
    assert history[0]["data"]["numero_interne"] == "H-1"
    assert "actor" not in history[0]["data"]  # the event's own actor string is the envelope's, not its data


def test_the_operator_is_an_actor_too(client: TestClient, complete_cerfa: dict[str, Any]) -> None:
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    ident = drafted(client, operator, complete_cerfa)
    actor = client.get(f"/contracts/{ident}/history", headers=operator).json()[0]["actor"]
    assert actor == {"kind": "operator", "name": "operator", "person": "jdupont@cfa-lyon"}


def test_a_malformed_person_is_422_naming_the_header_and_nothing_is_stored(
    client: TestClient, complete_cerfa: dict[str, Any]
) -> None:
    cfa = token(client, CFA)
    body = {"cerfa": complete_cerfa, "numeroInterne": "H-2"}
    bad_names: list[tuple[Any, str]] = [
        ("x" * 129, "length"),
        ("tab\there", "not_printable"),
        (" padded ", "not_printable"),
        ("Zoé".encode(), "not_printable"),
    ]
    for bad, code in bad_names:
        refused = client.post("/contracts", json=body, headers={**cfa, "X-Acting-Person": bad})
        problem = assert_problem(refused, 422)
        assert problem["errors"] == [
            {"field": "X-Acting-Person", "code": code, "message": problem["errors"][0]["message"]}
        ]
    assert client.post("/contracts", json=body, headers=cfa).status_code == 201  # H-2 was never stored


def test_events_stored_before_actors_were_recorded_read_as_unknown(
    client: TestClient, services: Container, complete_cerfa: dict[str, Any]
) -> None:
    cfa = token(client, CFA)
    ident = drafted(client, cfa, complete_cerfa)
    services.dossiers.change_as_worker(UUID(ident), lambda c: c.cancel("old", WORKER.actor))  # outside any actor
    last = client.get(f"/contracts/{ident}/history", headers=cfa).json()[-1]
    assert last["actor"] == {"kind": "unknown", "recordedAs": "worker"}
    with acting(Actor(kind="worker", name="worker@test")):
        services.dossiers.change_as_worker(UUID(ident), lambda c: c.forecast_npec(None, WORKER.actor))
    # (no event: nothing changed) — the actor context alone stores nothing
    assert len(client.get(f"/contracts/{ident}/history", headers=cfa).json()) == 2


def test_the_nir_is_masked_for_an_auditor_and_shown_to_the_roles_that_write_it(
    client: TestClient, complete_cerfa: dict[str, Any]
) -> None:
    nir = complete_cerfa["apprenti"]["nir"]
    cfa = token(client, CFA)
    ident = drafted(client, cfa, complete_cerfa)
    seen = {}
    for role in ("frontend", "auditor", "admin"):
        auth = cfa if role == "frontend" else token(client, CFA, role)
        seen[role] = client.get(f"/contracts/{ident}/history", headers=auth).json()[0]["data"]["cerfa"]["apprenti"]
    assert seen["auditor"]["nir"] == "*" * (len(nir) - 2) + nir[-2:]
    assert seen["frontend"]["nir"] == seen["admin"]["nir"] == nir


def test_the_dossier_at_a_version_and_at_a_moment(client: TestClient, complete_cerfa: dict[str, Any]) -> None:
    cfa = token(client, CFA)
    ident = drafted(client, cfa, complete_cerfa)
    client.post(f"/contracts/{ident}/mandate", json=MANDATE, headers=cfa)
    client.post(f"/contracts/{ident}/submission", headers=cfa)
    history = client.get(f"/contracts/{ident}/history", headers=cfa).json()

    first = client.get(f"/contracts/{ident}?version=1", headers=cfa)
    assert (first.status_code, first.headers["ETag"], first.json()["state"]) == (200, '"1"', "drafted")
    assert first.json()["mandate"] is None
    second = client.get(f"/contracts/{ident}", params={"version": 2}, headers=cfa).json()
    assert (second["state"], second["mandate"]["signatory"]["nom"]) == ("mandate_checked", "Martin")
    assert client.get(f"/contracts/{ident}?version=3", headers=cfa).json()["state"] == "submitted"
    assert_problem(client.get(f"/contracts/{ident}?version=4", headers=cfa), 404)
    assert_problem(client.get(f"/contracts/{ident}?version=0", headers=cfa), 422)

    at_mandate = history[1]["at"]
    then = client.get(f"/contracts/{ident}", params={"asOf": at_mandate}, headers=cfa)
    assert (then.status_code, then.headers["ETag"]) == (200, '"2"')
    later = client.get(f"/contracts/{ident}", params={"asOf": "2999-01-01T00:00:00+02:00"}, headers=cfa)
    assert later.headers["ETag"] == '"3"'
    assert_problem(client.get(f"/contracts/{ident}", params={"asOf": "2000-01-01T00:00:00Z"}, headers=cfa), 404)


def test_as_of_takes_only_a_moment_with_its_offset(client: TestClient, complete_cerfa: dict[str, Any]) -> None:
    cfa = token(client, CFA)
    ident = drafted(client, cfa, complete_cerfa)
    for bad in ("2026-03-01", "2026-03-01T10:00:00", "yesterday", "2026-13-01T10:00:00Z"):
        problem = assert_problem(client.get(f"/contracts/{ident}", params={"asOf": bad}, headers=cfa), 422)
        assert problem["errors"][0]["field"] == "asOf", bad
    both = client.get(f"/contracts/{ident}", params={"asOf": "2999-01-01T00:00:00Z", "version": 1}, headers=cfa)
    assert_problem(both, 422)


def test_another_cfa_sees_neither_history_nor_past_versions(client: TestClient, complete_cerfa: dict[str, Any]) -> None:
    ident = drafted(client, token(client, CFA), complete_cerfa)
    other = token(client, "73282932000074")
    for path in ("/history", "/timeline", "?version=1"):
        assert_problem(client.get(f"/contracts/{ident}{path}", headers=other), 404)


def test_a_contract_history_marks_its_ruptures_events_and_the_transmission_answers(
    client: TestClient, services: Container, complete_cerfa: dict[str, Any]
) -> None:
    cfa = token(client, CFA)
    ident = accepted(services, complete_cerfa)
    declared = client.post(f"/contracts/{ident}/rupture", json=RUPTURE, headers={**cfa, **PERSON})
    assert declared.status_code == 202, declared.text
    history = client.get(f"/contracts/{ident}/history", headers=cfa).json()
    ruptures = [e for e in history if "rupture" in e]
    assert [e["type"] for e in ruptures] == ["Declared", "SubmissionRequested"]
    assert {e["aggregate"] for e in ruptures} == {"Termination"}
    assert all(e["actor"]["person"] == "jdupont@cfa-lyon" for e in ruptures)
    assert [e["at"] for e in history] == sorted(e["at"] for e in history)
    sent = next(e for e in history if e["type"] == "Sent")
    assert {"etat", "numero_externe", "opco_numero_interne", "found_by_lookup"} <= set(sent["transmission"])


def test_a_contract_history_marks_its_avenants_events(
    client: TestClient, services: Container, complete_cerfa: dict[str, Any]
) -> None:
    cfa = token(client, CFA)
    ident = accepted(services, complete_cerfa)
    body = {
        "typeContratApp": 36,
        "dateEffetAvenant": "2027-01-04",
        "changes": {"maitre1": {"nom": "Bernard", "prenom": "Luc"}},
        "mandate": {"signedOn": "2026-10-01", "signatory": {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"}},
    }
    made = client.post(f"/contracts/{ident}/amendments", json=body, headers={**cfa, **PERSON})
    assert made.status_code == 201, made.text
    history = client.get(f"/contracts/{ident}/history", headers=cfa).json()
    avenant = [e for e in history if "amendment" in e]
    assert {e["aggregate"] for e in avenant} == {"Amendment"}
    assert {e["amendment"] for e in avenant} == {1}
    assert avenant[0]["type"] == "Requested"
    assert all(e["actor"]["person"] == "jdupont@cfa-lyon" for e in avenant)
    assert "AmendmentRequested" in [e["type"] for e in history if "amendment" not in e]  # the contract's own
    assert [e["at"] for e in history] == sorted(e["at"] for e in history)


def test_an_invoice_history_shows_its_transmission_and_who_acted(
    client: TestClient, services: Container, complete_cerfa: dict[str, Any]
) -> None:
    cfa = token(client, CFA)
    contract_id = accepted(services, complete_cerfa, opco=Opco.CONSTRUCTYS)
    invoice = client.post("/invoices", json=invoice_body(contract_id), headers={**cfa, **PERSON}).json()
    client.post(f"/invoices/{invoice['id']}/submission", headers=cfa)

    def failed(i: Invoice) -> None:
        i.start_transmission("worker")
        i.record_transmission_failure(error="OPCO 503: unavailable", transient=True, retry_at=None, actor="worker")

    with acting(Actor(kind="worker", name="worker@test")):
        services.invoices.change_as_worker(UUID(invoice["id"]), failed)
    history = client.get(f"/invoices/{invoice['id']}/history", headers=cfa).json()
    assert history[0]["actor"]["person"] == "jdupont@cfa-lyon"
    failure = history[-1]
    assert failure["type"] == "TransmissionFailed"
    assert failure["actor"] == {"kind": "worker", "name": "worker@test"}
    assert failure["transmission"] == {
        "error": "OPCO 503: unavailable",
        "transient": True,
        "retry_at": None,
        "sent_sha256": None,  # nothing sent by that attempt
    }
    other = token(client, "73282932000074")
    assert_problem(client.get(f"/invoices/{invoice['id']}/history", headers=other), 404)


def test_the_timeline_is_a_printable_page_of_every_event(client: TestClient, complete_cerfa: dict[str, Any]) -> None:
    cfa = token(client, CFA)
    ident = drafted(client, cfa, complete_cerfa)
    client.post(f"/contracts/{ident}/mandate", json=MANDATE, headers={**cfa, "X-Acting-Person": "<b>Zoe</b>"})
    page = client.get(f"/contracts/{ident}/timeline", headers=cfa)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "Dossier H-1" in text
    assert "Mandate recorded" in text
    assert "Drafted" in text
    assert "jdupont@cfa-lyon" in text
    assert "&lt;b&gt;Zoe&lt;/b&gt;" in text
    assert "<b>Zoe</b>" not in text
    assert "@media print" in text


def test_each_entry_is_the_stored_event_with_its_version_and_time(
    services: Container, complete_cerfa: dict[str, Any]
) -> None:
    who = principal(CFA)
    contract = services.dossiers.create_contract(
        who, cerfa=parse_cerfa(complete_cerfa), numero_interne="H-9", opco=None
    ).contract
    entries = History(services.dossiers, services.invoices).of_contract(who, contract.id)
    assert [e["version"] for e in entries] == list(range(1, contract.version + 1))
    assert abs(entries[0]["at"] - contract.created_on) < timedelta(seconds=1)
    assert entries[0]["actor"] == {"kind": "unknown", "recordedAs": who.actor}  # no actor said: none invented


def test_a_past_version_shows_its_rupture_as_it_was_then(
    client: TestClient, services: Container, complete_cerfa: dict[str, Any]
) -> None:
    cfa = token(client, CFA)
    ident = accepted(services, complete_cerfa)
    declared = client.post(f"/contracts/{ident}/rupture", json=RUPTURE, headers=cfa)
    version = int(declared.headers["ETag"].strip('"'))
    termination = termination_id(UUID(ident), 1)

    def sent(t: Any) -> None:
        t.start_transmission("worker")
        t.record_sent(numero_externe=None, etat="RUPTU", found_by_lookup=False, actor="worker")

    services.terminations.change_as_worker(termination, sent)
    now = client.get(f"/contracts/{ident}", headers=cfa).json()
    assert now["rupture"]["transmission"]["state"] == "sent"
    then = client.get(f"/contracts/{ident}", params={"version": version}, headers=cfa).json()
    assert then["rupture"]["transmission"]["state"] == "submitted"  # as when that version was recorded
    history = client.get(f"/contracts/{ident}/history", headers=cfa).json()
    last = history[-1]["at"]
    at_last = client.get(f"/contracts/{ident}", params={"asOf": last}, headers=cfa).json()
    assert at_last["rupture"]["transmission"]["state"] == "sent"
