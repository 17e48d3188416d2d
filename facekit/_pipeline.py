"""What every pipeline shares: its arena, one frame at a time, closing, and image intake."""

from __future__ import annotations

import enum
import threading
import weakref
from typing import Any, Generic, Iterator, TypeVar

import numpy as np

from ._ephemeral import Ephemeral
from .arena import Frame, SecureArena
from .errors import ClosedError
from .image import ColorFormat, as_pixels

__all__ = ["RunningMode"]

MIN_IMAGE_SIDE = 2


class RunningMode(enum.Enum):
    """IMAGE: every call stands alone. VIDEO: calls are frames of one stream, in time order."""

    IMAGE = "image"
    VIDEO = "video"


FaceT = TypeVar("FaceT")


class FrameResult(Ephemeral, Generic[FaceT]):
    """The faces of one pipeline call, valid until the pipeline's next call or the end of the
    result's ``with`` block; then its arena is wiped and every accessor raises
    ExpiredFrameError. A result dropped before then (with its faces) is wiped when collected."""

    __slots__ = ("_frame", "_faces")

    def __init__(self, frame: Frame) -> None:
        self._frame = frame
        self._faces: list[FaceT] = []

    @property
    def expired(self) -> bool:
        return self._frame.expired

    @property
    def faces(self) -> list[FaceT]:
        self._check_alive()
        return list(self._faces)

    def __len__(self) -> int:
        return len(self.faces)

    def __iter__(self) -> Iterator[FaceT]:
        return iter(self.faces)

    def close(self) -> None:
        """End the frame now: wipe everything the result holds."""
        self._frame.end()

    def __enter__(self):
        self._check_alive()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "expired" if self.expired else f"faces={len(self._faces)}"
        return f"{type(self).__name__}({state})"


class Pipeline:
    """Owns one secure arena. Each call opens a new frame and ends the previous one, so a
    result stays readable until the next call (or the end of its ``with`` block).

    The pipeline only keeps a weak reference to the open frame: the result (and its faces)
    hold it, so a result dropped without ``with`` or ``close()`` is wiped when collected.
    """

    def __init__(self) -> None:
        self._arena = SecureArena()
        self._frame: weakref.ref[Frame] | None = None
        self._lock = threading.Lock()
        self._closed = False

    def _begin_frame(self) -> Frame:
        if self._closed:
            raise ClosedError(f"this {type(self).__name__} is closed")
        previous = self._frame() if self._frame is not None else None
        if previous is not None:
            previous.end()  # the previous result expires: one frame of biometrics at a time
        frame = self._arena.frame()
        self._frame = weakref.ref(frame)
        return frame

    @staticmethod
    def _pixels(image: Any, color_format: ColorFormat) -> tuple[np.ndarray, str]:
        pixels, pixel_format = as_pixels(image, color_format)
        height, width = pixels.shape[:2]
        if min(width, height) < MIN_IMAGE_SIDE:
            raise ValueError(f"image of {width}x{height} is too small to hold a face")
        return pixels, pixel_format

    def close(self) -> None:
        """Wipe and release the arena; later calls raise ClosedError. Safe to call twice."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._arena.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
