"""One table over every standard export channel and every ephemeral object a pipeline returns:
each channel is refused with BiometricExportError or shows no values."""

from __future__ import annotations

import numpy as np
import pytest

import facekit
from facekit.audit.channels import (ARRAY_ONLY, REFUSED, marshal_refused, printed_forms,
                                    text_channels)
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
    objects, _ = live
    assert marshal_refused(objects[name])


@pytest.mark.parametrize("name", OBJECTS)
def test_text_channels_show_no_values(live, name):
    objects, values = live
    texts = text_channels(objects[name])
    needles = printed_forms(values)  # any landmark coordinate, as Python or numpy prints it
    for channel, text in texts.items():
        assert text, channel
        assert not any(needle in text for needle in needles), (channel, text)
