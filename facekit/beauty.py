"""Beauty effects on every face of an image or video: skin, shape, makeup and colour grading.

The landmarker finds each face's 468-point mesh in the frame arena (or the caller passes the
result of its own FaceLandmarker: ``faces=``); the native engine builds
masks and a warp field from it (also in the arena), applies the effects to the face's region
only and writes the output image. No landmark, mask or warp value reaches Python; all of them
are wiped when the call returns.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _native
from ._checks import (
    checked_color_format,
    checked_running_mode,
    is_number,
    options_from,
    whole_number,
)
from ._pipeline import RunningMode, begin_frame, exclusive, frame_of, shared_faces
from ._resource import NativeResource
from .arena import native_arena
from .detector import MAX_FACES, MAX_THREADS
from .image import ColorFormat, ImageLike, as_pixels
from .landmarker import FaceLandmarker, FaceLandmarkerOptions, LandmarkerResult
from .lut import load_lut

__all__ = ["BeautyOptions", "Beautifier", "BeautifierOptions", "PRESETS", "RGB", "EFFECTS"]

RGB = tuple[int, int, int]
_REGION_ORDER = ("face_oval", "lips_outer", "lips_inner", "left_eye", "right_eye", "left_brow",
                 "right_brow", "nostrils")
# The native table of effects (native/include/facekit/beauty_effects.def): name -> kind.
_KINDS: dict[str, str] = dict(_native.beauty.EFFECTS)


def _colour(name: str, value: Any) -> RGB:
    """An (r, g, b) of integers in 0..255 (a tuple, list or array; numpy ints accepted)."""
    channels = tuple(value) if isinstance(value, (tuple, list, np.ndarray)) else None
    if (channels is None or len(channels) != 3 or not all(
            is_number(c) and not isinstance(c, (float, np.floating)) and 0 <= c <= 255
            for c in channels)):
        raise ValueError(f"{name} must be an (r, g, b) tuple of ints in 0..255, got {value!r}")
    return (int(channels[0]), int(channels[1]), int(channels[2]))


@lru_cache(maxsize=1)
def _regions() -> tuple[tuple[int, ...], ...]:
    # Tuples: the cached value is shared by every caller, so nobody may change it.
    path = Path(__file__).resolve().parent / "data" / "mesh_regions.json"
    regions = json.loads(path.read_text())["regions"]
    return tuple(tuple(regions[name]) for name in _REGION_ORDER)


def mesh_regions() -> tuple[tuple[int, ...], ...]:
    """The 8 mesh polygons every native face engine takes (beauty, fusion), in the native
    order: face_oval, lips_outer, lips_inner, left_eye, right_eye, left_brow, right_brow,
    nostrils."""
    return _regions()


def _effect_fields(cls: type) -> type:
    """Declare the dataclass fields of every effect of the native table, in its order: a
    strength (0.0); a makeup effect also has ``<name>_color`` (its default colour); ``lut``
    is the colour table (None) with ``lut_strength`` (1.0)."""
    annotations: dict[str, Any] = {}
    for name, kind in _KINDS.items():
        if kind == "lut":
            fields: list[tuple[str, Any, Any]] = [
                (name, str | Path | np.ndarray | None, None),
                (f"{name}_strength", float, 1.0)]
        else:
            fields = [(name, float, 0.0)]
            if kind == "makeup":
                fields.append((f"{name}_color", RGB, tuple(_native.beauty.DEFAULT_COLORS[name])))
        for field_name, annotation, default in fields:
            annotations[field_name] = annotation
            setattr(cls, field_name, default)
    cls.__annotations__ = annotations  # the class declares no fields of its own
    return cls


@dataclass(frozen=True)
@_effect_fields
class BeautyOptions:
    """Strengths of every effect (0 leaves the image bit-identical).

    Skin, 0..1: ``smoothing`` (edge-preserving, skin only: eyes, brows, lips and nostrils are
    left out), ``whitening`` (a tone curve on skin; skin darker than the face's median, a neck in shadow,
    is lifted at least as much as the median), ``rosy`` (warmer, redder skin),
    ``sharpen`` (the whole face, after smoothing), ``dark_circles`` (under-eye brightening),
    ``teeth_whitening`` (inside the mouth, only where pixels look like teeth). Smoothing,
    whitening, rosy, dark circles and the LUT follow the face's own skin (a colour model fitted
    on each frame's cheeks and forehead): they reach the neck with a soft falloff and
    leave out what in front of the face does not look like its skin (a hand, a microphone).

    Shape (local, smooth, fold-free warps that fade out over occluders), 0..1 or -1..1 (``chin_length``, ``forehead``,
    ``eye_distance``, ``mouth_size``: negative shortens, narrows or shrinks): ``face_slim``,
    ``v_chin``, ``chin_length``, ``forehead``, ``eye_enlarge``, ``eye_distance``, ``nose_slim``,
    ``mouth_size``.

    Makeup, 0..1, each with an RGB colour ``<name>_color``: ``lipstick`` (texture-preserving,
    on the lips), ``blush`` (cheeks), ``brow_tint`` (brows), ``eyeshadow`` (lids).

    Colour grading: ``lut`` (a ``.cube`` path, a preset name from :func:`facekit.lut.presets`,
    or an (N, N, N, 3) uint8 array) applied on the skin with ``lut_strength``.

    Options compose: ``PRESETS["natural"].replace(lipstick=0.6)``.
    """

    if TYPE_CHECKING:  # the fields come from the native table at import time
        def __init__(self, **values: Any) -> None: ...
        def __getattr__(self, name: str) -> Any: ...

    def __post_init__(self) -> None:
        # Numbers may be numpy scalars (np.float32(0.5), np.int64(200)); they are stored as
        # plain floats and ints, so the options compare, hash and print like literals.
        for name, kind in _KINDS.items():
            strength = f"{name}_strength" if kind == "lut" else name
            self._set_strength(strength, -1.0 if kind == "signed" else 0.0)
            if kind == "makeup":
                colour = f"{name}_color"
                object.__setattr__(self, colour, _colour(colour, getattr(self, colour)))

    def _set_strength(self, name: str, low: float) -> None:
        value = getattr(self, name)
        if not is_number(value) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
        if not low <= value <= 1.0:
            raise ValueError(f"{name} must lie in [{low:g}, 1], got {value}")
        object.__setattr__(self, name, float(value))

    def replace(self, **changes: Any) -> BeautyOptions:
        """A copy with some fields changed (validated like the constructor)."""
        return dataclasses.replace(self, **changes)

    @property
    def is_identity(self) -> bool:
        """True when no effect is on (the output equals the input)."""
        return not any(self._strength(name, kind) for name, kind in _KINDS.items())

    def _strength(self, name: str, kind: str) -> float:
        """The strength of one effect of the table (a lut without its table does nothing)."""
        if kind == "lut":
            return getattr(self, f"{name}_strength") if getattr(self, name) is not None else 0.0
        return float(getattr(self, name))

    def _strengths(self) -> dict[str, Any]:
        """The native engine's strengths dict: one key per effect of the table."""
        out: dict[str, Any] = {}
        for name, kind in _KINDS.items():
            if kind == "lut":
                out[name] = getattr(self, f"{name}_strength")
            elif kind == "makeup":
                out[name] = (getattr(self, name), getattr(self, f"{name}_color"))
            else:
                out[name] = getattr(self, name)
        return out


