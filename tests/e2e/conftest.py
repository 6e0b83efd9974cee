from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.service import Service


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[Service]:
    running = Service(database_url, tmp_path, env={"CONVERGENCE_WORKER_IN_SERVE": "false"})
    running.start()
    try:
        yield running
    finally:
        running.stop()
