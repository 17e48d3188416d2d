"""Shared fixtures: arenas and a committed real photo. Helpers live in support.py.

FACEKIT_REQUIRE_ORACLES=1 (set by .ci/run) turns every skip into a failure. Skips here are all
about something missing around facekit (the MediaPipe oracle venv, dlib-bin, ai-edge-litert,
onnx, opencv, PyAV, the shared photos, the models' source packages, strace, mypy) or about a
platform other than Linux; CI runs on Linux with all of them, so there a skip can only mean a
comparison silently not made. Converting every skip, rather than a list of oracle reasons, means
a new skip cannot slip past by wording its reason differently.
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest
from support import DATA, model_source, models_package, onnx_model, shared_face  # noqa: F401

import facekit
from facekit._inference import Network

REQUIRE_ORACLES = os.environ.get("FACEKIT_REQUIRE_ORACLES") == "1"
# .ci/run runs the README's `pytest` first, without the oracles, then only what it skipped
# (listed in this file, one node id a line) with them and FACEKIT_REQUIRE_ORACLES=1.
SKIP_LOG = os.environ.get("FACEKIT_SKIP_LOG")


def _fail_skip(report) -> None:
    if SKIP_LOG and report.skipped and not hasattr(report, "wasxfail"):
        with open(SKIP_LOG, "a", encoding="utf-8") as log:
            log.write(report.nodeid + "\n")
    if REQUIRE_ORACLES and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"FACEKIT_REQUIRE_ORACLES=1 forbids skips; this one said: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield  # a module-level importorskip or skipif skips the whole file
    _fail_skip(outcome.get_result())


@pytest.fixture
def arena():
    with facekit.SecureArena() as arena:
        yield arena


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A real portrait (RGB, 910x1137) committed with the project."""
    cv2 = pytest.importorskip("cv2", reason="opencv-python-headless comes with the test extra")
    bgr = cv2.imread(str(DATA / "obama.jpg"))
    assert bgr is not None
    return np.ascontiguousarray(bgr[:, :, ::-1])


@pytest.fixture
def runs(monkeypatch):
    """Network runs by model name, counted from here on."""
    counts: Counter[str] = Counter()
    run = Network.run

    def counted(self, frame, tensor, output_shapes=None):
        counts[self.name] += 1
        return run(self, frame, tensor, output_shapes)

    monkeypatch.setattr(Network, "run", counted)
    return counts
