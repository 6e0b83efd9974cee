"""The logs of a whole run of the service, at DEBUG, hold no personal data nor secret: a dossier drafted with an
apprentice's realistic data, its mandate, its transmission to the (sandbox) OPCO, its invoice with the CFA's IBAN,
a search of the dossiers by the apprentice's name, and failed authentications."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import httpx

from domain.opco.opcos import Opco
from infrastructure.settings import Settings
from interfaces.bootstrap import bootstrap
from tests.e2e.service import Service
from tests.e2e.test_invoices_to_paid import FAST_INVOICES, accepted, wait_all
from tests.invoicing import PROFILE, years_earlier
from tests.support import DATA_KEYS, MANDATE, OPERATOR_TOKEN, SECRET_KEY

PEOPLE = {
    "apprenti": {"nom": "Quenneville", "prenom": "Anaïs", "courriel": "anais.quenneville@exemple.fr"},
    "maitre1": {"nom": "Kerhervé", "prenom": "Gwendal", "courriel": "g.kerherve@nebula-conseil.fr"},
}
SIGNATORY = {"nom": "Lemarchand-Ubaldi", "prenom": "Solène", "qualite": "Gérante"}


def realistic(cerfa: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(cerfa)
    for person, fields in PEOPLE.items():
        document[person].update(fields)
    document["apprenti"]["telephone"] = "0698765432"
    document["apprenti"]["adresse"]["voie"] = "impasse des Quenouilles"
    return document


def test_a_whole_run_logs_no_personal_data_nor_secret(sqlite_url: str, tmp_path: Path, complete_cerfa: Any) -> None:
    cerfa = realistic(years_earlier(complete_cerfa, 2))
    cfa = cerfa["organismeFormation"]["siret"]
    logs = tmp_path / "service.log"
    env = {**FAST_INVOICES, "CONVERGENCE_LOG_LEVEL": "debug", "CONVERGENCE_LOG_FORMAT": "json"}
    service = Service(sqlite_url, tmp_path, env=env, log_file=logs)
    service.start()
    try:
        issued = json.loads(service.cli("tokens", "create", "--cfa-siret", cfa, "--role", "admin"))
        auth = {"Authorization": f"Bearer {issued['token']}"}
        with httpx.Client(base_url=service.url, headers=auth, timeout=30) as http:
            contract = accepted(http, cerfa, mandate={**MANDATE, "signatory": SIGNATORY})
            line = {"contractId": contract["id"], "numeroEcheance": 1, "kind": "pedagogie"}
            body = {
                "numeroInterneFacture": "E2E-LOG-1",
                "date": time.strftime("%Y-%m-%d"),
                "lines": [{**line, "amount": contract["echeances"][0]["montantTotal"]}],
            }
            invoice = http.post("/invoices", json=body, headers={"Idempotency-Key": "log-1"}).json()
            assert http.post(f"/invoices/{invoice['id']}/submission").status_code == 202
            [sent] = wait_all(http, [invoice["id"]], "paid")
            assert sent["state"] == "paid", sent["transmission"]
            found = http.get("/contracts", params={"apprentice": "Quenneville", "state": "accepted"})
            assert [item["id"] for item in found.json()["items"]] == [contract["id"]]
            assert http.get(f"/contracts/{contract['id']}").json()["cerfa"]["apprenti"]["nir"]
            for guess in ("cvg_a-guessed-token", issued["token"][:-2] + "xx"):
                answer = http.get("/contracts", headers={"Authorization": f"Bearer {guess}"})
                assert answer.status_code == 401
        sandbox = service.cli("sandbox-credentials")
    finally:
        service.stop()
    container = bootstrap(
        Settings(database_url=sqlite_url, secret_key=SECRET_KEY, data_keys=DATA_KEYS, sandbox="off", _env_file=None)
    )
    try:
        endpoint = container.accounts.endpoint(cfa, Opco(contract["opco"]))
        assert endpoint is not None
        opco_secrets = [endpoint.api_key, *([endpoint.client_secret] if endpoint.client_secret else [])]
    finally:
        container.close()

    text = logs.read_text(encoding="utf-8")
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any(r["logger"] == "convergence.access" and r.get("query") == "apprentice=*&state=accepted" for r in records)
    assert any(r["level"] == "DEBUG" for r in records), "logged at the most verbose level"
    people = [value for fields in PEOPLE.values() for value in fields.values()]
    personal = [
        *people,
        *(SIGNATORY["nom"], SIGNATORY["prenom"]),
        cerfa["apprenti"]["nir"],
        cerfa["maitre1"]["nir"],
        cerfa["apprenti"]["telephone"],
        cerfa["apprenti"]["dateNaissance"],
        "Quenouilles",
        cerfa["employeur"]["courriel"],
        PROFILE["iban"],
        PROFILE["iban"].replace(" ", ""),
    ]
    secrets = [OPERATOR_TOKEN, SECRET_KEY, issued["token"], "cvg_a-guessed-token", *opco_secrets]
    secrets += [word for word in sandbox.split() if len(word) >= 24]  # the sandbox's admin token, OAuth secret
    for needle in [*personal, *secrets]:
        assert needle.lower() not in text.lower(), f"{needle!r} is in the logs"
