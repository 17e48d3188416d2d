"""BlazeFace, MediaPipe's face detection network, with its native decoder: the detection stage
that FaceDetector and FaceLandmarker share (internal)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from . import _native
from ._inference import Network
from .arena import Frame, crop, native_arena
from .geometry import RotatedRect

__all__ = ["BlazeFace", "DetectorModel", "MODELS", "MAX_FACES", "MAX_THREADS"]

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
