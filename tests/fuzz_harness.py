"""A bounded, deterministic fuzzer for facekit's input-facing code, crash-safe by journaling.

Targets (see ``TARGETS``): the crop kernel (``Frame.crop_normalize`` and the native
``warp.crop_normalize``), ``BeautyOptions`` and ``Beautifier.apply``, the native beauty engine
with mutated strengths, landmarks, regions and LUTs, the ``.cube`` parser, the native parsers of
the two dlib model blobs (mutations of the shipped, integrity-checked bytes), the native
anonymizer's cover, and the native geometry of detection and landmarks (decode, ROIs,
projection).

Every case is a pure function of ``(target, seed, index)``: a numpy generator seeded with those
three makes the same inputs on every machine, so ``python tests/fuzz_harness.py repro TARGET
SEED INDEX`` replays any case in-process.

Crash safety. Cases run in a worker subprocess, many per process (a new process per case would
cost more than the cases). Before it runs a case the worker appends a ``begin`` line (index and a
description of every input, with the sha256 of mutated bytes) to a journal with an unbuffered
``os.write``; after it, an ``end`` line with the outcome. When the worker dies (segfault, abort)
or a case runs past the timeout (the parent kills it), the journal's last ``begin`` without an
``end`` names the case: the parent records it as a finding, with the worker's faulthandler stack,
and starts a new worker at the next index. That gives the same guarantee as a process per case:
no crash goes unrecorded or loses its input. Each finding's case is saved in the campaign's
folder (pytest's tmp_path): its description, the replay command and, for byte targets, the
mutated blob or ``.cube`` text regenerated from the seed.

Outcomes. A case passes when it succeeds (and the target's oracle holds: no write outside the
caller's buffer or region, no NaN from finite inputs, well-formed results) or raises an allowed
type (``allowed_errors()``): ``ValueError``, ``TypeError`` and ``facekit.errors.FacekitError`` (with
its subclasses ``ExpiredFrameError``, ``BiometricExportError``, ``FrameInUseError``,
``ClosedError``, ``SimdUnavailableError``, ``ModelIntegrityError``, ``NoFaceError``,
``AmbiguousFaceError``, ``FaceTooSmallError``). Anything else is a finding: a crash, a hang, any
other exception type (ZeroDivisionError, IndexError, KeyError, OverflowError, SystemError,
MemoryError, RuntimeError ...), a broken oracle, or a refusal of input that is valid (a numpy
scalar in place of a number, a ``.cube`` file with a byte-order mark or CRLF line ends).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HARNESS = Path(__file__).resolve()
CASE_TIMEOUT_S = 20.0
# Executions per target of the CI run (about 60-90 s for all targets on a 2-core machine);
# FACEKIT_FUZZ_EXECS=<n> sets every target's count for a long run.
DEFAULT_EXECS = {
    "crop_normalize": 6000,
    "beauty_options": 2000,
    "beauty_native": 3000,
    "lut_cube": 1500,
    "shape_predictor_blob": 1200,
    "hog_detector_blob": 3000,
    "anonymize_cover": 4000,
    "geometry_native": 10000,
}
DEFAULT_SEED = 20261202


def allowed_errors() -> tuple[type[BaseException], ...]:
    """The exception types a bad input may raise (everything else is a finding)."""
    from facekit.errors import FacekitError

    return (ValueError, TypeError, FacekitError)


class Finding(Exception):
    """An oracle broke: the call returned, but what it returned (or wrote) is wrong.

    `group` names the kind of finding (default: the message) so reports list each kind once.
    """

    def __init__(self, detail: str, group: str | None = None) -> None:
        super().__init__(detail)
        self.group = group or detail


# ---------------------------------------------------------------------------------------------
# Inputs: numbers, images and byte mutations
# ---------------------------------------------------------------------------------------------

def pick(rng: np.random.Generator, options: list | tuple) -> Any:
    return options[int(rng.integers(len(options)))]


_SPECIAL_FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-300, 5e-324, 1e300, -1e300, 3.5e38, 1e38,
                   float("nan"), float("inf"), -float("inf"), 2.0 ** 31, 2.0 ** 63, 1e-7]


def weird_number(rng: np.random.Generator, typical: float = 0.5) -> Any:
    """A number of any kind: ordinary, special (NaN, inf, huge, tiny) or of another type."""
    roll = rng.random()
    if roll < 0.35:
        return float(typical * rng.uniform(-2, 2))
    if roll < 0.7:
        return pick(rng, _SPECIAL_FLOATS)
    if roll < 0.85:
        kind = pick(rng, [np.float32, np.float64, np.int64, np.int8, np.uint8, np.float16])
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NaN or 300 cast to an integer type: wraps
            return np.array(pick(rng, [0.5, 1.0, 0.0, -1.0, 300.0, float("nan")])).astype(kind)[()]
    return pick(rng, ["0.5", None, [0.5], (0.5, 0.5), complex(0.5, 0), True, b"1", {"x": 1}])


def is_finite_number(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError, OverflowError):
        return False


@dataclass
class Guarded:
    """An array that is a view into a larger buffer, so writes outside it can be detected."""

    array: Any
    base: np.ndarray | None = None
    before: np.ndarray | None = None

    def untouched_outside(self, inside: np.ndarray | None = None) -> bool:
        """True when no byte of the base buffer outside `inside` (a view mask) changed."""
        if self.base is None:
            return True
        changed = self.base != self.before
        if inside is not None:
            changed &= ~inside
        return not changed.any()


_LAYOUTS = ("contiguous", "padded", "flipped_rows", "flipped_cols", "step", "fortran",
            "channels_first", "broadcast", "oversized", "wrong_dtype", "empty", "pil")
_BAD_LAYOUTS = ("oversized", "wrong_dtype", "empty")


def make_image(rng: np.random.Generator, source: np.ndarray | None = None,
               layouts: tuple[str, ...] = _LAYOUTS, writable: bool = False) -> tuple[Guarded, dict]:
    """A uint8 image (random or `source`) in a random memory layout, with its description."""
    if source is None:
        height = int(pick(rng, [1, 2, 3, 5, 16, 33, 64, 97]))
        width = int(pick(rng, [1, 2, 3, 7, 16, 31, 64, 130]))
        channels = mostly(rng, [None, 1, 3, 3, 4], [2, 5], 0.05)
        shape = (height, width) if channels is None else (height, width, channels)
        source = rng.integers(0, 256, shape, dtype=np.uint8)
    good = [ln for ln in layouts if ln not in _BAD_LAYOUTS]
    layout = mostly(rng, good or list(layouts), [ln for ln in layouts if ln in _BAD_LAYOUTS] or good,
                    0.1)
    info = {"layout": layout, "shape": list(source.shape)}
    if layout == "pil" and source.ndim == 3 and source.shape[2] in (3, 4) and not writable:
        from PIL import Image

        return Guarded(Image.fromarray(np.ascontiguousarray(source))), info
    if layout in ("padded", "flipped_rows", "flipped_cols"):
        pad = [(1, 2), (3, 1)] + [(0, 0)] * (source.ndim - 2)
        base = np.pad(source, pad, mode="constant", constant_values=77)
        view = base[1:1 + source.shape[0], 3:3 + source.shape[1]]
        if layout == "flipped_rows":
            view = view[::-1]
        elif layout == "flipped_cols":
            view = view[:, ::-1]
        if layout != "padded":  # keep the pixels the caller meant: flip the source first
            view[...] = source
        return Guarded(view, base, base.copy()), info
    if layout == "step":
        base = np.repeat(np.repeat(source, 2, axis=0), 2, axis=1)
        return Guarded(base[::2, ::2], base, base.copy()), info
    if layout == "fortran":
        return Guarded(np.asfortranarray(source)), info
    if layout == "channels_first" and source.ndim == 3:
        return Guarded(np.moveaxis(np.ascontiguousarray(np.moveaxis(source, 2, 0)), 0, 2)), info
    if layout == "broadcast" and not writable:
        return Guarded(np.broadcast_to(source[:1], source.shape)), info
    if layout == "oversized" and not writable:
        side = 16385 if rng.random() < 0.5 else 20000
        shape = (side,) + source.shape[1:]
        row = np.ascontiguousarray(source[:1])
        view = np.lib.stride_tricks.as_strided(row, shape, (0,) + row.strides[1:], writeable=False)
        info["shape"] = list(shape)
        return Guarded(view), info
    if layout == "wrong_dtype":
        dtype = pick(rng, [np.uint16, np.float32, np.int8, np.bool_, np.float64, np.int64])
        info["dtype"] = np.dtype(dtype).name
        return Guarded(source.astype(dtype)), info
    if layout == "empty":
        return Guarded(source[:0] if rng.random() < 0.5 else source[:, :0]), info
    base = np.array(source, copy=True)
    return Guarded(base), info


def describe(value: Any, depth: int = 0) -> Any:
    """A short, JSON-able description of a case input (arrays by shape, dtype and strides)."""
    if isinstance(value, np.ndarray):
        out = {"ndarray": list(value.shape), "dtype": value.dtype.name,
               "strides": list(value.strides)}
        if value.size <= 12 and value.dtype.kind in "fiub":
            out["values"] = value.tolist()
        return out
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": len(value), "sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, Guarded):
        return describe(value.array, depth)
    if isinstance(value, np.generic):
        return f"{type(value).__name__}({value!r})"
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, (int, bool, type(None))):
        return value
    if isinstance(value, str):
        return value if len(value) <= 120 else value[:120] + f"...({len(value)} chars)"
    if isinstance(value, dict) and depth < 4:
        return {str(k): describe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and depth < 4:
        items = [describe(v, depth + 1) for v in value[:16]]
        return items + ([f"...({len(value)} items)"] if len(value) > 16 else [])
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"dataclass": type(value).__name__,
                **{f.name: describe(getattr(value, f.name), depth + 1)
                   for f in dataclasses.fields(value)}}
    return f"<{type(value).__name__}> {str(value)[:80]}"


# ---------------------------------------------------------------------------------------------
# The worker's context: an arena, a real face and its mesh, the shipped blobs
# ---------------------------------------------------------------------------------------------

class Context:
    """What cases share inside one worker, built on first use."""

    def __init__(self, scratch: Path) -> None:
        self._cache: dict[str, Any] = {}
        self.scratch = scratch  # the files cases write (.cube files, model folders)
        scratch.mkdir(parents=True, exist_ok=True)

    def _once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def arena(self):
        import facekit

        return self._once("arena", facekit.SecureArena)

    @property
    def face(self) -> np.ndarray:
        """The shipped sample portrait scaled to 256 rows (a small, real face)."""
        def make():
            from PIL import Image

            import facekit

            image = facekit.load_image(Path(facekit.__file__).parent / "data" / "sample.jpg")
            width = image.shape[1] * 256 // image.shape[0]
            return np.asarray(Image.fromarray(image).resize((width, 256), Image.BILINEAR))
        return self._once("face", make)

    @property
    def landmarks(self) -> np.ndarray:
        """The face's 468-point mesh (a test-only copy: a public photo)."""
        def make():
            import facekit

            with facekit.FaceLandmarker() as landmarker, landmarker.detect(self.face) as result:
                return np.array(result.faces[0].landmarks, dtype=np.float32)
        return self._once("landmarks", make)

    @property
    def regions(self) -> list[list[int]]:
        from facekit import beauty

        return self._once("regions", beauty._regions)

    def blob(self, name: str) -> bytes:
        from facekit.models import read_verified

        return self._once("blob " + name, lambda: read_verified(name))

    def model(self, name: str):
        from facekit import _native

        kinds = {"dlib_shape_predictor_5": _native.verify.ShapePredictor,
                 "dlib_frontal_face_detector": _native.verify.HogFaceDetector}
        return self._once("model " + name, lambda: kinds[name](self.blob(name)))


