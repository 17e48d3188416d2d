"""What clearing ONNX Runtime's buffers costs, per network and per frame (1 thread).

Each network runs on a real face crop of the committed portrait in the frame arena, with each
scrub mechanism (``facekit._inference.SCRUB_MODES``), interleaved in one run. The case named
``baseline none`` does no scrub: its p50 over a mechanism's p50 is the "speedup" column, so the
mechanism's cost is 1/speedup - 1 of the inference it protects. The whole landmarker (IMAGE mode,
iris on: detector, mesh, iris) is measured the same way. The target for the default is < 25%.
"""

from __future__ import annotations

import numpy as np
import pytest

import facekit
from facekit._inference import Network
from facekit.geometry import RotatedRect

INPUTS = {"face_detection_short_range": (1, 128), "face_landmark": (1, 192),
          "iris_landmark": (2, 64), "dlib_face_recognition_resnet_v1": (1, 150)}
MODES = ("perturb", "rerun")


@pytest.fixture(scope="module")
def portrait(frame_1080p) -> np.ndarray:
    return frame_1080p


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_scrub_cost_per_network(compare, portrait, name):
    batch, size = INPUTS[name]
    rect = RotatedRect(960.0, 520.0, 560.0, 560.0, 0.0)
    arena = facekit.SecureArena(region_bytes=8 << 20)
    networks = {mode: Network(name, 1, scrub=mode) for mode in ("none", *MODES)}

    def case(network):
        def run():
            with arena.frame() as frame:
                tensor = facekit.arena.crop_batch(frame, portrait, "rgb", [(rect, False)] * batch,
                                                  (size, size), (2 / 255,) * 3, (-1.0,) * 3)
                network.run(frame, tensor)
        return run

    cases = {("baseline none" if mode == "none" else mode): case(net)
             for mode, net in networks.items()}
    report = compare(f"scrub cost: {name}", cases, rounds=200)
    for mode in MODES:
        assert report[mode]["p50_us"] > 0
    arena.close()


def test_scrub_cost_per_frame(compare, portrait):
    from facekit import _inference

    landmarkers = {}
    for mode in ("none", *MODES):
        _inference.DEFAULT_SCRUB = mode
        landmarkers[mode] = facekit.FaceLandmarker(facekit.FaceLandmarkerOptions(iris=True))
    _inference.DEFAULT_SCRUB = "auto"

    def case(landmarker):
        def run():
            with landmarker.detect(portrait) as result:
                assert len(result.faces) == 1
        return run

    cases = {("baseline none" if mode == "none" else mode): case(lm)
             for mode, lm in landmarkers.items()}
    compare("scrub cost: landmarker frame (iris on)", cases, rounds=100)
    for landmarker in landmarkers.values():
        landmarker.close()
