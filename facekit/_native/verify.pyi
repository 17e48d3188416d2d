"""
Aligned face chips and descriptor distances
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['CHIP_MEAN_RGB', 'CHIP_PADDING', 'CHIP_SCALE', 'CHIP_SIZE', 'HogFaceDetector', 'ShapePredictor', 'chip', 'chip_points', 'distance']
class ShapePredictor:
    """
    dlib's regression-tree shape predictor (facekit's flat form).
    """
    def __init__(self, data: bytes) -> None:
        ...
    def __reduce_ex__(self, arg0: typing.Any) -> typing.Any:
        ...
    def predict(self, image: numpy.ndarray, format: str, box: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(4)"], arena: typing.Any) -> numpy.typing.NDArray[numpy.float32]:
        """
        The points for a face box (left, top, right, bottom), rounded to whole pixels as dlib rounds them, as a read-only (parts, 2) view into the arena.
        """
    @property
    def parts(self) -> int:
        ...
class HogFaceDetector:
    """
    dlib's frontal (HOG) face detector, run near one face.
    """
    def __init__(self, data: bytes) -> None:
        ...
    def __reduce_ex__(self, arg0: typing.Any) -> typing.Any:
        ...
    def find(self, image: numpy.ndarray, format: str, estimate: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(4)"], arena: typing.Any) -> typing.Any:
        """
        ((left, top, right, bottom), confidence) of the window dlib's detector(image, 1) reports near `estimate`, or None when no window there reaches its threshold.
        """
    @property
    def filters(self) -> int:
        ...
def chip(image: numpy.ndarray, format: str, points: numpy.ndarray, arena: typing.Any, size: typing.SupportsInt | typing.SupportsIndex = 150, padding: typing.SupportsFloat | typing.SupportsIndex = 0.25, raw: bool = False, mean: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(3)"] = [122.78199768066406, 117.0009994506836, 104.2979965209961], scale: typing.SupportsFloat | typing.SupportsIndex = 0.00390625) -> typing.Any:
    """
    dlib's aligned face chip for five points (float32 (5, 2), dlib's order), in the arena: the network's float32 (1, size, size, 3) input, (pixel - mean) * scale per RGB channel, or with raw=True the 8-bit chip.
    """
def chip_points(image: numpy.ndarray, format: str, landmarks: numpy.ndarray, detector: HogFaceDetector, predictor: ShapePredictor, arena: typing.Any) -> tuple[numpy.typing.NDArray[numpy.float32], bool]:
    """
    (points, found): the chip's five points (dlib's order, whole pixels) for the face whose mesh is `landmarks`, as a read-only (5, 2) view into the arena, and whether dlib's detector box was found near the face (else the mesh estimate was used).
    """
def distance(a: numpy.ndarray, b: numpy.ndarray) -> float:
    """
    Euclidean distance of two descriptors (a plain float).
    """
CHIP_MEAN_RGB: tuple = (122.78199768066406, 117.0009994506836, 104.2979965209961)
CHIP_PADDING: float = 0.25
CHIP_SCALE: float = 0.00390625
CHIP_SIZE: int = 150