PRESETS: dict[str, BeautyOptions] = {
    "none": BeautyOptions(),
    "natural": BeautyOptions(smoothing=0.5, whitening=0.25, face_slim=0.3, eye_enlarge=0.25,
                             lipstick=0.3),
    "studio": BeautyOptions(smoothing=0.75, whitening=0.4, rosy=0.2, sharpen=0.3,
                            dark_circles=0.5, teeth_whitening=0.5, face_slim=0.5, v_chin=0.3,
                            eye_enlarge=0.4, nose_slim=0.3, lipstick=0.45, blush=0.3,
                            brow_tint=0.3),
}


@dataclass(frozen=True)
class BeautifierOptions:
    """How a :class:`Beautifier` runs.

    Attributes:
        effects: the :class:`BeautyOptions` (default: the ``natural`` preset).
        running_mode: ``RunningMode.IMAGE`` (each call stands alone) or ``RunningMode.VIDEO``
            (frames of one stream: landmarks are tracked, so the warp of a still face does not
            move between frames; pass ``timestamp_ms``).
        max_faces: at most this many faces get the effects (1..1000).
        color_format: channel order of 3/4-channel numpy images (``"bgr"`` for OpenCV).
        intra_op_threads: ONNX Runtime threads per network. 1 is fastest for these small
            networks; more than 1 also makes the scrub of ONNX Runtime's buffers fall back from
            "perturb" to "rerun" (a blank run after every inference, +65-80% of inference time:
            see ``facekit._inference.SCRUB_MODES``).
    """

    effects: BeautyOptions = PRESETS["natural"]
    running_mode: RunningMode = RunningMode.IMAGE
    max_faces: int = 4
    color_format: ColorFormat = "rgb"
    intra_op_threads: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.effects, BeautyOptions):
            raise TypeError(f"effects must be BeautyOptions, got {type(self.effects).__name__}")
        checked_running_mode(self.running_mode)
        store = partial(object.__setattr__, self)
        store("max_faces", whole_number("max_faces", self.max_faces, 1, MAX_FACES))
        store("color_format", checked_color_format(self.color_format))
        store("intra_op_threads",
              whole_number("intra_op_threads", self.intra_op_threads, 1, MAX_THREADS))

    def landmarker_options(self) -> FaceLandmarkerOptions:
        """The landmarker configuration these options run (468 points, no iris)."""
        return FaceLandmarkerOptions(running_mode=self.running_mode, max_faces=self.max_faces,
                                     color_format=self.color_format,
                                     intra_op_threads=self.intra_op_threads)


