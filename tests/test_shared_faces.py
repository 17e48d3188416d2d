"""Faces found once, used by every effect: Beautifier, Anonymizer and FaceVerifier take an open
FaceLandmarker result (``faces=``) instead of finding the faces again; the output is the same as
when each finds them itself, no landmark network runs twice, and a result that cannot be
trusted for the image (ended, another size, another thread's) is refused."""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np
import pytest
from support import shared_face

import facekit
from facekit import (
    Anonymizer,
    Beautifier,
    BeautifierOptions,
    FaceDetector,
    FaceLandmarker,
    FaceLandmarkerOptions,
    FaceVerifier,
    RunningMode,
)
from facekit.anonymize import SEARCH_SCORE
from facekit.beauty import PRESETS
from facekit.errors import ConcurrentUseError, ExpiredFrameError

MESH, SHORT, FULL = "face_landmark", "face_detection_short_range", \
    "face_detection_full_range_sparse"


@pytest.fixture
def searches(monkeypatch):
    """Runs of the Anonymizer's search detectors (the ones at its lowered score)."""
    calls = []
    detect = FaceDetector.detect

    def counted(self, image):
        if self.options.min_detection_confidence == SEARCH_SCORE:
            calls.append(self.options.model)
        return detect(self, image)

    monkeypatch.setattr(FaceDetector, "detect", counted)
    return calls


@pytest.fixture(scope="module")
def landmarker():
    # The Beautifier's own landmarker configuration: the same landmarks as its separate path.
    with FaceLandmarker(Beautifier.landmarker_options()) as landmarker:
        yield landmarker


def test_beauty_with_shared_faces_is_bit_identical_and_runs_no_network(photo, landmarker, runs):
    with Beautifier(PRESETS["studio"]) as beautifier:
        separate = beautifier.apply(photo)
        runs.clear()
        with landmarker.detect(photo) as result:
            shared = beautifier.apply(photo, faces=result)
            into = np.zeros_like(photo)
            beautifier.apply_into(photo, into, faces=result)
    assert not np.array_equal(separate, photo)  # the effects did something
    assert np.array_equal(shared, separate) and np.array_equal(into, separate)
    assert runs == Counter({SHORT: 1, MESH: 1})  # the landmarker's one run, nothing more


def test_beauty_takes_iris_results_and_video_results(photo, runs):
    with Beautifier(PRESETS["natural"]) as beautifier:
        separate = beautifier.apply(photo)
    # refine="iris" keeps the mesh network's 468 points: the same output to the byte. The
    # attention mesh refines lips and eyes itself: the effects land a little differently
    # (measured: 0.09 levels from the 468-point result, against 0.66 changed by the effects).
    iris = FaceLandmarkerOptions(max_faces=4, iris=True, refine="iris")
    with FaceLandmarker(iris) as landmarker, landmarker.detect(photo) as result, \
            Beautifier(PRESETS["natural"]) as beautifier:
        assert result.faces[0].landmarks.shape == (478, 3)
        assert np.array_equal(beautifier.apply(photo, faces=result), separate)
    attention = FaceLandmarkerOptions(max_faces=4, iris=True)
    with FaceLandmarker(attention) as landmarker, landmarker.detect(photo) as result, \
            Beautifier(PRESETS["natural"]) as beautifier:
        refined = beautifier.apply(photo, faces=result)
    changed = np.abs(refined.astype(int) - photo).mean()
    assert changed > 0 and np.abs(refined.astype(int) - separate).mean() < 0.25 * changed
    video = FaceLandmarkerOptions(running_mode=RunningMode.VIDEO, max_faces=4)
    options = BeautifierOptions(effects=PRESETS["natural"], running_mode=RunningMode.VIDEO)
    with FaceLandmarker(video) as landmarker, Beautifier(options) as beautifier:
        with landmarker.detect_for_video(photo, 0) as result:
            assert np.array_equal(beautifier.apply(photo, faces=result), separate)
            with pytest.raises(ValueError, match="timestamp_ms"):
                beautifier.apply(photo, 0, faces=result)


