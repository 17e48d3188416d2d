"""tools/ci_setup.py: .ci/run reads the README's set-up commands and the dev extra from the
project's files, so a change to either reaches CI."""

from __future__ import annotations

import importlib.util

import pytest
from support import REPO

# tools/ci_setup.py runs on CI's Python (3.11+), whose standard library reads TOML.
tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")


def _ci_setup():
    spec = importlib.util.spec_from_file_location("ci_setup", REPO / "tools" / "ci_setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_set_up_commands_are_found_as_written():
    commands = _ci_setup().readme_commands((REPO / "README.md").read_text(encoding="utf-8"))
    assert commands == ["pip install . && facekit demo", "pip install '.[test]' && pytest"]


def test_a_readme_without_the_block_is_refused():
    with pytest.raises(ValueError, match="Set up and run"):
        _ci_setup().readme_commands("# facekit\n\nno set-up here\n")


def test_dev_requirements_expand_the_own_extras_and_leave_facekit_out():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = _ci_setup().dev_requirements(pyproject)
    extras = pyproject["project"]["optional-dependencies"]
    assert not any(r.startswith("facekit") for r in requirements)
    assert set(extras["test"]) | set(extras["bench"]) <= set(requirements)
    assert {"mypy>=1.10", "ruff>=0.5", "pybind11-stubgen>=2.5"} <= set(requirements)
    assert len(requirements) == len(set(requirements))
