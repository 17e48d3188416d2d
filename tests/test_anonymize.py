"""anonymize(): every face covered so that neither detector finds one again; nothing else
touched; bad input refused."""

from __future__ import annotations

import numpy as np
import pytest

import facekit
from facekit import FaceDetector, FaceDetectorOptions
from facekit.anonymize import Anonymizer
from support import SHARED_FACES, shared_face


@pytest.fixture(scope="module")
def detectors():
    found = [FaceDetector(FaceDetectorOptions(model=m, max_faces=100))
             for m in ("short_range", "full_range")]
    yield found
    for d in found:
        d.close()


def _faces(detectors, image) -> int:
    total = 0
    for d in detectors:
        with d.detect(image) as result:
            total = max(total, len(result.faces))
    return total


def _photos():
    shared_face("obama.jpg")  # skips with the reason when the shared folder is absent
    return sorted(p for p in SHARED_FACES.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


@pytest.mark.parametrize("method", ["pixelate", "blur", "solid"])
def test_no_detectable_face_remains_on_any_photo(detectors, method):
    with Anonymizer(method) as worker:
        for path in _photos():
            image = facekit.load_image(path)
            before = _faces(detectors, image)
            out = worker.apply(image)
            assert before >= 1, path.name
            assert _faces(detectors, out) == 0, (method, path.name)
            assert out.shape == image.shape and out.dtype == np.uint8


def test_two_people_both_covered_and_the_rest_untouched(detectors):
    image = facekit.load_image(shared_face("two_people.jpg"))
    assert _faces(detectors, image) == 2
    out = facekit.anonymize(image, "solid", color=(0, 255, 0))
    assert _faces(detectors, out) == 0
    changed = np.any(out != image, axis=2)
    assert 0.01 < changed.mean() < 0.6  # the faces, not the whole picture
    green = np.all(out == (0, 255, 0), axis=2)
    assert green[changed].mean() > 0.95


def test_small_faces_are_found_too(detectors, photo):
    # The portrait shrunk 6x into a large empty frame (a face of about 45 pixels): only the
    # full-range network finds it, and anonymize must use it.
    small = np.zeros((960, 1280, 3), np.uint8)
    face = photo[::6, ::6]
    small[300:300 + face.shape[0], 600:600 + face.shape[1]] = face
    assert _faces(detectors[:1], small) == 0 and _faces(detectors, small) == 1
    out = facekit.anonymize(small)
    assert not np.array_equal(out, small)
    assert _faces(detectors, out) == 0


def test_bgr_gray_and_faceless_images(detectors, photo):
    bgr = np.ascontiguousarray(photo[..., ::-1])
    with Anonymizer(color_format="bgr") as worker:
        assert _faces(detectors, worker.apply(bgr)[..., ::-1]) == 0
    gray = np.ascontiguousarray(photo.mean(axis=2).astype(np.uint8))
    out = facekit.anonymize(gray, "blur")
    assert out.shape == gray.shape and not np.array_equal(out, gray)
    noise = np.random.default_rng(1).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    assert np.array_equal(facekit.anonymize(noise), noise)


@pytest.mark.parametrize("kwargs,message", [
    ({"method": "smudge"}, "method must be"),
    ({"padding": -1}, "padding must lie"),
    ({"color": (300, 0, 0)}, "color must be"),
])
def test_bad_options_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Anonymizer(**kwargs)


def test_bad_images_are_refused():
    with pytest.raises(ValueError, match="dtype"):
        facekit.anonymize(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError):
        facekit.anonymize(np.zeros((0, 10, 3), np.uint8))
