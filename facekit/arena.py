"""The secure frame arena and the frame scope that wipes it.

Landmarks, keypoints, embeddings and face crops live only in a :class:`SecureArena`: memory
mapped with guard pages, locked into RAM where allowed, left out of core dumps and zeroed in
forked children. A :class:`Frame` is one scope of use: inside it, native code writes results into
the arena and Python sees read-only :class:`~facekit.EphemeralArray` views; when it ends, every
byte handed out is wiped, its accessors raise :class:`~facekit.errors.ExpiredFrameError`, and any
view still held reads zeros for ever: the region it points into is retired (kept mapped,
read-only) rather than reused by later frames, and unmapped with the last view.

Thread-safety: an arena has at most one open frame; a frame belongs to the thread that uses it.
Pipelines own one arena each, so run pipelines in parallel, not frames of one pipeline.

Internal seam (not public API): pipelines work on a frame only through this module's functions
:func:`native_arena` (the native arena, for native calls that write into the frame),
:func:`crop` / :func:`crop_batch` (network inputs), :func:`allocate` (network outputs) and
:func:`expose` (results handed to the application); and on a pipeline or a result only through
the functions at the end of ``facekit/_pipeline.py``. No module reads another module's private
attributes (tests/test_seams.py checks it).
"""

from __future__ import annotations

import math
import threading
import warnings
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _debug, _native, _observe
from ._checks import is_number
from ._ephemeral import Ephemeral, EphemeralArray
from ._resource import NativeResource
from .errors import ClosedError, ExpiredFrameError, FrameInUseError
from .geometry import RotatedRect
from .image import ColorFormat, ImageLike, as_pixels

__all__ = ["SecureArena", "Frame", "ArenaStatus"]

PerChannel = float | Sequence[float]


@dataclass(frozen=True)
class ArenaStatus:
    """What the kernel granted the arena's memory, and how much of it is in use.

    ``locked``, ``dontdump`` and ``wipeonfork`` are true only when every region that holds
    pages got them (retired regions that gave their pages back hold none: reads of them come
    from the kernel's zero page). mlock may be refused by ``RLIMIT_MEMLOCK``; that is reported
    here and never fatal. ``regions`` counts every mapped region, ``retired`` of them included:
    those are zeroed, read-only, and kept only while views of ended frames point into them.
    """

    regions: int
    capacity: int
    used: int
    locked: bool
    dontdump: bool
    wipeonfork: bool
    verify_wipe: bool
    wipe_disabled: bool = False  # the FACEKIT_DEBUG_SKIP_WIPE audit self-test switch is on
    retired: int = 0  # regions kept zeroed and read-only for views of ended frames


