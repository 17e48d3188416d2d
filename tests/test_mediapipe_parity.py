"""Parity with MediaPipe 0.10.14's legacy solutions (static mode), run in their own venv.

Like with like: the short-range detector vs model_selection=0, full range vs
model_selection=1, the 468 points vs face_mesh with refine_landmarks=False (the same network),
the iris points vs refine_landmarks=True (MediaPipe's attention network: looser tolerance).
Required on every photo: the same number of faces, box IoU >= 0.9, mean landmark error <= 1%
of the inter-ocular distance, iris centres within 2%.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import parity_photos
from support_oracle import require_oracle, run_oracle

import facekit
from facekit import FaceDetector, FaceDetectorOptions, FaceLandmarker, FaceLandmarkerOptions

MAX_FACES = 2


PHOTOS, IDS = parity_photos()


@pytest.fixture(scope="module")
def oracle():
    """Every MediaPipe answer for every photo, one oracle call per task."""
    require_oracle()
    answers = {}
    for selection in (0, 1):
        reply = run_oracle({"task": "detect", "images": PHOTOS, "model_selection": selection})
        answers[f"detect{selection}"] = [image["faces"] for image in reply["images"]]
    for refine in (False, True):
        reply = run_oracle({"task": "mesh", "images": PHOTOS, "refine_landmarks": refine,
                            "max_num_faces": MAX_FACES, "static_image_mode": True})
        answers[f"mesh{int(refine)}"] = [image["faces"] for image in reply["images"]]
    return answers


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


def load(path: Path) -> np.ndarray:
    return facekit.load_image(path)


@pytest.mark.parametrize("model,selection", [("short_range", 0), ("full_range", 1)])
@pytest.mark.parametrize("index", range(len(PHOTOS)), ids=IDS)
def test_detection_matches_mediapipe(oracle, index, model, selection):
    want = oracle[f"detect{selection}"][index]
    options = FaceDetectorOptions(model=model, max_faces=10)
    with FaceDetector(options) as detector, detector.detect(load(PHOTOS[index])) as result:
        got = [(f.box.x, f.box.y, f.box.width, f.box.height) for f in result.faces]
    assert len(got) == len(want)
    for face in want:
        best = max(iou(face["box"], box) for box in got)
        print(f"{IDS[index]} {model}: IoU {best:.3f}")
        assert best >= 0.9


def _pair(ours: list[np.ndarray], theirs: list[np.ndarray]):
    """Each of our faces with MediaPipe's face whose nose tip (landmark 1) is nearest."""
    for mine in ours:
        yield mine, min(theirs, key=lambda t: np.abs(t[1, :2] - mine[1, :2]).sum())


@pytest.mark.parametrize("index", range(len(PHOTOS)), ids=IDS)
def test_468_landmarks_match_mediapipe(oracle, index):
    theirs = [np.asarray(f["landmarks"], np.float64) for f in oracle["mesh0"][index]]
    options = FaceLandmarkerOptions(max_faces=MAX_FACES)
    with FaceLandmarker(options) as landmarker, landmarker.detect(load(PHOTOS[index])) as result:
        ours = [np.array(f.landmarks, np.float64) for f in result.faces]  # public test photos
    assert len(ours) == len(theirs)
    for mine, ref in _pair(ours, theirs):
        inter_ocular = np.linalg.norm(ref[33, :2] - ref[263, :2])
        error = np.linalg.norm(mine[:, :2] - ref[:468, :2], axis=1).mean() / inter_ocular
        print(f"{IDS[index]}: mean 468-point error {100 * error:.2f}% of inter-ocular distance")
        assert error <= 0.01


@pytest.mark.parametrize("index", range(len(PHOTOS)), ids=IDS)
def test_iris_centres_match_mediapipe(oracle, index):
    theirs = [np.asarray(f["landmarks"], np.float64) for f in oracle["mesh1"][index]]
    options = FaceLandmarkerOptions(max_faces=MAX_FACES, iris=True)
    with FaceLandmarker(options) as landmarker, landmarker.detect(load(PHOTOS[index])) as result:
        ours = [np.array(f.landmarks, np.float64) for f in result.faces]
    assert len(ours) == len(theirs)
    for mine, ref in _pair(ours, theirs):
        inter_ocular = np.linalg.norm(ref[33, :2] - ref[263, :2])
        for centre in (468, 473):
            error = np.linalg.norm(mine[centre, :2] - ref[centre, :2]) / inter_ocular
            print(f"{IDS[index]}: iris {centre} error {100 * error:.2f}% of inter-ocular distance")
            assert error <= 0.02
