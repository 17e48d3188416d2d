"""
Affine crops and the fused crop + normalize kernel
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['MAX_CROP_SIDE', 'MAX_IMAGE_SIDE', 'crop_normalize', 'rect_to_affine']
def crop_normalize(arena: typing.Any, image: numpy.ndarray, format: str, transforms: collections.abc.Sequence[typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(6)"]], out_width: typing.SupportsInt | typing.SupportsIndex, out_height: typing.SupportsInt | typing.SupportsIndex, scale: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(3)"], offset: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(3)"], border: str) -> numpy.typing.NDArray[numpy.float32]:
    """
    Sample each transform of `image` into one new (N, H, W, 3) float32 view in `arena` (a batch, ready for a network).
    """
def rect_to_affine(center_x: typing.SupportsFloat | typing.SupportsIndex, center_y: typing.SupportsFloat | typing.SupportsIndex, width: typing.SupportsFloat | typing.SupportsIndex, height: typing.SupportsFloat | typing.SupportsIndex, rotation: typing.SupportsFloat | typing.SupportsIndex, out_width: typing.SupportsInt | typing.SupportsIndex, out_height: typing.SupportsInt | typing.SupportsIndex) -> typing.Annotated[list[float], "FixedSize(6)"]:
    ...
MAX_CROP_SIDE: int = 4096
MAX_IMAGE_SIDE: int = 16384
