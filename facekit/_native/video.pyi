"""
yuv420p <-> RGB frame conversion
"""
from __future__ import annotations
import numpy
import numpy.typing
__all__: list[str] = ['rgb_changes_to_yuv420', 'rgb_to_yuv420', 'yuv420_to_rgb']
def rgb_changes_to_yuv420(before: numpy.ndarray, after: numpy.ndarray, y: numpy.ndarray, u: numpy.ndarray, v: numpy.ndarray, matrix: str, full_range: bool) -> None:
    """
    Writes into yuv420p planes holding `before`'s picture only the rows' column spans where `after` differs from `before` (the rest stays bit for bit).
    """
def rgb_to_yuv420(rgb: numpy.ndarray, y: numpy.ndarray, u: numpy.ndarray, v: numpy.ndarray, matrix: str, full_range: bool) -> None:
    """
    Writes the (H, W, 3) RGB array into yuv420p planes (2-D writable uint8 views).
    """
def yuv420_to_rgb(y: numpy.ndarray, u: numpy.ndarray, v: numpy.ndarray, matrix: str, full_range: bool, siting: str = 'centre') -> numpy.typing.NDArray[numpy.uint8]:
    """
    A new (H, W, 3) RGB array from yuv420p planes (2-D uint8 views, rows any stride; U and V at least half the size, rounded up); siting: 'centre' or 'left' chroma.
    """
