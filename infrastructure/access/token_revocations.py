"""Carries token revocations to the caches of checked tokens (the API's TokenCache, interfaces/api/access/auth.py).

In this process at once: `announce` tells every subscriber before it returns. On PostgreSQL, in the other processes
too: `announce` NOTIFYs a channel of the database right after the revocation's commit, and each process serving the
API LISTENs to it. A notification sent while a process's listening connection is down is lost, so its subscribers
are told to forget every token when that connection fails and again once it listens anew. Whatever happens to the
notifications, a cache trusts no entry longer than CONVERGENCE_TOKEN_CACHE_SECONDS after the read that made it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from uuid import UUID

import psycopg

from infrastructure.store.event_store import postgres_env
from infrastructure.store.pg_wakeup import PgListener
from infrastructure.store.sql_store import SqlStore

log = logging.getLogger("convergence.auth")
APPLICATION_NAME = "convergence-revocations"  # how the listening connection shows in pg_stat_activity
CHANNEL_PREFIX = "convergence_revoked_"
QUIET_SECONDS = 1.0  # the listening connection is checked this often: a dead one is noticed (and forgotten) soon

Forget = Callable[[UUID | None], None]
"""Told of a token no longer to trust, or of None: trust none of the tokens checked so far."""


class Revocations:
    """This process's caches only: other processes stop accepting a revoked token within their cache time."""

    def __init__(self) -> None:
        self._subscribers: list[Forget] = []
        self._lock = threading.Lock()

    def subscribe(self, forget: Forget) -> Callable[[], None]:
        """Tell `forget` of every revocation from now on; call the function returned to stop."""
        with self._lock:
            self._subscribers.append(forget)
        self._subscribed()
        return lambda: self._unsubscribe(forget)

    def announce(self, token_id: UUID) -> None:
        self._tell(token_id)

    def close(self) -> None:
        """Release what listening holds."""

    def _subscribed(self) -> None:
        """A subscriber came."""

    def _unsubscribe(self, forget: Forget) -> None:
        with self._lock:
            if forget in self._subscribers:
                self._subscribers.remove(forget)

    def _tell(self, token_id: UUID | None) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for forget in subscribers:
            forget(token_id)


class PostgresRevocations(Revocations):
    """Every process on the database: NOTIFY on announcing, LISTEN (from the first subscriber on) to hear."""

    def __init__(self, database_url: str, store: SqlStore) -> None:
        super().__init__()
        self.channel = revocation_channel(database_url)
        self._store = store
        self._started = False
        self.listener = PgListener(
            database_url,
            self.channel,
            self._notified,
            listening=self._forget_all,
            lost=self._forget_all,
            application_name=APPLICATION_NAME,
            quiet_seconds=QUIET_SECONDS,
        )

    def announce(self, token_id: UUID) -> None:
        super().announce(token_id)
        try:
            with self._store.transaction() as tx:
                tx.execute("SELECT pg_notify(%s, %s)", (self.channel, str(token_id)))
        except psycopg.Error as error:
            log.warning(
                "token %s is revoked, but the other processes could not be told (%s): they refuse it within "
                "their cache time",
                token_id,
                error,
            )

    def close(self) -> None:
        self.listener.stop()

    def _subscribed(self) -> None:
        with self._lock:
            start, self._started = not self._started, True
        if start:
            self.listener.start()

    def _notified(self, payload: str) -> None:
        try:
            token_id: UUID | None = UUID(payload)
        except ValueError:  # not a token id: trust nothing rather than guess
            token_id = None
        self._tell(token_id)

    def _forget_all(self) -> None:
        self._tell(None)


def revocation_channel(database_url: str) -> str:
    """One channel per database and schema (a channel belongs to a database, and schemas may share one)."""
    schema = postgres_env(database_url).get("POSTGRES_SCHEMA", "public")
    channel = CHANNEL_PREFIX + schema
    if len(channel.encode()) > 63:  # PostgreSQL's longest name
        channel = CHANNEL_PREFIX + hashlib.sha256(schema.encode()).hexdigest()[:32]
    return channel


def revocations_for(database_url: str, store: SqlStore) -> Revocations:
    if database_url.startswith(("postgresql", "postgres")):
        return PostgresRevocations(database_url, store)
    return Revocations()
