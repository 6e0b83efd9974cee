"""Not a benchmark: the long fuzzing run of the whole API (tests/fuzzing.py): as many examples per operation as
asked, on SQLite or PostgreSQL; prints every finding and exits 1 if there is any.

    python3 dev.py run python -m benchmarks.fuzz --examples 200
    python3 dev.py run python -m benchmarks.fuzz --examples 50 --database-url postgresql://postgres@127.0.0.1/fuzz
    python3 dev.py run python -m benchmarks.fuzz --only 'invoices'     # the operations whose label matches
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from tests.fuzzing import fuzzing, matching

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=100, help="per operation and generation mode")
    parser.add_argument("--cross-examples", type=int, default=20, help="per operation, with another CFA's ids")
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--only", help="a regular expression on the operation's label, e.g. 'POST /invoices'")
    arguments = parser.parse_args()
    cerfa = json.loads((EXAMPLES / "cerfa-complete.json").read_text(encoding="utf-8"))
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as directory:
        url = arguments.database_url or f"sqlite:///{directory}/fuzz.db"
        with fuzzing(url, cerfa) as run:
            findings = run.run(arguments.examples, arguments.cross_examples, matching(arguments.only))
            calls, statuses = run.calls, run.statuses
    for finding in findings:
        print(finding)
    print("answers to the CFA's own token, by status:", dict(sorted(statuses.items())))
    print(f"{calls} requests in {time.monotonic() - started:.0f} s: {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
