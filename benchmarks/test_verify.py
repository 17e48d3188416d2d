"""Verification: facekit vs dlib-bin's own pipeline in the same run, 1 thread.

- ``facekit verify`` / ``baseline dlib verify``: one pair end to end (two photos: detection,
  landmarks, aligned chip, descriptor, distance). dlib: HOG detector (upsample 1, as
  face_recognition does), 5-point predictor, get_face_chip, ResNet descriptor.
- ``... descriptor only``: from a face already found (facekit: the mesh; dlib: its HOG box), the
  five points (facekit: dlib's detector near the mesh, then dlib's shape predictor; dlib: the
  shape predictor), the aligned chip and the 128-d descriptor.
  Target (issue 7): at least 10x faster end to end.
"""

from __future__ import annotations

import numpy as np
import pytest

import facekit
from facekit import _native
from facekit.verify import FaceVerifier
from support import dlib_reference, shared_face


@pytest.fixture(scope="module")
def pair():
    return (facekit.load_image(shared_face("obama.jpg")),
            facekit.load_image(shared_face("obama2.jpg")))


@pytest.fixture(scope="module")
def dlib_pipeline(tmp_path_factory):
    return dlib_reference(tmp_path_factory.mktemp("dlib"))


@pytest.fixture(scope="module")
def verifier():
    with FaceVerifier() as v:
        yield v


def test_verify_pair_vs_dlib(compare, pair, dlib_pipeline, verifier):
    dlib, detector, predictor, recognizer = dlib_pipeline

    def dlib_verify():
        descriptors = []
        for image in pair:
            face = max(detector(image, 1), key=lambda r: r.width())
            chip = dlib.get_face_chip(image, predictor(image, face), size=150, padding=0.25)
            descriptors.append(np.array(recognizer.compute_face_descriptor(chip)))
        return np.linalg.norm(descriptors[0] - descriptors[1])

    report = compare("verify one pair (end to end)", {
        "facekit verify": lambda: verifier.verify(*pair),
        "baseline dlib verify": dlib_verify,
    }, rounds=10)
    assert report["facekit verify"]["p50_us"] > 0


def test_descriptor_step_vs_dlib(compare, pair, dlib_pipeline, verifier):
    """Points, aligned chip and descriptor from a face found beforehand."""
    dlib, detector, predictor, recognizer = dlib_pipeline
    with facekit.FaceLandmarker() as landmarker, landmarker.detect(pair[0]) as result:
        mesh = np.array(result.faces[0].landmarks)  # benchmark-only copy of a public photo
    arena = facekit.SecureArena()
    box = max(detector(pair[0], 1), key=lambda r: r.width())

    def facekit_descriptor():
        with arena.frame() as frame:
            points, _ = _native.verify.chip_points(pair[0], "rgb", frame._expose(mesh),
                                                   verifier._detector, verifier._predictor,
                                                   arena._native)
            chip = _native.verify.chip(pair[0], "rgb", points, arena._native)
            verifier._network.run(frame, chip.view(facekit.EphemeralArray))

    def dlib_descriptor():
        chip = dlib.get_face_chip(pair[0], predictor(pair[0], box), size=150, padding=0.25)
        recognizer.compute_face_descriptor(chip)

    report = compare("verify: aligned chip + descriptor only", {
        "facekit descriptor only": facekit_descriptor,
        "baseline dlib descriptor only": dlib_descriptor,
    }, rounds=20)
    assert report["facekit descriptor only"]["p50_us"] > 0
    arena.close()
