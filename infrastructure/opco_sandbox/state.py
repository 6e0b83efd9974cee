"""Storage of the sandbox, in memory or in a SQLite file: one interface, both thread-safe.

A SQLite file lets `convergence serve` keep its sandbox dossiers, keys and tokens across restarts (and share
them between workers). Statistics and fault settings are not stored: they belong to one process.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from domain.opcos import Opco
from infrastructure.opco_sandbox.records import AccessToken, ApiKey, StoredDossier, blocks_of, numero_externe

LookupField = Literal["numeroInterne", "numeroExterne"]


class SandboxStore(Protocol):
    def add_key(self, key: ApiKey) -> None: ...
    def find_key(self, api_key: str) -> ApiKey | None: ...
    def revoke_key(self, api_key: str) -> bool: ...
    def add_token(self, token: AccessToken) -> None: ...
    def find_token(self, token: str) -> AccessToken | None: ...

    def add_dossier(
        self, opco: Opco, siren: str, numero_interne: str, cerfa: dict[str, Any], submitted_at: datetime
    ) -> StoredDossier | None:
        """Stores a dossier and numbers it; None when this CFA already sent this numeroInterne to this OPCO."""
        ...

    def find_dossier(self, opco: Opco, siren: str, field: LookupField, value: str) -> StoredDossier | None: ...

    def dossiers(
        self, opco: Opco | None = None, siren: str | None = None, offset: int = 0, limit: int | None = None
    ) -> list[StoredDossier]:
        """In order of submission."""
        ...

    def count(self, opco: Opco, siren: str) -> int: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, ApiKey] = {}
        self._tokens: dict[str, AccessToken] = {}
        self._dossiers: list[StoredDossier] = []
        self._sequences: dict[Opco, int] = {}

    def add_key(self, key: ApiKey) -> None:
        with self._lock:
            self._keys[key.api_key] = key

    def find_key(self, api_key: str) -> ApiKey | None:
        with self._lock:
            return self._keys.get(api_key)

    def revoke_key(self, api_key: str) -> bool:
        with self._lock:
            return self._keys.pop(api_key, None) is not None

    def add_token(self, token: AccessToken) -> None:
        with self._lock:
            self._tokens[token.token] = token

    def find_token(self, token: str) -> AccessToken | None:
        with self._lock:
            return self._tokens.get(token)

    def add_dossier(
        self, opco: Opco, siren: str, numero_interne: str, cerfa: dict[str, Any], submitted_at: datetime
    ) -> StoredDossier | None:
        with self._lock:
            if any(_same(d, opco, siren) and d.numero_interne == numero_interne for d in self._dossiers):
                return None
            sequence = self._sequences.get(opco, 0) + 1
            self._sequences[opco] = sequence
            external = numero_externe(opco, submitted_at, sequence)
            dossier = StoredDossier(opco, siren, numero_interne, external, sequence, submitted_at, blocks_of(cerfa))
            self._dossiers.append(dossier)
            return dossier

    def find_dossier(self, opco: Opco, siren: str, field: LookupField, value: str) -> StoredDossier | None:
        def wanted(dossier: StoredDossier) -> bool:
            own = dossier.numero_interne if field == "numeroInterne" else dossier.numero_externe
            return _same(dossier, opco, siren) and own == value

        with self._lock:
            return next((dossier for dossier in self._dossiers if wanted(dossier)), None)

    def dossiers(
        self, opco: Opco | None = None, siren: str | None = None, offset: int = 0, limit: int | None = None
    ) -> list[StoredDossier]:
        with self._lock:
            selected = [
                d for d in self._dossiers if (opco is None or d.opco == opco) and (siren is None or d.siren == siren)
            ]
        return selected[offset:] if limit is None else selected[offset : offset + limit]

    def count(self, opco: Opco, siren: str) -> int:
        with self._lock:
            return sum(1 for dossier in self._dossiers if _same(dossier, opco, siren))

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
            self._tokens.clear()
            self._dossiers.clear()
            self._sequences.clear()

    def close(self) -> None:
        return None


def _same(dossier: StoredDossier, opco: Opco, siren: str) -> bool:
    return dossier.opco == opco and dossier.siren == siren


SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (api_key TEXT PRIMARY KEY, opco TEXT NOT NULL, siren TEXT NOT NULL,
    expires_on TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, opco TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dossiers (id INTEGER PRIMARY KEY AUTOINCREMENT, opco TEXT NOT NULL,
    siren TEXT NOT NULL, numero_interne TEXT NOT NULL, numero_externe TEXT NOT NULL, sequence INTEGER NOT NULL,
    submitted_at TEXT NOT NULL, cerfa TEXT NOT NULL, UNIQUE (opco, siren, numero_interne));
CREATE INDEX IF NOT EXISTS dossiers_by_externe ON dossiers (opco, siren, numero_externe);
"""
DOSSIER_COLUMNS = "opco, siren, numero_interne, numero_externe, sequence, submitted_at, cerfa"


