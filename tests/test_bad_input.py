"""Bad input, table by table: every case must raise a clear ValueError or TypeError (or a
facekit error) naming the problem; never crash the interpreter, never return garbage.

Cases that used to abort or segfault the interpreter run in a child process, so that a crash
fails the test instead of killing pytest.
"""

from __future__ import annotations

import json
import math
import pickle
import re
import struct
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import pytest

import facekit
from facekit import FaceDetectorOptions, FaceLandmarkerOptions, _native
from facekit.beauty import BeautyOptions
from facekit.image import as_pixels, load_image
from facekit.models import read_verified


def run_child(code: str, timeout: int = 300) -> list[dict]:
    """Run `code` in a fresh interpreter; it prints one JSON object per line. A crash (signal,
    abort) fails the calling test with what the child had printed so far."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                            text=True, timeout=timeout, cwd=tempfile.gettempdir())
    assert result.returncode == 0, (
        f"child exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n"
        f"{result.stderr[-3000:]}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


# Tries pickle at every protocol, copy and deepcopy on each object of OBJECTS, one line each,
# printed (and flushed) before the attempt so that a crash shows which one killed the child.
_ATTEMPTS = """
import copy, json, pickle, sys

def attempt(name, obj):
    for how in [f"pickle{p}" for p in range(pickle.HIGHEST_PROTOCOL + 1)] + ["copy", "deepcopy"]:
        print(f"trying {name} {how}", flush=True)
        try:
            if how == "copy":
                copy.copy(obj)
            elif how == "deepcopy":
                copy.deepcopy(obj)
            else:
                pickle.dumps(obj, protocol=int(how[6:]))
            outcome = {"name": name, "how": how, "error": None}
        except Exception as exc:
            outcome = {"name": name, "how": how, "error": [c.__name__ for c in type(exc).__mro__],
                       "message": str(exc)}
        print(json.dumps(outcome), flush=True)
"""


def test_pipelines_and_arenas_refuse_pickle_and_copy_at_every_protocol():
    outcomes = run_child(_ATTEMPTS + """
import facekit
from facekit.anonymize import Anonymizer
from facekit.beauty import Beautifier
from facekit.verify import FaceVerifier
for make in (facekit.FaceDetector, facekit.FaceLandmarker, Beautifier, Anonymizer,
             FaceVerifier, facekit.SecureArena):
    with make() as obj:
        attempt(type(obj).__name__, obj)
""")
    assert len(outcomes) == 6 * 8
    for o in outcomes:
        assert o["error"] and "NotPicklableError" in o["error"] and "TypeError" in o["error"], o
        assert o["name"] in o["message"] and "cannot be pickled" in o["message"], o


def test_native_objects_refuse_pickle_and_copy_at_every_protocol():
    outcomes = run_child(_ATTEMPTS + """
from facekit import _native
from facekit.models import read_verified
attempt("Arena", _native.arena.Arena(1 << 16))
attempt("ShapePredictor", _native.verify.ShapePredictor(read_verified("dlib_shape_predictor_5")))
attempt("HogFaceDetector",
        _native.verify.HogFaceDetector(read_verified("dlib_frontal_face_detector")))
