"""`python3 dev.py serve` becomes the server: a SIGTERM to the process a supervisor started stops the service,
instead of leaving it running without its parent."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.service import free_port, service_env

ROOT = Path(__file__).resolve().parents[2]


def test_a_sigterm_to_dev_py_serve_stops_the_service(tmp_path: Path) -> None:
    port = free_port()
    env = service_env(f"sqlite:///{tmp_path / 'convergence.db'}")
    process = subprocess.Popen([sys.executable, str(ROOT / "dev.py"), "serve", "--port", str(port)], env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"dev.py serve exited with {process.returncode}"
            assert time.monotonic() < deadline, "the service did not get ready"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) is not None
        try:
            httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
            answered = True
        except httpx.TransportError:
            answered = False
        assert not answered, "the service still answers after dev.py was stopped"
    finally:
        if process.poll() is None:
            process.kill()


def test_the_production_install_has_the_service_and_no_development_tools(tmp_path: Path) -> None:
    target = tmp_path / "convergence"
    subprocess.run([sys.executable, str(ROOT / "dev.py"), "install", str(target)], check=True, timeout=300)

    version = subprocess.run([str(target / "bin" / "convergence"), "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("convergence "), version.stderr
    for tool in ("pytest", "mypy", "ruff", "hypothesis", "schemathesis"):
        found = subprocess.run(
            [str(target / "bin" / "python"), "-c", f"import {tool}"], capture_output=True, cwd=tmp_path
        )
        assert found.returncode != 0, f"{tool} is installed in production"
    where = "import infrastructure, pathlib; print(pathlib.Path(infrastructure.__file__).parent)"
    package = subprocess.run(
        [str(target / "bin" / "python"), "-c", where], capture_output=True, text=True, cwd=tmp_path
    )
    assert package.returncode == 0, package.stderr
    assert "site-packages" in package.stdout  # installed, not this checkout
    assert (Path(package.stdout.strip()) / "data" / "idcc_opco.csv").is_file()
