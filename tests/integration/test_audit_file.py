"""GET /contracts/{id}/audit on both stores, and its offline check: a file as served checks; one whose events,
digests, paths or checkpoints were changed does not; only the auditor and admin roles get one."""

from __future__ import annotations

import base64
import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from application.access.access import OPERATOR, Role
from application.audit.audit_file import check_audit_file
from infrastructure.audit.verify import checkpoint_now
from interfaces.api.app import create_app
from interfaces.cli import cli
from tests.integration.audit_support import CFA, populated
from tests.support import principal


def token(built: Any, role: Role) -> dict[str, str]:
    issued = built.dossiers.issue_token(OPERATOR, cfa_siret=CFA, role=role, name=f"audit {role}")
    return {"Authorization": f"Bearer {issued.secret}"}


@pytest.fixture
def served(database_url: str, complete_cerfa: dict[str, Any]) -> Any:
    with populated(database_url, complete_cerfa) as (built, contracts), TestClient(create_app(built)) as client:
        yield built, client, contracts


def test_the_audit_file_checks_offline(served: Any, tmp_path: Path) -> None:
    built, client, (first, _) = served
    answer = client.get(f"/contracts/{first}/audit", headers=token(built, Role.AUDITOR))
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["aggregate"] == {"id": str(first), "type": "Contract"}
    events = document["events"]
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["stateAfter"]["state"] == "drafted"
    assert events[-1]["stateAfter"]["state"] == "accepted"
    assert all(e["inclusion"] is not None for e in events)  # a checkpoint was taken for the file's last events
    done = check_audit_file(document)
    assert done.problems == []
    assert done.covered == done.events == len(events)
    path = tmp_path / "audit.json"
    path.write_text(answer.text)
    checked = CliRunner().invoke(cli, ["audit", "check", str(path), "--anchor", done.latest or ""])
    assert checked.exit_code == 0, checked.output
    assert f"{len(events)} events, chained; {len(events)} of them lead to a checkpoint" in checked.output


def altered_state(document: dict[str, Any]) -> None:
    event = document["events"][1]
    stored = base64.b64decode(event["stateStored"])
    state = stored[:-1] + bytes([stored[-1] ^ 1])  # one bit of the stored bytes (encrypted: no clear text to edit)
    event["stateStored"] = base64.b64encode(state).decode()


def removed_event(document: dict[str, Any]) -> None:
    del document["events"][2]


def recomputed_digests_after_an_alteration(document: dict[str, Any]) -> None:
    """An editor who recomputes the chain of the file: its checkpoint's root then gives it away."""
    from application.audit.chain import GENESIS, event_digest

    altered_state(document)
    previous = GENESIS
    for event in document["events"]:
        state = base64.b64decode(event["stateStored"])
        previous = event_digest(previous, document["aggregate"]["id"], event["version"], event["topic"], state)
        event["digest"] = previous.hex()


def changed_checkpoint(document: dict[str, Any]) -> None:
    document["checkpoints"][-1]["count"] += 1


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (altered_state, "version 2: the stored event does not match its digest"),
        (removed_event, "version 4 where 3 was expected: an event is missing"),
        (recomputed_digests_after_an_alteration, "version 2: its digest does not lead to checkpoint #1's root"),
        (changed_checkpoint, "checkpoint #1: its digest is not the hash of what it records"),
    ],
)
def test_an_edited_audit_file_fails_its_check(served: Any, tmp_path: Path, edit: Any, problem: str) -> None:
    built, client, (first, _) = served
    document = client.get(f"/contracts/{first}/audit", headers=token(built, Role.ADMIN)).json()
    edited = copy.deepcopy(document)
    edit(edited)
    assert problem in check_audit_file(edited).problems
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(edited))
    checked = CliRunner().invoke(cli, ["audit", "check", str(path)])
    assert checked.exit_code == 1
    assert problem in checked.output


def test_a_file_from_before_a_later_checkpoint_still_checks_against_the_latest(served: Any) -> None:
    built, client, (first, second) = served
    checkpoint_now(built.store, built.dossiers)
    built.dossiers.forecast_npec(principal(CFA), second, Decimal("9000"))
    checkpoint_now(built.store, built.dossiers)
    document = client.get(f"/contracts/{first}/audit", headers=token(built, Role.AUDITOR)).json()
    assert [c["seq"] for c in document["checkpoints"]] == [1, 2]
    assert check_audit_file(document, anchor=document["checkpoints"][-1]["digest"]).problems == []


def test_only_the_auditor_and_admin_roles_get_an_audit_file(served: Any) -> None:
    built, client, (first, _) = served
    refused = client.get(f"/contracts/{first}/audit", headers=token(built, Role.FRONTEND))
    assert refused.status_code == 403
    assert refused.json()["detail"] == "the audit file is for the auditor and admin roles"
    other = built.dossiers.issue_token(OPERATOR, cfa_siret="44306184100047", role=Role.AUDITOR, name="other CFA")
    assert (
        client.get(f"/contracts/{first}/audit", headers={"Authorization": f"Bearer {other.secret}"}).status_code == 404
    )
