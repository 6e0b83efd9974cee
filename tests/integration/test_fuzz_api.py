"""A bounded fuzzing of the whole API from its OpenAPI description, with and without valid tokens and across two
CFAs (tests/fuzzing.py says what is checked); a longer run: `python3 dev.py run python -m benchmarks.fuzz`."""

from __future__ import annotations

import os
from typing import Any

from tests.fuzzing import fuzzing

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))  # per operation and generation mode, each sent three ways


def test_no_request_fails_the_service_or_leaks_another_cfas_data(
    database_url: str, complete_cerfa: dict[str, Any]
) -> None:
    with fuzzing(database_url, complete_cerfa) as run:
        findings = run.run(examples=EXAMPLES, cross_examples=3)
        assert run.calls > 500
    assert not findings, "\n".join(str(f) for f in findings)