class SecureArena(NativeResource):
    """Memory for one frame's biometric values, wiped when each frame ends.

    Args:
        region_bytes: size of each mapped region; the arena grows by whole regions.
        lock: try to mlock regions (best effort; see :meth:`status`).
        verify_wipe: audit mode: after each wipe, re-read every wiped byte and raise
            ``RuntimeError`` if one is not zero.

    Use one arena per pipeline, and open frames with ``with arena.frame() as frame:``.
    """

    def __init__(
        self, region_bytes: int = 1 << 20, *, lock: bool = True, verify_wipe: bool = False
    ) -> None:
        if region_bytes <= 0:
            raise ValueError(f"region_bytes must be positive, got {region_bytes}")
        skip = _debug.skip_wipe()
        if skip:
            warnings.warn(f"{_debug.ENV_SKIP_WIPE}=1: this arena will NOT wipe biometric values "
                          "(audit self-test switch)", RuntimeWarning, stacklevel=2)
        self._native = _native.arena.Arena(region_bytes, lock, verify_wipe, skip)
        self._guard = threading.Lock()
        self._open: weakref.ref[Frame] | None = None
        self._closed = False
        _observe.fire("arena", self)  # lets the memory scan list every arena's regions

    def frame(self) -> Frame:
        """Open a frame scope; use it as ``with arena.frame() as frame:``."""
        with self._guard:
            if self._closed:
                raise ClosedError("this SecureArena is closed")
            current = self._open() if self._open is not None else None
            if current is not None and not current.expired:
                raise FrameInUseError(
                    "this arena already has an open frame; end it before opening another"
                )
            frame = Frame(self)
            self._open = weakref.ref(frame)
            return frame

    def _end_frame(self) -> None:
        with self._guard:
            self._native.wipe()

    def status(self) -> ArenaStatus:
        """Regions, capacity, bytes in use, and which kernel protections took."""
        regions = self._native.regions()
        resident = [r for r in regions if not r["released"]]
        return ArenaStatus(
            regions=len(regions),
            capacity=int(self._native.capacity),
            used=int(self._native.used),
            locked=all(r["locked"] for r in resident),
            dontdump=all(r["dontdump"] for r in resident),
            wipeonfork=all(r["wipeonfork"] for r in resident),
            verify_wipe=bool(self._native.verify_wipe),
            wipe_disabled=bool(self._native.debug_skip_wipe),
            retired=sum(bool(r["retired"]) for r in regions),
        )

    def regions(self) -> list[dict[str, int | bool]]:
        """Address range (``start``, ``size``), use and protections of each mapped region:
        the live ones, then the ``retired`` ones (``released``: their pages given back)."""
        return list(self._native.regions())

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """End any open frame (wiping it) and refuse new frames.

        Each region is unmapped when the last view into it is gone, so views never dangle.
        """
        current = self._open() if self._open is not None else None
        if current is not None:
            current.close()
        with self._guard:
            self._native.wipe()
            self._closed = True

    def __enter__(self) -> SecureArena:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{self._native.used} bytes in use"
        return f"SecureArena({state})"


class Frame(Ephemeral):
    """One frame's scope over a :class:`SecureArena`.

    Native results created through the frame are :class:`~facekit.EphemeralArray` views into the
    arena. Ending the frame (leaving its ``with`` block, calling :meth:`close`, or dropping it)
    wipes them.
    """

    __slots__ = ("_arena", "_ended", "__weakref__")

    def __init__(self, arena: SecureArena) -> None:
        self._arena = arena
        self._ended = False

    @property
    def expired(self) -> bool:
        return self._ended

    def close(self) -> None:
        """Wipe every byte the frame handed out; later accessors raise ExpiredFrameError."""
        if not self._ended:
            try:
                self._arena._end_frame()
            finally:
                self._ended = True  # only once wiped: another thread may then open a frame

    def __enter__(self) -> Frame:
        self._check_alive()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing sensible left to report
            pass

    def crop_normalize(
        self,
        image: ImageLike,
        rect: RotatedRect,
        size: int | tuple[int, int],
        *,
        scale: PerChannel = 1.0 / 255.0,
        offset: PerChannel = 0.0,
        border: str = "zero",
        color_format: ColorFormat = "rgb",
        mirror: bool = False,
    ) -> EphemeralArray:
        """Sample ``rect`` of ``image`` into a float32 ``(1, H, W, 3)`` RGB tensor in the arena.

        Bilinear sampling; each output value is ``intensity * scale[c] + offset[c]``.
        ``size`` is ``(width, height)`` or one side of a square. ``border`` says what lies
        outside the image: ``"zero"`` (intensity 0, before normalization) or ``"clamp"`` (the
        nearest edge pixel). ``mirror`` flips the crop left-right (as if the rectangle were seen
        in a mirror). Raises ``ValueError`` for a bad image, size, rectangle or option.
        """
        self._check_alive()
        if not isinstance(rect, RotatedRect):
            raise TypeError(f"rect must be a RotatedRect, got {type(rect).__name__}")
        width, height = _crop_size(size)
        pixels, pixel_format = as_pixels(image, color_format)
        return crop(self, pixels, pixel_format, rect, (width, height),
                    _per_channel(scale, "scale"), _per_channel(offset, "offset"), border, mirror)

    def __repr__(self) -> str:
        return f"Frame({'ended' if self._ended else 'open'})"


