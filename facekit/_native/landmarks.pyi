"""
Face and iris ROIs, landmark projection
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['FACE_INPUT_SIZE', 'IRIS_INPUT_SIZE', 'MESH_POINTS', 'REFINED_POINTS', 'eye_rois', 'project', 'project_iris', 'roi_from_detection', 'roi_from_landmarks']
def eye_rois(landmarks: numpy.ndarray) -> tuple[tuple[tuple[float, float, float, float, float], bool], tuple[tuple[float, float, float, float, float], bool]]:
    """
    ((right_roi, flipped), (left_roi, flipped)): the iris network's crops, subject's right eye (corners 33, 133) first. A flipped eye's crop must be mirrored left-right before the network (crop with a negative width).
    """
def project(arena: typing.Any, raw: numpy.ndarray, roi: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(5)"], input_size: typing.SupportsInt | typing.SupportsIndex = 192) -> numpy.typing.NDArray[numpy.float32]:
    """
    face_landmark's 1404 outputs (input pixels) projected through `roi` into a new (468, 3) arena view: x, y in image pixels, z scaled like x.
    """
def project_iris(arena: typing.Any, landmarks: numpy.ndarray, right_iris: numpy.ndarray, left_iris: numpy.ndarray, right_roi: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(5)"], left_roi: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(5)"], right_flipped: bool, left_flipped: bool, input_size: typing.SupportsInt | typing.SupportsIndex = 64, iris_depth: str = 'eye_average') -> numpy.typing.NDArray[numpy.float32]:
    """
    A new (478, 3) arena view: the first 468 rows of `landmarks`, then the right iris (468..472) and the left iris (473..477) from iris_landmark's 15-float 'output_iris' tensors projected through their eye ROIs. iris_depth: 'eye_average' (MediaPipe's refine_landmarks: each iris z is its eye contour's mean z) or 'network'.
    """
def roi_from_detection(box: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(4)"], keypoints: numpy.ndarray, image_width: typing.SupportsInt | typing.SupportsIndex, image_height: typing.SupportsInt | typing.SupportsIndex) -> tuple[float, float, float, float, float]:
    """
    Face ROI (cx, cy, w, h, rotation) from a detection box (x, y, w, h) and its keypoints (0: right eye, 1: left eye), as MediaPipe's FaceDetectionFrontDetectionToRoi.
    """
def roi_from_landmarks(landmarks: numpy.ndarray, image_width: typing.SupportsInt | typing.SupportsIndex, image_height: typing.SupportsInt | typing.SupportsIndex) -> tuple[float, float, float, float, float]:
    """
    The next video frame's face ROI from this frame's landmarks, as MediaPipe's FaceLandmarkLandmarksToRoi.
    """
FACE_INPUT_SIZE: int = 192
IRIS_INPUT_SIZE: int = 64
MESH_POINTS: int = 468
REFINED_POINTS: int = 478
