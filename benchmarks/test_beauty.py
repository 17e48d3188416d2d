"""Beauty effects: facekit vs an OpenCV pipeline doing the same work, 1 thread, one run.

Cases on the committed portrait in 720p and 1080p frames:
- ``facekit natural, effects only``: the natural preset (smoothing, whitening, face_slim,
  eye_enlarge, lipstick) with the face's landmarks already in the arena (native engine only);
- ``facekit natural, with landmarks``: ``Beautifier.apply`` end to end (detector + mesh too);
- ``baseline opencv``: what an app engineer would write with OpenCV and numpy given the same
  landmarks: ``cv2.fillPoly`` masks feathered with ``cv2.GaussianBlur``, ``cv2.bilateralFilter``
  on the face ROI, ``cv2.LUT`` whitening, numpy float blends, a numpy displacement field for
  the slimming and eye warps sampled with ``cv2.remap``, and a lipstick blend.
Per-effect times (each effect alone, landmarks excluded) follow. Targets (issue 6): effects
under 8 ms at 1080p on one core, and at least 3x faster than the OpenCV pipeline.
"""

from __future__ import annotations

import numpy as np
import pytest

import facekit
from facekit import _native
from facekit.beauty import _REGION_ORDER, PRESETS, Beautifier, BeautyOptions, _regions

cv2 = pytest.importorskip("cv2")
cv2.setNumThreads(1)

NATURAL = PRESETS["natural"]


