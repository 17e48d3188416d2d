"""Verification: facekit vs dlib-bin's own pipeline in the same run, 1 thread.

- ``facekit verify`` / ``baseline dlib verify``: one pair end to end (two photos: detection,
  landmarks, aligned chip, descriptor, distance). dlib: HOG detector (upsample 1, as
  face_recognition does), 5-point predictor, get_face_chip, ResNet descriptor.
- ``five points``: from the image and the face facekit found (its mesh), dlib's own box and
  points (facekit: dlib's detector near the mesh, then dlib's shape predictor; dlib: its
  detector over the whole upsampled image, then the predictor).
- ``aligned chip + descriptor``: from the five points, the chip and the 128-d descriptor.
  Target (issue 7): at least 10x faster end to end.
"""

from __future__ import annotations

import numpy as np
import pytest
from support import dlib_reference, shared_face

import facekit
from facekit import _native
from facekit.verify import FaceVerifier


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


@pytest.fixture(scope="module")
def found_face(pair, dlib_pipeline, verifier):
    """The first photo's mesh (facekit), dlib's shape for it, and facekit's five points."""
    dlib, detector, predictor, _ = dlib_pipeline
    image = pair[0]
    with facekit.FaceLandmarker() as landmarker, landmarker.detect(image) as result:
        mesh = np.array(result.faces[0].landmarks)  # benchmark-only copies of a public photo
    arena = facekit.SecureArena()
    with arena.frame() as frame:
        found, _ = _native.verify.chip_points(image, "rgb", facekit.arena.expose(frame, mesh),
                                              verifier._detector, verifier._predictor,
                                              arena._native)
        points = np.array(found)
    shape = predictor(image, max(detector(image, 1), key=lambda r: r.width()))
    yield mesh, shape, points, arena
    arena.close()


def test_points_step_vs_dlib(compare, pair, dlib_pipeline, verifier, found_face):
    """The five points from the image and the face already found (facekit: dlib's detector
    near the mesh, then dlib's shape predictor; dlib: its detector over the whole upsampled
    image, then the predictor)."""
    dlib, detector, predictor, _ = dlib_pipeline
    image, (mesh, _, _, arena) = pair[0], found_face

    def facekit_points():
        with arena.frame() as frame:
            _native.verify.chip_points(image, "rgb", facekit.arena.expose(frame, mesh),
                                       verifier._detector, verifier._predictor, arena._native)

    def dlib_points():
        predictor(image, max(detector(image, 1), key=lambda r: r.width()))

    report = compare("verify: five points from a found face", {
        "facekit points": facekit_points, "baseline dlib points": dlib_points}, rounds=10)
    assert report["facekit points"]["p50_us"] > 0


def test_descriptor_step_vs_dlib(compare, pair, dlib_pipeline, verifier, found_face):
    """The aligned chip and the descriptor from the five points."""
    dlib, _, _, recognizer = dlib_pipeline
    image, (_, shape, points, arena) = pair[0], found_face

    def facekit_descriptor():
        with arena.frame() as frame:
            chip = _native.verify.chip(image, "rgb", facekit.arena.expose(frame, points),
                                       arena._native)
            verifier._network.run(frame, chip.view(facekit.EphemeralArray))

    def dlib_descriptor():
        chip = dlib.get_face_chip(image, shape, size=150, padding=0.25)
        recognizer.compute_face_descriptor(chip)

    report = compare("verify: aligned chip + descriptor", {
        "facekit descriptor only": facekit_descriptor,
        "baseline dlib descriptor only": dlib_descriptor}, rounds=20)
    assert report["facekit descriptor only"]["p50_us"] > 0
