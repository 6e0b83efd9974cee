"""The integrity chain's computation: the event digest as docs/audit.md computes it by hand, Merkle paths, and the
replay-and-chain check of a history (gaps, alterations, invariants broken, events that do not replay)."""

from __future__ import annotations

import hashlib
import struct
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.audit.chain import GENESIS, event_digest, merkle_proof, merkle_root, root_from_proof
from application.audit.history_check import HistoryCheck, StoredRow
from application.dossiers import Dossiers
from tests.invoicing import accepted_contract
from tests.support import dossiers, principal

CFA = "79852413800012"


def test_the_event_digest_is_the_documented_hash() -> None:
    ident, state = UUID("2f0621ad-3e78-5f26-afe6-01cc2ed896f2"), b'{"a": 1}'
    fields = [str(ident).encode(), b"7", b"domain.contracts.contract:Contract.Drafted", state]
    by_hand = hashlib.sha256(bytes(32) + b"".join(struct.pack(">I", len(f)) + f for f in fields)).digest()
    assert event_digest(GENESIS, ident, 7, "domain.contracts.contract:Contract.Drafted", state) == by_hand
    assert event_digest(GENESIS, ident.hex, 7, "domain.contracts.contract:Contract.Drafted", state) == by_hand


@pytest.mark.parametrize("size", range(1, 18))
def test_every_leaf_s_path_leads_to_the_root_and_no_other_leaf_s(size: int) -> None:
    digests = [hashlib.sha256(bytes([n])).digest() for n in range(size)]
    root = merkle_root(digests)
    for index, digest in enumerate(digests):
        proof = merkle_proof(digests, index)
        assert root_from_proof(digest, index, size, proof) == root
        assert root_from_proof(hashlib.sha256(b"forged").digest(), index, size, proof) != root
        if size > 1:
            assert leads_to(digest, (index + 1) % size, size, proof) != root


def leads_to(digest: bytes, index: int, size: int, proof: list[bytes]) -> bytes | None:
    try:
        return root_from_proof(digest, index, size, proof)
    except ValueError:  # a path as long as another leaf's would be
        return None


def test_the_root_is_rfc_6962_s() -> None:
    a, b, c = (hashlib.sha256(x).digest() for x in (b"a", b"b", b"c"))

    def leaf(d: bytes) -> bytes:
        return hashlib.sha256(b"\x00" + d).digest()

    def node(x: bytes, y: bytes) -> bytes:
        return hashlib.sha256(b"\x01" + x + y).digest()

    assert merkle_root([a, b, c]) == node(node(leaf(a), leaf(b)), leaf(c))


def history(app: Dossiers, ident: UUID) -> list[StoredRow]:
    """The aggregate's stored events as the store gives them to verify, each with its digest."""
    rows: list[StoredRow] = []
    previous = GENESIS
    for position, stored in enumerate(app.recorder.select_events(ident), start=1):
        previous = event_digest(previous, ident, stored.originator_version, stored.topic, stored.state)
        rows.append((ident, stored.originator_version, stored.topic, stored.state, position, previous))
    return rows


def rechained(rows: list[Any]) -> list[StoredRow]:
    """The rows with their digests computed again, as one who rewrites the chain with the events."""
    out: list[StoredRow] = []
    previous = GENESIS
    for ident, version, topic, state, position, _ in rows:
        previous = event_digest(previous, ident, version, topic, state)
        out.append((ident, version, topic, state, position, previous))
    return out


@pytest.fixture
def accepted(complete_cerfa: dict[str, Any]) -> tuple[Dossiers, list[StoredRow]]:
    app = dossiers()
    contract = accepted_contract(app, principal(CFA), complete_cerfa)
    return app, history(app, contract.id)


def check(app: Dossiers, rows: list[StoredRow]) -> list[tuple[str, str]]:
    done = HistoryCheck(app.mapper)
    done.feed(rows)
    return [(d.kind, d.subject) for d in done.finish()]


def test_a_history_as_written_passes(accepted: tuple[Dossiers, list[StoredRow]]) -> None:
    app, rows = accepted
    done = HistoryCheck(app.mapper)
    done.feed(rows[:3])
    done.feed(rows[3:])  # an aggregate across two pages
    assert done.finish() == []
    assert done.aggregates == {"Contract": 1}
    assert done.events == len(rows)


def test_altered_missing_and_undigested_events_are_named(accepted: tuple[Dossiers, list[StoredRow]]) -> None:
    app, rows = accepted
    ident = rows[0][0]
    altered = [*rows]
    state = bytes(rows[1][3])
    altered[1] = (*rows[1][:3], state[:-1] + bytes([state[-1] ^ 1]), *rows[1][4:])  # one bit (the state is encrypted)
    # its digest no longer matches, and (encrypted, authenticated) it no longer opens
    assert set(check(app, altered)) == {("digest", f"{ident} v2"), ("replay", f"{ident} v2")}
    assert ("gap", f"{ident} v4") in check(app, [*rows[:2], *rows[3:]])
    assert check(app, [*rows[:-1], (*rows[-1][:5], None)]) == [("missing-digest", f"{ident} v{len(rows)}")]


def test_an_event_that_breaks_an_invariant_is_named_even_with_its_chain_rewritten(
    accepted: tuple[Dossiers, list[StoredRow]],
) -> None:
    app, rows = accepted
    ident = rows[0][0]
    mandate = next(row for row in rows if row[2].endswith("MandateRecorded"))
    back_to_draft = (ident, len(rows) + 1, mandate[2], mandate[3], len(rows) + 1, None)
    found = check(app, rechained([*rows, back_to_draft]))
    assert found == [("invariant", f"{ident} v{len(rows) + 1}")]


def test_an_event_that_does_not_replay_is_named_and_the_chain_still_checked(
    accepted: tuple[Dossiers, list[StoredRow]],
) -> None:
    app, rows = accepted
    ident = rows[0][0]
    broken = [*rows]
    broken[2] = (*rows[2][:3], b"not json", *rows[2][4:])
    assert check(app, rechained(broken)) == [("replay", f"{ident} v3")]
    other = uuid4()
    assert check(app, [(other, 1, rows[0][2], rows[0][3], 1, None)])[0] == ("missing-digest", f"{other} v1")


def test_the_in_memory_store_has_no_audit_file_to_give(
    client: Any, services: Any, complete_cerfa: dict[str, Any]
) -> None:
    from application.access.access import OPERATOR, Role

    contract = accepted_contract(services.dossiers, principal(CFA), complete_cerfa)
    issued = services.dossiers.issue_token(OPERATOR, cfa_siret=CFA, role=Role.AUDITOR, name="auditor")
    answer = client.get(f"/contracts/{contract.id}/audit", headers={"Authorization": f"Bearer {issued.secret}"})
    assert answer.status_code == 501
    assert answer.json()["detail"] == "the in-memory store keeps no integrity chain: no audit file"
