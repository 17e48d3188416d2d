"""BlazeFace, MediaPipe's face detection network, with its native decoder: the detection stage
that FaceDetector and FaceLandmarker share (internal)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from . import _native
from ._inference import Network
from .arena import Frame, crop, native_arena
from .geometry import RotatedRect

__all__ = ["BlazeFace", "DetectorModel", "MODELS", "MAX_FACES", "MAX_THREADS", "SecondOpinion"]

DetectorModel = Literal["short_range", "full_range", "auto"]
MODELS = ("short_range", "full_range", "auto")
MAX_FACES = 1000   # far beyond any photo; keeps counts well inside the native int range
MAX_THREADS = 256

# facekit model name -> network (input side, anchors and default score: _native.detection).
_NETWORKS = {
    "short_range": "face_detection_short_range",
    "full_range": "face_detection_full_range_sparse",
}
# "auto" must find small faces too. Measured on the sample portrait scaled onto a 1280x960
# canvas: the short-range network misses faces under about 1/5 of the image width; the
# full-range network (192x192, 2304 anchors) still finds them at 1/18.
_AUTO = "full_range"


class BlazeFace:
    """One detection network plus its native decoder, run inside a caller's frame."""

    def __init__(self, model: DetectorModel, intra_op_threads: int) -> None:
        self.kind = _AUTO if model == "auto" else model
        self.size = _native.detection.input_size(self.kind)
        self.default_score = _native.detection.default_min_score(self.kind)
        self.network = Network(_NETWORKS[self.kind], intra_op_threads)
        by_width = {shape[-1]: n for n, shape in self.network.outputs.items()}
        self.regressors = by_width[_native.detection.VALUES_PER_ANCHOR]
        self.classificators = by_width[1]

    def detect(self, frame: Frame, pixels: np.ndarray, pixel_format: str,
               min_score: float | None, max_faces: int):
        height, width = pixels.shape[:2]
        side = float(max(width, height))
        # Letterbox: a square around the whole image, zero intensity outside (-1 after scaling).
        rect = RotatedRect(width / 2, height / 2, side, side)
        tensor = crop(frame, pixels, pixel_format, rect, (self.size, self.size),
                      (1 / 127.5,) * 3, (-1.0,) * 3)
        outputs = self.network.run(frame, tensor)
        return _native.detection.decode(
            native_arena(frame), outputs[self.regressors], outputs[self.classificators],
            self.kind, (rect.center_x, rect.center_y, rect.width, rect.height, rect.rotation),
            self.default_score if min_score is None else min_score, max_faces,
        )


class SecondOpinion:
    """Rejects the short-range network's false faces by asking the full-range network.

    The short-range network fires on some face-like emblems with a fair score (0.5-0.7), and
    the landmark network then gives them a high presence too (MediaPipe reports them
    likewise). The full-range network, trained at another scale, mostly disagrees, while on
    real faces the two agree: a face is kept when a full-range face overlaps its box with a
    score of at least ``AGREE`` (the full-range default; lowered by as much as the caller
    lowered the short-range threshold). Kept unchecked: a face the short-range network is sure
    of (every false face measured scored below 0.8, most real faces score above, so most images
    pay nothing), and a face cut by the image's edge (the full-range network scores such
    partial faces as low as 0, where the short-range one still finds them). Real faces it
    drops: blurred ones the full-range network scores below 0.6 (0.50 and 0.42 on two frames of
    the shared clip). Figures: tests/test_false_faces.py and benchmarks/false_faces.py.
    """

    SURE = 0.8         # short-range score above which a face is kept without a second run
    AGREE = 0.6        # full-range score of an overlapping box that confirms a face
    MIN_OVERLAP = 0.3  # IoU of the two networks' boxes; for one real face they overlap > 0.5

    def __init__(self, intra_op_threads: int) -> None:
        self.detector = BlazeFace("full_range", intra_op_threads)
        self.short_default = _native.detection.default_min_score("short_range")

    def agreed(self, frame: Frame, pixels: np.ndarray, pixel_format: str,
               faces: list[tuple[float, float, float, float, float]],
               min_score: float | None) -> list[int]:
        """Indices of the short-range `faces` (score, x, y, width, height: the plain values of
        :meth:`BlazeFace.detect`) to keep. Runs the full-range network at most once, on the
        whole image; its keypoints stay in `frame`'s arena."""
        height, width = pixels.shape[:2]

        def unchecked(face) -> bool:
            score, x, y, w, h = face
            return score >= self.SURE or x <= 0 or y <= 0 or x + w >= width or y + h >= height

        if all(unchecked(face) for face in faces):
            return list(range(len(faces)))
        lowered = 0.0 if min_score is None else max(0.0, self.short_default - min_score)
        score = max(0.0, self.AGREE - lowered)
        room = min(MAX_FACES, max(100, 2 * len(faces)))
        others, _ = self.detector.detect(frame, pixels, pixel_format, score, room)
        return [i for i, face in enumerate(faces)
                if unchecked(face)
                or any(_iou(face[1:], other[1:]) >= self.MIN_OVERLAP for other in others)]


def _iou(a, b) -> float:
    """IoU of two (x, y, width, height) boxes."""
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0
