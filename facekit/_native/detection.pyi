"""
SSD anchors, box decoding, weighted NMS
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['CENTERFACE_DEFAULT_SCORE', 'CENTERFACE_KEYPOINTS', 'CENTERFACE_STRIDE', 'KEYPOINTS', 'VALUES_PER_ANCHOR', 'anchor_count', 'decode', 'decode_centerface', 'default_min_score', 'input_size']
def anchor_count(model: str) -> int:
    """
    Number of SSD anchors of 'short_range' (896) or 'full_range' (2304).
    """
def decode(arena: typing.Any, regressors: numpy.ndarray, classificators: numpy.ndarray, model: str, rect: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(5)"], min_score: typing.SupportsFloat | typing.SupportsIndex, max_faces: typing.SupportsInt | typing.SupportsIndex, iou_threshold: typing.SupportsFloat | typing.SupportsIndex = 0.30000001192092896) -> tuple[list, numpy.typing.NDArray[numpy.float32]]:
    """
    Decode one BlazeFace inference: anchors, clipped sigmoid scores >= min_score, weighted NMS, projection through rect (center_x, center_y, width, height, rotation) to image pixels. Returns ([(score, x, y, width, height), ...] best first, keypoints), keypoints a read-only (n, 6, 2) float32 view in `arena`: right eye, left eye, nose tip, mouth centre, right and left ear tragion (the subject's right).
    """
def decode_centerface(arena: typing.Any, heatmap: numpy.ndarray, scale: numpy.ndarray, offset: numpy.ndarray, landmarks: numpy.ndarray, rect: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(5)"], min_score: typing.SupportsFloat | typing.SupportsIndex, max_faces: typing.SupportsInt | typing.SupportsIndex, iou_threshold: typing.SupportsFloat | typing.SupportsIndex = 0.30000001192092896) -> tuple[list, numpy.typing.NDArray[numpy.float32]]:
    """
    Decode one CenterFace inference (maps of batch 1, NCHW, stride 4): cells whose heatmap value is > min_score, boxes from the scale and offset maps clipped to the input, greedy NMS (IoU >= iou_threshold suppresses), projection through rect (center_x, center_y, width, height, rotation) to image pixels. Returns ([(score, x, y, width, height), ...] best first, keypoints), keypoints a read-only (n, 5, 2) float32 view in `arena`: right eye, left eye, nose tip, right and left mouth corner.
    """
def default_min_score(model: str) -> float:
    """
    MediaPipe's score threshold: 0.5 (short_range) or 0.6 (full_range).
    """
def input_size(model: str) -> int:
    """
    Square network input side: 128 (short_range) or 192 (full_range).
    """
CENTERFACE_DEFAULT_SCORE: float = 0.20000000298023224
CENTERFACE_KEYPOINTS: int = 5
CENTERFACE_STRIDE: int = 4
KEYPOINTS: int = 6
VALUES_PER_ANCHOR: int = 16
