"""FACEKIT_REQUIRE_ORACLES=1 (tests/conftest.py): a skip, in a test or at a module's import, fails
the run with its reason; without the flag it stays a skip, and FACEKIT_SKIP_LOG lists it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from support import REPO

SKIPPING = '''
import pytest

def test_passes():
    pass

def test_needs_an_oracle():
    pytest.skip("the oracle is absent")
'''
SKIPPING_MODULE = '''
import pytest

pytest.importorskip("no_such_oracle_module", reason="the oracle module is absent")

def test_never_runs():
    pass
'''


def _run(tmp_path, name: str, source: str, **env: str) -> subprocess.CompletedProcess:
    for helper in ("conftest.py", "support.py"):
        shutil.copy(REPO / "tests" / helper, tmp_path / helper)
    (tmp_path / name).write_text(source)
    clean = {k: v for k, v in os.environ.items()
             if k not in ("FACEKIT_REQUIRE_ORACLES", "FACEKIT_SKIP_LOG")}
    return subprocess.run([sys.executable, "-P", "-m", "pytest", "-q", "-rs", "-p",
                           "no:cacheprovider", "--rootdir", str(tmp_path), name],
                          cwd=tmp_path, capture_output=True, text=True, env={**clean, **env})


def test_a_skip_is_a_skip_without_the_flag_and_is_logged(tmp_path):
    log = tmp_path / "skipped.txt"
    done = _run(tmp_path, "test_oracle.py", SKIPPING, FACEKIT_SKIP_LOG=str(log))
    assert done.returncode == 0, done.stdout
    assert "1 passed, 1 skipped" in done.stdout and "the oracle is absent" in done.stdout
    assert log.read_text().split() == ["test_oracle.py::test_needs_an_oracle"]


def test_the_flag_turns_a_skip_into_a_failure_naming_its_reason(tmp_path):
    done = _run(tmp_path, "test_oracle.py", SKIPPING, FACEKIT_REQUIRE_ORACLES="1")
    assert done.returncode == 1
    assert "1 failed, 1 passed" in done.stdout
    assert "FACEKIT_REQUIRE_ORACLES=1 forbids skips" in done.stdout
    assert "the oracle is absent" in done.stdout


def test_the_flag_fails_a_module_skipped_at_import(tmp_path):
    done = _run(tmp_path, "test_module.py", SKIPPING_MODULE, FACEKIT_REQUIRE_ORACLES="1")
    assert done.returncode != 0 and "skipped" not in done.stdout.splitlines()[-1]
    assert "the oracle module is absent" in done.stdout
