"""Calls the MediaPipe 0.10.14 oracle (tests/oracle/mediapipe_oracle.py) from facekit's tests.

The oracle runs in its own venv (made by tests/oracle/setup_mediapipe.sh; mediapipe pins
protobuf<5 and numpy<2, so it cannot share facekit's environment). Importable as
`support_oracle`: pytest puts tests/ on sys.path.

    from support_oracle import require_oracle, run_oracle

    def test_mesh_matches_mediapipe():
        require_oracle()
        ref = run_oracle({"task": "mesh", "images": [path], "refine_landmarks": True})
        landmarks = ref["images"][0]["faces"][0]["landmarks"]   # 478 x [x, y, z] in pixels

The request and response formats are in the oracle's docstring.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from support_venv import REPO, OracleVenv, oracle_env

__all__ = ["ORACLE", "SETUP", "oracle_env", "require_oracle", "run_oracle"]

ORACLE = REPO / "tests" / "oracle" / "mediapipe_oracle.py"
SETUP = REPO / "tests" / "oracle" / "setup_mediapipe.sh"

MEDIAPIPE = OracleVenv(
    label="MediaPipe", venv_variable="FACEKIT_MEDIAPIPE_VENV",
    default_venv=REPO / ".venv-mediapipe", script=ORACLE, setup=SETUP,
    setup_cost="about 1 GB, under a minute from PyPI",
    path_keys=("video", "dump_frames"), path_list_keys=("images",))


def require_oracle() -> Path:
    """The oracle venv's python. When the venv is absent: skips the calling test, or fails it
    under FACEKIT_REQUIRE_ORACLES=1 (CI; benchmarks too)."""
    return MEDIAPIPE.require()


def run_oracle(request: dict, timeout: float = 600) -> dict:
    """Runs the oracle on `request` and returns its JSON response.

    Paths in "images", "video" and "dump_frames" may be relative to the current directory (or
    Path objects). Raises RuntimeError, with the oracle's error and the end of its stderr, when
    the venv is absent, the oracle fails, times out, or prints no JSON.
    """
    return MEDIAPIPE.run(request, timeout)


if __name__ == "__main__":
    # Manual use: python tests/support_oracle.py < request.json
    json.dump(run_oracle(json.load(sys.stdin)), sys.stdout, indent=1)
    print()
