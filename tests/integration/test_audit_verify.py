"""`audit verify` on both stores: a store as written verifies, and every kind of rewriting by raw SQL is caught."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest

from infrastructure.audit import chain_store
from infrastructure.audit.read_model_check import compare_read_models
from infrastructure.audit.verify import checkpoint_now, verify_history
from infrastructure.store.layout import upgrade_layout
from tests.integration.audit_support import CFA, db_id, forged, populated, raw, tables
from tests.support import principal


def kinds(found: list[Any]) -> set[str]:
    return {d.kind for d in found}


def test_a_store_as_written_verifies(database_url: str, complete_cerfa: dict[str, Any]) -> None:
    with populated(database_url, complete_cerfa) as (built, _):
        checkpoint_now(built.store, built.dossiers)
        done = verify_history(built.store, built.dossiers)
        assert done.discrepancies == []
        assert done.events == raw(built, f"SELECT COUNT(*) FROM {tables(built).events}")[0][0]
        assert done.aggregates["Contract"] == 2
        assert done.aggregates["Invoice"] == 1
        assert done.checkpoints == 1
        assert compare_read_models(built.store, built.dossiers) == []


def test_an_altered_event_is_caught(database_url: str, complete_cerfa: dict[str, Any]) -> None:
    with populated(database_url, complete_cerfa) as (built, (first, _)):
        t = tables(built)
        state = raw(
            built,
            f"SELECT state FROM {t.events} WHERE originator_id = %s AND originator_version = 2",
            (db_id(built, first),),
        )[0][0]
        rewritten = forged(built, bytes(state))
        assert rewritten != bytes(state)
        raw(
            built,
            f"UPDATE {t.events} SET state = %s WHERE originator_id = %s AND originator_version = 2",
            (rewritten, db_id(built, first)),
        )
        found = verify_history(built.store, built.dossiers).discrepancies
        assert [(d.kind, d.subject) for d in found] == [("digest", f"{first} v2")]


def test_an_event_removed_in_the_middle_is_caught(database_url: str, complete_cerfa: dict[str, Any]) -> None:
    with populated(database_url, complete_cerfa) as (built, (first, _)):
        t = tables(built)
        raw(
            built, f"DELETE FROM {t.events} WHERE originator_id = %s AND originator_version = 3", (db_id(built, first),)
        )
        found = verify_history(built.store, built.dossiers).discrepancies
        assert {"gap", "digest", "orphan-digest"} <= kinds(found)


def test_an_event_removed_at_the_end_is_caught_by_its_digest_or_the_checkpoint(
    database_url: str, complete_cerfa: dict[str, Any]
) -> None:
    with populated(database_url, complete_cerfa) as (built, (first, _)):
        checkpoint_now(built.store, built.dossiers)
        t = tables(built)
        last = raw(
            built, f"SELECT MAX(originator_version) FROM {t.events} WHERE originator_id = %s", (db_id(built, first),)
        )[0][0]
        raw(
            built,
            f"DELETE FROM {t.events} WHERE originator_id = %s AND originator_version = %s",
            (db_id(built, first), last),
        )
        assert kinds(verify_history(built.store, built.dossiers).discrepancies) == {"orphan-digest", "checkpoint"}
        raw(
            built,
            f"DELETE FROM {t.chain} WHERE originator_id = %s AND originator_version = %s",
            (db_id(built, first), last),
        )
        assert kinds(verify_history(built.store, built.dossiers).discrepancies) == {"checkpoint"}


def test_an_inserted_event_is_caught(database_url: str, complete_cerfa: dict[str, Any]) -> None:
    with populated(database_url, complete_cerfa) as (built, (first, _)):
        t = tables(built)
        topic, state = raw(
            built,
            f"SELECT topic, state FROM {t.events} WHERE originator_id = %s AND originator_version = 2",
            (db_id(built, first),),
        )[0]
        last = raw(
            built, f"SELECT MAX(originator_version) FROM {t.events} WHERE originator_id = %s", (db_id(built, first),)
        )[0][0]
        raw(
            built,
            f"INSERT INTO {t.events} (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)",
            (db_id(built, first), last + 1, topic, state),
        )
        found = verify_history(built.store, built.dossiers).discrepancies
        assert ("missing-digest", f"{first} v{last + 1}") in [(d.kind, d.subject) for d in found]


def test_a_whole_aggregate_deleted_is_caught_by_the_checkpoints(
    database_url: str, complete_cerfa: dict[str, Any]
) -> None:
    with populated(database_url, complete_cerfa) as (built, (_, second)):
        checkpoint_now(built.store, built.dossiers)
        t = tables(built)
        raw(built, f"DELETE FROM {t.events} WHERE originator_id = %s", (db_id(built, second),))
        raw(built, f"DELETE FROM {t.chain} WHERE originator_id = %s", (db_id(built, second),))
        found = verify_history(built.store, built.dossiers).discrepancies
        assert kinds(found) == {"checkpoint"}
        assert "removed, inserted or altered" in found[0].detail


def test_a_live_read_model_row_that_the_events_do_not_make_is_reported(
    database_url: str, complete_cerfa: dict[str, Any]
) -> None:
    with populated(database_url, complete_cerfa) as (built, (first, _)):
        raw(
            built,
            "UPDATE status_versions SET state = 'refused' WHERE contract_id = %s AND valid_to IS NULL",
            (str(first),),
        )
        raw(
            built,
            "UPDATE invoice_status_echeances SET invoiced = invoiced + 1 WHERE contract_id = %s AND numero = 1",
            (str(first),),
        )
        found = compare_read_models(built.store, built.dossiers)
        assert [(d.subject, d.detail) for d in found] == [
            (f"status_versions {first}", "state: live 'refused', rebuilt 'accepted'"),
            (f"invoice_status_echeances {first}, 1", "invoiced: live 40001, rebuilt 40000"),
        ]
        assert not built.store.columns("status_next_versions")  # the scratch tables are dropped


def test_the_rows_of_an_aggregate_changed_since_the_compared_position_are_not_compared(
    database_url: str, complete_cerfa: dict[str, Any]
) -> None:
    with populated(database_url, complete_cerfa) as (built, (first, _)):
        raw(
            built,
            "UPDATE status_versions SET state = 'refused' WHERE contract_id = %s AND valid_to IS NULL",
            (str(first),),
        )
        built.dossiers.forecast_npec(principal(CFA), first, Decimal("9000"))  # the live model has not seen it
        assert compare_read_models(built.store, built.dossiers) == []


def test_the_upgrade_chains_a_store_written_without_digests(database_url: str, complete_cerfa: dict[str, Any]) -> None:
    with populated(database_url, complete_cerfa) as (built, _):
        t = tables(built)
        raw(built, f"DELETE FROM {t.chain}")
        raw(built, f"DELETE FROM {t.checkpoints}")
        raw(built, "DELETE FROM convergence_schema WHERE version = 2")
        assert kinds(verify_history(built.store, built.dossiers).discrepancies) == {"missing-digest"}
        assert [step.version for step in upgrade_layout(built.store)] == [2]
        done = verify_history(built.store, built.dossiers)
        assert done.discrepancies == []
        assert done.checkpoints == 1
        events = raw(built, f"SELECT COUNT(*) FROM {t.events}")[0][0]
        assert raw(built, f"SELECT COUNT(*) FROM {t.chain}")[0][0] == events


def test_the_writers_take_the_checkpoints_by_themselves(
    database_url: str, complete_cerfa: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chain_store, "CHECKPOINT_EVERY", 5)
    with populated(database_url, complete_cerfa) as (built, _):
        t = tables(built)
        head = raw(built, f"SELECT MAX({t.position}) FROM {t.events}")[0][0]
        ranges = raw(built, f"SELECT first_position, last_position FROM {t.checkpoints} ORDER BY seq")
        assert ranges
        assert ranges[0][0] == 0
        assert all(b[0] == a[1] for a, b in pairwise(ranges))
        assert head - ranges[-1][1] < 5 + 4  # a write of several events may pass the mark
        assert verify_history(built.store, built.dossiers).discrepancies == []