""")
    assert len(outcomes) == 3 * 8
    for o in outcomes:
        assert o["error"] and o["error"][0] == "TypeError", o
        assert o["name"] in o["message"] and "cannot be pickled" in o["message"], o


# ---- native model blobs ------------------------------------------------------------------

def _shape_predictor_sections(blob: bytes) -> dict[str, int]:
    """Byte offset of the first value of each float section of an FKSP blob."""
    _, parts, cascades, trees, depth, features = struct.unpack_from("<6I", blob, 4)
    splits = (1 << depth) - 1
    mean = 28
    anchors = mean + parts * 2 * 4
    offsets = anchors + features * 2
    first_tree = anchors + cascades * (features * 2 + features * 8)
    thresholds = first_tree + splits * 4
    leaves = thresholds + splits * 4
    return {"mean": mean, "offsets": offsets, "thresholds": thresholds, "leaves": leaves,
            "anchors": anchors, "splits": first_tree}


def _patched(blob: bytes, at: int, fmt: str, value) -> bytes:
    out = bytearray(blob)
    struct.pack_into(fmt, out, at, value)
    return bytes(out)


SHAPE_PREDICTOR_DAMAGE = {
    **{f"{section} {name}": (section, "<f", value, "non-finite")
       for section in ("mean", "offsets", "thresholds", "leaves")
       for name, value in (("nan", math.nan), ("inf", math.inf), ("-inf", -math.inf))},
    "anchor past the parts": ("anchors", "<H", 5, "anchor out of range"),
    "split past the features": ("splits", "<H", 60000, "split reads beyond"),
}


@pytest.mark.parametrize("case", sorted(SHAPE_PREDICTOR_DAMAGE))
def test_shape_predictor_parser_refuses_values_that_break_indexing(case):
    section, fmt, value, message = SHAPE_PREDICTOR_DAMAGE[case]
    blob = read_verified("dlib_shape_predictor_5")
    damaged = _patched(blob, _shape_predictor_sections(blob)[section], fmt, value)
    with pytest.raises(ValueError, match=message):
        _native.verify.ShapePredictor(damaged)


def test_shape_predictor_refuses_points_that_overflow_to_infinity():
    """Finite but huge leaves pass the parser and sum to infinity: predict must refuse to
    hand out such points (and must not read pixels at a NaN position on the way)."""
    outcomes = run_child("""
import json, struct
import numpy as np
from facekit import SecureArena, _native
from facekit.models import read_verified
blob = bytearray(read_verified("dlib_shape_predictor_5"))
_, parts, cascades, trees, depth, features = struct.unpack_from("<6I", blob, 4)
splits = (1 << depth) - 1
first_tree = 28 + parts * 8 + cascades * features * 10
tree = splits * 8 + (splits + 1) * parts * 8  # two u16 indices and a threshold per split
for t in range(cascades * trees):   # every leaf value of every tree: 3e38
    leaves = first_tree + t * tree + splits * 8
    count = (splits + 1) * parts * 2
    struct.pack_into(f"<{count}f", blob, leaves, *([3e38] * count))
predictor = _native.verify.ShapePredictor(bytes(blob))
image = np.full((200, 200, 3), 128, np.uint8)
with SecureArena() as arena, arena.frame():
    try:
        predictor.predict(image, "rgb", (50.0, 50.0, 150.0, 150.0), arena._native)
        print(json.dumps({"error": None}))
    except Exception as exc:
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
""")
    assert outcomes == [{"error": "ValueError", "message": "shape predictor produced non-finite "
                         "points (a damaged model or a box out of range)"}]


@pytest.mark.parametrize("where, value", [("threshold", math.nan), ("weight", math.inf)])
def test_hog_detector_parser_refuses_non_finite_values(where, value):
    blob = read_verified("dlib_frontal_face_detector")
    filters = struct.unpack_from("<I", blob, 4 + 5 * 4)[0]
    at = 4 + 6 * 4 if where == "threshold" else 4 + 6 * 4 + filters * 8 + 123 * 4
    damaged = _patched(blob, at, "<d" if where == "threshold" else "<f", value)
    with pytest.raises(ValueError, match=f"{where} is not finite"):
        _native.verify.HogFaceDetector(damaged)


# ---- the native beauty entry ---------------------------------------------------------------

NATIVE_BEAUTY = {
    "nan strength": ({"face_slim": math.nan}, None, None, "face_slim strength must be a finite"),
    "inf strength": ({"smoothing": math.inf}, None, None, "smoothing strength"),
    "strength over 1": ({"eye_enlarge": 7.0}, None, None, "eye_enlarge strength"),
    "signed under -1": ({"chin_length": -1.5}, None, None, "chin_length strength"),
    "unsigned negative": ({"whitening": -0.5}, None, None, "whitening strength"),
    "string strength": ({"smoothing": "0.5"}, None, None, "smoothing strength must be a number"),
    "bool strength": ({"smoothing": True}, None, None, "smoothing strength must be a number"),
    "unknown effect": ({"glow": 0.5}, None, None, "unknown beauty strength glow"),
    "nan makeup": ({"lipstick": (math.nan, (200, 0, 0))}, None, None, "lipstick strength"),
    "colour over 255": ({"blush": (0.5, (300, 0, 0))}, None, None, "0..255"),
    "float colour": ({"blush": (0.5, (0.5, 0, 0))}, None, None, "integer channels"),
    "makeup not a pair": ({"lipstick": "red"}, None, None, r"\(strength, \(r, g, b\)\)"),
    "nan lut strength": ({"lut": math.nan}, np.zeros((4, 4, 4, 3), np.uint8), None, "lut strength"),
    "float lut": ({"lut": 1.0}, np.zeros((4, 4, 4, 3), np.float32), None, "uint8"),
    "lut of one entry": ({"lut": 1.0}, np.zeros((1, 1, 1, 3), np.uint8), None, "2..256"),
    "lut of two channels": ({"lut": 1.0}, np.zeros((4, 4, 4, 2), np.uint8), None, "uint8"),
    "100-point mesh": ({"smoothing": 0.5}, None, "short", "468-point mesh"),
    "int32 mesh": ({"smoothing": 0.5}, None, "int32", "float32"),
    "mesh with NaN": ({"smoothing": 0.5}, None, "nan", "non-finite"),
}

WRONG_TYPES = {"string strength", "bool strength", "float colour", "makeup not a pair"}


def test_native_beauty_entry_refuses_bad_arguments():
    """Called directly (as the Beautifier does), the native entry validates what it is given."""
    outcomes = run_child(f"""
