"""One table over every standard export channel and every ephemeral object a pipeline returns:
each channel is refused with BiometricExportError or shows no values."""

from __future__ import annotations

import copy
import io
import json
import logging
import marshal
import pickle

import numpy as np
import pytest

import facekit
from facekit.errors import BiometricExportError

OBJECTS = ["result", "face", "landmarks", "detection", "detected_face", "keypoints", "frame"]


@pytest.fixture(scope="module")
def live(photo):
    """Every kind of ephemeral object, alive, plus the landmark values to look for."""
    landmarker = facekit.FaceLandmarker(facekit.FaceLandmarkerOptions(iris=True))
    detector = facekit.FaceDetector()
    arena = facekit.SecureArena()
    result, detection, frame = landmarker.detect(photo), detector.detect(photo), arena.frame()
    objects = {
        "result": result, "face": result.faces[0], "landmarks": result.faces[0].landmarks,
        "detection": detection, "detected_face": detection.faces[0],
        "keypoints": detection.faces[0].keypoints, "frame": frame,
    }
    values = np.array(result.faces[0].landmarks, subok=False)  # test-only copy, public photo
    yield objects, values
    frame.end()
    landmarker.close()
    detector.close()
    arena.close()


def _text_channels(obj) -> dict[str, str]:
    stream = io.StringIO()
    logger = logging.getLogger("facekit.refusal-matrix")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        logger.warning("result: %s %r", obj, obj)
    finally:
        logger.removeHandler(handler)
    return {"repr": repr(obj), "str": str(obj), "f-string": f"{obj} {obj!r}",
            "logging": stream.getvalue()}


REFUSED = {
    **{f"pickle-{p}": (lambda o, tmp, p=p: pickle.dumps(o, protocol=p))
       for p in range(pickle.HIGHEST_PROTOCOL + 1)},
    "copy": lambda o, tmp: copy.copy(o),
    "deepcopy": lambda o, tmp: copy.deepcopy(o),
    "json": lambda o, tmp: json.dumps(o),
    "json-nested": lambda o, tmp: json.dumps({"faces": [o]}),
}
ARRAY_ONLY = {
    "np.save": lambda a, tmp: np.save(tmp / "x.npy", a),
    "np.savez": lambda a, tmp: np.savez(tmp / "x.npz", a=a),
    "np.savez_compressed": lambda a, tmp: np.savez_compressed(tmp / "x.npz", a=a),
    "np.savetxt": lambda a, tmp: np.savetxt(tmp / "x.txt", a.reshape(-1, a.shape[-1])),
    "tofile": lambda a, tmp: a.tofile(tmp / "x.bin"),
    "tobytes": lambda a, tmp: a.tobytes(),
    "dump": lambda a, tmp: a.dump(tmp / "x.pkl"),
    "dumps": lambda a, tmp: a.dumps(),
}


@pytest.mark.parametrize("channel", sorted(REFUSED))
@pytest.mark.parametrize("name", OBJECTS)
def test_serializing_channels_are_refused(live, name, channel, tmp_path):
    objects, _ = live
    with pytest.raises(BiometricExportError):
        REFUSED[channel](objects[name], tmp_path)


@pytest.mark.parametrize("channel", sorted(ARRAY_ONLY))
@pytest.mark.parametrize("name", ["landmarks", "keypoints"])
def test_array_channels_are_refused_and_write_nothing(live, name, channel, tmp_path):
    objects, _ = live
    with pytest.raises(BiometricExportError):
        ARRAY_ONLY[channel](objects[name], tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", OBJECTS)
def test_marshal_cannot_carry_them(live, name):
    # Arrays reach marshal through the buffer protocol, which a numpy subclass cannot refuse;
    # facekit hands out row-padded (non-contiguous) views, whose flat buffer marshal cannot get.
    objects, _ = live
    with pytest.raises(ValueError, match="unmarshallable"):
        marshal.dumps(objects[name])


@pytest.mark.parametrize("name", OBJECTS)
def test_text_channels_show_no_values(live, name):
    objects, values = live
    texts = _text_channels(objects[name])
    # Any landmark coordinate, printed the way Python or numpy would print it.
    needles = {f"{v:.1f}" for v in values[:20, :2].ravel()} | {
        f"{v:.4g}" for v in values[:20, :2].ravel()}
    for channel, text in texts.items():
        assert text, channel
        assert not any(needle in text for needle in needles), (channel, text)