class SqliteStore:
    """One connection guarded by a lock in this process; BEGIN IMMEDIATE orders the writers of other processes."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def add_key(self, key: ApiKey) -> None:
        row = (key.api_key, key.opco.value, key.siren, key.expires_on.isoformat())
        self._write("INSERT OR REPLACE INTO keys VALUES (?, ?, ?, ?)", row)

    def find_key(self, api_key: str) -> ApiKey | None:
        row = self._one("SELECT api_key, opco, siren, expires_on FROM keys WHERE api_key = ?", (api_key,))
        return None if row is None else ApiKey(row[0], Opco(row[1]), row[2], date.fromisoformat(row[3]))

    def revoke_key(self, api_key: str) -> bool:
        return self._write("DELETE FROM keys WHERE api_key = ?", (api_key,)) > 0

    def add_token(self, token: AccessToken) -> None:
        row = (token.token, token.opco.value, token.expires_at.isoformat())
        self._write("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", row)

    def find_token(self, token: str) -> AccessToken | None:
        row = self._one("SELECT token, opco, expires_at FROM tokens WHERE token = ?", (token,))
        return None if row is None else AccessToken(row[0], Opco(row[1]), datetime.fromisoformat(row[2]))

    def add_dossier(
        self, opco: Opco, siren: str, numero_interne: str, cerfa: dict[str, Any], submitted_at: datetime
    ) -> StoredDossier | None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                dossier = self._insert(opco, siren, numero_interne, blocks_of(cerfa), submitted_at)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return dossier

    def _insert(
        self, opco: Opco, siren: str, numero_interne: str, cerfa: dict[str, Any], submitted_at: datetime
    ) -> StoredDossier | None:
        taken = "SELECT 1 FROM dossiers WHERE opco = ? AND siren = ? AND numero_interne = ?"
        if self._db.execute(taken, (opco.value, siren, numero_interne)).fetchone():
            return None
        last = self._db.execute("SELECT MAX(sequence) FROM dossiers WHERE opco = ?", (opco.value,)).fetchone()[0]
        sequence = (last or 0) + 1
        dossier = StoredDossier(
            opco, siren, numero_interne, numero_externe(opco, submitted_at, sequence), sequence, submitted_at, cerfa
        )
        self._db.execute(f"INSERT INTO dossiers ({DOSSIER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", _row(dossier))
        return dossier

    def find_dossier(self, opco: Opco, siren: str, field: LookupField, value: str) -> StoredDossier | None:
        column = "numero_interne" if field == "numeroInterne" else "numero_externe"
        query = f"SELECT {DOSSIER_COLUMNS} FROM dossiers WHERE opco = ? AND siren = ? AND {column} = ?"
        row = self._one(query, (opco.value, siren, value))
        return None if row is None else _dossier(row)

    def dossiers(
        self, opco: Opco | None = None, siren: str | None = None, offset: int = 0, limit: int | None = None
    ) -> list[StoredDossier]:
        query = (
            f"SELECT {DOSSIER_COLUMNS} FROM dossiers WHERE (:opco IS NULL OR opco = :opco)"
            " AND (:siren IS NULL OR siren = :siren) ORDER BY id LIMIT :limit OFFSET :offset"
        )
        params = {"opco": opco.value if opco else None, "siren": siren, "limit": -1 if limit is None else limit}
        with self._lock:
            rows = self._db.execute(query, {**params, "offset": offset}).fetchall()
        return [_dossier(row) for row in rows]

    def count(self, opco: Opco, siren: str) -> int:
        row = self._one("SELECT COUNT(*) FROM dossiers WHERE opco = ? AND siren = ?", (opco.value, siren))
        return int(row[0]) if row else 0

    def clear(self) -> None:
        with self._lock:
            self._db.executescript("BEGIN; DELETE FROM keys; DELETE FROM tokens; DELETE FROM dossiers; COMMIT;")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, query: str, params: tuple[Any, ...]) -> int:
        with self._lock:
            return self._db.execute(query, params).rowcount

    def _one(self, query: str, params: tuple[Any, ...]) -> Any:
        with self._lock:
            return self._db.execute(query, params).fetchone()


def _row(dossier: StoredDossier) -> tuple[Any, ...]:
    cerfa = json.dumps(dossier.cerfa, ensure_ascii=False)
    return (
        dossier.opco.value,
        dossier.siren,
        dossier.numero_interne,
        dossier.numero_externe,
        dossier.sequence,
        dossier.submitted_at.isoformat(),
        cerfa,
    )


def _dossier(row: tuple[Any, ...]) -> StoredDossier:
    opco, siren, interne, externe, sequence, submitted_at, cerfa = row
    return StoredDossier(
        Opco(opco), siren, interne, externe, sequence, datetime.fromisoformat(submitted_at), json.loads(cerfa)
    )


def open_store(path: Path | None) -> SandboxStore:
    return MemoryStore() if path is None else SqliteStore(path)
