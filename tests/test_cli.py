"""The facekit command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile

import pytest

from facekit import cli


def test_info_prints_cpu_and_arena_protections(capsys):
    assert cli.main(["info"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cpu"]["active"] in report["cpu"]["available"]
    assert report["arena"]["dontdump"] is True and report["arena"]["wipeonfork"] is True


def test_console_script_is_installed():
    exe = shutil.which("facekit")
    assert exe is not None, "pip install should put the facekit console script on PATH"
    result = subprocess.run([exe, "info"], capture_output=True, text=True, timeout=120,
                            cwd=tempfile.gettempdir())
    assert result.returncode == 0 and '"active"' in result.stdout


def test_unknown_command_exits_with_usage(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_module_entry_point():
    # Outside the source tree, so that the installed package is the one imported.
    result = subprocess.run([sys.executable, "-m", "facekit.cli", "info"], capture_output=True,
                            text=True, timeout=120, cwd=tempfile.gettempdir())
    assert result.returncode == 0 and '"arena"' in result.stdout


def test_models_lists_and_verifies_every_network(capsys):
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert out.count(" ok") == 6 and "face_landmark" in out and "CC0-1.0" in out
