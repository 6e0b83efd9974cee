"""The read models are woken by PostgreSQL's notifications, and the listener survives a lost connection."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg

from application.access.access import OPERATOR, Role
from application.dossiers import Dossiers
from infrastructure.store.pg_wakeup import APPLICATION_NAME, LogWakeup
from tests.postgres import ADMIN_URL
from tests.support import container


def record_an_event(dossiers: Dossiers, cerfa: dict[str, Any]) -> None:
    dossiers.issue_token(OPERATOR, cfa_siret=cerfa["organismeFormation"]["siret"], role=Role.AUDITOR, name="wake")


def test_new_events_wake_the_read_models_even_after_the_connection_dies(
    postgres_url: str, complete_cerfa: dict[str, Any]
) -> None:
    services = container(postgres_url)
    woken = threading.Event()
    channel = services.dossiers.recorder.channel_name  # type: ignore[attr-defined]
    wakeup = LogWakeup(postgres_url, channel, woken.set)
    wakeup.start()
    try:
        time.sleep(0.3)
        record_an_event(services.dossiers, complete_cerfa)
        assert woken.wait(5), "no wake-up after an event was recorded"

        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:  # kill the listening connection
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                (APPLICATION_NAME,),
            )
        deadline = time.monotonic() + 10
        while wakeup.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert wakeup.restarts >= 1
        time.sleep(1.5)  # it listens again
        woken.clear()
        record_an_event(services.dossiers, complete_cerfa)
        assert woken.wait(5), "no wake-up after the listener came back"
    finally:
        wakeup.stop()
        services.close()
