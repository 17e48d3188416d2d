"""Crop + normalize of a 1080p frame into network inputs: facekit per SIMD path vs
cv2.warpAffine followed by numpy normalization (the way MediaPipe-style code prepares tensors).

Run: pytest benchmarks --benchmark-json=crop.json   (ratios print at the end)
"""

from __future__ import annotations

import numpy as np
import pytest

import facekit
from facekit import _native

cv2 = pytest.importorskip("cv2")

RECT = facekit.RotatedRect(960, 520, 560, 560, 0.2)  # a tilted face-sized region
SIZES = [192, 128]
SCALE, OFFSET = 1 / 127.5, -1.0  # [-1, 1], as the detector expects


@pytest.fixture
def simd_path(request):
    active = _native.cpu.active()
    _native.cpu.force(request.param)
    yield request.param
    _native.cpu.force(active)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("simd_path", _native.cpu.available(), indirect=True)
def test_facekit(benchmark, frame_1080p, size, simd_path):
    benchmark.group = f"crop+normalize 1080p->{size}"
    benchmark.name = f"facekit[{simd_path}]"
    benchmark.extra_info.update(simd=simd_path, size=size)
    arena = facekit.SecureArena()

    def run():
        with arena.frame() as frame:  # includes opening the frame and wiping it
            frame.crop_normalize(frame_1080p, RECT, size, scale=SCALE, offset=OFFSET)

    benchmark(run)


@pytest.mark.parametrize("threads", ["1 thread", "default threads"])
@pytest.mark.parametrize("size", SIZES)
def test_baseline_opencv_numpy(benchmark, frame_1080p, size, threads):
    benchmark.group = f"crop+normalize 1080p->{size}"
    benchmark.name = f"baseline opencv+numpy ({threads})"
    matrix = np.array(_native.warp.rect_to_affine(
        RECT.center_x, RECT.center_y, RECT.width, RECT.height, RECT.rotation, size, size)
    ).reshape(2, 3)
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1 if threads == "1 thread" else previous)

    def run():
        crop = cv2.warpAffine(frame_1080p, matrix, (size, size),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT)
        return (crop.astype(np.float32) * SCALE + OFFSET)[None]

    try:
        benchmark(run)
    finally:
        cv2.setNumThreads(previous)
