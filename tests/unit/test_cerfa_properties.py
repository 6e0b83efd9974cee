"""Properties of the API over any Cerfa and any merge patch a client may send (hypothesis).

- A Cerfa is refused whole (422, problem+json, nothing stored) or stored as a draft whose problems are listed:
  read back, listed, counted and scheduled without a failure.
- A merge patch (PATCH) or a replacement (PUT) of a draft answers 200, 412 or 422, never 500; a refusal stores
  nothing (the version stays), an acceptance stores what applying the patch gives.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import event, example, given
from hypothesis import strategies as st

from domain.contracts.cerfa_document import parse_cerfa
from domain.merge_patch import apply_merge_patch
from interfaces.api.app import create_app
from interfaces.bootstrap import Container
from tests.conftest import load_example
from tests.support import OPERATOR_TOKEN, container, with_changes
from tests.unit.cerfa_strategies import FIELDS, cerfa_documents, has_own_values, merge_patches

NUMBERS = itertools.count(1)
COMPLETE = load_example("cerfa-complete.json")


@dataclass(frozen=True)
class Api:
    client: TestClient
    services: Container
    auth: dict[str, str]

    def send(self, method: str, url: str, body: Any, **headers: str) -> Any:
        """The body as JSON text, so that what httpx would refuse to write (NaN, lone surrogates) is sent too."""
        content = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **self.auth, **headers}
        return self.client.request(method, url, content=content, headers=headers)

    def log_head(self) -> int | None:
        head: int | None = self.services.dossiers.recorder.max_notification_id()
        return head


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    """One service for all the examples of a test (a fresh one per example would dominate the run)."""
    services = container()
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        issued = client.post(
            "/admin/tokens",
            json={"cfaSiret": COMPLETE["organismeFormation"]["siret"], "role": "admin", "name": "properties"},
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        )
        yield Api(client, services, {"Authorization": f"Bearer {issued.json()['token']}"})
    services.close()


def test_every_field_of_the_cerfa_has_values_of_its_format_to_generate() -> None:
    """A field whose format the strategies do not know gets any JSON, which its rule mostly refuses: give its
    format a line in cerfa_strategies.FORMATS (accepted values, near misses)."""
    unknown = [".".join(map(str, path)) for path, declared in FIELDS if not has_own_values(declared)]
    assert unknown == []


def assert_refused_whole(answer: Any) -> None:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    errors = answer.json()["errors"]
    assert errors
    assert all(isinstance(e["field"], str) and e["code"] and e["message"] for e in errors)


def assert_listed_as_stored(api: Api, dossier: dict[str, Any]) -> None:
    """The dossier reads back as answered, heads the list with its problem count, and the other views hold."""
    client, auth = api.client, api.auth
    url = f"/contracts/{dossier['id']}"
    read = client.get(url, headers=auth)
    assert read.status_code == 200, read.text
    assert read.json()["problems"] == dossier["problems"]
    assert read.json()["cerfa"] == dossier["cerfa"]
    assert client.get(f"{url}/funding", headers=auth).status_code == 200
    api.services.worker.project_once()
    page = client.get("/contracts", params={"limit": 1}, headers=auth)
    assert page.status_code == 200, page.text
    [item] = page.json()["items"]
    assert item["id"] == dossier["id"]
    assert item["problemCount"] == len(dossier["problems"])
    for view in ("/attention", "/dashboard"):
        assert client.get(view, headers=auth).status_code == 200, view


@given(document=cerfa_documents(), npec=st.one_of(st.none(), st.sampled_from(["8000.00", "0.01", "9999999999.99"])))
@example(document=with_changes(COMPLETE, apprenti={"dateNaissance": "2030-01-01"}), npec="8000.00")
@example(
    document=with_changes(COMPLETE, contrat={"dateDebutContrat": "9999-12-31", "dateFinContrat": "9999-12-31"}),
    npec="8000.00",
)
@example(
    document=with_changes(COMPLETE, contrat={"dateDebutContrat": "0001-01-01", "dateConclusion": "0001-01-01"}),
    npec="8000.00",
)
@example(document=with_changes(COMPLETE, apprenti={"dateNaissance": "9999-12-31"}), npec="8000.00")
@example(document=with_changes(COMPLETE, employeur={"denomination": "Nébula \ud800"}), npec="8000.00")
def test_a_cerfa_is_refused_whole_or_stored_with_its_problems(api: Api, document: Any, npec: str | None) -> None:
    head = api.log_head()
    body = {"numeroInterne": f"P-{next(NUMBERS)}", "cerfa": document, **({"npec": npec} if npec else {})}
    answer = api.send("POST", "/contracts", body)
    event(f"answered {answer.status_code}")

    if answer.status_code != 201:
        event(str(sorted({e["code"] for e in answer.json().get("errors", [])})[:2]))
        assert_refused_whole(answer)
        assert api.log_head() == head
        return
    dossier = answer.json()
    assert dossier["version"] == 1 + (npec is not None)  # Drafted, then NpecForecast
    assert all(p["field"] and p["code"] and p["message"] for p in dossier["problems"])
    assert_listed_as_stored(api, dossier)


@pytest.fixture(scope="module")
def draft(api: Api) -> str:
    created = api.client.post("/contracts", json={"cerfa": COMPLETE}, headers=api.auth)
    assert created.status_code == 201, created.text
    return str(created.headers["Location"])


def current(api: Api, url: str) -> tuple[int, dict[str, Any]]:
    read = api.client.get(url, headers=api.auth)
    assert read.status_code == 200, read.text
    return int(read.headers["ETag"].strip('"')), read.json()["cerfa"]


@given(patch=merge_patches(), stale=st.booleans(), media_type=st.sampled_from(["merge-patch+json", "json"]))
@example(patch={"apprenti": {"dateNaissance": "2030-01-01"}}, stale=False, media_type="merge-patch+json")
@example(patch={"contrat": {"remunerationsAnnuelles": [{"taux": "1e400"}]}}, stale=False, media_type="json")
@example(patch=[], stale=False, media_type="json")
def test_a_merge_patch_is_applied_or_refused_without_a_trace(
    api: Api, draft: str, patch: Any, stale: bool, media_type: str
) -> None:
    version, before = current(api, draft)
    head = api.log_head()
    if_match = f'"{version - 1 if stale else version}"'
    answer = api.send(
        "PATCH", f"{draft}/cerfa", patch, **{"If-Match": if_match, "Content-Type": f"application/{media_type}"}
    )

    event(f"answered {answer.status_code}")
    assert answer.status_code in {200, 412, 422}, answer.text
    if answer.status_code != 200:
        assert answer.headers["content-type"] == "application/problem+json"
        assert current(api, draft) == (version, before)
        assert api.log_head() == head
        return
    assert not stale
    expected = parse_cerfa(apply_merge_patch(before, patch)).to_document()
    assert current(api, draft) == (version + (expected != before), expected)
    assert answer.json()["problems"] == api.client.get(draft, headers=api.auth).json()["problems"]


@given(document=cerfa_documents(), stale=st.booleans())
def test_a_replaced_cerfa_is_stored_or_refused_without_a_trace(
    api: Api, draft: str, document: Any, stale: bool
) -> None:
    version, before = current(api, draft)
    head = api.log_head()
    answer = api.send("PUT", f"{draft}/cerfa", document, **{"If-Match": f'"{version - 1 if stale else version}"'})

    event(f"answered {answer.status_code}")
    assert answer.status_code in {200, 412, 422}, answer.text
    if answer.status_code != 200:
        assert answer.headers["content-type"] == "application/problem+json"
        assert current(api, draft) == (version, before)
        assert api.log_head() == head
        return
    assert not stale
    expected = parse_cerfa(document).to_document()
    assert current(api, draft) == (version + (expected != before), expected)
