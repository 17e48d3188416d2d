"""
Fusing a prepared user face into a template face
"""
from __future__ import annotations
import collections.abc
import numpy
import typing
__all__: list[str] = ['MAX_TEXTURE_SIDE', 'MIN_FACE_WIDTH', 'SKIN_STATS', 'STATE_SIZE', 'fuse', 'prepare_user']
def fuse(src: numpy.ndarray, dst: numpy.ndarray, format: str, landmarks: numpy.ndarray, texture: numpy.ndarray, mesh: numpy.ndarray, skin: numpy.ndarray, triangles: numpy.ndarray, regions: collections.abc.Sequence[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]], params: dict, arena: typing.Any, state: typing.Any = None, track: typing.SupportsInt | typing.SupportsIndex = 0, trace: bool = False) -> dict:
    """
    Fuse a prepared user face into the template face of src, writing the face's region of dst (which must already hold a copy of src). `state`: a video state array, `track`: the template face's track id (a new id restarts the state). Returns the region written, the smallest signed triangle area of the target geometry (> 0: no fold), the blend margin and, with trace, read-only arena views of the mask and the template's warp map.
    """
def prepare_user(src: numpy.ndarray, format: str, landmarks: numpy.ndarray, regions: collections.abc.Sequence[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]], arena: typing.Any) -> dict:
    """
    Prepare a user's face for fusion: the face's crop resampled to at most MAX_TEXTURE_SIDE pixels a side (RGB), its mesh in texture pixels and its skin's Lab mean and standard deviation, as read-only arena views.
    """
MAX_TEXTURE_SIDE: int = 512
MIN_FACE_WIDTH: int = 40
SKIN_STATS: int = 6
STATE_SIZE: int = 8
