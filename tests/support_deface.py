"""Calls the deface 1.5.0 oracle (tests/oracle/deface_oracle.py) from facekit's tests.

The oracle runs in its own venv (made by tests/oracle/setup_deface.sh), one ONNX Runtime
thread. Importable as `support_deface`: pytest puts tests/ on sys.path.

    from support_deface import require_deface, run_deface

    def test_recall():
        require_deface()
        ref = run_deface({"task": "detect", "images": [path], "threshold": 0.2})

The request and response formats are in the oracle's docstring.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from support_oracle import oracle_env

REPO = Path(__file__).resolve().parents[1]
ORACLE = REPO / "tests" / "oracle" / "deface_oracle.py"
SETUP = REPO / "tests" / "oracle" / "setup_deface.sh"
_PATH_KEYS = ("image", "video", "output")
_PATH_LIST_KEYS = ("images", "outputs")


def deface_venv() -> Path:
    """Where setup_deface.sh puts the venv: $FACEKIT_DEFACE_VENV or <repo>/.venv-deface."""
    return Path(os.environ.get("FACEKIT_DEFACE_VENV") or REPO / ".venv-deface")


def deface_python() -> Path | None:
    """The deface venv's python, or None when the venv does not exist."""
    python = deface_venv() / "bin" / "python"
    return python if python.exists() else None


def require_deface() -> Path:
    """The deface venv's python. When the venv is absent: skips the calling test, or fails it
    under FACEKIT_REQUIRE_ORACLES=1 (CI; benchmarks included)."""
    python = deface_python()
    if python is None:
        message = (f"the deface oracle venv {deface_venv()} is absent; create it with "
                   f"`bash {SETUP.relative_to(REPO)}` (about 900 MB, about 35 s from PyPI)")
        if os.environ.get("FACEKIT_REQUIRE_ORACLES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return python


def _absolute(request: dict) -> dict:
    request = dict(request)
    for key in _PATH_KEYS:
        if request.get(key) is not None:
            request[key] = str(Path(request[key]).resolve())
    for key in _PATH_LIST_KEYS:
        if request.get(key) is not None:
            request[key] = [str(Path(p).resolve()) for p in request[key]]
    return request


def deface_command(python: Path) -> list[str]:
    """The command line that runs the oracle (for callers that time it under taskset)."""
    return [str(python), str(ORACLE)]


def run_deface(request: dict, timeout: float = 600, prefix: list[str] | None = None) -> dict:
    """Runs the oracle on `request` and returns its JSON response; `prefix` goes before the
    command (``["taskset", "-c", "0"]``). Raises RuntimeError with the oracle's error and the
    end of its stderr when the venv is absent, the oracle fails, times out or prints no JSON."""
    python = deface_python()
    if python is None:
        raise RuntimeError(f"the deface oracle venv {deface_venv()} is absent; create it with "
                           f"`bash {SETUP}`")
    payload = json.dumps(_absolute(request), default=str)
    env = oracle_env()
    env["OMP_NUM_THREADS"] = "1"
    task = request.get("task")
    with tempfile.TemporaryDirectory(prefix="facekit-deface-") as cwd:
        try:
            proc = subprocess.run([*(prefix or []), *deface_command(python)], input=payload,
                                  text=True, capture_output=True, cwd=cwd, env=env,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"deface oracle timed out after {timeout} s on task {task!r}"
                               ) from None
    try:
        response = json.loads(proc.stdout)
    except json.JSONDecodeError:
        response = None
    if proc.returncode != 0 or not isinstance(response, dict) or "error" in response:
        error = response.get("error") if isinstance(response, dict) else None
        raise RuntimeError(
            f"deface oracle failed on task {task!r} (exit {proc.returncode})"
            + (f": {error}" if error else "")
            + f"\nstdout head: {proc.stdout[:500]!r}\nstderr tail:\n{proc.stderr[-3000:]}")
    return response
