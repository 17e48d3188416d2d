"""478-point face landmarks (468-point mesh + 10 iris points), for images and video.

With ``iris=True`` the 478 points come, by default, from MediaPipe's attention mesh (one
network that refines lips, eyes and irises: :mod:`facekit._attention`); ``refine="iris"``
keeps the older path, the 468-point mesh network plus the iris network on both eyes.

Landmark decoding, ROI geometry and projection run in native code on arena memory; Python
only moves arena views between the networks and the native calls, and keeps, between video
frames, nothing but each track's ROI (centre, size, rotation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

from . import _native
from ._attention import AttentionMesh
from ._blazeface import MAX_FACES, MAX_THREADS, MODELS, BlazeFace, DetectorModel, SecondOpinion
from ._checks import (
    checked_color_format,
    checked_running_mode,
    flag,
    fraction,
    options_from,
    whole_number,
)
from ._ephemeral import Ephemeral, EphemeralArray
from ._inference import Network
from ._pipeline import FrameResult, Pipeline, RunningMode, check_timestamp, video_timestamp
from .arena import Frame, crop, crop_batch, expose, native_arena
from .geometry import RotatedRect
from .image import ColorFormat, ImageLike

__all__ = ["FaceLandmarker", "FaceLandmarkerOptions", "LandmarkerResult", "LandmarkedFace"]

_MESH_SIZE, _IRIS_SIZE = _native.landmarks.FACE_INPUT_SIZE, _native.landmarks.IRIS_INPUT_SIZE

Refine = Literal["attention", "iris"]
REFINE_MODES: tuple[Refine, ...] = ("attention", "iris")


@dataclass(frozen=True)
class FaceLandmarkerOptions:
    """How a :class:`FaceLandmarker` runs.

    Attributes:
        running_mode: ``RunningMode.IMAGE`` (each call stands alone; use :meth:`detect`) or
            ``RunningMode.VIDEO`` (frames of one stream; use :meth:`detect_for_video`).
        max_faces: at most this many faces (1..1000).
        detector_model: the detector configuration (see :class:`FaceDetectorOptions`).
        min_detection_confidence: minimum detector score (``None``: the model's default).
        min_presence_confidence: a face whose landmark presence score falls below this is
            dropped (in video, its track is lost and the detector runs again).
        reject_false_faces: with the short-range detector, a face it scores below 0.8 is
            kept only where the full-range detector finds it too (one full-range run on an
            image, or a video frame on which the detector runs, that has such a face). It
            drops face-like emblems that the short-range detector and the landmark network
            both take for a face (as MediaPipe does). Off by default: it keeps every face of
            the shared photos (whole and cut by the image's edge) and of the shared clip with
            the 468-point mesh, but with ``iris=True`` it drops 2 blurred faces of the clip's
            131 that the attention mesh keeps (README, "False faces").
        iris: the 478-point set: the 468-point mesh and 10 iris points, MediaPipe's order.
        refine: how the 478 points are found (only with ``iris``). ``"attention"`` (default):
            MediaPipe's attention mesh, the network behind its ``refine_landmarks``: one run
            refines lips, eyes and irises inside the mesh. ``"iris"``: the 468-point mesh
            network, then the iris network on both eyes (the 468 points are then exactly the
            ``iris=False`` ones). See the README's accuracy and speed figures for both.
        redetect_every: in video, while fewer than ``max_faces`` faces are tracked, also run
            the detector every N frames to pick up new faces (never while all are tracked).
        search_every: in video, while no face is tracked, run the detector every N frames
            (2: a face that enters the scene is found at most one frame late, for half the
            cost of searching every frame).
        color_format: channel order of 3/4-channel numpy images (``"bgr"`` for OpenCV).
        intra_op_threads: ONNX Runtime threads per network. 1 is fastest for these small
            networks; more than 1 also makes the scrub of ONNX Runtime's buffers fall back from
            "perturb" to "rerun" (a blank run after every inference, +65-80% of inference time:
            see ``facekit._inference.SCRUB_MODES``).
    """

    running_mode: RunningMode = RunningMode.IMAGE
    max_faces: int = 1
    detector_model: DetectorModel = "short_range"
    min_detection_confidence: float | None = None
    min_presence_confidence: float = 0.5
    reject_false_faces: bool = False
    iris: bool = False
    refine: Refine = "attention"
    redetect_every: int = 30
    search_every: int = 2
    color_format: ColorFormat = "rgb"
    intra_op_threads: int = 1

    def __post_init__(self) -> None:
        # Numbers are checked and stored as plain ints and floats (numpy scalars accepted).
        store = partial(object.__setattr__, self)
        checked_running_mode(self.running_mode)
        store("max_faces", whole_number("max_faces", self.max_faces, 1, MAX_FACES))
        if not isinstance(self.detector_model, str) or self.detector_model not in MODELS:
            raise ValueError(f"detector_model must be short_range, full_range or auto, got "
                             f"{self.detector_model!r}")
        if self.min_detection_confidence is not None:
            store("min_detection_confidence",
                  fraction("min_detection_confidence", self.min_detection_confidence))
        store("min_presence_confidence",
              fraction("min_presence_confidence", self.min_presence_confidence))
        store("reject_false_faces", flag("reject_false_faces", self.reject_false_faces))
        store("iris", flag("iris", self.iris))
        if not isinstance(self.refine, str) or self.refine not in REFINE_MODES:
            raise ValueError(f"refine must be 'attention' or 'iris', got {self.refine!r}")
        for name in ("redetect_every", "search_every"):
            store(name, whole_number(name, getattr(self, name), 1, 1 << 30))
        store("color_format", checked_color_format(self.color_format))
        store("intra_op_threads",
              whole_number("intra_op_threads", self.intra_op_threads, 1, MAX_THREADS))


class LandmarkedFace(Ephemeral):
    """One face's landmarks (a read-only arena view) and its coarse geometry."""

    # The frame, not the result: a face that pointed back at its result would make a cycle,
    # and a dropped result would then wait for the cyclic garbage collector to be wiped.
    __slots__ = ("_frame", "_landmarks", "_presence", "_roi", "_track_id")

    def __init__(self, frame: Frame, landmarks: EphemeralArray, presence: float,
                 roi: RotatedRect, track_id: int):
        self._frame, self._landmarks = frame, landmarks
        self._presence, self._roi, self._track_id = presence, roi, track_id

    @property
    def expired(self) -> bool:
        return self._frame.expired

    @property
    def landmarks(self) -> EphemeralArray:
        """(468, 3) or, with iris, (478, 3): x, y in image pixels, z scaled like x."""
        self._check_alive()
        return self._landmarks

    @property
    def presence(self) -> float:
        """The landmark network's face-presence score in [0, 1]."""
        self._check_alive()
        return self._presence

    @property
    def roi(self) -> RotatedRect:
        """The rotated square the landmarks were computed in."""
        self._check_alive()
        return self._roi

    @property
    def track_id(self) -> int:
        """Stable id of this face across video frames (in IMAGE mode, its index)."""
        self._check_alive()
        return self._track_id

    def __repr__(self) -> str:
        if self.expired:
            return "LandmarkedFace(expired)"
        return f"LandmarkedFace(points={self._landmarks.shape[0]}, track_id={self._track_id})"


class LandmarkerResult(FrameResult[LandmarkedFace]):
    """The faces of one image or video frame; valid until the next call or its ``with`` ends."""

    __slots__ = ("detector_ran",)

    def __init__(self, frame: Frame, image_shape: tuple[int, ...], detector_ran: bool):
        super().__init__(frame, image_shape)
        self.detector_ran = detector_ran  # a plain fact, for video statistics

    def _add(self, face: LandmarkedFace) -> None:
        self._faces.append(face)


@dataclass
class _Track:
    """All that crosses frames: an id and a rotated square."""

    track_id: int
    roi: RotatedRect


@dataclass
class _VideoState:
    last_timestamp_ms: int | None = None
    since_detection: int | None = None  # frames since the detector last ran (None: never)
    next_id: int = 0
    tracks: list[_Track] = field(default_factory=list)


class FaceLandmarker(Pipeline):
    """Detects faces and their 478 landmarks.

    Example::

        options = FaceLandmarkerOptions(iris=True)
        with FaceLandmarker.create_from_options(options) as landmarker:
            with landmarker.detect(image) as result:
                for face in result.faces:
                    draw(face.landmarks)   # read-only arena view; zeros after the block
    """

    def __init__(self, options: FaceLandmarkerOptions | None = None) -> None:
        super().__init__()
        self.options = options_from(FaceLandmarkerOptions, options, None, {})
        threads = self.options.intra_op_threads
        self._detector = BlazeFace(self.options.detector_model, threads)
        # The full-range network checks the short-range one; it needs no check of its own.
        self._second_opinion = (SecondOpinion(threads) if self.options.reject_false_faces
                                and self._detector.kind == "short_range" else None)
        iris, refine = self.options.iris, self.options.refine
        # The network that gives the 468-point mesh and the presence score: the attention
        # mesh's trunk when it refines, else face_landmark.
        self._attention = AttentionMesh(threads) if iris and refine == "attention" else None
        self._mesh = (self._attention.trunk if self._attention is not None
                      else Network("face_landmark", threads))
        self._iris = Network("iris_landmark", threads) if iris and refine == "iris" else None
        by_size = {math.prod(shape[1:]): name for name, shape in self._mesh.outputs.items()}
        self._mesh_points, self._mesh_presence = by_size[1404], by_size[1]
        self._video = _VideoState()

    @classmethod
    def create_from_options(cls, options: FaceLandmarkerOptions) -> FaceLandmarker:
        """MediaPipe Tasks-style constructor."""
        return cls(options)

    def detect(self, image: ImageLike) -> LandmarkerResult:
        """Landmarks of the faces in one image (IMAGE mode). The previous result expires."""
        self._require_mode(RunningMode.IMAGE, "detect", "detect_for_video")
        with self._exclusive():
            pixels, pixel_format = self._pixels(image, self.options.color_format)
            frame = self._begin_frame()
            try:
                result = LandmarkerResult(frame, pixels.shape, detector_ran=True)
                for index, roi in enumerate(self._detect_rois(frame, pixels, pixel_format)):
                    self._landmark(frame, result, pixels, pixel_format, roi, index)
                return result
            except BaseException:
                frame.close()  # nothing computed before the failure stays in the arena
                raise

    def detect_for_video(self, image: ImageLike, timestamp_ms: int) -> LandmarkerResult:
        """Landmarks for one video frame (VIDEO mode); timestamps must increase.

        Tracked faces are found from the previous frame's ROI. The detector runs on the first
        frame and right after a track is lost; then every ``search_every`` frames while no face
        is tracked, every ``redetect_every`` frames while fewer than ``max_faces`` are, and not
        at all while every slot is tracked.
        """
        self._require_mode(RunningMode.VIDEO, "detect_for_video", "detect")
        timestamp_ms = video_timestamp(timestamp_ms)
        with self._exclusive():
            state = self._video
            check_timestamp(state.last_timestamp_ms, timestamp_ms)
            pixels, pixel_format = self._pixels(image, self.options.color_format)
            frame = self._begin_frame()
            try:
                state.last_timestamp_ms = timestamp_ms
                run_detector = self._detector_due()
                result = LandmarkerResult(frame, pixels.shape, detector_ran=run_detector)
                if run_detector:
                    self._add_tracks(frame, pixels, pixel_format)
                    state.since_detection = 0
                else:
                    state.since_detection = (state.since_detection or 0) + 1
                survivors = []
                for track in state.tracks:
                    next_roi = self._landmark(frame, result, pixels, pixel_format, track.roi,
                                              track.track_id)
                    if next_roi is not None:
                        survivors.append(_Track(track.track_id, _settle(track.roi, next_roi)))
                if len(survivors) < len(state.tracks) and not run_detector:
                    state.since_detection = None  # look for the lost face again next frame
                state.tracks = survivors
                return result
            except BaseException:
                frame.close()  # nothing computed before the failure stays in the arena
                raise

    def _detector_due(self) -> bool:
        state, options = self._video, self.options
        if state.since_detection is None:
            return True
        if not state.tracks:
            return state.since_detection + 1 >= options.search_every
        if len(state.tracks) < options.max_faces:
            return state.since_detection + 1 >= options.redetect_every
        return False

    def _detect_rois(self, frame: Frame, pixels, pixel_format: str) -> list[RotatedRect]:
        height, width = pixels.shape[:2]
        faces, keypoints = self._detector.detect(
            frame, pixels, pixel_format, self.options.min_detection_confidence,
            self.options.max_faces)
        kept = range(len(faces)) if self._second_opinion is None else self._second_opinion.agreed(
            frame, pixels, pixel_format, faces, self.options.min_detection_confidence)
        # Basic indexing only: each face's keypoints stay a view into the arena.
        return [
            RotatedRect(*_native.landmarks.roi_from_detection(faces[i][1:], keypoints[i], width,
                                                               height))
            for i in kept
        ]

    def _add_tracks(self, frame: Frame, pixels, pixel_format: str) -> None:
        state = self._video
        for roi in self._detect_rois(frame, pixels, pixel_format):
            if len(state.tracks) >= self.options.max_faces:
                break
            if all(_overlap(roi, t.roi) < 0.5 for t in state.tracks):
                state.tracks.append(_Track(state.next_id, roi))
                state.next_id += 1

    def _landmark(self, frame: Frame, result: LandmarkerResult, pixels, pixel_format: str,
                  roi: RotatedRect, track_id: int) -> RotatedRect | None:
        """Landmarks in `roi`; appends the face to `result` and returns the ROI its landmarks
        imply for the next frame, or None when the presence score is too low."""
        height, width = pixels.shape[:2]
        # Face and eye crops repeat the edge pixels, as MediaPipe's do.
        face_crop = crop(frame, pixels, pixel_format, roi, (_MESH_SIZE, _MESH_SIZE),
                         (1 / 255,) * 3, (0.0,) * 3, border="clamp")
        outputs = self._mesh.run(frame, face_crop)
        # The presence logit is a plain score, not a landmark: it may enter Python.
        presence = _sigmoid(float(outputs[self._mesh_presence].reshape(-1)[0]))
        if presence < self.options.min_presence_confidence:
            return None
        if self._attention is not None:
            landmarks = self._attention.refine(frame, outputs, roi)
        else:
            box = (roi.center_x, roi.center_y, roi.width, roi.height, roi.rotation)
            landmarks = _native.landmarks.project(native_arena(frame),
                                                  outputs[self._mesh_points], box, _MESH_SIZE)
            if self._iris is not None:
                landmarks = self._add_iris(frame, pixels, pixel_format, landmarks)
        result._add(LandmarkedFace(frame, expose(frame, landmarks), presence, roi, track_id))
        return RotatedRect(*_native.landmarks.roi_from_landmarks(landmarks, width, height))

    def _add_iris(self, frame: Frame, pixels, pixel_format: str, landmarks):
        """The 478-point set: the mesh followed by both irises, from one iris-network run on
        both eyes as a batch of two (the subject's left eye mirrored, as MediaPipe does)."""
        (right_roi, right_mirrored), (left_roi, left_mirrored) = eyes = \
            _native.landmarks.eye_rois(landmarks)
        crops = crop_batch(frame, pixels, pixel_format,
                           [(RotatedRect(*roi), mirrored) for roi, mirrored in eyes],
                           (_IRIS_SIZE, _IRIS_SIZE), (1 / 255,) * 3, (0.0,) * 3, border="clamp")
        iris = self._iris.run(frame, crops)["output_iris"]  # type: ignore[union-attr]  # iris on
        return _native.landmarks.project_iris(
            native_arena(frame), landmarks, iris[0], iris[1], right_roi, left_roi,
            right_mirrored, left_mirrored, _IRIS_SIZE)


def _sigmoid(logit: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-100.0, min(100.0, logit))))


