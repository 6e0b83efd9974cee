"""Runs `convergence serve` as a separate process on a free loopback port, as an operator would."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support import DATA_KEYS, OPERATOR_TOKEN, SECRET_KEY

BIN = Path(sys.executable).parent
START_SECONDS = 90  # a loaded 2-core CI machine starts a process slowly


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def service_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "CONVERGENCE_DATABASE_URL": database_url,
        "CONVERGENCE_ADMIN_TOKEN": OPERATOR_TOKEN,
        "CONVERGENCE_SECRET_KEY": SECRET_KEY,
        "CONVERGENCE_DATA_KEYS": DATA_KEYS,
        "CONVERGENCE_LOG_LEVEL": "warning",
        **(extra or {}),
    }


class Service:
    def __init__(
        self,
        database_url: str,
        workdir: Path,
        workers: int = 1,
        env: dict[str, str] | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.log_file = log_file  # where its stderr (its logs) goes; unset: this process's stderr
        self.workers = workers
        self.env = env or {}
        self.database_url = database_url
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_file, "ab") if self.log_file else contextlib.nullcontext() as log:
            self.process = subprocess.Popen(
                [str(BIN / "convergence"), "serve", "--port", str(self.port), "--workers", str(self.workers)],
                cwd=self.workdir,
                env=service_env(self.database_url, self.env),
                stderr=log,
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"convergence serve exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"convergence serve did not become ready in {START_SECONDS} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)

    def cli(self, *args: str) -> str:
        completed = subprocess.run(
            [str(BIN / "convergence"), *args],
            cwd=self.workdir,
            env=service_env(self.database_url, self.env),
            capture_output=True,
            text=True,
            check=True,
        )
        return completed.stdout
