"""What every pipeline shares: its arena, one frame at a time, closing, and image intake."""

from __future__ import annotations

import enum
import numbers
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Generic, TypeVar

import numpy as np

from ._ephemeral import Ephemeral
from ._resource import NativeResource
from .arena import Frame, SecureArena
from .errors import ClosedError, ConcurrentUseError
from .image import ColorFormat, as_pixels

__all__ = ["RunningMode"]

MIN_IMAGE_SIDE = 2


def video_timestamp(timestamp_ms: object) -> int:
    """`timestamp_ms` checked to be a whole number of milliseconds (an int or a numpy integer,
    as MediaPipe takes): anything else would let the ordering check compare nonsense."""
    if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, numbers.Integral):
        hint = " (round it: int(...))" if isinstance(timestamp_ms, numbers.Real) else ""
        raise TypeError(f"timestamp_ms must be an integer number of milliseconds, got "
                        f"{type(timestamp_ms).__name__}{hint}")
    return int(timestamp_ms)


def check_timestamp(previous_ms: int | None, timestamp_ms: int) -> int:
    """`timestamp_ms` if it comes after `previous_ms` (call under the pipeline's lock)."""
    if previous_ms is not None and timestamp_ms <= previous_ms:
        raise ValueError(f"timestamp {timestamp_ms} ms is not after the previous frame's "
                         f"{previous_ms} ms: video timestamps must increase")
    return timestamp_ms


class RunningMode(enum.Enum):
    """IMAGE: every call stands alone. VIDEO: calls are frames of one stream, in time order."""

    IMAGE = "image"
    VIDEO = "video"


FaceT = TypeVar("FaceT")


class FrameResult(Ephemeral, Generic[FaceT]):
    """The faces of one pipeline call, valid until the pipeline's next call or the end of the
    result's ``with`` block; then its arena is wiped and every accessor raises
    ExpiredFrameError. A result dropped before then (with its faces) is wiped when collected."""

    __slots__ = ("_frame", "_faces", "_image_size", "_thread")

    def __init__(self, frame: Frame, image_shape: tuple[int, ...]) -> None:
        self._frame = frame
        self._faces: list[FaceT] = []
        self._image_size = (int(image_shape[1]), int(image_shape[0]))
        self._thread = threading.current_thread()  # the pipeline's frame belongs to it

    @property
    def expired(self) -> bool:
        return self._frame.expired

    @property
    def image_size(self) -> tuple[int, int]:
        """(width, height) of the image the faces were found in (plain numbers)."""
        self._check_alive()
        return self._image_size

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
        self._frame.close()

    def __enter__(self):
        self._check_alive()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "expired" if self.expired else f"faces={len(self._faces)}"
        return f"{type(self).__name__}({state})"


class Pipeline(NativeResource):
    """Owns one secure arena. Each call opens a new frame and ends the previous one, so a
    result stays readable until the next call (or the end of its ``with`` block).

    One thread at a time: a call runs under :meth:`_exclusive`, and the open frame belongs to
    the thread that opened it. Another thread's call meanwhile raises ConcurrentUseError
    rather than wait: it would end the frame that thread is still reading.

    The pipeline only keeps a weak reference to the open frame: the result (and its faces)
    hold it, so a result dropped without ``with`` or ``close()`` is wiped when collected.
    """

    options: Any  # the subclass's frozen options dataclass, with a running_mode

    def __init__(self) -> None:
        self._arena = SecureArena()
        self._frame: weakref.ref[Frame] | None = None  # weak: results hold their frame
        self._owner: threading.Thread | None = None  # the thread that opened that frame
        self._lock = threading.RLock()  # re-entrant: a Beautifier's apply wraps detect
        self._closed = False

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold the pipeline for one call of this thread; every check and state change of the
        call happens inside. Raises ConcurrentUseError while another thread is in a call or
        still has a result of this pipeline open (a result of a thread that has ended counts
        as abandoned)."""
        name = type(self).__name__
        if not self._lock.acquire(blocking=False):
            raise ConcurrentUseError(
                f"this {name} is running a call in another thread; a pipeline serves one "
                f"thread at a time: create one {name} per thread")
        try:
            owner = self._owner
            frame = self._frame() if self._frame is not None else None
            if (frame is not None and not frame.expired and owner is not None
                    and owner is not threading.current_thread() and owner.is_alive()):
                raise ConcurrentUseError(
                    f"another thread still has a result of this {name} open; end it (leave its "
                    f"'with' block or call close()) first, or create one {name} per thread")
            yield
        finally:
            self._lock.release()

    def _require_mode(self, mode: RunningMode, method: str, other: str) -> None:
        if self.options.running_mode is not mode:
            raise ValueError(f"{method}() is for RunningMode.{mode.name}; use {other}()")

    def _begin_frame(self) -> Frame:
        if self._closed:
            raise ClosedError(f"this {type(self).__name__} is closed")
        previous = self._frame() if self._frame is not None else None
        if previous is not None:
            previous.close()  # the previous result expires: one frame of biometrics at a time
        frame = self._arena.frame()
        self._frame = weakref.ref(frame)
        self._owner = threading.current_thread()
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


# ---- The internal seam: what other facekit modules do with a pipeline or its results ---------
# (functions here, so that no module reaches into another module's private attributes).

def exclusive(pipeline: Pipeline) -> AbstractContextManager[None]:
    """Hold `pipeline` for one call (see :meth:`Pipeline._exclusive`): an effect that runs a
    pipeline it owns holds it for the whole effect, so no other thread ends its frame."""
    return pipeline._exclusive()


def begin_frame(pipeline: Pipeline) -> Frame:
    """A new frame in `pipeline`'s arena for an effect's own values (its previous result
    expires); call it inside :func:`exclusive` and end the frame when the effect is done."""
    return pipeline._begin_frame()


def frame_of(result: FrameResult[Any]) -> Frame:
    """The open frame `result` lives in (ExpiredFrameError once it has ended)."""
    result.faces  # noqa: B018  (the accessor raises ExpiredFrameError once the frame ended)
    return result._frame


def shared_faces(result: object, kinds: tuple[type, ...], image_shape: tuple[int, ...],
                 name: str = "faces") -> list[Any]:
    """The faces of `result`, an open result handed to an effect (``faces=``) along with the
    image of shape `image_shape` it was found in.

    Refuses a result of another kind (TypeError), one whose frame has ended
    (ExpiredFrameError), one opened by another thread (ConcurrentUseError: that thread's
    pipeline may end its frame at any time) and one found in an image of another size
    (ValueError). The faces' arena views stay valid while the caller holds `result` open.
    """
    if not isinstance(result, kinds):
        expected = " or ".join(kind.__name__ for kind in kinds)
        raise TypeError(f"{name} must be a {expected} (the result of a detect call on the "
                        f"same image), got {type(result).__name__}")
    assert isinstance(result, FrameResult)
    faces = result.faces  # ExpiredFrameError once its frame has ended
    if result._thread is not threading.current_thread():
        raise ConcurrentUseError(f"{name} is a result opened by another thread; use a result "
                                 f"in the thread whose pipeline made it")
    width, height = int(image_shape[1]), int(image_shape[0])
    if result.image_size != (width, height):
        found_w, found_h = result.image_size
        raise ValueError(f"{name} was found in a {found_w}x{found_h} image, not in this "
                         f"{width}x{height} one: pass the result of the same image")
    return faces
