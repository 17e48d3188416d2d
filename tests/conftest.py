"""Shared fixtures: arenas and a committed real photo. Helpers live in support.py."""

from __future__ import annotations

import numpy as np
import pytest

import facekit
from support import DATA, model_source, models_package, onnx_model, shared_face  # noqa: F401


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
