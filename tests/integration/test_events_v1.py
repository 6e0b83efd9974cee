"""Events are the permanent record: a store written by an earlier release (tests/fixtures/events_v1, its make.py says
which and how) replays with today's code, on SQLite as written and with its rows copied into PostgreSQL: topics of
moved modules resolve (application/topics.py), earlier event versions are upcast, the history reads them."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.access.access import OPERATOR
from application.audit.history import History
from application.dossiers import Dossiers
from domain.contracts.contract import Contract
from tests.support import dossiers

FIXTURE = Path(__file__).parent.parent / "fixtures" / "events_v1"
CONTENTS: dict[str, Any] = json.loads((FIXTURE / "contents.json").read_text())
IDS = {key: UUID(value) for key, value in CONTENTS["ids"].items()}


def stored_rows() -> list[tuple[str, int, str, bytes]]:
    with sqlite3.connect(FIXTURE / "convergence.db") as conn:
        rows = conn.execute("SELECT originator_id, originator_version, topic, state FROM stored_events").fetchall()
    return [(str(row[0]), int(row[1]), str(row[2]), bytes(row[3])) for row in rows]


def test_the_fixture_holds_what_the_earlier_release_wrote() -> None:
    """Guards the fixture itself: the former topics and the version-1 states that the replay below upcasts."""
    rows = {topic: json.loads(state) for _, _, topic, state in stored_rows()}
    assert "application.access:ApiToken.Issued" in rows
    sent, committed = rows["domain.contract:Contract.Sent"], rows["domain.contract:Contract.FundingCommitted"]
    assert "class_version" not in sent
    assert "opco_numero_interne" not in sent
    assert "class_version" not in committed
    assert "premier_equipement_ceiling" not in committed
    assert "frais_annexes" not in committed
    assert not any(topic.startswith("domain.contracts.") for topic in rows)


def test_today_replays_the_earlier_store_as_written(tmp_path: Path) -> None:
    shutil.copy(FIXTURE / "convergence.db", tmp_path / "convergence.db")
    app = dossiers(f"sqlite:///{tmp_path / 'convergence.db'}")
    _replays(app)


def test_today_replays_the_earlier_events_on_every_store(database_url: str) -> None:
    app = dossiers(database_url)
    app.recorder.insert_events(
        [
            StoredEvent(originator_id=UUID(ident), originator_version=version, topic=topic, state=state)
            for ident, version, topic, state in stored_rows()
        ]
    )
    _replays(app)


def _replays(app: Dossiers) -> None:
    for key, expected in CONTENTS["contracts"].items():
        contract = app.contract_as_worker(IDS[key])
        assert isinstance(contract, Contract)
        shown = {
            "version": contract.version,
            "state": contract.state.value,
            "numeroExterne": contract.numero_externe,
            "numeroDeca": contract.numero_deca,
            "commitment": contract.commitment,
            "echeances": contract.echeances,
        }
        assert shown == expected, key
    accepted = app.contract_as_worker(IDS["accepted"])
    assert accepted.opco_numero_interne is None  # Sent v1 → v2: not kept then
    assert (accepted.premier_equipement_ceiling, accepted.frais_annexes) == (None, [])  # FundingCommitted v1 → v3
    assert [h["outcome"] for h in accepted.transmission["history"]] == ["sent"]
    assert app.tokens(OPERATOR)[0].name == "front-v1"  # application.access:ApiToken, a module that moved

    history = History(app).of_contract(OPERATOR, IDS["accepted"])
    assert [entry["version"] for entry in history] == list(range(1, 8))
    assert {entry["actor"]["kind"] for entry in history} == {"unknown"}  # stored before actors were recorded
    sent = next(entry for entry in history if entry["type"] == "Sent")
    assert sent["transmission"]["sent_sha256"] is None  # Sent v2 → v3: no digests then
    assert sent["actor"]["recordedAs"] == "worker"
    then = History(app).contract_at(OPERATOR, IDS["accepted"], version=3)
    assert then.state.value == "submitted"
