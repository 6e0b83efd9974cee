"""The audit file of one aggregate: its stored events (as stored, and read), its state after each, their digests,
the Merkle path of each to a checkpoint and the checkpoints from there to the latest. `check_audit_file` verifies
one with nothing but this module (and application/audit/chain.py): no service, no database."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from application.audit.chain import GENESIS, Checkpoint, checkpoint_digest, event_digest, root_from_proof
from application.audit.plain import aggregate_state, event_data, plain

FORMAT = "convergence-audit-file/1"


@dataclass(frozen=True, slots=True)
class StoredStep:
    version: int
    topic: str
    state: bytes
    position: int
    digest: bytes | None


@dataclass(frozen=True, slots=True)
class Inclusion:
    """Where an event's digest sits among the leaves of a checkpoint's Merkle tree."""

    checkpoint: int
    index: int
    size: int
    path: Sequence[bytes]


def build_audit_file(
    ident: UUID,
    steps: Sequence[StoredStep],
    mapper: Mapper[UUID],
    inclusions: Mapping[int, Inclusion],
    checkpoints: Sequence[Checkpoint],
    generated_at: str,
) -> dict[str, Any]:
    events, aggregate = [], None
    for step in steps:
        event: Any = mapper.to_domain_event(StoredEvent(ident, step.version, step.topic, step.state))
        aggregate = event.mutate(aggregate)
        included = inclusions.get(step.version)
        events.append(
            {
                "version": step.version,
                "topic": step.topic,
                "type": type(event).__qualname__,
                "timestamp": plain(event.timestamp),
                "position": step.position,
                "stateStored": base64.b64encode(step.state).decode(),
                "data": event_data(event),
                "stateAfter": aggregate_state(aggregate) if aggregate is not None else None,
                "digest": step.digest.hex() if step.digest is not None else None,
                "inclusion": None
                if included is None
                else {
                    "checkpoint": included.checkpoint,
                    "index": included.index,
                    "size": included.size,
                    "path": [h.hex() for h in included.path],
                },
            }
        )
    return {
        "format": FORMAT,
        "aggregate": {"id": str(ident), "type": type(aggregate).__name__ if aggregate is not None else None},
        "generatedAt": generated_at,
        "events": events,
        "checkpoints": [c.as_json() for c in checkpoints],
        "latestCheckpoint": checkpoints[-1].as_json() if checkpoints else None,
        "howToCheck": "convergence audit check FILE, or by hand: docs/audit.md",
    }


@dataclass
class FileCheck:
    events: int = 0
    covered: int = 0  # events whose digest leads to a checkpoint
    latest: str | None = None  # the latest checkpoint's digest, to compare with the one anchored elsewhere
    problems: list[str] = field(default_factory=list)


def check_audit_file(document: Mapping[str, Any], anchor: str | None = None) -> FileCheck:
    done = FileCheck()
    try:
        ident = UUID(str(document["aggregate"]["id"]))
        checkpoints = {int(c["seq"]): c for c in document["checkpoints"]}
        _check_checkpoints(document["checkpoints"], done)
        _check_events(ident, document["events"], checkpoints, done)
    except (KeyError, TypeError, ValueError) as malformed:
        done.problems.append(f"not an audit file of this format ({type(malformed).__name__}: {malformed})")
        return done
    if anchor is not None and anchor.lower() not in {str(c["digest"]).lower() for c in checkpoints.values()}:
        done.problems.append(f"the anchored checkpoint {anchor} is not among the file's checkpoints")
    return done


def _check_events(
    ident: UUID, events: Sequence[Mapping[str, Any]], checkpoints: Mapping[int, Any], done: FileCheck
) -> None:
    previous = GENESIS
    for expected_version, event in enumerate(events, start=1):
        version = int(event["version"])
        if version != expected_version:
            done.problems.append(f"version {version} where {expected_version} was expected: an event is missing")
        state = base64.b64decode(event["stateStored"], validate=True)
        digest = event_digest(previous, ident, version, str(event["topic"]), state)
        if event["digest"] is None or bytes.fromhex(event["digest"]) != digest:
            done.problems.append(f"version {version}: the stored event does not match its digest")
        previous = bytes.fromhex(event["digest"]) if event["digest"] else digest
        done.events += 1
        if event.get("inclusion"):
            _check_inclusion(version, previous, event["inclusion"], checkpoints, done)


def _check_inclusion(
    version: int, digest: bytes, inclusion: Mapping[str, Any], checkpoints: Mapping[int, Any], done: FileCheck
) -> None:
    checkpoint = checkpoints.get(int(inclusion["checkpoint"]))
    if checkpoint is None:
        done.problems.append(f"version {version}: its checkpoint #{inclusion['checkpoint']} is not in the file")
        return
    path = [bytes.fromhex(h) for h in inclusion["path"]]
    size = int(inclusion["size"])
    try:
        root = root_from_proof(digest, int(inclusion["index"]), size, path)
    except ValueError:  # a path of the wrong length for the tree
        root = None
    if size != int(checkpoint["count"]) or root != bytes.fromhex(checkpoint["root"]):
        done.problems.append(f"version {version}: its digest does not lead to checkpoint #{checkpoint['seq']}'s root")
        return
    done.covered += 1


def _check_checkpoints(checkpoints: Sequence[Mapping[str, Any]], done: FileCheck) -> None:
    before: Mapping[str, Any] | None = None
    for c in checkpoints:
        previous, root = bytes.fromhex(c["previous"]), bytes.fromhex(c["root"])
        first, last, count = int(c["first"]), int(c["last"]), int(c["count"])
        if checkpoint_digest(previous, first, last, count, root).hex() != c["digest"]:
            done.problems.append(f"checkpoint #{c['seq']}: its digest is not the hash of what it records")
        if before is not None and (int(c["seq"]) != int(before["seq"]) + 1 or c["previous"] != before["digest"]):
            done.problems.append(f"checkpoint #{c['seq']} is not chained to #{before['seq']}")
        before = c
    done.latest = str(before["digest"]) if before is not None else None
