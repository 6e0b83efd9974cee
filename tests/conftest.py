from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.postgres import temporary_database, temporary_schema

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"

# Property-based tests: "dev" explores new examples at each run (and replays the failures it kept in .hypothesis/);
# "ci" (CI=true) runs the same examples every time, so a red build is reproducible; "thorough" for a long search.
# Never a deadline: the machine's load is no property of the code.
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True, database=None, print_blob=True)
settings.register_profile("thorough", max_examples=2000, deadline=None)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if IN_CI else "dev"))


def load_example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return document


@pytest.fixture
def complete_cerfa() -> dict[str, Any]:
    return load_example("cerfa-complete.json")


@pytest.fixture
def draft_cerfa() -> dict[str, Any]:
    return load_example("cerfa-draft.json")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    with temporary_database() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_database: str) -> Iterator[str]:
    with temporary_schema(postgres_database) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/convergence.db"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes this runs on both stores."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url