CASES = {pickle.dumps(NATIVE_BEAUTY).hex()!r}
""" + """
import json, math, pickle
import numpy as np
import facekit
from facekit import _native
from facekit.beauty import _regions
from facekit.image import load_image
from facekit.audit.memscan_child import SAMPLE

cases = pickle.loads(bytes.fromhex(CASES))
image = load_image(SAMPLE)
with facekit.FaceLandmarker() as landmarker, landmarker.detect(image) as result:
    mesh = result.faces[0].landmarks
    arena = landmarker._arena._native
    meshes = {None: mesh, "short": np.zeros((100, 3), np.float32),
              "int32": np.zeros((468, 3), np.int32),
              "nan": np.full((468, 3), np.nan, np.float32)}
    for name, (strengths, lut, which_mesh, _) in cases.items():
        print(f"trying {name}", flush=True)
        out = image.copy()
        try:
            _native.beauty.apply(image, out, "rgb", meshes[which_mesh], _regions(), strengths,
                                 lut, arena)
            outcome = {"name": name, "error": None}
        except Exception as exc:
            outcome = {"name": name, "error": type(exc).__name__, "message": str(exc)}
        print(json.dumps(outcome), flush=True)
""")
    assert [o["name"] for o in outcomes] == list(NATIVE_BEAUTY)
    for o in outcomes:
        assert o["error"] == ("TypeError" if o["name"] in WRONG_TYPES else "ValueError"), o
        assert re.search(NATIVE_BEAUTY[o["name"]][3], o["message"]), o


# ---- images ----------------------------------------------------------------------------------

def _pil(mode: str):
    from PIL import Image

    return Image.new(mode, (16, 16), 40000 if mode.startswith("I") else 0.5)


WIDE_IMAGES = {
    "PIL I;16": (lambda: _pil("I;16"), "'I;16'"),
    "PIL I": (lambda: _pil("I"), "'I'"),
    "PIL F": (lambda: _pil("F"), "'F'"),
    "uint16 array": (lambda: np.full((16, 16, 3), 40000, np.uint16), "uint16"),
    "float32 array": (lambda: np.full((16, 16, 3), 0.5, np.float32), "float32"),
    "float64 gray": (lambda: np.full((16, 16), 0.5), "float64"),
    "bool array": (lambda: np.ones((16, 16), bool), "bool"),
}


@pytest.mark.parametrize("case", sorted(WIDE_IMAGES))
def test_images_wider_than_8_bits_are_refused_not_clipped(case):
    make, name = WIDE_IMAGES[case]
    with pytest.raises(ValueError, match=f"{name}.*convert"):
        as_pixels(make())


@pytest.mark.parametrize("mode", ["I;16", "I", "F"])
def test_load_image_refuses_16_and_32_bit_files(tmp_path, mode):
    path = tmp_path / ("wide.png" if mode == "I;16" else "wide.tiff")  # PNG has no I or F
    _pil(mode).save(path)
    with pytest.raises(ValueError, match=f"wide.*'{mode}'.*16/32-bit"):
        load_image(path)


def test_load_image_wraps_decompression_bombs(tmp_path, monkeypatch):
    from PIL import Image

    path = tmp_path / "big.png"
    Image.new("RGB", (64, 64)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 4096 pixels: over twice the limit
    with pytest.raises(ValueError, match="big.png.*MAX_IMAGE_PIXELS is 1000") as info:
        load_image(path)
    from facekit.errors import ImageTooLargeError

    assert isinstance(info.value, ImageTooLargeError)


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "empty"])
def test_load_image_reports_damaged_files_as_value_errors(tmp_path, damage):
    from PIL import Image

    good = tmp_path / "good.png"
    Image.fromarray(np.arange(64 * 64 * 3, dtype=np.uint8).reshape(64, 64, 3)).save(good)
    data = bytearray(good.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "corrupt":
        data[60:80] = b"x" * 20
    else:
        data = b""
    bad = tmp_path / "bad.png"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="bad.png is not a readable image"):
        load_image(bad)


# ---- crop sizes, options ---------------------------------------------------------------------

@pytest.mark.parametrize("size, error, message", [
    ((0, 8), ValueError, "not a positive size"),
    ((8, 0), ValueError, "not a positive size"),
    ((8, 5000), ValueError, "outside 1..4096"),
    ((8.5, 8), TypeError, "integers"),
    (("8", 8), TypeError, "integers"),
    (True, TypeError, "one side or"),
    ((8, 8, 8), TypeError, "one side or"),
])
@pytest.mark.parametrize("mirror", [False, True])
def test_crop_sizes_are_checked_before_any_geometry(arena, size, error, message, mirror):
    image = np.zeros((32, 32, 3), np.uint8)
    with arena.frame() as frame, pytest.raises(error, match=message):
        frame.crop_normalize(image, facekit.RotatedRect(16, 16, 10, 10), size, mirror=mirror)


OPTIONS = {
    "detector model": (FaceDetectorOptions, {"model": "long_range"}, ValueError, "model"),
    "detector model list": (FaceDetectorOptions, {"model": ["auto"]}, ValueError, "model"),
    "confidence string": (FaceDetectorOptions, {"min_detection_confidence": "0.5"}, TypeError,
                          "min_detection_confidence"),
    "confidence nan": (FaceDetectorOptions, {"min_detection_confidence": math.nan}, ValueError,
                       "min_detection_confidence"),
    "confidence over 1": (FaceDetectorOptions, {"min_detection_confidence": 1.5}, ValueError,
                          "min_detection_confidence"),
    "max_faces bool": (FaceDetectorOptions, {"max_faces": True}, TypeError, "max_faces"),
    "max_faces float": (FaceDetectorOptions, {"max_faces": 2.5}, TypeError, "max_faces"),
    "max_faces string": (FaceDetectorOptions, {"max_faces": "3"}, TypeError, "max_faces"),
    "max_faces huge": (FaceDetectorOptions, {"max_faces": 10 ** 12}, ValueError, "max_faces"),
    "threads string": (FaceDetectorOptions, {"intra_op_threads": "2"}, TypeError,
                       "intra_op_threads"),
    "mesh detector model": (FaceLandmarkerOptions, {"detector_model": "long_range"},
                            ValueError, "detector_model"),
    "mesh confidence string": (FaceLandmarkerOptions, {"min_detection_confidence": "high"},
                               TypeError, "min_detection_confidence"),
    "presence nan": (FaceLandmarkerOptions, {"min_presence_confidence": math.nan}, ValueError,
                     "min_presence_confidence"),
    "mesh max_faces bool": (FaceLandmarkerOptions, {"max_faces": False}, TypeError, "max_faces"),
    "mesh max_faces zero": (FaceLandmarkerOptions, {"max_faces": 0}, ValueError, "max_faces"),
    "iris string": (FaceLandmarkerOptions, {"iris": "yes"}, TypeError, "iris"),
    "redetect float": (FaceLandmarkerOptions, {"redetect_every": 0.5}, TypeError,
                       "redetect_every"),
    "mesh color format": (FaceLandmarkerOptions, {"color_format": "yuv"}, ValueError,
                          "color_format"),
}


@pytest.mark.parametrize("case", sorted(OPTIONS))
def test_bad_options_fail_at_construction(case):
    make, kwargs, error, message = OPTIONS[case]
    with pytest.raises(error, match=message):
        make(**kwargs)


def test_options_accept_numpy_numbers():
    detector = FaceDetectorOptions(max_faces=np.int64(3), min_detection_confidence=np.float32(.5))
    assert detector.max_faces == 3 and type(detector.max_faces) is int
    assert type(detector.min_detection_confidence) is float
    mesh = FaceLandmarkerOptions(max_faces=np.int32(2), min_presence_confidence=np.float64(.4),
                                 iris=np.bool_(True))
    assert mesh.max_faces == 2 and type(mesh.max_faces) is int and mesh.iris is True


@pytest.mark.parametrize("face_index, error", [
    (True, TypeError), ("0", TypeError), (1.0, TypeError), (-1, ValueError), (10 ** 9, ValueError),
])
def test_verifier_refuses_bad_face_index_before_loading_anything(face_index, error):
    from facekit.verify import FaceVerifier

    with pytest.raises(error, match="face_index"):
        FaceVerifier(face_index=face_index)


def test_verifier_refuses_a_threshold_that_is_not_a_number():
    from facekit.verify import FaceVerifier

    with pytest.raises(TypeError, match="threshold"):
        FaceVerifier("0.6")


# ---- beauty options --------------------------------------------------------------------------

def test_beauty_options_accept_numpy_numbers_and_store_plain_ones():
    options = BeautyOptions(smoothing=np.float32(0.5), chin_length=np.float64(-0.25),
                            lipstick=np.int64(1), lipstick_color=(np.int64(200), np.uint8(30), 80),
                            blush_color=np.array([236, 120, 120], np.uint8))
    assert options.smoothing == 0.5 and type(options.smoothing) is float
    assert options.lipstick == 1.0 and type(options.lipstick) is float
    assert options.lipstick_color == (200, 30, 80)
    assert all(type(c) is int for c in options.lipstick_color + options.blush_color)
    assert options == BeautyOptions(smoothing=0.5, chin_length=-0.25, lipstick=1.0,
                                    lipstick_color=(200, 30, 80))


@pytest.mark.parametrize("kwargs, message", [
    ({"smoothing": True}, "finite number"),
    ({"smoothing": np.bool_(True)}, "finite number"),
    ({"smoothing": "0.5"}, "finite number"),
    ({"smoothing": math.nan}, "finite number"),
    ({"rosy": np.float32(math.inf)}, "finite number"),
    ({"lut_strength": -math.inf}, "finite number"),
    ({"lipstick_color": (True, 0, 0)}, "lipstick_color"),
    ({"lipstick_color": (200.0, 0, 0)}, "lipstick_color"),
    ({"lipstick_color": "red"}, "lipstick_color"),
    ({"lipstick_color": (np.int64(256), 0, 0)}, "lipstick_color"),
])
def test_beauty_options_refuse_bools_strings_and_non_finite_numbers(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BeautyOptions(**kwargs)


def test_cube_files_may_start_with_a_byte_order_mark(tmp_path):
    from facekit.lut import preset_table, read_cube, write_cube

    path = tmp_path / "bom.cube"
    write_cube(preset_table("warm", 5), path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert np.array_equal(read_cube(path), preset_table("warm", 5))