# A case is a dict of named inputs; `payload` (bytes), when present, is saved with a finding.
Case = dict


# ---------------------------------------------------------------------------------------------
# Target: crop_normalize (public Frame.crop_normalize and native warp.crop_normalize)
# ---------------------------------------------------------------------------------------------

def mostly(rng: np.random.Generator, good: list, bad: list, p_bad: float = 0.15) -> Any:
    """Usually one of `good`, sometimes (p_bad) one of `bad`: most cases reach the kernels."""
    return pick(rng, bad) if rng.random() < p_bad else pick(rng, good)


def _weird_size(rng: np.random.Generator) -> Any:
    side = lambda: mostly(rng, [1, 2, 3, 8, 17, 64, 130, np.int64(8), np.uint16(5)],  # noqa: E731
                          [0, 0, -1, 4096, 4097, 2 ** 31, 2 ** 40, 8.0, 8.5, float("nan"),
                           float("inf"), "8", None], 0.15)
    roll = rng.random()
    if roll < 0.3:
        return side()
    if roll < 0.95:
        return (side(), side())
    return pick(rng, [(8,), (8, 8, 8), [8, 4], (), np.array([8, 4])])


def _weird_rect_values(rng: np.random.Generator, width: int, height: int) -> list[Any]:
    ordinary = [float(rng.uniform(-0.5, 1.5) * width), float(rng.uniform(-0.5, 1.5) * height),
                float(rng.uniform(0.01, 2) * width), float(rng.uniform(0.01, 2) * height),
                float(rng.uniform(-7, 7))]
    for i in range(5):
        if rng.random() < 0.1:
            ordinary[i] = pick(rng, [0.0, -3.0, 1e-9, 1e6, 1e12, 1e300, float("nan"),
                                     float("inf"), math.pi / 2, math.pi, 1e9, np.float32(7.5)])
    return ordinary


_FORMATS = {None: "gray", 1: "gray", 3: "rgb", 4: "rgba"}


def gen_crop_normalize(rng: np.random.Generator) -> Case:
    image, info = make_image(rng)
    height, width = info["shape"][:2]
    channels = info["shape"][2] if len(info["shape"]) == 3 else None
    case: Case = {"image": image, "image_info": info}
    if rng.random() < 0.65:
        case["api"] = "Frame.crop_normalize"
        values = _weird_rect_values(rng, width, height)
        case["rect"] = values if rng.random() > 0.03 else pick(rng, [None, (1, 2, 3, 4), "rect"])
        case["size"] = _weird_size(rng)
        case["scale"] = mostly(rng, [1 / 255, 2.0, -1 / 127.5, (1.0, 0.5, 2.0), np.float32(0.1)],
                               [weird_number(rng, 1 / 255), [weird_number(rng) for _ in "rgb"]])
        case["offset"] = mostly(rng, [0.0, -1.0, (1, 2, 3)], [weird_number(rng, 1.0)])
        case["border"] = mostly(rng, ["zero", "clamp"], ["wrap", "", None], 0.05)
        case["color_format"] = mostly(rng, ["rgb", "bgr"], ["gray", "RGB", None], 0.05)
        case["mirror"] = pick(rng, [False, True, True, np.bool_(True), 1, 0])
    else:
        case["api"] = "_native.warp.crop_normalize"
        count = int(mostly(rng, [1, 1, 2, 3], [0, 64, 65], 0.05))
        transforms = []
        for _ in range(count):
            m = [float(rng.uniform(-2, 2)), float(rng.uniform(-2, 2)), float(rng.uniform(-1, 1)
                 * width), float(rng.uniform(-2, 2)), float(rng.uniform(-2, 2)),
                 float(rng.uniform(-1, 1) * height)]
            for i in range(6):
                if rng.random() < 0.04:
                    m[i] = pick(rng, _SPECIAL_FLOATS)
            transforms.append(tuple(m) if rng.random() > 0.01 else tuple(m[:5]))
        case["transforms"] = transforms
        fitting = _FORMATS.get(channels, "rgb")
        fitting = pick(rng, {"rgb": ["rgb", "bgr"], "rgba": ["rgba", "bgra"]}.get(fitting, [fitting]))
        case["format"] = mostly(rng, [fitting], ["rgb", "bgr", "rgba", "bgra", "gray", "yuv"], 0.1)
        size = _weird_size(rng)
        case["out_width"], case["out_height"] = (size if isinstance(size, tuple) and len(size) == 2
                                                 else (size, size))
        case["scale"] = tuple(weird_number(rng, 1 / 255) if rng.random() < 0.05 else 1 / 255
                              for _ in range(3))
        case["offset"] = tuple(weird_number(rng) if rng.random() < 0.05 else 0.0 for _ in range(3))
        case["border"] = mostly(rng, ["zero", "clamp"], ["wrap"], 0.05)
    return case


