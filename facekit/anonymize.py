"""De-identifying every face of an image before it leaves the device.

Faces are found with both detector networks (short and full range) at a lowered score
threshold, so that small and partly visible faces are found too; a padded box around each is
covered natively (pixelated, blurred or filled). The result is then checked by detecting again
with both networks at their default thresholds: a face still found is covered again with a
coarser setting (at most three rounds), so the returned image has no face these detectors find.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from . import _native
from ._resource import NativeResource
from .detector import FaceDetector, FaceDetectorOptions
from .image import ColorFormat, ImageLike, as_pixels

__all__ = ["Anonymizer", "anonymize", "Method"]

Method = Literal["pixelate", "blur", "solid"]
_METHODS = ("pixelate", "blur", "solid")
SEARCH_SCORE = 0.35  # below both networks' defaults (0.5, 0.6): anonymizing favours recall
ROUNDS = 3


class Anonymizer(NativeResource):
    """Covers every face in images; reuse one for many images (use ``with`` or :meth:`close`).

    Args:
        method: ``"pixelate"`` (cells of about a tenth of the face), ``"blur"`` (three box-filter
            passes) or ``"solid"`` (a flat ``color``).
        padding: how far beyond the detected box to cover, as a fraction of its size per side.
        color: the fill of ``"solid"``, RGB.
        color_format: channel order of 3/4-channel numpy images (``"bgr"`` for OpenCV).
    """

    def __init__(self, method: Method = "pixelate", *, padding: float = 0.25,
                 color: tuple[int, int, int] = (0, 0, 0), color_format: ColorFormat = "rgb"):
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
        if not 0.0 <= padding <= 2.0:
            raise ValueError(f"padding must lie in [0, 2], got {padding}")
        if len(color) != 3 or not all(isinstance(c, int) and 0 <= c <= 255 for c in color):
            raise ValueError(f"color must be three ints in 0..255, got {color!r}")
        self.method, self.padding, self.color = method, float(padding), tuple(color)
        self.color_format = color_format
        self._search = [FaceDetector(FaceDetectorOptions(
            model=model, min_detection_confidence=SEARCH_SCORE, max_faces=100,
            color_format=color_format)) for model in ("short_range", "full_range")]
        self._check = [FaceDetector(FaceDetectorOptions(
            model=model, max_faces=100, color_format=color_format))
            for model in ("short_range", "full_range")]

    def apply(self, image: ImageLike) -> np.ndarray:
        """A copy of `image` with every face covered."""
        pixels, pixel_format = as_pixels(image, self.color_format)
        out = np.array(pixels, copy=True)
        fill = self.color[::-1] if pixel_format.startswith("bgr") else self.color
        for round_ in range(ROUNDS):
            detectors = self._search if round_ == 0 else self._check
            found = 0
            for detector in detectors:
                with detector.detect(out) as result:
                    boxes = [face.box for face in result.faces]
                    for box in boxes:
                        self._cover(out, box, fill, round_, detector)
                    found += len(boxes)
            if round_ > 0 and found == 0:
                break
        return out

    def _cover(self, out: np.ndarray, box, fill, round_: int, detector: FaceDetector) -> None:
        side = max(box.width, box.height)
        pad = self.padding * side
        x0, y0 = int(box.x - pad), int(box.y - pad * 1.4)  # a little more above: hair, brow
        x1, y1 = int(np.ceil(box.x + box.width + pad)), int(np.ceil(box.y + box.height + pad))
        scale = 2 ** round_  # a face still found after a round gets a coarser cover
        if self.method == "pixelate":
            block = max(4, int(side / 10) * scale)
        elif self.method == "blur":
            block = max(3, int(side / 6) * scale)
        else:
            block = 1
        _native.anonymize.cover(out, (x0, y0, x1, y1), self.method, block, tuple(fill),
                                detector._arena._native)

    def close(self) -> None:
        """Release the detectors. Safe to call twice."""
        for detector in self._search + self._check:
            detector.close()

    def __enter__(self) -> "Anonymizer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def anonymize(image: ImageLike, method: Method = "pixelate", *, padding: float = 0.25,
              color: tuple[int, int, int] = (0, 0, 0),
              color_format: ColorFormat = "rgb") -> np.ndarray:
    """A copy of `image` with every face covered (see :class:`Anonymizer`)."""
    with Anonymizer(method, padding=padding, color=color, color_format=color_format) as worker:
        return worker.apply(image)
