"""deploy/: the image installs what `dev.py install` installs; the compose file runs two APIs and two workers on one
PostgreSQL with health checks; the systemd units are valid for systemd. (No container runtime here: the files are
checked, and the topology they describe runs in tests/e2e/test_topology.py.)"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
INSTALL = "uv sync --frozen --no-dev --no-editable"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def test_the_image_installs_as_dev_py_install_does() -> None:
    assert INSTALL in (DEPLOY / "Dockerfile").read_text()
    assert '"sync", "--frozen", "--no-dev", "--no-editable"' in (ROOT / "dev.py").read_text()


def test_compose_runs_two_apis_without_workers_and_two_workers_after_a_healthy_database() -> None:
    services = compose()["services"]
    apis = [s for s in services.values() if s.get("command", [])[:2] == ["convergence", "serve"]]
    assert len(apis) == 2
    for api in apis:
        assert api["environment"]["CONVERGENCE_WORKER_IN_SERVE"] == "false"
        assert "/readyz" in " ".join(api["healthcheck"]["test"])
    worker = services["worker"]
    assert (worker["command"], worker["deploy"]["replicas"]) == (["convergence", "worker"], 2)
    port = worker["environment"]["CONVERGENCE_WORKER_METRICS_PORT"]
    assert f"127.0.0.1:{port}/metrics" in " ".join(worker["healthcheck"]["test"])
    for service in [*apis, worker]:
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        assert service["env_file"] == "convergence.env"
    assert "pg_isready" in services["db"]["healthcheck"]["test"]


def test_the_example_settings_name_what_production_requires() -> None:
    example = (DEPLOY / "convergence.env.example").read_text()
    for name in ("CONVERGENCE_ENVIRONMENT=production", "CONVERGENCE_DATABASE_URL=", "CONVERGENCE_SECRET_KEY="):
        assert name in example


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_the_systemd_units_are_valid(tmp_path: Path) -> None:
    convergence = shutil.which("convergence") or str(Path(__file__).resolve().parents[2] / ".venv/bin/convergence")
    units = []
    for template, instance in (("convergence-api@.service", "8001"), ("convergence-worker@.service", "1")):
        text = (DEPLOY / "systemd" / template).read_text().replace("/opt/convergence/bin/convergence", convergence)
        unit = tmp_path / template.replace("@", f"@{instance}")
        unit.write_text(text)
        units.append(str(unit))
    verified = subprocess.run(["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr == "", verified.stderr
