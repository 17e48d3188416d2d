"""FaceVerifier on real photos, beside dlib-bin's own pipeline; the chip against dlib's chip;
descriptors never shown; bad inputs give clear errors."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
from support import dlib_reference, shared_face

import facekit
from facekit import _native
from facekit._pipeline import frame_of
from facekit.errors import AmbiguousFaceError, BiometricExportError, FaceTooSmallError, NoFaceError
from facekit.models import read_verified
from facekit.verify import FaceVerifier

IDENTITY = {
    "obama.jpg": "obama", "obama2.jpg": "obama", "obama3.jpg": "obama", "obama-720p.jpg": "obama",
    "biden.jpg": "biden", "biden_biden2.jpg": "biden",
    "kit_harington_john1.jpeg": "kit", "kit_harington_john2.jpeg": "kit",
    "rose_leslie_img1.jpg": "rose", "rose_leslie_img2.jpg": "rose",
}


@pytest.fixture(scope="module")
def images():
    return {name: facekit.load_image(shared_face(name)) for name in IDENTITY}


@pytest.fixture(scope="module")
def verifier():
    with FaceVerifier() as v:
        yield v


def _dlib_descriptor(reference, image):
    dlib, detector, predictor, recognizer = reference
    face = max(detector(image, 1), key=lambda r: r.width())
    chip = dlib.get_face_chip(image, predictor(image, face), size=150, padding=0.25)
    return np.array(recognizer.compute_face_descriptor(chip))


def test_every_pair_is_decided_right(images, verifier):
    # facekit alone (no dlib): every same-person pair under the threshold, every other over it.
    rows = []
    for a, b in itertools.combinations(sorted(images), 2):
        result = verifier.verify(images[a], images[b])
        same = IDENTITY[a] == IDENTITY[b]
        rows.append((a, b, same, result.distance))
        assert result.threshold == 0.6
        assert result.same_person == same, (a, b, result.distance)
    print("\npair | same | facekit")
    for a, b, same, ours in rows:
        print(f"{a} / {b} | {same} | {ours:.3f}")
    same_max = max(r[3] for r in rows if r[2])
    different_min = min(r[3] for r in rows if not r[2])
    print(f"facekit: same-person max {same_max:.3f}, different-person min {different_min:.3f}")
    assert same_max < 0.6 < different_min


def test_dlib_decides_every_pair_as_facekit_does(images, tmp_path_factory):
    reference = dlib_reference(tmp_path_factory.mktemp("dlib"))
    dlib_descriptors = {n: _dlib_descriptor(reference, img) for n, img in images.items()}
    for a, b in itertools.combinations(sorted(images), 2):
        dlib_distance = float(np.linalg.norm(dlib_descriptors[a] - dlib_descriptors[b]))
        same = IDENTITY[a] == IDENTITY[b]
        assert (dlib_distance < 0.6) == same, (a, b, dlib_distance)
        print(f"{a} / {b} | {same} | dlib {dlib_distance:.3f}")


def _faces_in_shared_photos():
    """Every (photo, dlib HOG box) in the shared test photos, RGB."""
    folder = shared_face("obama.jpg").parent
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".jpg", ".jpeg", ".png")):
        image = facekit.load_image(path)
        image = np.ascontiguousarray(image[..., :3])
        yield path.name, image


def test_shape_predictor_gives_dlibs_points_for_dlibs_box(tmp_path_factory):
    """The native port of dlib's shape predictor, given dlib's own face box, returns dlib's
    points exactly, on every face dlib's detector finds in the shared photos."""
    dlib, detector, predictor, _ = dlib_reference(tmp_path_factory.mktemp("dlib"))
    ours = _native.verify.ShapePredictor(read_verified("dlib_shape_predictor_5"))
    assert ours.parts == 5
    arena = facekit.SecureArena()
    compared = 0
    for name, image in _faces_in_shared_photos():
        for box in detector(image, 1):
            expected = np.array([(p.x, p.y) for p in predictor(image, box).parts()], np.float32)
            with arena.frame():
                found = np.array(ours.predict(image, "rgb", (box.left(), box.top(), box.right(),
                                                              box.bottom()), arena._native))
            assert np.array_equal(found, expected), name
            compared += 1
    arena.close()
    assert compared >= 15  # every photo's face, both faces of two_people.jpg