def _check_crop(out: Any, batch: int, width: int, height: int, scale: Any, offset: Any,
                finite_inputs: bool) -> None:
    shape = (batch, height, width, 3)
    if not isinstance(out, np.ndarray) or out.dtype != np.float32 or out.shape != shape:
        raise Finding(f"crop result is {describe(out)}, expected float32 {shape}")
    if out.flags.writeable:
        raise Finding("crop result is writable")
    values = np.asarray(out).view(np.ndarray)
    if finite_inputs and np.isnan(values).any():
        raise Finding("crop of finite inputs holds NaN")
    if not finite_inputs:
        return
    with np.errstate(all="ignore"):
        scale = np.broadcast_to(np.asarray(scale, np.float64), 3)
        offset = np.broadcast_to(np.asarray(offset, np.float64), 3)
        low = np.minimum(offset, 255 * scale + offset)
        high = np.maximum(offset, 255 * scale + offset)
        slack = 1e-4 * (np.abs(low) + np.abs(high)) + 1e-4
        if np.abs(np.concatenate([low, high])).max() < 1e37 and (
                (values < (low - slack)).any() or (values > (high + slack)).any()):
            raise Finding("crop values lie outside [offset, 255 * scale + offset]")


def run_crop_normalize(case: Case, ctx: Context) -> None:
    from facekit import RotatedRect, _native

    image = case["image"].array
    if case["api"] == "Frame.crop_normalize":
        rect = case["rect"]
        if isinstance(rect, list):
            rect = RotatedRect(*rect)
        with ctx.arena.frame() as frame:
            out = frame.crop_normalize(image, rect, case["size"], scale=case["scale"],
                                       offset=case["offset"], border=case["border"],
                                       color_format=case["color_format"], mirror=case["mirror"])
            size = case["size"]
            width, height = (size, size) if np.ndim(size) == 0 else size
            finite = all(is_finite_number(v) for v in np.ravel(
                [np.broadcast_to(np.asarray(case["scale"], dtype=object), 3),
                 np.broadcast_to(np.asarray(case["offset"], dtype=object), 3)]))
            _check_crop(out, 1, int(width), int(height), case["scale"], case["offset"], finite)
    else:
        arena = ctx.arena
        with arena.frame():
            out = _native.warp.crop_normalize(
                arena._native, image, case["format"], case["transforms"], case["out_width"],
                case["out_height"], case["scale"], case["offset"], case["border"])
            finite = all(is_finite_number(v) for t in case["transforms"] for v in t) and all(
                is_finite_number(v) for v in case["scale"] + case["offset"])
            _check_crop(out, len(case["transforms"]), case["out_width"], case["out_height"],
                        np.float32(case["scale"]), np.float32(case["offset"]), finite)


# ---------------------------------------------------------------------------------------------
# Targets: BeautyOptions / Beautifier.apply (public) and the native beauty engine
# ---------------------------------------------------------------------------------------------

_SIGNED = ("chin_length", "forehead", "eye_distance", "mouth_size")
_STRENGTHS = ("smoothing", "whitening", "rosy", "sharpen", "dark_circles", "teeth_whitening",
              "face_slim", "v_chin", "chin_length", "forehead", "eye_enlarge", "eye_distance",
              "nose_slim", "mouth_size", "lipstick", "blush", "brow_tint", "eyeshadow",
              "lut_strength")
_COLORS = ("lipstick_color", "blush_color", "brow_tint_color", "eyeshadow_color")
_MAKEUP = ("lipstick", "blush", "brow_tint", "eyeshadow")


def _valid_strength(rng: np.random.Generator, name: str) -> Any:
    """A value the options must accept: a number in range, as a Python or numpy scalar."""
    low = -1.0 if name in _SIGNED else 0.0
    value = pick(rng, [low, 1.0, 0.0, 0.25, 0.5, float(rng.uniform(low, 1.0))])
    return pick(rng, [float, np.float64, np.float32, float])(value)


def _valid_color(rng: np.random.Generator) -> Any:
    channels = [int(v) for v in rng.integers(0, 256, 3)]
    kind = pick(rng, [int, int, np.int64, np.uint8])
    return tuple(kind(c) for c in channels)


def _verdict(name: str, value: Any) -> str:
    """Whether BeautyOptions must accept a strength ("yes"), refuse it ("no"), or may do
    either ("either": booleans)."""
    if isinstance(value, (bool, np.bool_)):
        return "either"
    if not isinstance(value, (int, float, np.integer, np.floating)):
        return "no"
    low = -1.0 if name in _SIGNED else 0.0
    return "yes" if low <= float(value) <= 1.0 else "no"  # NaN compares false: "no"


def gen_beauty_options(rng: np.random.Generator) -> Case:
    fields: dict[str, Any] = {}
    verdicts = []
    for name in rng.choice(_STRENGTHS + _COLORS + ("lut",), int(rng.integers(1, 6)), replace=False):
        name = str(name)
        if name == "lut":  # checked when a Beautifier loads it, not by the options
            choice = pick(rng, ["warm", "cool", "film", None, "no-such-preset", "", 42,
                                "array", "bad-array"])
            if choice == "array":
                size = int(pick(rng, [2, 3, 5]))
                choice = rng.integers(0, 256, (size, size, size, 3), dtype=np.uint8)
            elif choice == "bad-array":
                choice = pick(rng, [np.zeros((4, 4, 3), np.uint8), np.zeros((1, 1, 1, 3), np.uint8),
                                    np.zeros((3, 3, 3, 3), np.float32),
                                    np.zeros((3, 4, 3, 3), np.uint8)])
            fields[name] = choice
            verdicts.append("either")
        elif name.endswith("_color"):
            if rng.random() < 0.6:
                fields[name] = _valid_color(rng)
                verdicts.append("yes")
            else:
                fields[name] = pick(rng, [(256, 0, 0), (-1, 0, 0), (1.5, 2, 3), (1, 2), "red",
                                          None, (np.float32(1), 2, 3), (True, 0, 0)])
                verdicts.append("no" if fields[name] != (True, 0, 0) else "either")
        else:
            fields[name] = _valid_strength(rng, name) if rng.random() < 0.55 else weird_number(rng)
            verdicts.append(_verdict(name, fields[name]))
    verdict = "no" if "no" in verdicts else "either" if "either" in verdicts else "yes"
    case: Case = {"fields": fields, "verdict": verdict,
                  "apply": pick(rng, ["native", "native", "native", "beautifier", "none"])}
    if case["apply"] == "beautifier":
        case["image_layout"] = pick(rng, ["contiguous", "padded", "flipped_rows", "pil",
                                          "flipped_cols", "fortran", "wrong_dtype"])
        case["color_format"] = pick(rng, ["rgb", "bgr", "rgb", "gray"])
    return case


def _region_ok(region: Any, width: int, height: int) -> bool:
    x0, y0, x1, y1 = region
    return 0 <= x0 <= x1 <= width and 0 <= y0 <= y1 <= height


