"""Measuring in a fresh process, so that each measurement's peak memory is its own: the child prints one JSON object
as its last line of output; the peaks are read from getrusage (kilobytes on Linux)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from typing import Any


def in_fresh_process(module: str, *args: str) -> dict[str, Any]:
    """Run `python -m module args…` and return the JSON object it printed last."""
    done = subprocess.run([sys.executable, "-m", module, *args], check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def rss_peak_mb() -> float:
    """This process's peak resident memory, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_rss_peak_mb() -> float:
    """The peak resident memory of the largest child process this one has waited for (pg_dump…), MiB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