def test_chip_is_dlibs_chip_for_the_same_points(images, tmp_path_factory):
    """Given the same five points, the native chip equals dlib.get_face_chip byte for byte,
    including photos where its pyramid kicks in."""
    dlib, detector, predictor, _ = dlib_reference(tmp_path_factory.mktemp("dlib"))
    arena = facekit.SecureArena()
    for name, image in images.items():
        shape = predictor(image, max(detector(image, 1), key=lambda r: r.width()))
        points = np.array([(p.x, p.y) for p in shape.parts()], np.float32)
        with arena.frame() as frame:
            chip = np.array(_native.verify.chip(image, "rgb", facekit.arena.expose(frame, points),
                                                arena._native, raw=True))
        expected = dlib.get_face_chip(image, shape, size=150, padding=0.25)
        assert np.array_equal(chip, expected), name
    arena.close()


def test_hog_detector_reports_dlibs_box_and_score(tmp_path_factory):
    """The native port of dlib's frontal face detector, searching only near a rough box (here
    dlib's own box moved by 5% and grown by 10%, about the mesh estimate's error), reports the
    box and score dlib's detector(image, 1) reports, on every face it finds in the shared
    photos; and nothing where dlib finds nothing."""
    dlib, detector, _, _ = dlib_reference(tmp_path_factory.mktemp("dlib"))
    ours = _native.verify.HogFaceDetector(read_verified("dlib_frontal_face_detector"))
    arena = facekit.SecureArena()
    compared = 0
    for name, image in _faces_in_shared_photos():
        boxes, scores, _ = detector.run(image, 1, 0.0)
        for box, score in zip(boxes, scores):
            side = box.right() - box.left()
            cx = (box.left() + box.right()) / 2 + 0.05 * side
            cy = (box.top() + box.bottom()) / 2 - 0.05 * side
            half = 0.55 * side
            with arena.frame():
                found = ours.find(image, "rgb", (cx - half, cy - half, cx + half, cy + half),
                                  arena._native)
            assert found is not None, name
            assert found[0] == (box.left(), box.top(), box.right(), box.bottom()), name
            assert found[1] == pytest.approx(score, abs=1e-3), name
            compared += 1
    blank = np.full((300, 300, 3), 128, np.uint8)
    with arena.frame():
        assert ours.find(blank, "rgb", (100, 100, 200, 200), arena._native) is None
    arena.close()
    assert compared >= 20


def test_chip_and_descriptor_equal_dlibs_pipeline(images, tmp_path_factory):
    """facekit's five points (dlib's detector near the mesh, then dlib's shape predictor) are
    dlib's points, so the aligned chip equals dlib's chip byte for byte on every test photo,
    and the descriptors of the two pipelines differ only by the network's float rounding
    (the issue asks for <= 0.06)."""
    reference = dlib_reference(tmp_path_factory.mktemp("dlib"))
    dlib, detector, predictor, recognizer = reference
    verifier = FaceVerifier()
    rows = {}
    arena = facekit.SecureArena()
    with facekit.FaceLandmarker() as landmarker:
        for name, image in images.items():
            with landmarker.detect(image) as result, arena.frame():
                points, found = _native.verify.chip_points(
                    image, "rgb", result.faces[0].landmarks, verifier._detector,
                    verifier._predictor, arena._native)
                ours_points = np.array(points)  # test-only copy, public photo
                chip = np.array(_native.verify.chip(image, "rgb", points, arena._native,
                                                    raw=True))
                tensor = _native.verify.chip(image, "rgb", points, arena._native)
                descriptor = np.array(verifier._network.run(
                    frame_of(result), tensor.view(facekit.EphemeralArray))["descriptor"])[0]
            shape = predictor(image, max(detector(image, 1), key=lambda r: r.width()))
            theirs = dlib.get_face_chip(image, shape, size=150, padding=0.25)
            assert found, name
            assert np.array_equal(ours_points, [(p.x, p.y) for p in shape.parts()]), name
            assert np.array_equal(chip, theirs), name
            rows[name] = float(np.linalg.norm(
                descriptor - np.array(recognizer.compute_face_descriptor(theirs))))
    arena.close()
    verifier.close()
    print("\nphoto | facekit descriptor vs dlib's pipeline")
    for name, distance in sorted(rows.items()):
        print(f"{name} | {distance:.2e}")
    assert max(rows.values()) <= 1e-5  # far inside the 0.06


