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

from pathlib import Path

from support_venv import REPO, OracleVenv

ORACLE = REPO / "tests" / "oracle" / "deface_oracle.py"
SETUP = REPO / "tests" / "oracle" / "setup_deface.sh"

DEFACE = OracleVenv(
    label="deface", venv_variable="FACEKIT_DEFACE_VENV",
    default_venv=REPO / ".venv-deface", script=ORACLE, setup=SETUP,
    setup_cost="about 900 MB, about 35 s from PyPI",
    path_keys=("image", "video", "output"), path_list_keys=("images", "outputs"),
    extra_env={"OMP_NUM_THREADS": "1"})


def require_deface() -> Path:
    """The deface venv's python. When the venv is absent: skips the calling test, or fails it
    under FACEKIT_REQUIRE_ORACLES=1 (CI; benchmarks included)."""
    return DEFACE.require()


def run_deface(request: dict, timeout: float = 600, prefix: list[str] | None = None) -> dict:
    """Runs the oracle on `request` and returns its JSON response; `prefix` goes before the
    command (``["taskset", "-c", "0"]``). Raises RuntimeError with the oracle's error and the
    end of its stderr when the venv is absent, the oracle fails, times out or prints no JSON."""
    return DEFACE.run(request, timeout, prefix)
