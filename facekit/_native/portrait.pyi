"""
Portrait mattes and background effects
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['MASK_SIDE', 'compose', 'grid_step', 'matte', 'smooth_mask']
def compose(image: numpy.ndarray, format: str, matte: numpy.ndarray, effect: str, blur: typing.SupportsFloat | typing.SupportsIndex, color: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(3)"], background: numpy.ndarray | None, arena: typing.Any) -> numpy.typing.NDArray[numpy.uint8]:
    """
    The effect applied with the matte, as a new image in the arena (cutout: RGBA-like, the image's colour channels then the matte).
    """
def grid_step(width: typing.SupportsInt | typing.SupportsIndex, height: typing.SupportsInt | typing.SupportsIndex) -> int:
    """
    Grid step of the matte's and the blur's low-resolution work.
    """
def matte(image: numpy.ndarray, format: str, mask: numpy.ndarray, arena: typing.Any) -> numpy.typing.NDArray[numpy.uint8]:
    """
    The person's matte (HxW uint8 in the arena) from the network's 256x256 mask, refined by a guided filter at full resolution.
    """
def smooth_mask(mask: numpy.ndarray, state: numpy.ndarray, keep: typing.SupportsFloat | typing.SupportsIndex, first: bool) -> None:
    """
    Temporal smoothing of the network's mask into state (arena memory), in place.
    """
MASK_SIDE: int = 256
