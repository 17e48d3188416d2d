"""Portrait background effects: blur, replacement and cut-out from the person's matte.

The selfie-segmentation network (MediaPipe's general model, converted and shipped in the wheel)
finds the person on the whole image resized to 256x256; native code turns its mask into a
full-resolution matte, refined by a guided filter guided by the image itself so that the matte
follows the person's real edges (hair included), and composites the effect with it. The matte
and the output live in the frame arena: read-only views, wiped when the result ends. In video,
the network's mask is smoothed across frames (in an arena scope that lasts the stream and is
wiped when the task closes), so the matte does not flicker.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from . import _native
from ._checks import (
    checked_color_format,
    checked_running_mode,
    flag,
    fraction,
    options_from,
    real,
    rgb,
    whole_number,
)
from ._ephemeral import Ephemeral, EphemeralArray
from ._inference import Network
from ._pipeline import Pipeline, RunningMode, check_timestamp, video_timestamp
from .arena import Frame, SecureArena, allocate, crop, native_arena
from .detector import MAX_THREADS
from .geometry import RotatedRect
from .image import ColorFormat, ImageLike

__all__ = ["Portrait", "PortraitOptions", "PortraitResult"]

MODEL = "selfie_segmentation"
_SIDE = _native.portrait.MASK_SIDE
MAX_SMOOTHING = 0.95


def _background(value: Any) -> tuple[int, int, int] | np.ndarray | None:
    """The ``background`` option: None, an RGB colour, or a uint8 HxWx3 / HxWx4 image."""
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.ndim >= 2:
        if value.dtype != np.uint8:
            raise ValueError(f"background image dtype must be uint8, got {value.dtype}")
        if value.ndim != 3 or value.shape[2] not in (3, 4):
            raise ValueError(f"background image must be HxWx3 or HxWx4, got shape {value.shape}")
        if value.shape[0] < 1 or value.shape[1] < 1:
            raise ValueError(f"background image is empty (shape {value.shape})")
        copy = np.array(value, copy=True)  # the options stay what they were when made
        copy.flags.writeable = False
        return copy
    if isinstance(value, (tuple, list, np.ndarray)):
        return rgb("background", value)
    raise TypeError(f"background must be an (r, g, b) colour or a uint8 HxWx3/HxWx4 image, "
                    f"got {type(value).__name__}")


@dataclass(frozen=True, eq=False)  # __eq__ below compares a background image by value
class PortraitOptions:
    """How a :class:`Portrait` runs and which background effect it applies (at most one).

    Attributes:
        blur: background blur strength in [0, 1] (bokeh-like: a radius of 1/40 of the image's
            longer side, twice, at 1); 0 leaves the image as it is. The blur is a normalized
            convolution weighted by the background's share of the matte, so the person's
            colours do not bleed into the blurred background.
        background: replace the background: an (r, g, b) colour, or a uint8 image (HxWx3 or
            HxWx4, in ``color_format``'s channel order, with the frames' channel count),
            resized to each frame.
        cutout: the person cut out: the result's image has 4 channels (the colour channels, in
            the input's order, then the matte as alpha).
        running_mode: ``RunningMode.IMAGE`` (:meth:`Portrait.segment`) or
            ``RunningMode.VIDEO`` (:meth:`Portrait.segment_for_video`).
        temporal_smoothing: in video, the weight in [0, 0.95] of the previous frames in the
            network's mask (an exponential average whose past weight shrinks, per pixel, as
            the probability changes: flicker is averaged, motion followed at once; 0: each
            frame alone). A repeated frame gives the same matte from the second frame on.
        color_format: channel order of 3/4-channel numpy images (``"bgr"`` for OpenCV).
        intra_op_threads: ONNX Runtime threads for the network (1 is fastest here).

    With no effect (the default) the result's image equals the input, bit for bit.
    """

    blur: float = 0.0
    background: tuple[int, int, int] | np.ndarray | None = None
    cutout: bool = False
    running_mode: RunningMode = RunningMode.IMAGE
    temporal_smoothing: float = 0.6
    color_format: ColorFormat = "rgb"
    intra_op_threads: int = 1

    def __post_init__(self) -> None:
        store = partial(object.__setattr__, self)
        store("blur", fraction("blur", self.blur))
        store("background", _background(self.background))
        store("cutout", flag("cutout", self.cutout))
        checked_running_mode(self.running_mode)
        store("temporal_smoothing",
              real("temporal_smoothing", self.temporal_smoothing, 0.0, MAX_SMOOTHING))
        store("color_format", checked_color_format(self.color_format))
        store("intra_op_threads",
              whole_number("intra_op_threads", self.intra_op_threads, 1, MAX_THREADS))
        chosen = [name for name, on in (("blur", self.blur > 0),
                                        ("background", self.background is not None),
                                        ("cutout", self.cutout)) if on]
        if len(chosen) > 1:
            raise ValueError(f"choose one background effect, got {' and '.join(chosen)}")

    def _key(self) -> tuple:
        background: object = self.background
        if isinstance(self.background, np.ndarray):  # compared by value, as the other fields are
            background = (self.background.shape, self.background.tobytes())
        return (self.blur, background, self.cutout, self.running_mode,
                self.temporal_smoothing, self.color_format, self.intra_op_threads)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PortraitOptions):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def effect(self) -> str:
        """The native effect: "none", "blur", "color", "image" or "cutout"."""
        if self.blur > 0:
            return "blur"
        if self.cutout:
            return "cutout"
        if isinstance(self.background, np.ndarray):
            return "image"
        return "none" if self.background is None else "color"


class PortraitResult(Ephemeral):
    """The matte and the effect's output of one image or video frame; valid until the
    Portrait's next call or the end of its ``with`` block, then wiped (accessors raise
    ExpiredFrameError)."""

    __slots__ = ("_frame", "_matte", "_image")

    def __init__(self, frame: Frame, matte: EphemeralArray, image: EphemeralArray) -> None:
        self._frame, self._matte, self._image = frame, matte, image

    @property
    def expired(self) -> bool:
        return self._frame.expired

    @property
    def matte(self) -> EphemeralArray:
        """(H, W) uint8: 255 on the person, 0 on the background (a read-only arena view)."""
        self._check_alive()
        return self._matte

    @property
    def image(self) -> EphemeralArray:
        """The input with the effect applied, same shape and channel order (a cut-out has 4
        channels, the matte as alpha); a read-only arena view: ``np.array(result.image)``
        makes the application's own copy."""
        self._check_alive()
        return self._image

    def close(self) -> None:
        """End the frame now: wipe the matte and the output."""
        self._frame.close()

    def __enter__(self) -> PortraitResult:
        self._check_alive()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.expired:
            return "PortraitResult(expired)"
        return f"PortraitResult(matte={self._matte.shape})"


