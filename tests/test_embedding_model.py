"""The dlib face-recognition ResNet converted to ONNX: descriptors match dlib's own on real
aligned chips, conversion is deterministic, and malformed network files are refused."""

from __future__ import annotations

import numpy as np
import pytest
import support
from support import dlib_reference, model_source, onnx_model, shared_face

from facekit.models import open_session

NAME = "dlib_face_recognition_resnet_v1"
MEAN_RGB = np.array([122.782, 117.001, 104.298], np.float32)  # stored in the .dat file

# Photo -> the number of faces dlib's HOG detector finds in it (None: the committed photo).
PHOTOS = {
    None: 1,
    "obama2.jpg": 1,
    "obama3.jpg": 1,
    "biden.jpg": 1,
    "kit_harington_john1.jpeg": 1,
    "rose_leslie_img1.jpg": 1,
    "alex_lacamoire_img1.jpg": 1,
    "two_people.jpg": 2,
    "obama_small.jpg": 1,
}


@pytest.fixture(scope="module")
def source() -> bytes:
    return model_source(NAME)


@pytest.fixture(scope="module")
def converter():
    return support.converter("dlib_to_onnx")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """dlib, its detector, 5-point shape predictor and recognition model."""
    return dlib_reference(tmp_path_factory.mktemp("dlib"))


@pytest.fixture(scope="module")
def session():
    return open_session(NAME)  # facekit's own loader: hash-checked, 1 thread


def normalize(chip: np.ndarray) -> np.ndarray:
    """What facekit's crop kernel writes for this network: NHWC RGB, (pixel - mean) / 256."""
    return ((chip.astype(np.float32) - MEAN_RGB) / np.float32(256))[None]


@pytest.mark.parametrize("name", list(PHOTOS), ids=[n or "committed-obama" for n in PHOTOS])
def test_descriptors_match_dlib(name, request, reference, session):
    cv2 = pytest.importorskip("cv2", reason="opencv-python-headless comes with the test extra")
    if name is None:
        image = request.getfixturevalue("photo")
    else:
        bgr = cv2.imread(str(shared_face(name)))
        assert bgr is not None, name
        image = np.ascontiguousarray(bgr[:, :, ::-1])
    dlib, detector, predictor, recognizer = reference
    faces = detector(image, 1)
    assert len(faces) == PHOTOS[name]
    for index, face in enumerate(faces):
        chip = dlib.get_face_chip(image, predictor(image, face), size=150, padding=0.25)
        want = np.array(recognizer.compute_face_descriptor(chip), np.float64)
        (got,) = session.run(["descriptor"], {"chip": normalize(chip)})
        assert got.shape == (1, 128) and got.dtype == np.float32
        got = got[0].astype(np.float64)
        cosine = float(want @ got / (np.linalg.norm(want) * np.linalg.norm(got)))
        max_diff = float(np.abs(want - got).max())
        print(f"{name or 'obama.jpg (committed)'} face {index}: cosine {cosine:.9f}, "
              f"max abs diff {max_diff:.2e}, |descriptor| {np.linalg.norm(want):.3f}")
        assert cosine >= 0.9999
        assert max_diff <= 1e-4


def test_interface(session):
    (chip,), (descriptor,) = session.get_inputs(), session.get_outputs()
    assert (chip.name, chip.shape, chip.type) == ("chip", [1, 150, 150, 3], "tensor(float)")
    assert (descriptor.name, descriptor.shape, descriptor.type) == (
        "descriptor", [1, 128], "tensor(float)")
    meta = session.get_modelmeta()
    assert meta.producer_name == "facekit models/dlib_to_onnx.py"
    props = meta.custom_metadata_map
    assert np.allclose([float(v) for v in props["input_mean_rgb"].split(",")], MEAN_RGB)
    assert float(props["input_scale"]) == 1 / 256


def test_conversion_is_deterministic_and_committed(source, converter):
    first = converter.convert(source, NAME).SerializeToString(deterministic=True)
    second = converter.convert(source, NAME).SerializeToString(deterministic=True)
    assert first == second
    assert first == onnx_model(NAME).read_bytes(), "the committed model is stale; rebuild it"


def test_parser_consumes_every_byte(source, converter):
    layers, mean, size = converter.parse(source)
    assert size == (150, 150)
    assert np.allclose(mean, MEAN_RGB)
    assert sum(1 for layer in layers if layer.spec.kind == "con") == 29
    params = sum(v.size for layer in layers for v in layer.values.values()
                 if isinstance(v, np.ndarray))
    assert params == 5_614_592


@pytest.mark.parametrize("cut", [1, 4, 1000, 11_000_000, 22_466_000])
def test_truncated_file_is_refused(source, converter, cut):
    with pytest.raises(ValueError, match="truncated"):
        converter.convert(source[:len(source) - cut], NAME)


@pytest.mark.parametrize("extra", [b"\x00", b"\x01\x02" * 8])
def test_trailing_bytes_are_refused(source, converter, extra):
    with pytest.raises(ValueError, match="trailing bytes"):
        converter.convert(source + extra, NAME)


def test_other_networks_are_refused(source, converter):
    with pytest.raises(ValueError, match="loss_metric_2"):
        converter.convert(source[:2] + b"\x01\x0dloss_metric_3" + source[17:], NAME)
    with pytest.raises(ValueError):
        converter.convert(b"", NAME)
