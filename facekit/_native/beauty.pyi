"""
Skin, shape, makeup and colour effects on one face
"""
from __future__ import annotations
import collections.abc
import numpy
import typing
__all__: list[str] = ['DEFAULT_COLORS', 'EFFECTS', 'apply']
def apply(src: numpy.ndarray, dst: numpy.ndarray, format: str, landmarks: numpy.ndarray, regions: collections.abc.Sequence[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]], strengths: dict, lut: typing.Any, arena: typing.Any, trace: bool = False) -> dict:
    """
    Apply beauty effects to one face: read src, write the face's region of dst (which must already hold a copy of src). Scratch comes from the arena. Returns the region written and, with trace, read-only arena views of the warp map and masks.
    """
DEFAULT_COLORS: dict = {'lipstick': (176, 38, 62), 'blush': (236, 120, 120), 'brow_tint': (72, 52, 40), 'eyeshadow': (150, 112, 150)}
EFFECTS: tuple = (('smoothing', 'unsigned'), ('whitening', 'unsigned'), ('rosy', 'unsigned'), ('sharpen', 'unsigned'), ('dark_circles', 'unsigned'), ('teeth_whitening', 'unsigned'), ('face_slim', 'unsigned'), ('v_chin', 'unsigned'), ('chin_length', 'signed'), ('forehead', 'signed'), ('eye_enlarge', 'unsigned'), ('eye_distance', 'signed'), ('nose_slim', 'unsigned'), ('mouth_size', 'signed'), ('lipstick', 'makeup'), ('blush', 'makeup'), ('brow_tint', 'makeup'), ('eyeshadow', 'makeup'), ('lut', 'lut'))