class Beautifier(NativeResource):
    """Applies :class:`BeautyOptions` to every face found in an image or a video stream.

    Build it from :class:`BeautifierOptions` (``Beautifier.create_from_options(options)``), or
    with the shorthand ``Beautifier(effects, running_mode=..., max_faces=...)``: the effects
    and any :class:`BeautifierOptions` field as a keyword.

    ``apply`` returns a new image of the input's shape and channel order; ``apply_into``
    writes into an array you own. Use as a context manager or call :meth:`close`. One thread
    at a time: a call while another thread's call is under way raises
    :class:`~facekit.errors.ConcurrentUseError` (create one Beautifier per thread).
    """

    def __init__(self, options: BeautifierOptions | BeautyOptions | None = None,
                 **fields: Any) -> None:
        self.options = options_from(BeautifierOptions, options, "effects", fields)
        effects = self.options.effects
        self._lut = None if effects.lut is None else load_lut(effects.lut)
        self._strengths = effects._strengths()
        self._landmarker = FaceLandmarker(self.options.landmarker_options())

    @classmethod
    def create_from_options(cls, options: BeautifierOptions) -> Beautifier:
        """MediaPipe Tasks-style constructor."""
        return cls(options_from(BeautifierOptions, options, None, {}))

    @staticmethod
    def landmarker_options(options: BeautifierOptions | None = None) -> FaceLandmarkerOptions:
        """The landmarker configuration a Beautifier runs (468 points, no iris)."""
        return (options or BeautifierOptions()).landmarker_options()

    def apply(self, image: ImageLike, timestamp_ms: int | None = None, *,
              faces: LandmarkerResult | None = None) -> np.ndarray:
        """The image with the effects applied to every face (a new uint8 array).

        ``faces``: an open result of :meth:`FaceLandmarker.detect` (or ``detect_for_video``)
        on this same image, so that landmarks found once serve every effect; the Beautifier
        then runs no network, and ``timestamp_ms`` is not taken. Each of its faces gets the
        effects (up to ``max_faces``; iris points, if any, are not used). The effects' own
        values (masks, warps) live in this Beautifier's arena and are wiped when the call
        returns. Refused: a result that has ended (ExpiredFrameError), one of another image
        size (ValueError) or one opened by another thread (ConcurrentUseError).
        """
        pixels, _ = as_pixels(image, self.options.color_format)
        out = np.array(pixels, copy=True)
        self.apply_into(pixels, out, timestamp_ms, faces=faces)
        return out

    def apply_into(self, image: ImageLike, out: np.ndarray, timestamp_ms: int | None = None,
                   *, faces: LandmarkerResult | None = None) -> None:
        """Write the result into `out` (uint8, the input's shape; may be the input itself).
        ``faces`` as in :meth:`apply`."""
        self._apply(image, out, timestamp_ms, trace=False, faces=faces)

    def _apply(self, image: ImageLike, out: np.ndarray, timestamp_ms: int | None,
               trace: bool, inspect=None, faces: LandmarkerResult | None = None) -> list[dict]:
        pixels, pixel_format = as_pixels(image, self.options.color_format)
        if pixel_format == "gray":
            raise ValueError("beauty effects need a colour image (HxWx3 or HxWx4), got gray")
        if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape != pixels.shape:
            raise ValueError(f"out must be a uint8 array of shape {pixels.shape}")
        if not out.flags.writeable:
            raise ValueError("out is read-only")
        video = self.options.running_mode == RunningMode.VIDEO
        if faces is not None:
            shared = shared_faces(faces, (LandmarkerResult,), pixels.shape)
            if timestamp_ms is not None:
                raise ValueError("timestamp_ms is for the Beautifier's own landmarker; with "
                                 "faces= no landmarker runs: leave it out")
        elif video and timestamp_ms is None:
            raise ValueError("VIDEO mode needs timestamp_ms")
        # When out overlaps the input (it is the input, or a view shifted over the same
        # buffer), writing out would change pixels still to be read: read from a copy.
        source = np.array(pixels, copy=True) if np.may_share_memory(out, pixels) else pixels
        np.copyto(out, source)
        if self.options.effects.is_identity:
            return []
        # The effects use the landmarker's arena: the whole apply is one call of it.
        with exclusive(self._landmarker):
            if faces is not None:
                frame = begin_frame(self._landmarker)  # for the effects' masks and warps
                landmarks = [face.landmarks for face in shared[:self.options.max_faces]]
            else:
                if video:
                    result = self._landmarker.detect_for_video(source, timestamp_ms)  # type: ignore[arg-type]
                else:
                    result = self._landmarker.detect(source)
                frame = frame_of(result)
                landmarks = [face.landmarks for face in result.faces]
            traces = []
            with frame:
                scratch = native_arena(frame)
                for points in landmarks:
                    traces.append(_native.beauty.apply(
                        source, out, pixel_format, points, _regions(), self._strengths,
                        self._lut, scratch, trace))
                if inspect is not None:
                    inspect(traces)
        return traces

    def close(self) -> None:
        """Release the landmarker and its arena. Safe to call twice."""
        self._landmarker.close()

    def __enter__(self) -> Beautifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        on = [k for k, v in self._strengths.items()
              if (v[0] if isinstance(v, tuple) else v) and k != "lut"]
        return f"Beautifier(effects={on}, mode={self.options.running_mode.value})"


# Every effect, in the native table's order (`facekit gallery` shows each at 0.5 and 1.0).
EFFECTS: tuple[str, ...] = tuple(_KINDS)
