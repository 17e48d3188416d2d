"""`facekit audit`: every check passes on this machine, the reports say so, and the same audit
fails when the wipe is disabled with the debug switch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from support import facekit_script

from facekit.audit import auditor

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the audit reads /proc")


def _facekit_audit(tmp_path, *args: str) -> tuple[int, dict, str, str]:
    exe = facekit_script()  # the venv's script, found without an activated venv
    out = tmp_path / "reports"
    done = subprocess.run([exe, "audit", "--out", str(out), *args], capture_output=True,
                          text=True, timeout=900, cwd=tmp_path)
    report = json.loads((out / "audit.json").read_text())
    return done.returncode, report, (out / "audit.md").read_text(), done.stdout + done.stderr


def test_audit_passes_on_this_installation(tmp_path):
    # The whole-process trace is shortened here; tests/test_telemetry.py runs it for 120 s.
    code, report, markdown, output = _facekit_audit(tmp_path, "--strace-seconds", "10")
    verdicts = {c["name"]: c["verdict"] for c in report["checks"]}
    print(output)
    expected = dict.fromkeys(auditor.CHECKS, "pass")
    if shutil.which("strace") is None:
        expected["io-syscalls"] = expected["io-whole-process"] = "not run"
    assert verdicts == expected, output
    assert code == 0 and report["passed"] is True and report["failed"] == []
    env = report["environment"]
    assert env["onnxruntime_scrub"] == "perturb" and env["facekit"]
    assert env["onnxruntime_telemetry"] == "off"
    whole = next(c for c in report["checks"] if c["name"] == "io-whole-process")
    assert "telemetry off" in whole["detail"]
    if shutil.which("strace") is not None:
        assert "shortened run (10 s" in whole["detail"]
        assert whole["evidence"]["telemetry_in_the_child"]["telemetry_disabled"] is True
        assert whole["evidence"]["seconds"] >= 10 and whole["evidence"]["dns_packets"] == []
    assert len(report["package"]["package_sha256"]) == 64
    assert "_native/__init__.pyi" in report["package"]["files"]
    models = next(c for c in report["checks"] if c["name"] == "model-integrity")
    from facekit.models import list_models

    assert len(models["evidence"]["models"]) == len(list_models()) >= 7
    image = next(c for c in report["checks"] if c["name"] == "memory-scan-image")
    assert image["evidence"]["inside"]["found"]["landmarks f32"]["facekit arena"] > 0
    assert "**Result: PASSED**" in markdown and "memory-scan-video | **pass**" in markdown
    assert [f.name for f in (tmp_path / "reports").iterdir()] != []


def test_audit_fails_when_the_wipe_is_skipped(tmp_path):
    code, report, markdown, output = _facekit_audit(
        tmp_path, "--only", "memory-scan-image,refusal-matrix", "--debug-skip-wipe")
    verdicts = {c["name"]: c["verdict"] for c in report["checks"]}
    assert code == 1, output
    assert verdicts == {"memory-scan-image": "fail", "refusal-matrix": "pass"}
    assert report["debug_skip_wipe"] is True and report["failed"] == ["memory-scan-image"]
    scan = report["checks"][0]["evidence"]["after-scope"]["found"]
    assert scan["landmarks f32"]["facekit arena"] > 0
    assert "**Result: FAILED**" in markdown


def test_audit_rejects_a_non_positive_strace_duration(tmp_path):
    done = subprocess.run([sys.executable, "-m", "facekit.cli", "audit", "--out", str(tmp_path),
                           "--strace-seconds", "0"], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.returncode == 2 and "--strace-seconds must be positive" in done.stderr
    assert not (tmp_path / "audit.json").exists()


def test_audit_rejects_an_unknown_check():
    with pytest.raises(ValueError, match="unknown check"):
        auditor.run_audit(only=["no-such-check"])


def test_reports_carry_no_landmark_values(tmp_path):
    """The reports hold counts and flags; no coordinate of the sample's face appears in them."""
    import numpy as np

    from facekit.audit import memscan_child

    report = auditor.run_audit(only=["memory-scan-image", "refusal-matrix"])
    paths = auditor.write_reports(report, tmp_path)
    landmarks = np.asarray(memscan_child.reference("image")[0]["landmarks"], np.float64)
    forms = {repr(float(v))[:7] for v in landmarks[:, :2].ravel()}  # as JSON would print them
    for path in paths:
        text = path.read_text()
        assert not [f for f in forms if f in text], path.name
    assert os.path.getsize(paths[0]) > 1000
