"""The converted MediaPipe networks (models/*.onnx, run by ONNX Runtime) against the original
TFLite files (run by TFLite's interpreter): every output within 1e-3 (1e-5 relative for large
values), on random inputs and on real face crops; the converter's determinism and its errors."""

from __future__ import annotations

import numpy as np
import pytest
from support import converter, model_source, onnx_model, require, shared_face

from facekit.models import open_session

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless comes with the test extra")

# Float32 summation order differs between the runtimes, so outputs agree to rounding: 1e-3
# absolute, or 2e-5 of the output's largest magnitude where that is larger (rounding grows with
# the size of the activations summed; the detectors' background logits reach 1e4). Worst
# measured: 0.0074 on a logit of an output whose largest is 656 (short range, obama2.jpg, with
# opencv 5.1's crop), 0.56 of the bound; a wrong conversion is off by far more.
ATOL, RTOL = 1e-3, 2e-5

# Input value range of each network (see models/sources.py for the normalization).
RANGES = {
    "face_detection_short_range": (-1.0, 1.0),
    "face_detection_full_range_sparse": (-1.0, 1.0),
    "face_landmark": (0.0, 1.0),
    "iris_landmark": (0.0, 1.0),
    "selfie_segmentation": (0.0, 1.0),
}
MODELS = list(RANGES)

# Faces in the test photos, in pixels: centre x, centre y, face width, and the two eye centres.
FACES = {
    "obama.jpg": (489, 241, 312, (425, 210), (545, 210)),
    "obama2.jpg": (324, 375, 285, (250, 366), (363, 364)),
    "biden.jpg": (551, 358, 358, (515, 335), (645, 338)),
}


