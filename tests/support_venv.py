"""Runs an oracle script with the python of its own venv: one JSON request on stdin, one JSON
response on stdout. tests/support_oracle.py (MediaPipe) and tests/support_deface.py (deface)
each describe their oracle with an `OracleVenv`. Importable as `support_venv`: pytest puts
tests/ on sys.path.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def oracle_env() -> dict[str, str]:
    """The environment an oracle venv's python runs in: facekit's own Python variables
    stripped, MediaPipe's INFO/WARNING chatter on stderr off."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.setdefault("GLOG_minloglevel", "2")
    return env


@dataclass(frozen=True)
class OracleVenv:
    """One oracle: its script, the venv that runs it and how a test asks for it."""

    label: str                 # names the oracle in messages: "MediaPipe", "deface"
    venv_variable: str         # environment variable that moves the venv
    default_venv: Path         # the venv's place otherwise
    script: Path               # the oracle, run outside the repository
    setup: Path                # the script that makes the venv
    setup_cost: str            # what making the venv takes, said when it is absent
    path_keys: tuple[str, ...] = ()       # request keys holding one path
    path_list_keys: tuple[str, ...] = ()  # request keys holding a list of paths
    extra_env: Mapping[str, str] = field(default_factory=dict)  # set for each run

    def venv(self) -> Path:
        """Where the setup script puts the venv: $<venv_variable> or `default_venv`."""
        return Path(os.environ.get(self.venv_variable) or self.default_venv)

    def python(self) -> Path | None:
        """The venv's python, or None when the venv does not exist."""
        python = self.venv() / "bin" / "python"
        return python if python.exists() else None

    def require(self) -> Path:
        """The venv's python. When the venv is absent: skips the calling test, or fails it
        under FACEKIT_REQUIRE_ORACLES=1 (CI; benchmarks too, which tests/conftest.py's
        skip-to-failure hook does not reach)."""
        python = self.python()
        if python is None:
            message = (f"the {self.label} oracle venv {self.venv()} is absent; create it with "
                       f"`bash {self.setup.relative_to(REPO)}` ({self.setup_cost})")
            if os.environ.get("FACEKIT_REQUIRE_ORACLES") == "1":
                pytest.fail(message)
            pytest.skip(message)
        return python

    def command(self, python: Path) -> list[str]:
        """The command line that runs the oracle with `python`."""
        return [str(python), str(self.script)]

    def absolute(self, request: dict) -> dict:
        """`request` with its paths made absolute, since the oracle runs outside the repo."""
        request = dict(request)
        for key in self.path_keys:
            if request.get(key) is not None:
                request[key] = str(Path(request[key]).resolve())
        for key in self.path_list_keys:
            if request.get(key) is not None:
                request[key] = [str(Path(p).resolve()) for p in request[key]]
        return request

    def run(self, request: dict, timeout: float = 600, prefix: list[str] | None = None) -> dict:
        """Runs the oracle on `request` and returns its JSON response; `prefix` goes before
        the command (``["taskset", "-c", "0"]``). Raises RuntimeError, with the oracle's error
        and the end of its stderr, when the venv is absent, the oracle fails, times out, or
        prints no JSON."""
        python = self.python()
        if python is None:
            raise RuntimeError(f"the {self.label} oracle venv {self.venv()} is absent; create "
                               f"it with `bash {self.setup}`")
        payload = json.dumps(self.absolute(request), default=str)
        env = {**oracle_env(), **self.extra_env}
        task = request.get("task")
        # Run outside the repository so that nothing there (facekit/, models/) shadows an import.
        with tempfile.TemporaryDirectory(prefix=f"facekit-{self.label.lower()}-") as cwd:
            try:
                proc = subprocess.run([*(prefix or []), *self.command(python)], input=payload,
                                      text=True, capture_output=True, cwd=cwd, env=env,
                                      timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                tail = (exc.stderr or b"")[-2000:]
                if isinstance(tail, bytes):
                    tail = tail.decode(errors="replace")
                raise RuntimeError(f"{self.label} oracle timed out after {timeout} s on task "
                                   f"{task!r}; stderr tail:\n{tail}") from None
        try:
            response = json.loads(proc.stdout)
        except json.JSONDecodeError:
            response = None
        if proc.returncode != 0 or not isinstance(response, dict) or "error" in response:
            error = response.get("error") if isinstance(response, dict) else None
            raise RuntimeError(
                f"{self.label} oracle failed on task {task!r} (exit {proc.returncode})"
                + (f": {error}" if error else "")
                + f"\nstdout head: {proc.stdout[:500]!r}\nstderr tail:\n{proc.stderr[-3000:]}")
        return response