def run_beauty_options(case: Case, ctx: Context) -> None:
    from facekit import Beautifier, BeautyOptions, _native
    from facekit.lut import load_lut

    fields = case["fields"]
    try:
        options = BeautyOptions(**fields)
    except allowed_errors() as exc:
        if case["verdict"] == "yes":
            raise Finding(f"valid options refused: {type(exc).__name__}: {exc}",
                          group=f"valid options refused ({type(exc).__name__})") from None
        raise
    if case["verdict"] == "no":
        raise Finding("options with an invalid value were accepted")
    options.replace()
    _ = options.is_identity
    strengths = options._strengths()
    face = ctx.face
    if case["apply"] == "native":
        lut = None if options.lut is None else load_lut(options.lut)
        out = face.copy()
        with ctx.arena.frame():
            result = _native.beauty.apply(face, out, "rgb", ctx.landmarks, ctx.regions,
                                          strengths, lut, ctx.arena._native, False)
        if not _region_ok(result["region"], face.shape[1], face.shape[0]):
            raise Finding(f"beauty region {result['region']} outside the image")
    elif case["apply"] == "beautifier":
        source = face if case["color_format"] != "bgr" else face[:, :, ::-1].copy()
        sub = np.random.default_rng(len(fields))
        image, _ = make_image(sub, source, layouts=(case["image_layout"],))
        with Beautifier(options, color_format=case["color_format"]) as beautifier:
            out = beautifier.apply(image.array)
        expected_shape = np.asarray(image.array).shape
        if out.shape != expected_shape or out.dtype != np.uint8:
            raise Finding(f"Beautifier.apply returned {out.dtype} {out.shape}, "
                          f"expected uint8 {expected_shape}")


def gen_beauty_native(rng: np.random.Generator) -> Case:
    strengths: dict[str, Any] = {}
    for name in _STRENGTHS[:-1] + ("lut",):
        if rng.random() < 0.5:
            continue
        value = weird_number(rng) if rng.random() < 0.08 else float(rng.uniform(-1, 1))
        if name in _MAKEUP:
            color = tuple(int(c) for c in rng.integers(0, 256, 3))
            if rng.random() < 0.03:
                color = pick(rng, [(300, 0, 0), (-5, 1, 1), (1, 2), "red", (1.5, 2, 3)])
            value = (value, color) if rng.random() > 0.02 else value
        strengths[name] = value
    mutation = pick(rng, ["none", "none", "points", "count", "layout", "regions", "regions",
                          "image", "dst", "lut"])
    case: Case = {"strengths": strengths, "mutation": mutation, "format": "rgb",
                  "trace": bool(rng.random() < 0.3), "lut": None}
    if mutation == "points":
        case["points"] = [(int(rng.integers(468)), int(rng.integers(3)),
                           pick(rng, _SPECIAL_FLOATS + [-500.0, 5000.0, 1e7]))
                          for _ in range(int(rng.integers(1, 20)))]
    elif mutation == "count":
        case["count"] = int(pick(rng, [0, 1, 2, 100, 467, 469, 478]))
    elif mutation == "layout":
        case["layout"] = pick(rng, ["xy", "step", "fortran", "float64", "int", "1d", "flipped"])
    elif mutation == "regions":
        case["regions"] = pick(rng, ["drop", "extra", "empty", "empty", "huge", "negative",
                                     "one", "one"])
        case["region_index"] = int(rng.integers(8))
    elif mutation == "image":
        case["image_layout"] = pick(rng, ["padded", "flipped_rows", "flipped_cols", "tiny",
                                          "rgba", "bgr", "gray", "channels_first"])
    elif mutation == "dst":
        case["dst"] = pick(rng, ["same", "readonly", "smaller", "float", "padded", "flipped"])
    elif mutation == "lut":
        size = int(pick(rng, [0, 1, 2, 3, 17, 257]))
        kind = pick(rng, ["cube", "cube", "flat", "float", "strided"])
        case["lut"] = {"size": size, "kind": kind}
    return case


def _landmarks_for(case: Case, ctx: Context) -> np.ndarray:
    points = ctx.landmarks.copy()
    if case["mutation"] == "points":
        for i, j, v in case["points"]:
            points[i, j] = v
    elif case["mutation"] == "count":
        points = np.resize(points, (case["count"], 3))
    elif case["mutation"] == "layout":
        layout = case["layout"]
        points = {"xy": points[:, :2], "step": np.repeat(points, 2, axis=0)[::2],
                  "fortran": np.asfortranarray(points), "float64": points.astype(np.float64),
                  "int": points.astype(np.int32), "1d": points.ravel(),
                  "flipped": points[::-1]}[layout]
    return points


def _regions_for(case: Case, ctx: Context) -> list[list[int]]:
    regions = [list(r) for r in ctx.regions]
    kind, i = case.get("regions"), case.get("region_index", 0)
    if kind == "drop":
        regions.pop(i)
    elif kind == "extra":
        regions.append([0, 1, 2])
    elif kind == "empty":
        regions[i] = []
    elif kind == "huge":
        regions[i] = regions[i][:-1] + [10 ** 6]
    elif kind == "negative":
        regions[i] = [-1] + regions[i]
    elif kind == "one":
        regions[i] = regions[i][:1]
    return regions


def _lut_for(case: Case) -> Any:
    spec = case["lut"]
    if spec is None:
        return None
    size, kind = spec["size"], spec["kind"]
    rng = np.random.default_rng(size)
    if kind == "flat":
        return rng.integers(0, 256, (size, 3), dtype=np.uint8)
    if kind == "float":
        return rng.uniform(-1e3, 1e3, (size, size, size, 3)).astype(np.float32)
    table = rng.integers(0, 256, (size, size, size, 3), dtype=np.uint8)
    return table[:, :, ::-1] if kind == "strided" else table


def run_beauty_native(case: Case, ctx: Context) -> None:
    from facekit import _native

    face = ctx.face
    src, fmt = face, case["format"]
    layout = case.get("image_layout")
    if layout == "tiny":
        src = face[:3, :5].copy()
    elif layout == "rgba":
        src, fmt = np.dstack([face, np.full(face.shape[:2], 255, np.uint8)]), "rgba"
    elif layout == "bgr":
        src, fmt = np.ascontiguousarray(face[:, :, ::-1]), "bgr"
    elif layout == "gray":
        src, fmt = np.ascontiguousarray(face[:, :, 1]), "gray"
    elif layout is not None:
        src = make_image(np.random.default_rng(0), face, layouts=(layout,))[0].array
    dst_kind = case.get("dst")
    guard = Guarded(None)
    if dst_kind == "same":
        src = src.copy()
        dst = src
    elif dst_kind == "readonly":
        dst = src.copy()
        dst.flags.writeable = False
    elif dst_kind == "smaller":
        dst = src[:-1].copy()
    elif dst_kind == "float":
        dst = src.astype(np.float32)
    elif dst_kind in ("padded", "flipped"):
        guard = make_image(np.random.default_rng(1), src,
                           layouts=("padded" if dst_kind == "padded" else "flipped_rows",),
                           writable=True)[0]
        dst = guard.array
    else:
        dst = src.copy()
    before = np.array(src, copy=True)
    with ctx.arena.frame():
        result = _native.beauty.apply(src, dst, fmt, _landmarks_for(case, ctx),
                                      _regions_for(case, ctx), case["strengths"], _lut_for(case),
                                      ctx.arena._native, case["trace"])
    height, width = before.shape[:2]
    region = result["region"]
    if not _region_ok(region, width, height):
        raise Finding(f"beauty region {region} outside the {width}x{height} image")
    x0, y0, x1, y1 = region
    outside = np.ones((height, width), bool)
    outside[y0:y1, x0:x1] = False
    if not np.array_equal(np.asarray(dst)[outside], before[outside]):
        raise Finding("beauty changed pixels outside the region it reports")
    if guard.base is not None and not guard.untouched_outside(_view_mask(guard.base, dst)):
        raise Finding("beauty wrote outside the output view (row padding)")


def _view_mask(base: np.ndarray, view: np.ndarray) -> np.ndarray:
    """A mask of `base`'s bytes that `view` (a uint8 view into `base`) covers."""
    mask = np.zeros(base.shape, np.uint8)
    start = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    np.ndarray(view.shape, np.uint8, buffer=mask.reshape(-1), offset=start,
               strides=view.strides)[...] = 1
    return mask.astype(bool)


# ---------------------------------------------------------------------------------------------
# Target: .cube LUT parser
# ---------------------------------------------------------------------------------------------