class Pair:
    """One network on both runtimes, one thread each."""

    def __init__(self, name: str):
        source = model_source(name)  # skips when the source package is not downloaded
        # Imported here, so that the converter's own tests run without the TFLite oracle.
        litert = require("ai_edge_litert.interpreter",
                         "ai-edge-litert (the TFLite oracle) comes with the dev extra")
        self.interpreter = litert.Interpreter(model_content=source, num_threads=1)
        self.interpreter.allocate_tensors()
        self.session = open_session(name)  # facekit's own loader: hash-checked, 1 thread
        self.input = self.interpreter.get_input_details()[0]
        self.size = int(self.input["shape"][1])

    def outputs(self, x: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Output name -> (ONNX Runtime's value, TFLite's value)."""
        self.interpreter.set_tensor(self.input["index"], x)
        self.interpreter.invoke()
        expected = {d["name"]: self.interpreter.get_tensor(d["index"])
                    for d in self.interpreter.get_output_details()}
        names = [o.name for o in self.session.get_outputs()]
        got = dict(zip(names, self.session.run(None, {self.session.get_inputs()[0].name: x})))
        assert got.keys() == expected.keys()
        return {name: (got[name], expected[name]) for name in got}


_PAIRS: dict[str, Pair] = {}


def pair(name: str) -> Pair:
    if name not in _PAIRS:
        _PAIRS[name] = Pair(name)
    return _PAIRS[name]


def assert_matches(outputs: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Every output within ATOL, or RTOL of the output's largest magnitude where that is
    larger."""
    for name, (got, expected) in outputs.items():
        assert got.shape == expected.shape and got.dtype == expected.dtype, name
        assert np.isfinite(got).all(), name
        difference = np.abs(got - expected)
        allowed = max(ATOL, RTOL * float(np.abs(expected).max()))
        assert (difference <= allowed).all(), (
            f"{name}: max |difference| {difference.max():.3g}, "
            f"{(difference / allowed).max():.3g} times the tolerance")


def square_crop(image: np.ndarray, cx: float, cy: float, side: float, size: int) -> np.ndarray:
    """The side x side square centred on (cx, cy), resized to size x size (zeros outside)."""
    s = size / side
    matrix = np.array([[s, 0, size / 2 - s * cx], [0, s, size / 2 - s * cy]], np.float32)
    interpolation = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    return cv2.warpAffine(image, matrix, (size, size), flags=interpolation,
                          borderMode=cv2.BORDER_CONSTANT)


def network_inputs(name: str, image: np.ndarray, face, size: int) -> list[np.ndarray]:
    """The crops a pipeline would feed `name` for this photo, normalized: the whole
    (letterboxed) photo for the detectors and segmentation, the face for the landmarks, each eye
    for the iris network."""
    cx, cy, width, left_eye, right_eye = face
    h, w = image.shape[:2]
    if name == "face_landmark":
        crops = [square_crop(image, cx, cy, 1.5 * width, size)]
    elif name == "iris_landmark":
        crops = [square_crop(image, *eye, 0.35 * width, size) for eye in (left_eye, right_eye)]
    else:
        crops = [square_crop(image, w / 2, h / 2, max(h, w), size)]
    low, high = RANGES[name]
    return [(c.astype(np.float32) * ((high - low) / 255) + low)[None] for c in crops]


@pytest.mark.parametrize("name", MODELS)
def test_random_inputs_match_tflite(name):
    p = pair(name)
    rng = np.random.default_rng(20240601)
    low, high = RANGES[name]
    for _ in range(3):
        x = rng.uniform(low, high, p.input["shape"]).astype(np.float32)
        assert_matches(p.outputs(x))


def rgb(photo_name: str, photo: np.ndarray) -> np.ndarray:
    if photo_name == "obama.jpg":
        return photo  # committed with the project
    bgr = cv2.imread(str(shared_face(photo_name)))  # skips when the shared photos are absent
    return np.ascontiguousarray(bgr[:, :, ::-1])


@pytest.mark.parametrize("photo_name", list(FACES))
@pytest.mark.parametrize("name", MODELS)
def test_real_faces_match_tflite(name, photo_name, photo):
    p = pair(name)
    for x in network_inputs(name, rgb(photo_name, photo), FACES[photo_name], p.size):
        assert_matches(p.outputs(x))


@pytest.mark.parametrize("photo_name", list(FACES))
def test_the_real_crops_hold_faces(photo_name, photo):
    # Guards FACES: the landmark network's face-presence logit is high on every face crop.
    p = pair("face_landmark")
    (x,) = network_inputs("face_landmark", rgb(photo_name, photo), FACES[photo_name], p.size)
    got, expected = p.outputs(x)["conv2d_31"]
    assert got.item() > 5 and expected.item() > 5


@pytest.mark.parametrize("name", MODELS)
def test_conversion_is_deterministic(name):
    tflite_to_onnx = converter("tflite_to_onnx")

    source = model_source(name)
    first = tflite_to_onnx.convert(source, name).SerializeToString(deterministic=True)
    second = tflite_to_onnx.convert(source, name).SerializeToString(deterministic=True)
    assert first == second


def test_graph_keeps_tflite_inputs_and_outputs():
    tflite_to_onnx = converter("tflite_to_onnx")

    model = tflite_to_onnx.convert(model_source("iris_landmark"), "iris_landmark")
    shapes = {v.name: [d.dim_value if d.HasField("dim_value") else d.dim_param
                       for d in v.type.tensor_type.shape.dim]
              for v in list(model.graph.input) + list(model.graph.output)}
    # TFLite's shapes, the batch of 1 made symbolic.
    assert shapes == {"input_1": ["batch", 64, 64, 3],
                      "output_eyes_contours_and_brows": ["batch", 213],
                      "output_iris": ["batch", 15]}
    assert model.producer_name == "facekit models/tflite_to_onnx.py"
    # Computed in NCHW without a single Transpose (the first Conv reads the NHWC input as is,
    # the outputs have 1x1 spatial size), and with PRelu rewritten away.
    ops = {n.op_type for n in model.graph.node}
    assert "Transpose" not in ops and "PRelu" not in ops


# A batch runs each image as batch 1 would: the same kernels, so equal up to float rounding.
BATCH_ATOL = 1e-5


@pytest.mark.parametrize("name", MODELS)
def test_batch_dimension_is_symbolic(name):
    onnx = require("onnx", "the converters need the dev extra (pip install '.[dev]')")
    from onnx import numpy_helper

    model = onnx.load(str(onnx_model(name)))
    for value in list(model.graph.input) + list(model.graph.output):
        first = value.type.tensor_type.shape.dim[0]
        assert first.dim_param == "batch" and not first.HasField("dim_value"), value.name
    constants = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Reshape":  # the target copies the batch from the input
            assert constants[node.input[1]][0] == 0, node.name
        if node.op_type == "Resize":  # scales, not a constant size that would fix the batch
            assert len(node.input) < 4 or node.input[3] not in constants, node.name


@pytest.mark.parametrize("name", MODELS)
def test_a_batch_of_two_matches_two_single_runs_and_tflite(name, photo):
    p = pair(name)
    crops = network_inputs(name, photo, FACES["obama.jpg"], p.size)  # both eyes for iris
    if len(crops) < 2:  # a random image as the second one
        low, high = RANGES[name]
        rng = np.random.default_rng(20240602)
        crops.append(rng.uniform(low, high, p.input["shape"]).astype(np.float32))
    x = np.concatenate(crops[:2])
    assert x.shape[0] == 2 and not np.array_equal(x[0], x[1])
    input_name = p.session.get_inputs()[0].name
    names = [o.name for o in p.session.get_outputs()]
    batch = dict(zip(names, p.session.run(None, {input_name: x})))
    for k in range(2):
        single = p.outputs(x[k:k + 1])  # ONNX Runtime at batch 1, and TFLite
        for out in names:
            got = batch[out][k:k + 1]
            alone, expected = single[out]
            assert got.shape == alone.shape and got.dtype == alone.dtype, out
            difference = float(np.abs(got - alone).max())
            assert difference <= BATCH_ATOL, f"{out}[{k}]: max |batch - single| {difference:.3g}"
        assert_matches({out: (batch[out][k:k + 1], single[out][1]) for out in names})
    for out in names:  # the two images gave different results
        assert not np.array_equal(batch[out][0], batch[out][1]), out


def test_rejects_files_that_are_not_tflite():
    tflite_to_onnx = converter("tflite_to_onnx")

    with pytest.raises(ValueError, match="not a TFLite model"):
        tflite_to_onnx.convert(b"\x00" * 64, "junk")
    with pytest.raises(ValueError, match="not a TFLite model"):
        tflite_to_onnx.convert(onnx_model("iris_landmark").read_bytes()[:4096], "onnx")
    truncated = model_source("iris_landmark")[:5000]
    with pytest.raises(ValueError):
        tflite_to_onnx.convert(truncated, "truncated")


def test_names_an_unsupported_operator(monkeypatch):
    tflite_to_onnx = converter("tflite_to_onnx")

    monkeypatch.delitem(tflite_to_onnx._HANDLERS, tflite_to_onnx.PRELU)
    with pytest.raises(ValueError, match="unsupported TFLite operator PRELU"):
        tflite_to_onnx.convert(model_source("iris_landmark"), "iris_landmark")
