"""
Drawing landmarks without leaving native code
"""
from __future__ import annotations
import collections.abc
import numpy
import typing
__all__: list[str] = ['points']
def points(image: numpy.ndarray, points: numpy.ndarray, rgb: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(3)"], radius: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Paint discs at (x, y) points onto an RGB image in place.
    """