def test_anonymize_with_shared_faces_skips_the_search_and_covers_the_face(photo, landmarker,
                                                                         runs, searches):
    with Anonymizer("pixelate") as worker:
        worker.apply(photo)
        assert sorted(searches) == ["full_range", "short_range"]  # its own path searches
        with landmarker.detect(photo) as result:
            searches.clear()
            runs.clear()
            first = worker.apply(photo, faces=result)
            assert not searches and runs[MESH] == 0  # only the check rounds ran
            second = worker.apply(photo, faces=result)
        with facekit.FaceLandmarker(Beautifier.landmarker_options()) as other, \
                other.detect(photo) as separate_result:
            separate = worker.apply(photo, faces=separate_result)
    # The same faces give the same image, whichever landmarker run found them.
    assert np.array_equal(first, second) and np.array_equal(first, separate)
    assert not worker.covered_whole_frame
    with FaceDetector() as detector, detector.detect(first) as check:
        assert not check.faces
    with FaceDetector() as detector, detector.detect(photo) as found:
        x0, y0 = int(found.faces[0].box.x), int(found.faces[0].box.y)
        x1 = int(x0 + found.faces[0].box.width)
        y1 = int(y0 + found.faces[0].box.height)
    assert not np.array_equal(first[y0:y1, x0:x1], photo[y0:y1, x0:x1])


def test_anonymize_takes_a_detector_result(photo, searches):
    with FaceDetector() as detector, Anonymizer("solid", color=(0, 255, 0)) as worker:
        with detector.detect(photo) as result:
            box = result.faces[0].box
            out = worker.apply(photo, faces=result)
        assert not searches
    cx, cy = int(box.x + box.width / 2), int(box.y + box.height / 2)
    assert tuple(out[cy, cx]) == (0, 255, 0)


def test_verify_with_shared_faces_gives_the_same_distance_and_runs_no_mesh(runs):
    first = facekit.load_image(shared_face("obama.jpg"))
    second = facekit.load_image(shared_face("obama2.jpg"))
    with FaceVerifier() as verifier:
        expected = verifier.verify(first, second)
        options = FaceLandmarkerOptions(max_faces=8)
        with FaceLandmarker(options) as a, FaceLandmarker(options) as b, \
                a.detect(first) as faces_a, b.detect(second) as faces_b:
            runs.clear()
            shared = verifier.verify(first, second, faces_a=faces_a, faces_b=faces_b)
            assert runs[MESH] == 0 and runs["dlib_face_recognition_resnet_v1"] == 2
            with verifier.reference(first, faces=faces_a) as ref:
                matched = ref.matches(second, faces=faces_b)
    assert shared == expected == matched
    assert shared.same_person


def test_stale_foreign_and_wrong_results_are_refused(photo, landmarker):
    with Beautifier(PRESETS["natural"]) as beautifier, Anonymizer() as worker, \
            FaceVerifier() as verifier:
        with landmarker.detect(photo) as result:
            pass
        for call in (lambda: beautifier.apply(photo, faces=result),
                     lambda: worker.apply(photo, faces=result),
                     lambda: verifier.verify(photo, photo, faces_a=result)):
            with pytest.raises(ExpiredFrameError):
                call()
        with landmarker.detect(photo) as result:
            smaller = np.ascontiguousarray(photo[:-1])
            for call in (lambda: beautifier.apply(smaller, faces=result),
                         lambda: worker.apply(smaller, faces=result),
                         lambda: verifier.verify(photo, smaller, faces_b=result)):
                with pytest.raises(ValueError, match="1137"):
                    call()
            with pytest.raises(TypeError, match="LandmarkerResult"):
                beautifier.apply(photo, faces=result.faces)
            errors = []

            def other_thread():
                try:
                    beautifier.apply(photo, faces=result)
                except Exception as exc:  # noqa: BLE001  (reported below)
                    errors.append(exc)

            thread = threading.Thread(target=other_thread)
            thread.start()
            thread.join()
            assert len(errors) == 1 and isinstance(errors[0], ConcurrentUseError)
