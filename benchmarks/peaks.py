"""Measuring in a fresh process, so that each measurement's peak memory is its own: the child prints one JSON object
as its last line of output; the peaks are read from getrusage (kilobytes on Linux)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil


def in_fresh_process(module: str, *args: str) -> dict[str, Any]:
    """Run `python -m module args…` and return the JSON object it printed last."""
    done = subprocess.run([sys.executable, "-m", module, *args], check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"python -m {module} {' '.join(args)} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def rss_peak_mb() -> float:
    """This process's peak resident memory since its exec, MiB: its VmHWM. Not getrusage(RUSAGE_SELF), which also
    counts what its parent had at the fork (a benchmark that filled a store in-process would set every peak of
    its children at its own size)."""
    return _hwm_mb(os.getpid())


@contextmanager
def children_peak(every: float = 0.02) -> Iterator[list[float]]:
    """The largest peak resident memory (MiB) of this process's children (pg_dump…) while the block runs, read from
    each one's VmHWM meanwhile: getrusage(RUSAGE_CHILDREN) would report the parent's size, a child's high-water
    mark counting the pages it had from the fork until its exec."""
    peak = [0.0]
    done = threading.Event()

    def poll() -> None:
        while not done.wait(every):
            for process in psutil.Process().children(recursive=True):
                if _execed(process.pid):  # not yet: its VmHWM is still the forked copy of this process's
                    peak[0] = max(peak[0], _hwm_mb(process.pid))

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


def _execed(pid: int) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/exe") != os.readlink(f"/proc/{os.getpid()}/exe")
    except OSError:
        return False


def _hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:  # gone meanwhile
        pass
    return 0.0
