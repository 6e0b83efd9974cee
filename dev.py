#!/usr/bin/env python3
"""Set up and run Convergence from a fresh clone, with nothing but Python 3.11+ and git.

    python3 dev.py serve [--host H --port P]   run the service on the embedded default (SQLite under ./var)
    python3 dev.py test [pytest args]          lint, type-check, check the layers, run every test
    python3 dev.py run COMMAND [args]          run a command of the virtual environment, e.g. convergence
    python3 dev.py install TARGET              a production install into the virtual environment TARGET: the
                                               locked runtime dependencies and Convergence, no development tools

The first call creates .venv with the locked dependencies (uv.lock), using a uv bootstrapped into .tools.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
UV_VERSION = "0.13.9"
BIN = "Scripts" if os.name == "nt" else "bin"
VENV = ROOT / ".venv"
TOOLS = ROOT / ".tools"
CHECKS = [
    ["ruff", "check", "."],
    ["ruff", "format", "--check", "."],
    ["mypy"],
    ["lint-imports"],
]


def _lock_digest() -> str:
    digest = hashlib.sha256()
    for name in ("uv.lock", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def _uv() -> Path:
    uv = TOOLS / BIN / "uv"
    if not uv.exists():
        print(f"dev: installing uv {UV_VERSION} into {TOOLS.name}/", flush=True)
        venv.create(TOOLS, with_pip=True)
        _run([str(TOOLS / BIN / "python"), "-m", "pip", "install", "--quiet", f"uv=={UV_VERSION}"])
    return uv


def install(target: Path) -> int:
    """What the container image does: `uv sync --frozen --no-dev --no-editable` into its own environment."""
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(target.resolve())}
    _run([str(_uv()), "sync", "--frozen", "--no-dev", "--no-editable", "--python", sys.executable], env=env)
    print(f"dev: installed; run {target / BIN / 'convergence'} --help", flush=True)
    return 0


def ensure_environment() -> None:
    stamp = VENV / ".synced-lock"
    if stamp.exists() and stamp.read_text() == _lock_digest():
        return
    uv = _uv()
    print("dev: installing the locked dependencies into .venv/", flush=True)
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(VENV)}
    _run([str(uv), "sync", "--frozen", "--python", sys.executable], env=env)
    stamp.write_text(_lock_digest())


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    completed = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def _tool(name: str) -> str:
    return str(VENV / BIN / name)


def _become(command: list[str]) -> int:
    """Replace this process with `command` (POSIX), so that a signal sent to dev.py (SIGTERM from a supervisor,
    Ctrl-C) reaches the service itself; elsewhere, run it as a child."""
    os.chdir(ROOT)
    if os.name == "posix":
        os.execv(command[0], command)
    return subprocess.call(command)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"serve", "test", "run", "install"}:
        print(__doc__)
        return 2
    if argv[0] == "install":
        if len(argv) != 2:
            print("dev: install TARGET (a directory for the virtual environment)")
            return 2
        return install(Path(argv[1]))
    ensure_environment()
    command, args = argv[0], argv[1:]
    if command == "serve":
        return _become([_tool("convergence"), "serve", *args])
    if command == "run":
        return _become([_tool(args[0]), *args[1:]])
    if not args:
        for check in CHECKS:
            print(f"dev: {' '.join(check)}", flush=True)
            _run([_tool(check[0]), *check[1:]])
    return subprocess.call([_tool("pytest"), *args], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
