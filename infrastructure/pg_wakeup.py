"""Wakes the read-model tasks as soon as PostgreSQL announces new events (the event store NOTIFYs on insert).

Polling stays the fallback, so a lost notification only delays an update until the next round. The listening
connection is supervised: if it fails or goes quiet while the log moves on, it is closed and opened again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg

from infrastructure.event_store import postgres_env

log = logging.getLogger("convergence.wakeup")
APPLICATION_NAME = "convergence-wakeup"  # how the listening connection shows in pg_stat_activity
QUIET_SECONDS = 5.0  # a listening round lasts this long at most, then the connection is checked


class LogWakeup:
    def __init__(self, database_url: str, channel: str, wake: Callable[[], None]) -> None:
        env = postgres_env(database_url)
        self._conninfo = psycopg.conninfo.make_conninfo(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
            connect_timeout="10",
            application_name=APPLICATION_NAME,
        )
        self._channel = channel
        self._wake = wake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-wakeup", daemon=True)
        self.notifications = 0
        self.restarts = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=QUIET_SECONDS + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except psycopg.Error as error:
                self.restarts += 1
                log.warning("listening to %s failed (%s); listening again in 1 s", self._channel, error)
                self._stop.wait(1.0)

    def _listen(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(self._channel)))
            while not self._stop.is_set():
                for _ in conn.notifies(timeout=QUIET_SECONDS, stop_after=1):
                    self.notifications += 1
                    self._wake()
                conn.execute("SELECT 1")  # a dead connection raises here, and is opened again
