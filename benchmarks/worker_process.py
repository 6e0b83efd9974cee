"""`convergence worker` in its own process, as it runs beside the API in production: the benchmarks' commands run
in their process, the sends, syncs and read models in this one, each with its own interpreter lock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from infrastructure.settings import Settings

BIN = Path(sys.executable).parent
START_TIMEOUT = 120.0


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment that gives `convergence worker` the settings the benchmark's own container has."""
    secrets = {"SECRET_KEY": settings.secret_key, "DATA_KEYS": settings.data_keys}
    secrets["SANDBOX_ADMIN_TOKEN"] = settings.sandbox_admin_token
    values = {
        **{name: secret.get_secret_value() for name, secret in secrets.items() if secret is not None},
        "DATABASE_URL": settings.database_url,
        "SANDBOX": "off",
        "SANDBOX_URL": settings.sandbox_url,
        "SYNC_INTERVAL_SECONDS": str(settings.sync_interval_seconds),
        "SENDER_CONCURRENCY": str(settings.sender_concurrency),
        "SYNC_CONCURRENCY": str(settings.sync_concurrency),
        "LOG_LEVEL": "warning",
    }
    return {**os.environ, **{f"CONVERGENCE_{name}": value for name, value in values.items() if value is not None}}


class WorkerProcess:
    """`groups`: the task groups it runs (`convergence worker --only`), all if empty."""

    def __init__(self, settings: Settings, log: IO[bytes], groups: tuple[str, ...] = ()) -> None:
        self._env, self._log = worker_env(settings), log
        self._options = [option for group in groups for option in ("--only", group)]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> int:
        """Starts the worker; its pid once it says it runs."""
        self.process = subprocess.Popen(
            [str(BIN / "convergence"), "worker", *self._options],
            env=self._env,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        started = threading.Event()
        first: list[str] = []

        def read() -> None:
            assert self.process is not None
            assert self.process.stdout is not None
            for raw in self.process.stdout:
                if not first:
                    first.append(raw.decode(errors="replace").strip())
                    started.set()
            started.set()

        threading.Thread(target=read, daemon=True).start()
        if not started.wait(START_TIMEOUT) or not first or not first[0].startswith("worker "):
            self.stop()
            raise RuntimeError(f"convergence worker did not start: {first or 'no output'} (see its log)")
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