def _frame(portrait: np.ndarray, height: int) -> np.ndarray:
    width = height * 16 // 9
    canvas = np.zeros((height, width, 3), np.uint8)
    face = cv2.resize(portrait, (height * 864 // 1080, height), interpolation=cv2.INTER_AREA)
    left = (width - face.shape[1]) // 2
    canvas[:, left:left + face.shape[1]] = face
    return canvas


@pytest.fixture(scope="module")
def frames(frame_1080p):
    portrait = frame_1080p[:, 528:1392]
    return {"720p": _frame(portrait, 720), "1080p": _frame(portrait, 1080)}


def _landmarks(image: np.ndarray) -> np.ndarray:
    with facekit.FaceLandmarker() as landmarker, landmarker.detect(image) as result:
        return np.array(result.faces[0].landmarks)  # benchmark-only copy of a public photo


def _effects_only(image: np.ndarray, landmarks: np.ndarray, options: BeautyOptions):
    """Run the native engine alone on landmarks placed in a fresh arena frame each call."""
    arena = facekit.SecureArena(region_bytes=64 << 20)
    strengths = options._strengths()
    regions = _regions()
    out = np.array(image, copy=True)

    def run():
        with arena.frame() as frame:
            points = facekit.arena.expose(frame, landmarks)
            _native.beauty.apply(image, out, "rgb", points, regions, strengths, None,
                                 arena._native)
    return run


def _opencv_pipeline(image: np.ndarray, landmarks: np.ndarray):
    """The natural preset the way an app engineer would write it with OpenCV and numpy."""
    regions = {name: list(points) for name, points in zip(_REGION_ORDER, _regions())}
    pts = landmarks[:, :2].astype(np.float32)

    def run():
        out = image.copy()
        x0, y0 = np.floor(pts.min(0) - 40).astype(int).clip(0)
        x1, y1 = np.ceil(pts.max(0) + 40).astype(int)
        roi = out[y0:y1, x0:x1]
        local = pts - (x0, y0)
        face_w = float(np.ptp(local[regions["face_oval"], 0]))
        mask = np.zeros(roi.shape[:2], np.uint8)
        cv2.fillPoly(mask, [local[regions["face_oval"]].astype(np.int32)], 255)
        for name in ("left_eye", "right_eye", "left_brow", "right_brow", "lips_outer",
                     "nostrils"):
            cv2.fillPoly(mask, [local[regions[name]].astype(np.int32)], 0)
        k = int(face_w * 0.05) | 1
        skin = cv2.GaussianBlur(mask, (k, k), 0).astype(np.float32)[..., None] / 255.0
        smooth = cv2.bilateralFilter(roi, 9, 40, 7)
        blended = roi * (1 - 0.5 * 0.85 * skin) + smooth * (0.5 * 0.85 * skin)
        table = np.clip(np.arange(256) + 0.6 * np.arange(256) * (255 - np.arange(256)) / 255,
                        0, 255).astype(np.uint8)
        white = cv2.LUT(blended.astype(np.uint8), table).astype(np.float32)
        blended = blended * (1 - 0.25 * skin) + white * (0.25 * skin)
        lips = np.zeros(roi.shape[:2], np.uint8)
        cv2.fillPoly(lips, [local[regions["lips_outer"]].astype(np.int32)], 255)
        cv2.fillPoly(lips, [local[regions["lips_inner"]].astype(np.int32)], 0)
        lips = cv2.GaussianBlur(lips, (5, 5), 0).astype(np.float32)[..., None] / 255.0
        colour = np.array([176, 38, 62], np.float32)
        luma = blended @ np.array([0.299, 0.587, 0.114], np.float32)
        tint = np.clip(colour + (luma[..., None] - colour @ [0.299, 0.587, 0.114]), 0, 255)
        blended = blended * (1 - 0.3 * lips) + tint * (0.3 * lips)
        # Warp: slim the jaw and enlarge the eyes with smooth local displacements.
        ys, xs = np.mgrid[0:roi.shape[0], 0:roi.shape[1]].astype(np.float32)
        map_x, map_y = xs.copy(), ys.copy()
        nose = local[4]
        for index in (132, 58, 172, 136, 361, 288, 397, 365):
            c = local[index]
            shift = (nose - c) / np.linalg.norm(nose - c) * 0.035 * face_w * 0.3
            u = ((xs - c[0]) ** 2 + (ys - c[1]) ** 2) / (0.28 * face_w) ** 2
            fall = np.where(u < 1, (1 - u) ** 2, 0)
            map_x -= shift[0] * fall
            map_y -= shift[1] * fall
        for eye in ("left_eye", "right_eye"):
            c = local[regions[eye]].mean(0)
            radius = 1.5 * np.ptp(local[regions[eye], 0])
            u = ((xs - c[0]) ** 2 + (ys - c[1]) ** 2) / radius ** 2
            fall = np.where(u < 1, (1 - u) ** 2, 0) * 0.22 * 0.25
            map_x -= (xs - c[0]) * fall
            map_y -= (ys - c[1]) * fall
        roi[:] = cv2.remap(blended.astype(np.uint8), map_x, map_y, cv2.INTER_LINEAR)
        return out
    return run


@pytest.mark.parametrize("size", ["720p", "1080p"])
def test_natural_preset_vs_opencv(compare, frames, size):
    image = frames[size]
    landmarks = _landmarks(image)
    beautifier = Beautifier(NATURAL)
    cases = {
        "facekit natural, effects only": _effects_only(image, landmarks, NATURAL),
        "facekit natural, with landmarks": lambda: beautifier.apply(image),
        "baseline opencv, effects only": _opencv_pipeline(image, landmarks),
    }
    report = compare(f"beauty natural preset {size}", cases, rounds=60)
    assert report["facekit natural, effects only"]["p50_us"] > 0
    beautifier.close()


def test_each_effect_alone_1080p(compare, frames):
    image = frames["1080p"]
    landmarks = _landmarks(image)
    cases = {}
    for effect in ("smoothing", "whitening", "rosy", "sharpen", "dark_circles",
                   "teeth_whitening", "face_slim", "eye_enlarge", "lipstick", "blush",
                   "brow_tint", "eyeshadow"):
        cases[effect] = _effects_only(image, landmarks, BeautyOptions(**{effect: 1.0}))
    compare("beauty per effect 1080p (landmarks excluded)", cases, rounds=30)
