"""Each data subject's key (a dossier's: application/privacy/sealing.py), in the `privacy_keys` table of the
store's own database, encrypted by the master keyring. Erasing a subject overwrites its key with a tombstone: what
it sealed can then be read by no one, with or without the master keys, while every event stays where it is.

A process keeps the keys it read for `cache_seconds` (2 s): a process that did not make an erasure may open the
erased dossier's fields for that long after it (the erasing process forgets the key at once)."""

from __future__ import annotations

import base64
import secrets
import threading
import time
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.privacy.sealing import PersonalDataErasedError
from infrastructure.privacy.keyring import Keyring
from infrastructure.store.sql_store import SqlStore, Transaction

TABLE = "privacy_keys"
DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " subject_id TEXT NOT NULL, wrapped TEXT, created_at DOUBLE PRECISION NOT NULL, erased_at DOUBLE PRECISION,"
    f" CONSTRAINT {TABLE}_pk PRIMARY KEY (subject_id))",
)
_ABSENT = b""  # cached: the subject has no key yet


class SqlDataKeys:
    def __init__(self, store: SqlStore, keyring: Keyring, cache_seconds: float = 2.0) -> None:
        self._store = store
        self._keyring = keyring
        self._cache_seconds = cache_seconds
        self._cache: dict[UUID, tuple[bytes | None, float]] = {}
        self._lock = threading.Lock()
        store.create(DDL)

    def seal(self, subject: UUID, plaintext: bytes) -> str:
        key = self._key(subject)
        if key is None:
            raise PersonalDataErasedError(subject)
        if key == _ABSENT:
            key = self._create(subject)
        nonce = secrets.token_bytes(12)
        return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext, subject.bytes)).decode()

    def open(self, subject: UUID, sealed: str) -> bytes | None:
        key = self._key(subject)
        if not key:  # destroyed (or never made: nothing it sealed can exist)
            return None
        raw = base64.b64decode(sealed)
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], subject.bytes)
        except InvalidTag:
            raise ValueError(f"the personal data of dossier {subject} do not open with its key: altered") from None

    def destroy(self, subject: UUID) -> bool:
        with self._store.transaction() as tx:
            changed = tx.execute(
                f"UPDATE {TABLE} SET wrapped = NULL, erased_at = %s WHERE subject_id = %s AND wrapped IS NOT NULL",
                (time.time(), str(subject)),
            )
            if not changed:
                tx.execute(
                    f"INSERT INTO {TABLE} (subject_id, wrapped, created_at, erased_at) VALUES (%s, NULL, %s, %s)"
                    " ON CONFLICT (subject_id) DO NOTHING",
                    (str(subject), time.time(), time.time()),
                )
        with self._lock:
            self._cache[subject] = (None, time.monotonic() + self._cache_seconds)
        return changed > 0

    def erased(self, subject: UUID) -> bool:
        return self._key(subject) is None

    def rewrap(self) -> int:
        """Encrypt every live data key under the keyring's current key (after a rotation, before an old master
        key is retired); the number rewritten. The events are not touched: their data keys are the same."""
        count = 0
        with self._store.transaction() as tx:
            rows = tx.query(f"SELECT subject_id, wrapped FROM {TABLE} WHERE wrapped IS NOT NULL")
            for subject, wrapped in rows:
                if self._keyring.key_id_of(base64.b64decode(wrapped)) != self._keyring.current_id:
                    key = self._unwrap(UUID(subject), wrapped)
                    tx.execute(
                        f"UPDATE {TABLE} SET wrapped = %s WHERE subject_id = %s",
                        (self._wrap(UUID(subject), key), subject),
                    )
                    count += 1
        return count

    def _key(self, subject: UUID) -> bytes | None:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(subject)
        if cached is not None and cached[1] > now and cached[0] != _ABSENT:
            return cached[0]
        with self._store.reading() as tx:
            key = self._read(tx, subject)
        with self._lock:
            self._cache[subject] = (key, now + self._cache_seconds)
            if len(self._cache) > 10_000:
                self._cache.clear()
        return key

    def _read(self, tx: Transaction, subject: UUID) -> bytes | None:
        rows = tx.query(f"SELECT wrapped FROM {TABLE} WHERE subject_id = %s", (str(subject),))
        if not rows:
            return _ABSENT
        return None if rows[0][0] is None else self._unwrap(subject, rows[0][0])

    def _create(self, subject: UUID) -> bytes:
        key = AESGCM.generate_key(bit_length=256)
        with self._store.transaction() as tx:
            tx.execute(
                f"INSERT INTO {TABLE} (subject_id, wrapped, created_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (subject_id) DO NOTHING",
                (str(subject), self._wrap(subject, key), time.time()),
            )
            stored = self._read(tx, subject)  # another process may have made it first
        if stored is None:
            raise PersonalDataErasedError(subject)
        with self._lock:
            self._cache[subject] = (stored, time.monotonic() + self._cache_seconds)
        return stored

    def _wrap(self, subject: UUID, key: bytes) -> str:
        return base64.b64encode(self._keyring.encrypt(subject.bytes + key)).decode()

    def _unwrap(self, subject: UUID, wrapped: str) -> bytes:
        plain = self._keyring.decrypt(base64.b64decode(wrapped))
        if plain[:16] != subject.bytes:
            raise ValueError(f"the data key stored for {subject} is another subject's")
        return plain[16:]