def _overlap(a: RotatedRect, b: RotatedRect) -> float:
    """IoU of the two ROIs' axis-aligned extents (enough to match tracks to detections)."""
    def extent(r: RotatedRect):
        half = 0.5 * max(r.width, r.height)
        return r.center_x - half, r.center_y - half, r.center_x + half, r.center_y + half

    ax0, ay0, ax1, ay1 = extent(a)
    bx0, by0, bx1, by1 = extent(b)
    iw, ih = max(0.0, min(ax1, bx1) - max(ax0, bx0)), max(0.0, min(ay1, by1) - max(ay0, by0))
    inter = iw * ih
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return inter / union if union > 0 else 0.0


def _settle(previous: RotatedRect, proposed: RotatedRect) -> RotatedRect:
    """Keep the previous ROI while the face has not really moved.

    Re-deriving the ROI from its own landmarks every frame makes a still face drift (MediaPipe
    moves up to 3.6 px on a repeated frame); holding it until the change exceeds what the
    network's own jitter explains makes a repeated frame give identical landmarks.
    """
    size = max(previous.width, 1.0)
    moved = math.hypot(proposed.center_x - previous.center_x,
                       proposed.center_y - previous.center_y) / size
    resized = abs(proposed.width - previous.width) / size
    turned = abs(math.remainder(proposed.rotation - previous.rotation, 2 * math.pi))
    if moved < 0.02 and resized < 0.04 and turned < math.radians(2.0):
        return previous
    return proposed
