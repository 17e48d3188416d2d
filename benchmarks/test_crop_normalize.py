"""Crop + normalize of a 1080p frame into network inputs: facekit on each SIMD path vs
cv2.warpAffine followed by numpy normalization (how MediaPipe-style Python code prepares a
tensor), all interleaved in one run.

Run: pytest benchmarks --benchmark-json=bench.json   (the summary prints at the end)
"""

from __future__ import annotations

import numpy as np
import pytest

import facekit
from facekit import _native

cv2 = pytest.importorskip("cv2")

RECT = facekit.RotatedRect(960, 520, 560, 560, 0.2)  # a tilted face-sized region
SCALE, OFFSET = 1 / 127.5, -1.0  # [-1, 1], as the detector expects


@pytest.mark.parametrize("size", [192, 128])
def test_crop_normalize_1080p(compare, frame_1080p, size):
    arena = facekit.SecureArena()
    matrix = np.array(_native.warp.rect_to_affine(
        RECT.center_x, RECT.center_y, RECT.width, RECT.height, RECT.rotation, size, size)
    ).reshape(2, 3)
    default_threads = cv2.getNumThreads()

    def facekit_on(path):
        def run():
            _native.cpu.force(path)
            with arena.frame() as frame:  # opening the frame and wiping it are included
                frame.crop_normalize(frame_1080p, RECT, size, scale=SCALE, offset=OFFSET)
        return run

    def opencv_numpy(threads):
        def run():
            cv2.setNumThreads(threads)
            crop = cv2.warpAffine(frame_1080p, matrix, (size, size),
                                  flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_CONSTANT)
            return (crop.astype(np.float32) * SCALE + OFFSET)[None]
        return run

    cases = {f"facekit[{path}]": facekit_on(path) for path in _native.cpu.available()}
    cases["baseline opencv+numpy, 1 thread"] = opencv_numpy(1)
    cases[f"baseline opencv+numpy, {default_threads} threads"] = opencv_numpy(default_threads)
    active = _native.cpu.active()
    try:
        report = compare(f"crop+normalize 1080p -> {size}x{size}", cases)
    finally:
        _native.cpu.force(active)
        cv2.setNumThreads(default_threads)
    assert all(row["p50_us"] > 0 for row in report.values())
