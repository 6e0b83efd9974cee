"""Listening to PostgreSQL's notifications: the read-model tasks are woken as soon as the event store NOTIFYs on
insert, and the caches of checked tokens hear of revocations (`infrastructure/access/token_revocations.py`).

The listening connection is supervised: if it fails or goes quiet while the log moves on, it is closed and opened
again. A notification sent while no connection listens is lost: each user says what it does about that (`listening`
is called each time a connection starts listening, `lost` each time one fails).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg

from infrastructure.store.event_store import postgres_env

log = logging.getLogger("convergence.wakeup")
APPLICATION_NAME = "convergence-wakeup"  # how the listening connection shows in pg_stat_activity
QUIET_SECONDS = 5.0  # a listening round lasts this long at most, then the connection is checked (and stop() waits)


def _nothing() -> None:
    pass


class PgListener:
    """Calls `notified(payload)` for each notification on `channel`, from a thread of its own."""

    def __init__(
        self,
        database_url: str,
        channel: str,
        notified: Callable[[str], None],
        *,
        listening: Callable[[], None] = _nothing,
        lost: Callable[[], None] = _nothing,
        application_name: str = APPLICATION_NAME,
        quiet_seconds: float = QUIET_SECONDS,
    ) -> None:
        env = postgres_env(database_url)
        self._conninfo = psycopg.conninfo.make_conninfo(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
            connect_timeout="10",
            application_name=application_name,
        )
        self._channel = channel
        self._notified = notified
        self._listening = listening
        self._lost = lost
        self._quiet = quiet_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=application_name, daemon=True)
        self.notifications = 0
        self.restarts = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._quiet + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except psycopg.Error as error:
                self.restarts += 1
                self._lost()
                log.warning("listening to %s failed (%s); listening again in 1 s", self._channel, error)
                self._stop.wait(1.0)

    def _listen(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(self._channel)))
            self._listening()
            while not self._stop.is_set():
                for notify in conn.notifies(timeout=self._quiet, stop_after=1):
                    self.notifications += 1
                    self._notified(notify.payload)
                conn.execute("SELECT 1")  # a dead connection raises here, and is opened again


class LogWakeup(PgListener):
    """Wakes the read models on each new event (polling stays their fallback, so a lost notification only delays
    an update until the next round)."""

    def __init__(self, database_url: str, channel: str, wake: Callable[[], None]) -> None:
        super().__init__(database_url, channel, lambda _payload: wake())