# ---- The internal seam: what pipelines do with a frame ----------------------------------------
# Module functions rather than methods, so that Frame's public surface stays crop_normalize,
# end and expired, and no other module reaches into a frame's private attributes. Not public
# API (not in __all__): arguments are trusted to be validated already.

def native_arena(frame: Frame) -> _native.arena.Arena:
    """The native arena of an open `frame`, for native calls that write into it (their
    results are wiped with the frame)."""
    if frame.expired:
        raise ExpiredFrameError("this Frame has ended: the arena holding its values was wiped")
    return frame._arena._native


def crop(frame: Frame, pixels: np.ndarray, pixel_format: str, rect: RotatedRect,
         size: tuple[int, int], scale: tuple[float, float, float],
         offset: tuple[float, float, float], border: str = "zero",
         mirror: bool = False) -> EphemeralArray:
    """:meth:`Frame.crop_normalize` on pixels already validated: a (1, H, W, 3) tensor."""
    return crop_batch(frame, pixels, pixel_format, [(rect, mirror)], size, scale, offset, border)


def crop_batch(frame: Frame, pixels: np.ndarray, pixel_format: str,
               rects: list[tuple[RotatedRect, bool]], size: tuple[int, int],
               scale: tuple[float, float, float], offset: tuple[float, float, float],
               border: str = "zero") -> EphemeralArray:
    """Several (rect, mirror) crops as one (N, H, W, 3) batch in one arena block."""
    width, height = size
    transforms = [_transform(rect, mirror, width, height) for rect, mirror in rects]
    view = _native.warp.crop_normalize(native_arena(frame), pixels, pixel_format, transforms,
                                       width, height, scale, offset, border)
    return view.view(EphemeralArray)


def allocate(frame: Frame, shape: tuple[int, ...]) -> EphemeralArray:
    """A zeroed float32 block in the frame for native writers (bound network outputs)."""
    return native_arena(frame).allocate(list(shape)).view(EphemeralArray)


def expose(frame: Frame, array: np.ndarray) -> EphemeralArray:
    """The form results take when handed to the application: a row-padded arena copy,
    which marshal and other flat-buffer readers refuse (see PRIVACY.md)."""
    return native_arena(frame).expose(array).view(EphemeralArray)


def _transform(rect: RotatedRect, mirror: bool, width: int, height: int) -> tuple[float, ...]:
    """The sampling affine of `rect` (mirrored left-right when asked)."""
    center_x, center_y, rect_width = rect.center_x, rect.center_y, rect.width
    if mirror:
        # The columns of the plain crop in reverse order (column j shows column N-1-j), as
        # MediaPipe flips eye crops: a negative width walks right to left, starting one output
        # column in from the right edge.
        step = rect.width / width
        center_x -= step * math.cos(rect.rotation)
        center_y -= step * math.sin(rect.rotation)
        rect_width = -rect.width
    return tuple(_native.warp.rect_to_affine(center_x, center_y, rect_width, rect.height,
                                             rect.rotation, width, height))


def _crop_size(size: object) -> tuple[int, int]:
    """(width, height) from one side or a pair of whole numbers in 1..MAX_CROP_SIDE, checked
    before any geometry divides by them."""
    pair = (size, size) if is_number(size) else size
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise TypeError(f"size must be one side or (width, height), got {size!r}")
    for side in pair:
        if not is_number(side) or isinstance(side, (float, np.floating)):
            raise TypeError(f"crop sides must be integers, got {size!r}")
    limit = _native.warp.MAX_CROP_SIDE
    if min(pair) < 1:
        raise ValueError(f"crop size {tuple(pair)} is not a positive size")
    if max(pair) > limit:
        raise ValueError(f"crop size {tuple(pair)} lies outside 1..{limit}")
    return int(pair[0]), int(pair[1])


def _per_channel(value: PerChannel, name: str) -> tuple[float, float, float]:
    values = (value,) * 3 if isinstance(value, (int, float, np.number)) else tuple(value)
    if len(values) != 3:
        raise ValueError(f"{name} must be one number or three (R, G, B), got {len(values)}")
    return (float(values[0]), float(values[1]), float(values[2]))
