"""What the in-process tests share: a container on the in-memory store and a client of its app; for the CLI's tests, a
SQLite database that the commands find through the environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from interfaces.api.app import create_app
from interfaces.bootstrap import Container
from tests.support import DATA_KEYS, SECRET_KEY, container


@pytest.fixture
def services() -> Iterator[Container]:
    built = container()
    yield built
    built.close()


@pytest.fixture
def client(services: Container) -> Iterator[TestClient]:
    with TestClient(create_app(services), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The SQLite file a `convergence` command run in-process uses (its settings read from the environment)."""
    path = tmp_path / "convergence.db"
    monkeypatch.chdir(tmp_path)  # no .env of the working tree is read
    for name, value in {
        "CONVERGENCE_DATABASE_URL": f"sqlite:///{path}",
        "CONVERGENCE_SECRET_KEY": SECRET_KEY,
        "CONVERGENCE_DATA_KEYS": DATA_KEYS,
        "CONVERGENCE_SANDBOX": "off",
        "CONVERGENCE_WORKER_IN_SERVE": "false",
    }.items():
        monkeypatch.setenv(name, value)
    return path
