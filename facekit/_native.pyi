# Type stubs for the private extension module facekit._native (kept in step by tests/test_stubs.py).
from typing import Any

import numpy as np
import numpy.typing as npt

class arena:
    @staticmethod
    def refuse_buffer_protocol(cls: type, refusal: Any) -> None: ...
    class Arena:
        def allocate(self, shape: list[int]) -> npt.NDArray[np.float32]: ...
        def expose(self, source: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...
        def __init__(
            self, region_bytes: int = 1048576, lock: bool = True, verify_wipe: bool = False,
            debug_skip_wipe: bool = False,
        ) -> None: ...
        def wipe(self) -> None: ...
        @property
        def used(self) -> int: ...
        @property
        def capacity(self) -> int: ...
        @property
        def verify_wipe(self) -> bool: ...
        @property
        def debug_skip_wipe(self) -> bool: ...
        def regions(self) -> list[dict[str, Any]]: ...
        @staticmethod
        def page_size() -> int: ...

class cpu:
    @staticmethod
    def features() -> dict[str, Any]: ...
    @staticmethod
    def compiled() -> list[str]: ...
    @staticmethod
    def available() -> list[str]: ...
    @staticmethod
    def active() -> str: ...
    @staticmethod
    def forced_by_environment() -> bool: ...
    @staticmethod
    def force(name: str) -> None: ...
    @staticmethod
    def kernel_calls() -> dict[str, int]: ...

class warp:
    MAX_IMAGE_SIDE: int
    MAX_CROP_SIDE: int
    @staticmethod
    def rect_to_affine(
        center_x: float, center_y: float, width: float, height: float, rotation: float,
        out_width: int, out_height: int,
    ) -> tuple[float, float, float, float, float, float]: ...
    @staticmethod
    def crop_normalize(
        arena: arena.Arena, image: npt.NDArray[np.uint8], format: str,
        transforms: list[tuple[float, float, float, float, float, float]], out_width: int,
        out_height: int, scale: tuple[float, float, float], offset: tuple[float, float, float],
        border: str,
    ) -> npt.NDArray[np.float32]: ...

class detection:
    KEYPOINTS: int
    VALUES_PER_ANCHOR: int
    @staticmethod
    def anchor_count(model: str) -> int: ...
    @staticmethod
    def input_size(model: str) -> int: ...
    @staticmethod
    def default_min_score(model: str) -> float: ...
    @staticmethod
    def decode(
        arena: arena.Arena, regressors: npt.NDArray[np.float32],
        classificators: npt.NDArray[np.float32], model: str,
        rect: tuple[float, float, float, float, float], min_score: float, max_faces: int,
        iou_threshold: float = 0.3,
    ) -> tuple[list[tuple[float, float, float, float, float]], npt.NDArray[np.float32]]: ...

class landmarks:
    MESH_POINTS: int
    REFINED_POINTS: int
    FACE_INPUT_SIZE: int
    IRIS_INPUT_SIZE: int
    @staticmethod
    def roi_from_detection(
        box: tuple[float, float, float, float], keypoints: npt.NDArray[np.float32],
        image_width: int, image_height: int,
    ) -> tuple[float, float, float, float, float]: ...
    @staticmethod
    def project(
        arena: arena.Arena, raw: npt.NDArray[np.float32],
        roi: tuple[float, float, float, float, float], input_size: int = 192,
    ) -> npt.NDArray[np.float32]: ...
    @staticmethod
    def roi_from_landmarks(
        landmarks: npt.NDArray[np.float32], image_width: int, image_height: int
    ) -> tuple[float, float, float, float, float]: ...
    @staticmethod
    def eye_rois(
        landmarks: npt.NDArray[np.float32],
    ) -> tuple[tuple[tuple[float, float, float, float, float], bool],
               tuple[tuple[float, float, float, float, float], bool]]: ...
    @staticmethod
    def project_iris(
        arena: arena.Arena, landmarks: npt.NDArray[np.float32],
        right_iris: npt.NDArray[np.float32], left_iris: npt.NDArray[np.float32],
        right_roi: tuple[float, float, float, float, float],
        left_roi: tuple[float, float, float, float, float], right_flipped: bool,
        left_flipped: bool, input_size: int = 64, iris_depth: str = "eye_average",
    ) -> npt.NDArray[np.float32]: ...

class draw:
    @staticmethod
    def points(
        image: npt.NDArray[np.uint8], points: npt.NDArray[np.float32], rgb: tuple[int, int, int],
        radius: int,
    ) -> None: ...

class process:
    @staticmethod
    def harden() -> dict[str, bool]: ...
    @staticmethod
    def wipe_stack(bytes: int) -> None: ...
    @staticmethod
    def set_free_perturb(byte: int) -> bool: ...

class beauty:
    EFFECTS: tuple[tuple[str, str], ...]
    DEFAULT_COLORS: dict[str, tuple[int, int, int]]
    @staticmethod
    def apply(
        src: npt.NDArray[np.uint8], dst: npt.NDArray[np.uint8], format: str,
        landmarks: npt.NDArray[np.float32], regions: list[list[int]], strengths: dict[str, Any],
        lut: npt.NDArray[np.uint8] | None, arena: arena.Arena, trace: bool = False,
    ) -> dict[str, Any]: ...

class anonymize:
    MAX_BLOCK: int
    @staticmethod
    def cover(
        image: npt.NDArray[np.uint8], box: tuple[int, int, int, int], method: str, block: int,
        color: tuple[int, int, int], arena: arena.Arena,
    ) -> None: ...

class verify:
    CHIP_SIZE: int
    CHIP_PADDING: float
    CHIP_MEAN_RGB: tuple[float, float, float]
    CHIP_SCALE: float
    class ShapePredictor:
        def __init__(self, data: bytes) -> None: ...
        @property
        def parts(self) -> int: ...
        def predict(
            self, image: npt.NDArray[np.uint8], format: str,
            box: tuple[float, float, float, float], arena: arena.Arena,
        ) -> npt.NDArray[np.float32]: ...
    class HogFaceDetector:
        def __init__(self, data: bytes) -> None: ...
        @property
        def filters(self) -> int: ...
        def find(
            self, image: npt.NDArray[np.uint8], format: str,
            estimate: tuple[float, float, float, float], arena: arena.Arena,
        ) -> tuple[tuple[float, float, float, float], float] | None: ...
    @staticmethod
    def chip_points(
        image: npt.NDArray[np.uint8], format: str, landmarks: npt.NDArray[np.float32],
        detector: verify.HogFaceDetector, predictor: verify.ShapePredictor, arena: arena.Arena,
    ) -> tuple[npt.NDArray[np.float32], bool]: ...
    @staticmethod
    def chip(
        image: npt.NDArray[np.uint8], format: str, points: npt.NDArray[np.float32],
        arena: arena.Arena, size: int = 150, padding: float = 0.25, raw: bool = False,
        mean: tuple[float, float, float] = (122.782, 117.001, 104.298),
        scale: float = 0.00390625,
    ) -> npt.NDArray[Any]: ...
    @staticmethod
    def distance(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float: ...
