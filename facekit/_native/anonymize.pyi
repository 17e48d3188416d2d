"""
Covering face regions: pixelate, blur, solid
"""
from __future__ import annotations
import collections.abc
import numpy
import typing
__all__: list[str] = ['MAX_BLOCK', 'cover', 'cover_ellipse']
def cover(image: numpy.ndarray, box: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(4)"], method: str, block: typing.SupportsInt | typing.SupportsIndex, color: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(3)"], arena: typing.Any) -> None:
    """
    Cover box (x0, y0, x1, y1) of the image in place (clipped to it): pixelate, blur or solid colour. block (cell side or blur radius) lies in [1, MAX_BLOCK].
    """
def cover_ellipse(image: numpy.ndarray, ellipse: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(5)"], method: str, block: typing.SupportsInt | typing.SupportsIndex, color: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(3)"], arena: typing.Any, mask: numpy.ndarray | None = None) -> None:
    """
    Cover the pixels inside ellipse (cx, cy, rx, ry, angle in radians) of the image in place: pixelate or blur (block: cell side or blur radius, in [1, MAX_BLOCK]), solid colour, or 'mask': the mask picture (uint8 HxW for a gray image, HxWx3 otherwise) scaled into it.
    """
MAX_BLOCK: int = 2048
