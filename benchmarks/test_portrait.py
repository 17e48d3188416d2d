"""Portrait background blur against MediaPipe 0.10.14's selfie segmentation + OpenCV, one thread
each, in the same run.

MediaPipe runs in its own venv through the oracle's ``selfie_blur`` task (tests/oracle/
mediapipe_oracle.py): per call, ``SelfieSegmentation(model_selection=0)`` (the general model,
the one facekit ships), ``cv2.GaussianBlur`` of the frame and ``cv2.blendLinear`` of frame and
blur with the mask as weights, OpenCV on one thread. Its Gaussian's sigma matches facekit's blur
at strength 1 (two box passes of radius r = longer side / 40 have a standard deviation of
r * sqrt(2/3) pixels). facekit: one ``Portrait(blur=1.0)``, each ``segment`` call timed together
with its result's ``close()`` (the wipe is part of its cost), one ONNX Runtime thread. Same
pixels on both sides (``cv2.imread`` + BGR->RGB). The sides alternate ``ALTERNATIONS`` times in
ABBA order; medians of p50/p95 over the alternations are reported.

The target (facekit >= 2x MediaPipe at 1080p) is reported, never asserted; the tests assert only
sanity (positive times, the person found on both sides).

Run:  pytest benchmarks/test_portrait.py -p no:cacheprovider -s
      FACEKIT_BENCH_ALTERNATIONS=5 for more alternations; with --benchmark-disable (CI's
      smoke run) one alternation of 3 calls a side.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np
import pytest
from support import shared_face
from support_oracle import require_oracle, run_oracle

from facekit import Portrait, PortraitOptions

ALTERNATIONS = int(os.environ.get("FACEKIT_BENCH_ALTERNATIONS", "3"))
WARMUP = 2
CALLS = 20
PHOTOS = {"720p": "obama-720p.jpg", "1080p": "obama-1080p.jpg"}
TARGET = {"1080p": 2.0}


def sigma_of(width: int, height: int) -> float:
    """The standard deviation of facekit's blur at strength 1, in full-resolution pixels."""
    radius = max(width, height) / 40.0
    return radius * math.sqrt(2.0 / 3.0)


def _facekit(image: np.ndarray, calls: int) -> dict:
    times = []
    with Portrait(PortraitOptions(blur=1.0)) as portrait:
        for _ in range(WARMUP):
            portrait.segment(image).close()
        for _ in range(calls):
            start = time.perf_counter()
            result = portrait.segment(image)
            person = float((result.matte >= 128).mean())
            result.close()
            times.append((time.perf_counter() - start) * 1e3)
    t = np.asarray(times)
    return {"p50_ms": float(np.percentile(t, 50)), "p95_ms": float(np.percentile(t, 95)),
            "person_fraction": person}


def _mediapipe(path: str, sigma: float, calls: int) -> dict:
    answer = run_oracle({"task": "selfie_blur", "images": [path], "sigma": sigma,
                         "repeats": calls, "warmup": WARMUP})
    return answer["images"][0]


@pytest.mark.parametrize("size", list(PHOTOS))
def test_background_blur_vs_mediapipe(size, record_property, request):
    require_oracle()
    smoke = bool(request.config.getoption("benchmark_disable", False))
    calls, alternations = (3, 1) if smoke else (CALLS, ALTERNATIONS)
    cv2 = pytest.importorskip("cv2")
    path = str(shared_face(PHOTOS[size]))
    image = np.ascontiguousarray(cv2.imread(path, cv2.IMREAD_COLOR)[:, :, ::-1])
    height, width = image.shape[:2]
    sigma = sigma_of(width, height)
    runs: dict[str, list[dict]] = {"mediapipe": [], "facekit": []}
    for round_ in range(alternations):
        order = ("mediapipe", "facekit") if round_ % 2 == 0 else ("facekit", "mediapipe")
        for side in order:
            runs[side].append(_mediapipe(path, sigma, calls) if side == "mediapipe"
                              else _facekit(image, calls))
    report = {side: {key: float(np.median([r[key] for r in rs])) for key in ("p50_ms", "p95_ms")}
              for side, rs in runs.items()}
    speedup = report["mediapipe"]["p50_ms"] / report["facekit"]["p50_ms"]
    speedup_p95 = report["mediapipe"]["p95_ms"] / report["facekit"]["p95_ms"]
    target = TARGET.get(size)
    verdict = "" if target is None else (
        f"  target >= {target}x {'met' if speedup >= target else 'MISSED'}")
    print(f"\nbackground blur {size} ({width}x{height}, sigma {sigma:.1f} px): "
          f"MediaPipe+OpenCV p50/p95 {report['mediapipe']['p50_ms']:.2f} / "
          f"{report['mediapipe']['p95_ms']:.2f} ms, facekit {report['facekit']['p50_ms']:.2f} / "
          f"{report['facekit']['p95_ms']:.2f} ms, speedup p50 x{speedup:.2f} "
          f"(p95 x{speedup_p95:.2f}){verdict}")
    record_property("portrait_blur", {"size": size, **report, "speedup_p50": speedup,
                                      "speedup_p95": speedup_p95, "sigma": sigma})
    for side in runs:
        assert report[side]["p50_ms"] > 0
        assert all(r["person_fraction"] > 0.05 for r in runs[side]), side
