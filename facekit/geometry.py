"""Plain geometry values (not biometric): rectangles that say where to crop."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["RotatedRect"]


@dataclass(frozen=True)
class RotatedRect:
    """A rectangle in image pixels, rotated about its centre.

    Coordinates are MediaPipe's ``NormalizedRect`` scaled by the image size, so the centre of a
    ``W``-pixel-wide image is ``W / 2``. ``rotation`` is in radians, clockwise as seen on screen
    (image y points down). A crop of ``N`` pixels samples the rectangle at ``0, 1/N, ...,
    (N-1)/N`` of its width, as MediaPipe's ImageToTensor does.
    """

    center_x: float
    center_y: float
    width: float
    height: float
    rotation: float = 0.0

    def __post_init__(self) -> None:
        for name in ("center_x", "center_y", "width", "height", "rotation"):
            value = float(getattr(self, name))  # numpy scalars become plain floats
            if not math.isfinite(value):
                raise ValueError(f"RotatedRect.{name} must be finite, got {value}")
            object.__setattr__(self, name, value)
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"RotatedRect needs a positive size, got {self.width}x{self.height}")

    @classmethod
    def from_box(cls, left: float, top: float, width: float, height: float) -> RotatedRect:
        """An unrotated rectangle from its top-left corner and size."""
        return cls(left + width / 2, top + height / 2, width, height)
