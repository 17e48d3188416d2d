"""ONNX Runtime's telemetry stays off: from before ``import facekit`` to exit, over two minutes of
every pipeline, strace sees no socket, no DNS packet and no file opened for writing but the
declared output, and a fresh HOME stays empty. When onnxruntime was imported before facekit
without ``ORT_DISABLE_TELEMETRY=1``, facekit warns and says so, and the same harness catches the
telemetry (negative control)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from support import SHARED

from facekit._telemetry import user_environment
from facekit.audit import syscalls

CLIP = SHARED / "video" / "short_hamilton_clip.mp4"


def _require_strace() -> None:
    # A missing tracer must fail, not skip: CI installs strace (.ci/run).
    assert shutil.which("strace"), "strace is not installed (Debian: apt-get install strace)"


def test_whole_process_trace_of_120_seconds_finds_no_io(tmp_path):
    _require_strace()
    out = tmp_path / "anonymized.png"
    report = syscalls.trace_whole_process(120, CLIP if CLIP.exists() else None, out)
    print(report.text())
    child = report.child
    assert child["seconds"] >= 120 and child["passes"] >= 1 and child["faces"] > 0
    assert child["telemetry"]["telemetry_disabled"] is True
    assert child["telemetry"]["onnxruntime_imported_before_facekit"] is False
    assert report.counts["execve"] == 1 and report.counts["openat"] > 100  # traced from start
    assert report.threads_created > 0  # ...and across threads
    assert report.dns == []
    assert report.files_written == []
    assert report.offenders == [], report.text()
    assert report.left_behind == []  # the file system agrees: HOME and working folder empty
    assert report.outputs == [str(out.resolve())]  # the one declared output, seen by both
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_harness_catches_telemetry_when_onnxruntime_is_imported_first():
    """Negative control: an app that imports onnxruntime before facekit, without the switch,
    gets ONNX Runtime's event database at import; the trace and the file system both see it."""
    _require_strace()
    report = syscalls.trace_whole_process(3, onnxruntime_first=True)
    telemetry = report.child["telemetry"]
    assert telemetry["onnxruntime_imported_before_facekit"] is True
    assert telemetry["telemetry_disabled"] is False
    assert "TelemetryWarning" in report.child["stderr"]
    assert any(p.endswith("/onnxruntime.db") for p in report.files_written), report.text()
    assert any(p.endswith("/onnxruntime.db") for p in report.left_behind), report.text()
    assert "opens a file for writing" in {why.split(" (")[0] for _, why in report.offenders}
    assert not report.ok


_IMPORTS = """
import json, os, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for name in {order!r}:
        __import__(name)
import facekit
print(json.dumps({{"warnings": [[w.category.__name__, str(w.message), w.filename]
                               for w in caught],
                  "status": facekit.telemetry_status(),
                  "switch_now": os.environ.get("ORT_DISABLE_TELEMETRY")}}))
"""


def _import_in_child(tmp_path, order: tuple[str, ...], switch: str | None) -> dict:
    env = user_environment(dict(os.environ))  # as on a user's machine, not a CI runner
    env["HOME"] = str(tmp_path / "home")
    env["XDG_CACHE_HOME"] = str(tmp_path / "home" / ".cache")
    if switch is not None:
        env["ORT_DISABLE_TELEMETRY"] = switch
    done = subprocess.run([sys.executable, "-B", "-c", _IMPORTS.format(order=order)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    result = json.loads(done.stdout)
    home = tmp_path / "home"
    result["home"] = sorted(p.name for p in home.rglob("*")) if home.exists() else []
    return result


@pytest.mark.parametrize("switch", [None, "0", "1"])
def test_importing_facekit_first_switches_telemetry_off(tmp_path, switch):
    """facekit sets the switch (overriding an explicit 0), so the onnxruntime imported after it
    writes nothing into HOME, and nothing is warned."""
    result = _import_in_child(tmp_path, ("facekit", "onnxruntime"), switch)
    assert result["warnings"] == []
    assert result["switch_now"] == "1"
    assert result["status"] == {"switch": "ORT_DISABLE_TELEMETRY", "value_before_facekit": switch,
                                "onnxruntime_imported_before_facekit": False,
                                "telemetry_disabled": True}
    assert result["home"] == []


@pytest.mark.parametrize("switch", [None, "0"])
def test_onnxruntime_imported_first_without_the_switch_is_warned_and_reported(tmp_path, switch):
    result = _import_in_child(tmp_path, ("onnxruntime", "facekit"), switch)
    assert len(result["warnings"]) == 1
    category, message, filename = result["warnings"][0]
    assert category == "TelemetryWarning"
    assert "ORT_DISABLE_TELEMETRY=1" in message and "import facekit first" in message
    assert filename == "<string>"  # points at the app's import line, not into facekit
    assert result["status"]["onnxruntime_imported_before_facekit"] is True
    assert result["status"]["telemetry_disabled"] is False
    assert "onnxruntime.db" in result["home"]  # what the warning is about, really there


def test_onnxruntime_imported_first_with_the_switch_is_fine(tmp_path):
    result = _import_in_child(tmp_path, ("onnxruntime", "facekit"), "1")
    assert result["warnings"] == []
    assert result["status"]["onnxruntime_imported_before_facekit"] is True
    assert result["status"]["telemetry_disabled"] is True
    assert result["home"] == []


def test_facekit_info_reports_the_telemetry_state(tmp_path):
    done = subprocess.run([sys.executable, "-m", "facekit.cli", "info"], capture_output=True,
                          text=True, check=True, cwd=tmp_path)
    telemetry = json.loads(done.stdout)["onnxruntime_telemetry"]
    assert telemetry["telemetry_disabled"] is True
    assert telemetry["onnxruntime_imported_before_facekit"] is False
