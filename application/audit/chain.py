"""The integrity chain of the event store, as pure computation (docs/audit.md gives the same in a few lines of Python).

Each stored event's digest chains it to the previous event of its aggregate:

    digest_1 = SHA-256(GENESIS ‖ fields_1),   digest_v = SHA-256(digest_{v-1} ‖ fields_v)

where fields are the originator id (canonical UUID text), the version (decimal), the topic and the state AS STORED
(ciphertext where the store encrypts; erasing a key never rewrites a row, so the chain still verifies), each
preceded by its length as 4 bytes big-endian. Checkpoints chain the whole log: a Merkle root (RFC 6962: leaves
SHA-256(0x00 ‖ digest), nodes SHA-256(0x01 ‖ left ‖ right)) over the digests of the events in a range of log
positions, in log order, and

    checkpoint_k = SHA-256(checkpoint_{k-1} ‖ first ‖ last ‖ count ‖ root)

with first/last the range (first excluded, last included) and count as 8 bytes big-endian each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

GENESIS = bytes(32)


def id_field(originator_id: UUID | str) -> bytes:
    """The originator's field, length first: the same for every event of an aggregate (computed once for all)."""
    text = str(originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))).encode()
    return len(text).to_bytes(4, "big") + text


def event_fields(originator_id: UUID | str, version: int, topic: str, state: bytes) -> bytes:
    return id_field(originator_id) + _rest(version, topic, state)


def _rest(version: int, topic: str, state: bytes) -> bytes:
    number, name = str(version).encode(), topic.encode()
    return b"".join((
        len(number).to_bytes(4, "big"), number, len(name).to_bytes(4, "big"), name, len(state).to_bytes(4, "big"), state
    ))  # fmt: skip


def event_digest(previous: bytes, originator_id: UUID | str, version: int, topic: str, state: bytes) -> bytes:
    return chained_digest(previous, id_field(originator_id), version, topic, state)


def chained_digest(previous: bytes, id_bytes: bytes, version: int, topic: str, state: bytes) -> bytes:
    """event_digest with the originator's field already made (id_field): the verifier's loop."""
    return hashlib.sha256(previous + id_bytes + _rest(version, topic, state)).digest()


def leaf_hash(digest: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + digest).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two below n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def merkle_root(digests: Sequence[bytes]) -> bytes:
    """The root over the event digests given, in order; of none, the hash of nothing."""
    if not digests:
        return hashlib.sha256(b"").digest()
    level = [leaf_hash(d) for d in digests]
    return _root_of(level)


def _root_of(leaves: Sequence[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node(_root_of(leaves[:k]), _root_of(leaves[k:]))


def merkle_proof(digests: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of digests[index] (RFC 6962 §2.1.1), the sibling nearest the leaf first."""
    leaves = [leaf_hash(d) for d in digests]
    return _path(leaves, index)


def _path(leaves: Sequence[bytes], index: int) -> list[bytes]:
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*_path(leaves[:k], index), _root_of(leaves[k:])]
    return [*_path(leaves[k:], index - k), _root_of(leaves[:k])]


def root_from_proof(digest: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root that `proof` leads to from digests[index] in a tree of `size` leaves."""
    return _climb(leaf_hash(digest), index, size, list(proof))


def _climb(hashed: bytes, index: int, size: int, proof: list[bytes]) -> bytes:
    if size <= 1:
        if proof:
            raise ValueError("the audit path is longer than the tree is deep")
        return hashed
    if not proof:
        raise ValueError("the audit path is shorter than the tree is deep")
    k = _split(size)
    sibling = proof.pop()
    if index < k:
        return _node(_climb(hashed, index, k, proof), sibling)
    return _node(sibling, _climb(hashed, index - k, size - k, proof))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    first: int  # log position after which the range starts (excluded)
    last: int  # last log position of the range (included)
    count: int  # events in the range
    root: bytes
    previous: bytes
    digest: bytes
    created_at: str

    def as_json(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "first": self.first,
            "last": self.last,
            "count": self.count,
            "root": self.root.hex(),
            "previous": self.previous.hex(),
            "digest": self.digest.hex(),
            "createdAt": self.created_at,
        }


def checkpoint_digest(previous: bytes, first: int, last: int, count: int, root: bytes) -> bytes:
    numbers = b"".join(n.to_bytes(8, "big") for n in (first, last, count))
    return hashlib.sha256(previous + numbers + root).digest()
