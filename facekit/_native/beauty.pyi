"""
Skin, shape, makeup and colour effects on one face
"""
from __future__ import annotations
import collections.abc
import numpy
import typing
__all__: list[str] = ['apply']
def apply(src: numpy.ndarray, dst: numpy.ndarray, format: str, landmarks: numpy.ndarray, regions: collections.abc.Sequence[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]], strengths: dict, lut: typing.Any, arena: typing.Any, trace: bool = False) -> dict:
    """
    Apply beauty effects to one face: read src, write the face's region of dst (which must already hold a copy of src). Scratch comes from the arena. Returns the region written and, with trace, read-only arena views of the warp map and masks.
    """
