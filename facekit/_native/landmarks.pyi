"""
Face and iris ROIs, landmark projection
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['AttentionRegion', 'FACE_INPUT_SIZE', 'IRIS_INPUT_SIZE', 'MESH_POINTS', 'REFINED_POINTS', 'attention_crops', 'attention_landmarks', 'attention_matrices', 'eye_rois', 'project', 'project_iris', 'roi_from_detection', 'roi_from_landmarks']
class AttentionRegion:
    """
    One Landmarks2TransformMatrix operator's options (the attention mesh's lips, left eye or right eye crop).
    """
    def __getstate__(self) -> tuple[list[int], int, int, float, float, float, int, int]:
        ...
    def __init__(self, subset: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], left_index: typing.SupportsInt | typing.SupportsIndex, right_index: typing.SupportsInt | typing.SupportsIndex, target_rotation: typing.SupportsFloat | typing.SupportsIndex, scale_x: typing.SupportsFloat | typing.SupportsIndex, scale_y: typing.SupportsFloat | typing.SupportsIndex, output_width: typing.SupportsInt | typing.SupportsIndex, output_height: typing.SupportsInt | typing.SupportsIndex) -> None:
        """
        Checked options: subset indices (0..467, not empty) framed by the crop, the rotation line from mesh point left_index to right_index turned to target_rotation (radians), the box grown by (scale_x, scale_y), an output_width x output_height crop. ValueError names a bad option.
        """
    def __repr__(self) -> str:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
    @property
    def left_index(self) -> int:
        ...
    @property
    def output_height(self) -> int:
        ...
    @property
    def output_width(self) -> int:
        ...
    @property
    def right_index(self) -> int:
        ...
    @property
    def scale_x(self) -> float:
        ...
    @property
    def scale_y(self) -> float:
        ...
    @property
    def subset(self) -> tuple:
        ...
    @property
    def target_rotation(self) -> float:
        ...
def attention_crops(arena: typing.Any, features: numpy.ndarray, matrices: numpy.ndarray, output_size: typing.Any = 16) -> numpy.typing.NDArray[numpy.float32]:
    """
    TransformTensorBilinear v2 of the feature map for each (4, 4) matrix, written one after another into a new (R, output_size, output_size, C) arena view (the regions network's one input).
    """
def attention_landmarks(arena: typing.Any, mesh_raw: numpy.ndarray, lips: numpy.ndarray, left_eye: numpy.ndarray, left_iris: numpy.ndarray, right_eye: numpy.ndarray, right_iris: numpy.ndarray, matrices: numpy.ndarray, matrix_scale: numpy.ndarray, regions: typing.Any, roi: typing.Any, input_size: typing.Any = 192) -> numpy.typing.NDArray[numpy.float32]:
    """
    The attention mesh's 478 points as a new (478, 3) arena view in image pixels: the trunk's mesh, each region's points (TransformLandmarks with matrices * matrix_scale, both (3, 4, 4) float32) over its subset's x, y, the left-eye crop's iris as 468..472 and the right-eye crop's as 473..477 (z: the eye contour's mean), all projected through roi (cx, cy, w, h, rotation). regions: lips, left eye, right eye.
    """
def attention_matrices(arena: typing.Any, mesh_raw: numpy.ndarray, regions: typing.Any, mesh_scale: typing.Any) -> numpy.typing.NDArray[numpy.float32]:
    """
    Landmarks2TransformMatrix v2 for each region (a sequence of AttentionRegion): the trunk's 1404 mesh outputs (input pixels) times mesh_scale (feature-map pixels per input pixel) -> a new (R, 4, 4) arena view of matrices mapping crop pixels to feature-map coordinates.
    """
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
