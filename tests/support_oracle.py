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
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ORACLE = REPO / "tests" / "oracle" / "mediapipe_oracle.py"
SETUP = REPO / "tests" / "oracle" / "setup_mediapipe.sh"

# Request keys that hold file paths: made absolute here, since the oracle runs outside the repo.
_PATH_KEYS = ("video", "dump_frames")
_PATH_LIST_KEYS = ("images",)


def mediapipe_venv() -> Path:
    """Where setup_mediapipe.sh puts the venv: $FACEKIT_MEDIAPIPE_VENV or <repo>/.venv-mediapipe."""
    return Path(os.environ.get("FACEKIT_MEDIAPIPE_VENV") or REPO / ".venv-mediapipe")


def mediapipe_python() -> Path | None:
    """The oracle venv's python, or None when the venv does not exist."""
    python = mediapipe_venv() / "bin" / "python"
    return python if python.exists() else None


def oracle_env() -> dict[str, str]:
    """The environment the oracle venv's python runs in: facekit's own Python variables
    stripped, MediaPipe's INFO/WARNING chatter on stderr off."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.setdefault("GLOG_minloglevel", "2")
    return env


def require_oracle() -> Path:
    """The oracle venv's python. When the venv is absent: skips the calling test, or fails it
    under FACEKIT_REQUIRE_ORACLES=1 (CI; benchmarks too, which tests/conftest.py's
    skip-to-failure hook does not reach)."""
    python = mediapipe_python()
    if python is None:
        message = (f"the MediaPipe oracle venv {mediapipe_venv()} is absent; create it with "
                   f"`bash {SETUP.relative_to(REPO)}` (about 1 GB, under a minute from PyPI)")
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


def run_oracle(request: dict, timeout: float = 600) -> dict:
    """Runs the oracle on `request` and returns its JSON response.

    Paths in "images", "video" and "dump_frames" may be relative to the current directory (or
    Path objects). Raises RuntimeError, with the oracle's error and the end of its stderr, when
    the venv is absent, the oracle fails, times out, or prints no JSON.
    """
    python = mediapipe_python()
    if python is None:
        raise RuntimeError(f"the MediaPipe oracle venv {mediapipe_venv()} is absent; create it "
                           f"with `bash {SETUP}`")
    payload = json.dumps(_absolute(request), default=str)
    # Run outside the repository so that nothing there (facekit/, models/) shadows an import.
    env = oracle_env()
    task = request.get("task")
    with tempfile.TemporaryDirectory(prefix="facekit-oracle-") as cwd:
        try:
            proc = subprocess.run([str(python), str(ORACLE)], input=payload, text=True,
                                  capture_output=True, cwd=cwd, env=env, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            tail = (exc.stderr or b"")[-2000:]
            if isinstance(tail, bytes):
                tail = tail.decode(errors="replace")
            raise RuntimeError(f"MediaPipe oracle timed out after {timeout} s on task "
                               f"{task!r}; stderr tail:\n{tail}") from None
    try:
        response = json.loads(proc.stdout)
    except json.JSONDecodeError:
        response = None
    if proc.returncode != 0 or not isinstance(response, dict) or "error" in response:
        error = response.get("error") if isinstance(response, dict) else None
        raise RuntimeError(
            f"MediaPipe oracle failed on task {task!r} (exit {proc.returncode})"
            + (f": {error}" if error else "")
            + f"\nstdout head: {proc.stdout[:500]!r}\nstderr tail:\n{proc.stderr[-3000:]}")
    return response


if __name__ == "__main__":
    # Manual use: python tests/support_oracle.py < request.json
    json.dump(run_oracle(json.load(sys.stdin)), sys.stdout, indent=1)
    print()