_NEUTRAL = ("bom", "crlf", "comment", "blank", "indent", "title", "domain", "reformat")
_HOSTILE = ("drop", "duplicate", "swap", "token", "size", "domain_bad", "one_d", "bytes",
            "truncate", "nul", "long", "fourth", "reorder_header")


def gen_lut_cube(rng: np.random.Generator) -> Case:
    from facekit.lut import write_cube

    size = int(pick(rng, [2, 2, 3, 4, 5]))
    table = rng.integers(0, 256, (size, size, size, 3), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "base.cube"
        write_cube(table, path, title=pick(rng, ["facekit", "a b", ""]))
        text = path.read_text()
    lines = text.split("\n")[:-1]
    neutral_only = rng.random() < 0.4
    ops = [str(pick(rng, _NEUTRAL if neutral_only or rng.random() < 0.4 else _HOSTILE))
           for _ in range(int(rng.integers(1, 4)))]
    ending, bom, tail = "\n", False, b""
    for op in ops:
        lines = lines or [""]
        at = int(rng.integers(len(lines)))
        if op == "bom":
            bom = True
        elif op == "crlf":
            ending = pick(rng, ["\r\n", "\r"])
        elif op == "comment":
            lines.insert(at, "# " + pick(rng, ["note", "LUT_3D_SIZE 9", "1 2 3", "x#y"]))
        elif op == "blank":
            lines.insert(at, pick(rng, ["", "   ", "\t"]))
        elif op == "indent":
            lines[at] = pick(rng, [" ", "\t", "  "]) + lines[at] + pick(rng, ["", " ", "\t"])
        elif op == "title":
            lines.insert(0, 'TITLE "' + pick(rng, ["x", "with # hash", "ünïcode"]) + '"')
        elif op == "domain":
            lines.insert(1, pick(rng, ["DOMAIN_MIN 0 0 0", "DOMAIN_MAX 1 1 1"]))
        elif op == "reformat":
            rows = [i for i, ln in enumerate(lines)
                    if ln[:1].isdigit() and re.fullmatch(r"[\d. ]+", ln)] or [None]
            i = pick(rng, rows)
            if i is not None:
                lines[i] = " ".join(f"{float(v):.9e}" for v in lines[i].split())
        elif op == "drop":
            lines.pop(at)
        elif op == "duplicate":
            lines.insert(at, lines[at])
        elif op == "swap":
            j = int(rng.integers(len(lines)))
            lines[at], lines[j] = lines[j], lines[at]
        elif op == "token":
            parts = lines[at].split() or [""]
            parts[int(rng.integers(len(parts)))] = pick(rng, [
                "nan", "inf", "-inf", "1e999", "", "0x10", "1_0", "--1", "١", "1e-400", "NaN",
                "+.5", "5.", "1,5", "9" * 400])
            lines[at] = " ".join(parts)
        elif op == "size":
            lines = [ln for ln in lines if not ln.startswith("LUT_3D_SIZE")]
            lines.insert(int(rng.integers(len(lines) + 1)), "LUT_3D_SIZE " + str(pick(rng, [
                0, 1, -1, 257, 10 ** 9, 10 ** 30, "1e3", "17.0", "", "x", size + 1, size - 1])))
        elif op == "domain_bad":
            lines.insert(1, pick(rng, ["DOMAIN_MIN 1 1 1", "DOMAIN_MAX 0 0 0", "DOMAIN_MIN 0 0",
                                       "DOMAIN_MAX nan 1 1", "DOMAIN_MAX 1e308 1 1",
                                       "DOMAIN_MIN -1e308 0 0", "DOMAIN_MAX inf inf inf"]))
        elif op == "one_d":
            lines.insert(1, "LUT_1D_SIZE 4")
        elif op == "bytes":
            tail = bytes(rng.integers(0, 256, int(rng.integers(1, 8)), dtype=np.uint8))
        elif op == "truncate":
            lines = lines[:at]
        elif op == "nul":
            lines[at] = lines[at] + "\x00"
        elif op == "long":
            lines.insert(at, "1 " * 50_000)
        elif op == "fourth":
            lines[at] = lines[at] + " 0.5"
        elif op == "reorder_header":
            header = [ln for ln in lines if ln.startswith(("TITLE", "LUT_3D_SIZE"))]
            lines = [ln for ln in lines if ln not in header] + header
    data = ending.join(lines).encode("utf-8") + ending.encode()
    if bom:
        data = b"\xef\xbb\xbf" + data
    if tail:
        cut = int(rng.integers(len(data) + 1))
        data = data[:cut] + tail + data[cut:]
    neutral = all(op in _NEUTRAL for op in ops)
    return {"payload": data, "ops": ops, "neutral": neutral,
            "expected": table if neutral else None, "via": pick(rng, ["read_cube", "load_lut"])}


def run_lut_cube(case: Case, ctx: Context) -> None:
    from facekit.lut import MAX_SIZE, load_lut, read_cube

    path = ctx.scratch / "case.cube"
    path.write_bytes(case["payload"])
    try:
        table = (read_cube if case["via"] == "read_cube" else load_lut)(path)
    except allowed_errors() as exc:
        if case["neutral"]:
            raise Finding(f"a valid .cube file ({'+'.join(case['ops'])}) was refused: "
                          f"{type(exc).__name__}: {exc}",
                          group="a valid .cube file was refused") from None
        raise
    if not (isinstance(table, np.ndarray) and table.dtype == np.uint8 and table.ndim == 4
            and table.shape[3] == 3 and table.shape[0] == table.shape[1] == table.shape[2]
            and 2 <= table.shape[0] <= MAX_SIZE and table.flags.c_contiguous):
        raise Finding(f"parsed LUT is {describe(table)}, not a C-contiguous uint8 (N, N, N, 3)")
    expected = case["expected"]
    if expected is not None and not np.array_equal(table.astype(int), expected.astype(int)):
        worst = int(np.abs(table.astype(int) - expected.astype(int)).max())
        if worst > 1:  # write_cube keeps six decimals: one step of rounding is allowed
            raise Finding(f"a valid .cube file ({'+'.join(case['ops'])}) parsed to a different "
                          f"table (off by up to {worst})")


# ---------------------------------------------------------------------------------------------
# Targets: the native dlib model blobs (shape predictor and HOG detector)
# ---------------------------------------------------------------------------------------------

def _float_spans(name: str, data: bytes) -> list[tuple[int, int, int]]:
    """(start, end, item size) of the floating-point arrays of the shipped blob's layout."""
    fields = np.frombuffer(data, "<u4", 6, 4)
    if name == "dlib_frontal_face_detector":
        filters = int(fields[5])
        start = 28 + 8 * filters
        return [(28, start, 8), (start, start + 4 * filters * 31 * 100, 4)]
    parts, cascades, trees, depth, features = (int(v) for v in fields[1:])
    splits = 2 ** depth - 1
    spans, at = [(28, 28 + 8 * parts, 4)], 28 + 8 * parts
    for _ in range(cascades):
        at += 2 * features
        spans.append((at, at + 8 * features, 4))
        at += 8 * features
    per_tree = 4 * splits + 4 * splits + 4 * (splits + 1) * parts * 2
    for t in range(min(cascades * trees, 64)):  # the first trees stand for all of them
        start = at + t * per_tree + 4 * splits
        spans.append((start, start + per_tree - 4 * splits, 4))
    return spans


def _mutate_blob(rng: np.random.Generator, name: str, data: bytes) -> tuple[bytes, list[str]]:
    out = bytearray(data)
    ops = []
    for _ in range(int(rng.integers(1, 4))):
        op = str(mostly(rng, ["nonfinite", "huge_float", "bitflip", "index"],
                        ["header", "bitflip_header", "truncate", "append", "splice", "magic"],
                        0.4))
        if op in ("nonfinite", "huge_float"):
            start, end, item = pick(rng, _float_spans(name, data))
            at = start + item * int(rng.integers((end - start) // item))
            if at + item > len(out):
                continue
            values = ([float("nan"), float("inf"), -float("inf")] if op == "nonfinite"
                      else [1e30, -1e30, 3.0e38, 1e-40])
            value = pick(rng, values)
            out[at:at + item] = np.array(value, "<f8" if item == 8 else "<f4").tobytes()
            ops.append(f"{op} f{item * 8} {value!r} at {at}")
        elif op == "header" and len(out) >= 28:
            i = int(rng.integers(6))
            value = int(pick(rng, [0, 1, 2, 5, 6, 16, 17, 255, 256, 257, 4096, 4097, 65535,
                                   65536, 2 ** 31, 2 ** 32 - 1]))
            out[4 + 4 * i:8 + 4 * i] = value.to_bytes(4, "little")
            ops.append(f"header[{i}] = {value}")
        elif op in ("bitflip", "bitflip_header") and len(out) >= 28:
            at = int(rng.integers(28 if op == "bitflip_header" else len(out)))
            bit = int(rng.integers(8))
            out[at] ^= 1 << bit
            ops.append(f"flip bit {bit} of byte {at}")
        elif op == "index" and name == "dlib_shape_predictor_5":
            at = 28 + 8 * 5 + 2 * int(rng.integers(500))  # anchors of the first cascade
            if at + 2 > len(out):
                continue
            value = int(pick(rng, [5, 4, 0xFFFF, 499, 500]))
            out[at:at + 2] = value.to_bytes(2, "little")
            ops.append(f"u16 {value} at {at}")
        elif op == "truncate":
            cut = int(pick(rng, [0, 3, 4, 8, 27, 28, 29, int(rng.integers(len(out) + 1))]))
            del out[cut:]
            ops.append(f"truncate to {cut}")
        elif op == "append":
            extra = int(pick(rng, [1, 4, 8, 1000]))
            out += bytes(extra)
            ops.append(f"append {extra} zero bytes")
        elif op == "splice" and len(out) > 64:
            a, b = sorted(int(v) for v in rng.integers(28, len(out), 2))
            dest = int(rng.integers(28, len(out)))
            out[dest:dest] = out[a:b][:4096]
            ops.append(f"insert bytes {a}:{min(b, a + 4096)} at {dest}")
        elif op == "magic":
            out[0:4] = pick(rng, [b"FKSP", b"FKHG", b"\0\0\0\0", b"fksp"])
            ops.append(f"magic {bytes(out[0:4])!r}")
    return bytes(out), ops


@functools.cache
def _shipped(name: str) -> bytes:
    """A shipped model blob, after the loader's integrity check."""
    from facekit.models import read_verified

    return read_verified(name)


def _gen_blob(name: str) -> Callable[[np.random.Generator], Case]:
    def generate(rng: np.random.Generator) -> Case:
        data, ops = _mutate_blob(rng, name, _shipped(name))
        box = [62.0, 40.0, 160.0, 140.0]
        if rng.random() < 0.25:
            box[int(rng.integers(4))] = pick(rng, _SPECIAL_FLOATS + [-1e6, 1e6, 70.0])
        return {"payload": data, "ops": ops, "model": name, "box": box,
                "public_loader": bool(rng.random() < 0.05),
                "use": pick(rng, ["direct", "direct", "chip_points"])}
    return generate


def run_blob(case: Case, ctx: Context) -> None:
    from facekit import _native

    name, data = case["model"], case["payload"]
    if case["public_loader"]:
        _public_loader_refuses(name, data, ctx)
    kind = (_native.verify.ShapePredictor if name == "dlib_shape_predictor_5"
            else _native.verify.HogFaceDetector)
    model = kind(data)
    # Non-finite outputs count only where the blob holds no value written non-finite or huge
    # on purpose (a crash counts always).
    ordinary = not any(op.startswith(("nonfinite", "huge_float")) for op in case["ops"])
    face, arena = ctx.face, ctx.arena
    with arena.frame():
        if case["use"] == "chip_points":
            predictor = model if name == "dlib_shape_predictor_5" else \
                ctx.model("dlib_shape_predictor_5")
            detector = model if name == "dlib_frontal_face_detector" else \
                ctx.model("dlib_frontal_face_detector")
            points, _ = _native.verify.chip_points(face, "rgb", ctx.landmarks, detector,
                                                   predictor, arena._native)
            if ordinary and not np.isfinite(np.asarray(points)).all():
                raise Finding("chip_points returned non-finite points")
        elif name == "dlib_shape_predictor_5":
            points = model.predict(face, "rgb", tuple(case["box"]), arena._native)
            if points.shape != (model.parts, 2):
                raise Finding(f"predict returned shape {points.shape}")
            if ordinary and all(map(math.isfinite, case["box"])) and \
                    not np.isfinite(np.asarray(points)).all():
                raise Finding("predict returned non-finite points for a finite box")
        else:
            found = model.find(face, "rgb", tuple(case["box"]), arena._native)
            if found is not None and not all(map(math.isfinite, list(found[0]) + [found[1]])):
                raise Finding(f"find returned a non-finite box or score: {found}")


def _public_loader_refuses(name: str, data: bytes, ctx: Context) -> None:
    """The public loader must refuse altered bytes (ModelIntegrityError) before native code."""
    from facekit.errors import ModelIntegrityError
    from facekit.models import _default_directory, read_verified

    folder = ctx.scratch / "models"
    folder.mkdir(exist_ok=True)
    manifest = (_default_directory() / "manifest.json").read_text()
    (folder / "manifest.json").write_text(manifest)
    entry = next(e for e in json.loads(manifest)["models"] if e["name"] == name)
    (folder / entry["file"]).write_bytes(data)
    try:
        read_verified(name, folder)
    except ModelIntegrityError:
        return
    if data != ctx.blob(name):
        raise Finding("the model loader accepted altered bytes")


# ---------------------------------------------------------------------------------------------
# Target: the native anonymizer's cover
# ---------------------------------------------------------------------------------------------

def gen_anonymize_cover(rng: np.random.Generator) -> Case:
    image, info = make_image(rng, layouts=("contiguous", "padded", "flipped_rows", "padded",
                                           "flipped_rows", "flipped_cols", "wrong_dtype"),
                             writable=True)
    height, width = info["shape"][:2]
    coord = lambda extent: mostly(rng, [0, 1, extent // 2, extent, extent + 5, -5,  # noqa: E731
                                        int(rng.integers(-extent, 2 * extent + 1))],
                                  [2 ** 31 - 1, -2 ** 31, 2 ** 31, np.int64(3)], 0.1)
    box = [coord(width), coord(height), coord(width), coord(height)]
    if rng.random() < 0.5:
        box = [int(rng.integers(0, width)), int(rng.integers(0, height)),
               int(rng.integers(0, width + 1)), int(rng.integers(0, height + 1))]
    return {"image": image, "image_info": info, "box": box,
            "method": mostly(rng, ["pixelate", "blur", "solid"], ["smudge"], 0.05),
            "block": mostly(rng, [1, 2, 3, 4, 7, 16, 64, 2 ** 15, np.int64(5)],
                            [0, -1, 2 ** 20, 2 ** 30, 2 ** 31 - 1, 2 ** 31, 5.0], 0.25),
            "color": mostly(rng, [(0, 0, 0), (255, 10, 3)], [(256, 0, 0), (-1, 0, 0), (1, 2)],
                            0.05)}


def run_anonymize_cover(case: Case, ctx: Context) -> None:
    from facekit import _native

    guard: Guarded = case["image"]
    image = guard.array
    before = np.array(image, copy=True)
    with ctx.arena.frame():
        _native.anonymize.cover(image, tuple(case["box"]), case["method"], case["block"],
                                tuple(case["color"]), ctx.arena._native)
    height, width = before.shape[:2]
    x0, y0, x1, y1 = (min(max(int(v), 0), extent)
                      for v, extent in zip(case["box"], (width, height, width, height)))
    outside = np.ones((height, width), bool)
    outside[y0:y1, x0:x1] = False
    if not np.array_equal(image[outside], before[outside]):
        raise Finding("cover changed pixels outside its box")
    if guard.base is not None and not guard.untouched_outside(_view_mask(guard.base, image)):
        raise Finding("cover wrote outside the image view (row padding)")


# ---------------------------------------------------------------------------------------------
# Target: the native geometry of detection and landmarks (decode, ROIs, projection)
# ---------------------------------------------------------------------------------------------

def _sprinkled(rng: np.random.Generator, shape: tuple[int, ...], scale: float) -> np.ndarray:
    """float32 values of about `scale`, a few of them special (NaN, inf, huge) now and then."""
    values = rng.uniform(-scale, scale, shape).astype(np.float32)
    if values.size and rng.random() < 0.3:
        flat = values.reshape(-1)
        for i in rng.integers(0, flat.size, int(rng.integers(1, 4))):
            flat[i] = pick(rng, [np.nan, np.inf, -np.inf, 1e30, -1e30, 3e38, 0.0])
    return values


IRIS_FLOATS = 3 * 5  # an eye's five iris points (x, y, z), flat


def _weird_roi(rng: np.random.Generator) -> tuple:
    roi = [float(rng.uniform(0, 300)), float(rng.uniform(0, 300)), float(rng.uniform(1, 300)),
           float(rng.uniform(1, 300)), float(rng.uniform(-4, 4))]
    if rng.random() < 0.25:
        roi[int(rng.integers(5))] = pick(rng, _SPECIAL_FLOATS + [-10.0])
    return tuple(roi)


def gen_geometry_native(rng: np.random.Generator) -> Case:
    call = str(pick(rng, ["decode", "roi_from_detection", "project", "roi_from_landmarks",
                          "eye_rois", "project_iris", "rect_to_affine"]))
    side = lambda: int(mostly(rng, [1, 2, 64, 640, 4000], [0, -1, 2 ** 31 - 1], 0.1))  # noqa: E731
    case: Case = {"call": call}
    if call == "decode":
        model = str(mostly(rng, ["short_range", "full_range"], ["long_range"], 0.05))
        anchors = {"short_range": 896, "full_range": 2304}.get(model, 896)
        wrong = rng.random() < 0.05
        case.update(model=model, regressors=_sprinkled(rng, (anchors + wrong, 16), 100.0),
                    classificators=_sprinkled(rng, (anchors, 1), 20.0), rect=_weird_roi(rng),
                    min_score=float(mostly(rng, [0.5, 0.0, 1.0], [-1.0, 2.0, float("nan")])),
                    max_faces=int(mostly(rng, [1, 4, 100], [0, -1, 2 ** 31 - 1])),
                    iou=float(mostly(rng, [0.3, 0.0, 1.0], [-0.5, float("nan"), 5.0])))
    elif call == "roi_from_detection":
        case.update(box=tuple(float(v) for v in _sprinkled(rng, (4,), 200.0)),
                    keypoints=_sprinkled(rng, (int(mostly(rng, [6, 2], [1, 0], 0.05)), 2), 300.0),
                    width=side(), height=side())
    elif call == "project":
        size = int(mostly(rng, [1404], [1403, 0], 0.05))
        case.update(raw=_sprinkled(rng, (size,), 200.0), roi=_weird_roi(rng),
                    input_size=int(mostly(rng, [192, 1, 256], [0, -1, 2 ** 31 - 1], 0.15)))
    elif call in ("roi_from_landmarks", "eye_rois"):
        rows = int(mostly(rng, [468, 478], [467, 0], 0.05))
        case.update(landmarks=_sprinkled(rng, (rows, 3), 300.0), width=side(), height=side())
    elif call == "project_iris":
        case.update(landmarks=_sprinkled(rng, (468, 3), 300.0),
                    right=_sprinkled(rng, (int(mostly(rng, [IRIS_FLOATS], [14, 0], 0.05)),), 64.0),
                    left=_sprinkled(rng, (IRIS_FLOATS,), 64.0),
                    right_roi=_weird_roi(rng), left_roi=_weird_roi(rng),
                    flips=(bool(rng.random() < 0.5), bool(rng.random() < 0.5)),
                    input_size=int(mostly(rng, [64, 1], [0, -1], 0.15)),
                    depth=str(mostly(rng, ["eye_average"], ["deep"], 0.05)))
    else:
        case.update(roi=_weird_roi(rng), width=side(), height=side())
    return case


def run_geometry_native(case: Case, ctx: Context) -> None:
    from facekit import _native

    call, arena = case["call"], ctx.arena
    marks = _native.landmarks
    with arena.frame():
        if call == "decode":
            _native.detection.decode(arena._native, case["regressors"], case["classificators"],
                                     case["model"], case["rect"], case["min_score"],
                                     case["max_faces"], case["iou"])
        elif call == "roi_from_detection":
            marks.roi_from_detection(case["box"], case["keypoints"], case["width"],
                                     case["height"])
        elif call == "project":
            marks.project(arena._native, case["raw"], case["roi"], case["input_size"])
        elif call == "roi_from_landmarks":
            marks.roi_from_landmarks(case["landmarks"], case["width"], case["height"])
        elif call == "eye_rois":
            marks.eye_rois(case["landmarks"])
        elif call == "project_iris":
            marks.project_iris(arena._native, case["landmarks"], case["right"], case["left"],
                               case["right_roi"],
                               case["left_roi"], *case["flips"], case["input_size"],
                               case["depth"])
        else:
            _native.warp.rect_to_affine(*case["roi"], case["width"], case["height"])


# ---------------------------------------------------------------------------------------------
# The harness's own check: a target that crashes, hangs and raises on chosen cases
# ---------------------------------------------------------------------------------------------

def gen_selftest(rng: np.random.Generator) -> Case:
    return {"draw": float(rng.random())}


def run_selftest(case: Case, ctx: Context) -> None:
    index = case["index"]
    if index == 3:
        import ctypes

        ctypes.string_at(0)  # SIGSEGV
    elif index == 5:
        time.sleep(3600)
    elif index == 7:
        raise KeyError("selftest")
    elif index == 8:
        os.abort()


@dataclass(frozen=True)
class Target:
    generate: Callable[[np.random.Generator], Case]
    run: Callable[[Case, Context], None]


TARGETS: dict[str, Target] = {
    "crop_normalize": Target(gen_crop_normalize, run_crop_normalize),
    "beauty_options": Target(gen_beauty_options, run_beauty_options),
    "beauty_native": Target(gen_beauty_native, run_beauty_native),
    "lut_cube": Target(gen_lut_cube, run_lut_cube),
    "shape_predictor_blob": Target(_gen_blob("dlib_shape_predictor_5"), run_blob),
    "hog_detector_blob": Target(_gen_blob("dlib_frontal_face_detector"), run_blob),
    "anonymize_cover": Target(gen_anonymize_cover, run_anonymize_cover),
    "geometry_native": Target(gen_geometry_native, run_geometry_native),
}
SELFTEST = Target(gen_selftest, run_selftest)


def target(name: str) -> Target:
    return SELFTEST if name == "selftest" else TARGETS[name]


def make_case(name: str, seed: int, index: int) -> Case:
    """The case `index` of `name` under `seed` (the same on every run and machine)."""
    rng = np.random.default_rng([seed, zlib.crc32(name.encode()), index])
    case = target(name).generate(rng)
    case["index"] = index
    return case


# ---------------------------------------------------------------------------------------------
# Worker: runs cases, journaling each before and after
# ---------------------------------------------------------------------------------------------

def execute(name: str, case: Case, ctx: Context) -> dict:
    """Run one case in this process; its outcome as a dict (``finding`` set if it is one)."""
    try:
        target(name).run(case, ctx)
        return {"outcome": "ok"}
    except Finding as exc:
        return {"outcome": "finding", "finding": {"kind": "oracle", "detail": str(exc),
                                                  "group": exc.group}}
    except allowed_errors() as exc:
        return {"outcome": "refused", "type": type(exc).__name__}
    except BaseException as exc:  # noqa: BLE001 - every other type is what we look for
        detail = f"{type(exc).__name__}: {str(exc)[:300]}"
        return {"outcome": "finding", "finding": {"kind": "exception", "detail": detail,
                                                  "type": type(exc).__name__}}


def worker(name: str, seed: int, start: int, stop: int, journal: str) -> int:
    import faulthandler

    faulthandler.enable(file=sys.stderr, all_threads=False)
    ctx = Context(Path(journal).parent / f"scratch-{name}")
    fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def write(record: dict) -> None:
        os.write(fd, (json.dumps(record) + "\n").encode())

    for index in range(start, stop):
        case = make_case(name, seed, index)
        write({"begin": index, "case": describe(case)})
        write({"end": index, **execute(name, case, ctx)})
    os.close(fd)
    return 0


# ---------------------------------------------------------------------------------------------
# Parent: runs workers, restarts them after a crash or a hang, gathers findings
# ---------------------------------------------------------------------------------------------

@dataclass
class Report:
    """Executions, outcomes and findings of one target's campaign."""

    target: str
    seed: int
    executions: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    findings: list[dict] = field(default_factory=list)
    workers: int = 0
    seconds: float = 0.0

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def unique(self) -> dict[str, list[dict]]:
        """Findings grouped by signature (kind and normalized message)."""
        groups: dict[str, list[dict]] = {}
        for f in self.findings:
            groups.setdefault(f["signature"], []).append(f)
        return groups

    def summary(self) -> str:
        crashes = sum(f["kind"] in ("crash", "hang") for f in self.findings)
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        return (f"fuzz {self.target}: {self.executions} execs in {self.seconds:.1f} s "
                f"({outcomes}); {len(self.findings)} findings ({len(self.unique())} distinct), "
                f"{crashes} crashes/hangs, {self.workers} workers, seed {self.seed}")

    def describe_findings(self, limit: int = 20) -> str:
        lines = []
        for signature, group in list(self.unique().items())[:limit]:
            first = min(group, key=lambda f: len(json.dumps(f["case"])))
            lines.append(f"- {signature} x{len(group)}: case {first['index']} "
                         f"(repro: {first['repro']})")
            detail = "" if first["kind"] in ("crash", "hang") else first["detail"][:200] + "; "
            lines.append(f"    {detail}input: {json.dumps(first['case'])[:400]}")
            if first.get("file"):
                lines.append(f"    saved: {first['file']}")
        return "\n".join(lines)


def _signature(kind: str, detail: str) -> str:
    """Findings of one kind share a signature: numbers (and, but for crashes, which name the
    line of the call that crashed, field names) are blanked."""
    if kind in ("crash", "hang"):
        return f"{kind}: {detail[:200]}"
    text = re.sub(r"0x[0-9a-f]+|-?\d+(\.\d+)?(e[-+]?\d+)?", "#", detail)
    text = re.sub(r"\b(" + "|".join(_STRENGTHS + _COLORS) + r")\b", "<field>", text)
    return f"{kind}: {text[:160]}"


def _stack_tail(stderr: str) -> str:
    """The innermost Python frames faulthandler printed for the crash."""
    frames = re.findall(r'File "([^"]+)", line (\d+) in (\w+)', stderr)
    return " <- ".join(f"{Path(path).name}:{line} {func}" for path, line, func in frames[:3])


def run_campaign(name: str, executions: int, seed: int, workdir: Path,
                 case_timeout: float = CASE_TIMEOUT_S) -> Report:
    """Run cases 0..executions-1 of `name` in journaling workers; crashes and hangs become
    findings with their case, and a new worker continues after each."""
    workdir.mkdir(parents=True, exist_ok=True)
    report = Report(name, seed)
    began = time.monotonic()
    start = 0
    while start < executions:
        journal = workdir / f"{name}-{start}.journal"
        errors = workdir / f"{name}-{start}.stderr"
        report.workers += 1
        with open(errors, "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, str(HARNESS), "worker", name, str(seed), str(start),
                 str(executions), str(journal)],
                stdout=subprocess.DEVNULL, stderr=err, cwd=workdir)
            pending, position, since, hung = None, 0, time.monotonic(), False
            while True:
                done = proc.poll() is not None
                if journal.exists():
                    with open(journal, "rb") as fh:
                        fh.seek(position)
                        chunk = fh.read()
                    complete = chunk[:chunk.rfind(b"\n") + 1]
                    position += len(complete)
                    for line in complete.splitlines():
                        record = json.loads(line)
                        if "begin" in record:
                            pending, since = record, time.monotonic()
                        else:
                            _record_end(report, name, seed, pending, record, workdir)
                            pending = None
                if done:
                    break
                if pending is not None and time.monotonic() - since > case_timeout:
                    proc.kill()
                    proc.wait()
                    hung = True
                    break
                time.sleep(0.01)
        if pending is None:
            if proc.returncode != 0:  # died outside any case: a broken harness or import
                raise RuntimeError(f"fuzz worker for {name} exited {proc.returncode} outside a "
                                   f"case:\n{errors.read_text()[-3000:]}")
            break
        index = pending["begin"]
        stderr = errors.read_text(errors="replace")
        if hung:
            kind, detail = "hang", f"no result after {case_timeout:.0f} s"
        else:
            code = proc.returncode
            what = signal.Signals(-code).name if code < 0 else f"exit status {code}"
            kind, detail = "crash", f"{what} at {_stack_tail(stderr)}"
        report.executions += 1
        report.count(kind)
        _add_finding(report, name, seed, index, pending["case"],
                     {"kind": kind, "detail": detail, "stderr": stderr[-2000:]}, workdir)
        start = index + 1
    report.seconds = time.monotonic() - began
    return report


def _record_end(report: Report, name: str, seed: int, pending: dict | None, record: dict,
                workdir: Path) -> None:
    report.executions += 1
    outcome = record["outcome"]
    report.count(outcome if outcome != "refused" else f"refused {record['type']}")
    if outcome == "finding":
        _add_finding(report, name, seed, record["end"], pending["case"] if pending else None,
                     record["finding"], workdir)


def _add_finding(report: Report, name: str, seed: int, index: int, case: Any, finding: dict,
                 workdir: Path) -> None:
    """Record a finding with its case, and save the case (and its bytes) under `workdir`."""
    entry = {"target": name, "seed": seed, "index": index, "case": case, **finding,
             "signature": _signature(finding["kind"], finding.get("group", finding["detail"])),
             "repro": f"python tests/fuzz_harness.py repro {name} {seed} {index}"}
    folder = workdir / "findings"
    folder.mkdir(exist_ok=True)
    stem = folder / f"{name}-{index}"
    regenerated = make_case(name, seed, index) if name != "selftest" else {}
    if "payload" in regenerated:
        suffix = ".cube" if name == "lut_cube" else ".bin"
        Path(str(stem) + suffix).write_bytes(regenerated["payload"])
        entry["file"] = str(stem) + suffix
    Path(str(stem) + ".json").write_text(json.dumps(entry, indent=1, default=str))
    report.findings.append(entry)


def executions_for(name: str) -> int:
    """The CI budget of a target, or FACEKIT_FUZZ_EXECS for every target."""
    override = os.environ.get("FACEKIT_FUZZ_EXECS")
    return int(override) if override else DEFAULT_EXECS[name]


def seed_from_environment() -> int:
    return int(os.environ.get("FACEKIT_FUZZ_SEED", DEFAULT_SEED))


def repro(name: str, seed: int, index: int) -> int:
    """Replay one case in this process and print its outcome (a crash shows as a crash)."""
    import faulthandler

    faulthandler.enable()
    case = make_case(name, seed, index)
    print(json.dumps(describe(case), indent=1))
    print(json.dumps(execute(name, case, Context(Path(tempfile.mkdtemp(prefix="fuzz-repro-"))))))
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["worker"]:
        return worker(argv[1], int(argv[2]), int(argv[3]), int(argv[4]), argv[5])
    if argv[:1] == ["repro"]:
        return repro(argv[1], int(argv[2]), int(argv[3]))
    names = argv or list(TARGETS)
    workdir = Path(tempfile.mkdtemp(prefix="facekit-fuzz-run-"))
    status = 0
    for name in names:
        report = run_campaign(name, executions_for(name), seed_from_environment(), workdir)
        print(report.summary(), flush=True)
        if report.findings:
            print(report.describe_findings(limit=100), flush=True)
            status = 1
    print(f"findings saved under {workdir}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
