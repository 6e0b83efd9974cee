"""Builders shared by the test layers."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from application.access.access import Principal, Role
from application.dossiers import Dossiers
from infrastructure.reference_data import idcc_routing
from infrastructure.settings import Settings
from infrastructure.store.event_store import eventsourcing_env
from interfaces.bootstrap import Container, bootstrap

OPERATOR_TOKEN = "operator-test-token"
MANDATE = {
    "signedOn": "2026-06-15",
    "signatory": {"nom": "Martin", "prenom": "Claire", "qualite": "Gérante"},
}


class FixedClock:
    def __init__(self, today: date = date(2026, 11, 27)) -> None:
        self._today = today

    def now(self) -> datetime:
        return datetime.combine(self._today, datetime.min.time(), UTC)

    def today(self) -> date:
        return self._today


SECRET_KEY = "0aVsQ3ZpLkS9m2uVxkq5YbGvJ3dXb7sS1hQ7dC8xZ0E="  # a Fernet key for tests only
DATA_KEYS = "t1:3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="  # the master keyring of the tests only


def settings(url: str = "memory://", **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "secret_key": SECRET_KEY,
        "data_keys": DATA_KEYS,
        "sandbox": "off",
        "worker_in_serve": False,
        "rate_limit_per_second": 0,  # the rate limits have their own tests (test_api_rate_limits.py)
        "auth_failures_per_minute": 0,
        **overrides,
    }
    return Settings(database_url=url, admin_token=OPERATOR_TOKEN, _env_file=None, **values)


def container(url: str = "memory://") -> Container:
    return bootstrap(settings(url))


def dossiers(url: str = "memory://", today: date = date(2026, 11, 27)) -> Dossiers:
    return Dossiers(eventsourcing_env(settings(url)), routing=idcc_routing(), clock=FixedClock(today))


def principal(cfa_siret: str, role: Role = Role.FRONTEND, actor: str = "token:test") -> Principal:
    return Principal(actor=actor, role=role, cfa_siret=cfa_siret)


def with_changes(document: dict[str, Any], **blocks: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a Cerfa document with some fields of some blocks replaced (None removes a field)."""
    result = copy.deepcopy(document)
    for block, fields in blocks.items():
        target = result.setdefault(block, {})
        for key, value in fields.items():
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value
    return result


def raw_store(database: Path) -> bytes:
    """Every byte SQLite wrote for `database`: the file, its WAL and shared memory."""
    return b"".join(path.read_bytes() for path in database.parent.glob(f"{database.name}*"))


def opened(app: Dossiers, state: bytes) -> bytes:
    """A stored state as the master keyring opens it (what the store holds is encrypted)."""
    cipher = app.mapper.cipher
    return state if cipher is None else cipher.decrypt(state)