def test_reference_scope_matches_a_stream_and_then_ends(images, verifier):
    with verifier.reference(images["obama.jpg"]) as ref:
        assert ref.matches(images["obama3.jpg"]).same_person
        assert not ref.matches(images["biden.jpg"]).same_person
        assert "open" in repr(ref)
    assert "ended" in repr(ref)
    with pytest.raises(facekit.errors.ClosedError):
        ref.matches(images["obama2.jpg"])


def test_no_descriptor_is_ever_shown(images, verifier):
    result = verifier.verify(images["obama.jpg"], images["obama2.jpg"])
    assert set(vars(result)) == {"same_person", "distance", "threshold"}
    assert isinstance(result.distance, float)
    with verifier.reference(images["obama.jpg"]) as ref:
        assert "descriptor" not in repr(ref) and "[" not in repr(ref)
        with pytest.raises(BiometricExportError):
            pickle.dumps(ref._descriptor)
    assert not np.any(np.asarray(ref._descriptor))  # wiped: the stale view reads zeros


def test_bad_inputs_give_clear_errors(images, verifier, photo):
    noise = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    with pytest.raises(NoFaceError, match="no face"):
        verifier.verify(images["obama.jpg"], noise)
    two = facekit.load_image(shared_face("two_people.jpg"))
    face = images["obama.jpg"]
    half = face[:, face.shape[1] // 2 - 300:face.shape[1] // 2 + 300]
    side_by_side = np.ascontiguousarray(np.concatenate([half, half], axis=1))  # equal faces
    with pytest.raises(AmbiguousFaceError, match="face_index"):
        verifier.verify(side_by_side, images["obama.jpg"])
    with FaceVerifier(face_index=0) as chooser:
        assert isinstance(chooser.verify(two, images["obama.jpg"]).distance, float)
    tiny = np.ascontiguousarray(photo[::12, ::12])
    with pytest.raises((FaceTooSmallError, NoFaceError)):
        verifier.verify(tiny, images["obama.jpg"])
    gray = np.ascontiguousarray(images["obama.jpg"].mean(axis=2).astype(np.uint8))
    assert verifier.verify(gray, images["obama2.jpg"]).same_person
    with pytest.raises(ValueError, match="threshold"):
        FaceVerifier(threshold=0)


def test_faces_dlib_cannot_box_still_verify(images, verifier):
    """Where dlib's detector cannot be reproduced near the face (a face too large to search:
    obama.jpg upscaled 4x, a 1,070-pixel face), the shape predictor runs in the mesh's estimate
    of dlib's box instead, and the decisions stay right."""
    face = images["obama.jpg"]
    huge = np.ascontiguousarray(np.repeat(np.repeat(face, 4, axis=0), 4, axis=1))
    arena = facekit.SecureArena()
    with facekit.FaceLandmarker() as landmarker, landmarker.detect(huge) as result, \
            arena.frame():
        _, found = _native.verify.chip_points(huge, "rgb", result.faces[0].landmarks,
                                              verifier._detector, verifier._predictor,
                                              arena._native)
    arena.close()
    assert not found
    assert verifier.verify(huge, images["obama2.jpg"]).same_person
    assert not verifier.verify(huge, images["biden.jpg"]).same_person


def test_chip_normalization_comes_from_the_model_and_matches_the_native_fallback(verifier):
    """The embedding model's metadata gives (pixel - mean) * scale; the native constants (used
    without metadata) are the same values, so both sources describe one normalization."""
    from facekit.verify import _chip_normalization

    mean, scale = _chip_normalization(verifier._network)
    assert (verifier._chip_mean, verifier._chip_scale) == (mean, scale)
    assert np.float32(mean).tolist() == list(_native.verify.CHIP_MEAN_RGB)
    assert scale == _native.verify.CHIP_SCALE == 1 / 256
    assert _native.verify.CHIP_SIZE == verifier._network.input_shape[1]
