"""SIMD dispatch: chosen once per process, forced by FACEKIT_SIMD, reported by cpu_features()."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest

import facekit

REPORT = (
    "import json, numpy as np, facekit\n"
    "arena = facekit.SecureArena()\n"
    "with arena.frame() as frame:\n"
    "    frame.crop_normalize(np.zeros((9, 9, 3), np.uint8), facekit.RotatedRect(4, 4, 6, 6), 5)\n"
    "print(json.dumps(facekit.cpu_features()))\n"
)


def run_with_simd(value: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "FACEKIT_SIMD"}
    if value is not None:
        env["FACEKIT_SIMD"] = value
    # Run outside the source tree, so that `import facekit` finds the installed package.
    return subprocess.run([sys.executable, "-c", REPORT], env=env, capture_output=True,
                          text=True, timeout=120, cwd=tempfile.gettempdir())


def test_default_is_the_fastest_available_path():
    result = run_with_simd(None)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["active"] == report["available"][-1]
    assert report["forced_by"] is None
    assert report["kernel_calls"][report["active"]] == 1
    if report["arch"] == "x86_64" and report["features"]["avx2"]:
        assert report["active"] == "avx2"


@pytest.mark.parametrize("path", facekit.cpu_features()["available"])
def test_facekit_simd_forces_each_available_path(path):
    result = run_with_simd(path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["active"] == path and report["forced_by"] == "FACEKIT_SIMD"
    # Only the forced path ran.
    assert {k: v for k, v in report["kernel_calls"].items() if v} == {path: 1}


def test_an_unavailable_path_is_a_clear_import_error():
    missing = next(p for p in ("neon", "avx2", "sse41")
                   if p not in facekit.cpu_features()["available"])
    result = run_with_simd(missing)
    assert result.returncode != 0
    assert "SimdUnavailableError" in result.stderr
    assert f"FACEKIT_SIMD asks for SIMD path '{missing}'" in result.stderr
    assert "available here: scalar" in result.stderr


def test_an_unknown_path_name_is_a_clear_error():
    result = run_with_simd("avx512")
    assert result.returncode != 0
    assert "unknown SIMD path 'avx512'" in result.stderr
    assert "scalar, sse41, avx2, neon" in result.stderr


def test_cpu_features_describes_this_machine():
    report = facekit.cpu_features()
    assert set(report) == {"arch", "features", "compiled", "available", "active", "forced_by",
                           "kernel_calls"}
    assert report["available"][0] == "scalar"
    assert set(report["available"]) <= set(report["compiled"])
    assert report["active"] in report["available"]


def test_forcing_an_unavailable_path_in_process_is_refused():
    from facekit import _native

    missing = next(p for p in ("neon", "avx2", "sse41") if p not in _native.cpu.available())
    with pytest.raises(ValueError, match="available here"):
        _native.cpu.force(missing)
    with pytest.raises(ValueError, match="unknown SIMD path"):
        _native.cpu.force("mmx")