class Portrait(Pipeline):
    """Background blur, replacement or cut-out of the person in images or a video stream.

    Example::

        options = PortraitOptions(blur=0.8)
        with Portrait.create_from_options(options) as portrait:
            with portrait.segment(image) as result:
                out = np.array(result.image)   # the app's copy; result.matte is the matte

    It loads one network, the selfie segmenter, and nothing that finds or describes faces.
    One thread at a time (another thread's call raises ConcurrentUseError).
    """

    def __init__(self, options: PortraitOptions | None = None, **fields: Any) -> None:
        super().__init__()
        self.options = options_from(PortraitOptions, options, None, fields)
        self._network = Network(MODEL, self.options.intra_op_threads)
        self._last_timestamp_ms: int | None = None
        # Video: the smoothed mask crosses frames; it lives in an arena scope of its own, open
        # for the stream and wiped when the Portrait closes.
        self._state_arena: SecureArena | None = None
        self._state_frame: Frame | None = None
        self._state: EphemeralArray | None = None

    @classmethod
    def create_from_options(cls, options: PortraitOptions) -> Portrait:
        """MediaPipe Tasks-style constructor."""
        return cls(options_from(PortraitOptions, options, None, {}))

    def segment(self, image: ImageLike) -> PortraitResult:
        """The matte and the effect for one image (IMAGE mode). The previous result expires."""
        self._require_mode(RunningMode.IMAGE, "segment", "segment_for_video")
        with self._exclusive():
            return self._run(image, video=False)

    def segment_for_video(self, image: ImageLike, timestamp_ms: int) -> PortraitResult:
        """The matte and the effect for one video frame (VIDEO mode); timestamps must increase.
        The network's mask is smoothed with the previous frames' (``temporal_smoothing``)."""
        self._require_mode(RunningMode.VIDEO, "segment_for_video", "segment")
        timestamp_ms = video_timestamp(timestamp_ms)
        with self._exclusive():
            check_timestamp(self._last_timestamp_ms, timestamp_ms)
            result = self._run(image, video=True)
            self._last_timestamp_ms = timestamp_ms
            return result

    def _run(self, image: ImageLike, video: bool) -> PortraitResult:
        pixels, pixel_format = self._pixels(image, self.options.color_format)
        if pixel_format == "gray":
            raise ValueError("portrait effects need a colour image (HxWx3 or HxWx4), got gray")
        background, color = self._background_for(pixels)
        frame = self._begin_frame()
        try:
            height, width = pixels.shape[:2]
            whole = RotatedRect(width / 2, height / 2, width, height, 0.0)
            tensor = crop(frame, pixels, pixel_format, whole, (_SIDE, _SIDE), (1 / 255,) * 3,
                          (0.0,) * 3, border="clamp")
            mask = next(iter(self._network.run(frame, tensor).values()))
            if video:
                mask = self._smoothed(mask)
            arena = native_arena(frame)
            matte = _native.portrait.matte(pixels, pixel_format, mask, arena)
            out = _native.portrait.compose(pixels, pixel_format, matte, self.options.effect,
                                           self.options.blur, color, background, arena)
            return PortraitResult(frame, matte.view(EphemeralArray), out.view(EphemeralArray))
        except BaseException:
            frame.close()  # nothing computed before the failure stays in the arena
            raise

    def _smoothed(self, mask: EphemeralArray) -> EphemeralArray:
        first = self._state is None
        if self._state is None:
            self._state_arena = SecureArena(region_bytes=1 << 19)
            self._state_frame = self._state_arena.frame()
            self._state = allocate(self._state_frame, (_SIDE * _SIDE,))
        _native.portrait.smooth_mask(mask, self._state, self.options.temporal_smoothing, first)
        return self._state

    def _background_for(self, pixels: np.ndarray) -> tuple[np.ndarray | None,
                                                          tuple[int, int, int]]:
        """The background image (channel count checked) and the colour, in the frame's
        channel order."""
        value = self.options.background
        channels = pixels.shape[2]
        if isinstance(value, np.ndarray):
            if value.shape[2] != channels:
                raise ValueError(f"the background image has {value.shape[2]} channels, the "
                                 f"image {channels}: give it the frames' channel count")
            return value, (0, 0, 0)
        if value is None:
            return None, (0, 0, 0)
        r, g, b = value
        return None, ((b, g, r) if self.options.color_format == "bgr" else (r, g, b))

    def close(self) -> None:
        """Wipe and release the arenas (the video state's too). Safe to call twice."""
        with self._lock:
            if self._state_frame is not None:
                self._state_frame.close()
            if self._state_arena is not None:
                self._state_arena.close()
            self._state = self._state_frame = self._state_arena = None
        super().close()
