"""What the API's in-process tests share: a container on the in-memory store, and a client of its app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from interfaces.api.app import create_app
from interfaces.bootstrap import Container
from tests.support import container


@pytest.fixture
def services() -> Iterator[Container]:
    built = container()
    yield built
    built.close()


@pytest.fixture
def client(services: Container) -> Iterator[TestClient]:
    with TestClient(create_app(services), raise_server_exceptions=False) as test_client:
        yield test_client
