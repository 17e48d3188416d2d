"""Shared fixtures: arenas, a committed real photo, and the optional shared test photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import facekit

DATA = Path(__file__).parent / "data"
SHARED_FACES = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "faces"


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


def shared_face(name: str) -> Path:
    """A photo from ../shared/testdata/faces; skips with the reason when that folder is absent."""
    path = SHARED_FACES / name
    if not path.exists():
        pytest.skip(f"{path} is absent (shared test photos exist on CI and dev machines only)")
    return path
