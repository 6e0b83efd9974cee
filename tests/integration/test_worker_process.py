"""`convergence worker` as an operator runs it: JSON logs on stderr in production, its metrics on its own port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support import DATA_KEYS, SECRET_KEY


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def scrape(url: str, process: subprocess.Popen[str], timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            return httpx.get(url, timeout=2).text
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the worker's metrics port did not open")


def test_the_worker_logs_json_in_production_and_serves_its_metrics(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CONVERGENCE_DATABASE_URL": f"sqlite:///{tmp_path / 'convergence.db'}",
        "CONVERGENCE_SECRET_KEY": SECRET_KEY,
        "CONVERGENCE_DATA_KEYS": DATA_KEYS,
        "CONVERGENCE_ENVIRONMENT": "production",
        "CONVERGENCE_SANDBOX": "off",
        "CONVERGENCE_WORKER_METRICS_PORT": str(port),
    }
    command = [sys.executable, "-c", "from interfaces.cli import main; main()", "worker"]
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        text = scrape(f"http://127.0.0.1:{port}/metrics", process)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    lines = text.splitlines()
    assert "convergence_log_head 0.0" in lines  # the store's figures, as /metrics of serve gives them
    assert any(line.startswith("process_resident_memory_bytes ") for line in lines)  # the process's own
    assert "# TYPE convergence_opco_calls_total counter" in lines  # its calls to the OPCOs, none yet
    records = [json.loads(line) for line in stderr.splitlines()]
    started = next(record for record in records if record["logger"] == "convergence.worker")
    assert started["message"].startswith("worker ")
    assert started["level"] == "INFO"
