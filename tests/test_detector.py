"""FaceDetector on real photos: faces found where they are, keypoints in the arena, bad input
refused clearly."""

from __future__ import annotations

import numpy as np
import pytest
from support import shared_face

import facekit
from facekit.errors import ClosedError, ExpiredFrameError

# Where the face is in the committed 910x1137 portrait (checked by eye on the image).
FACE = (340, 120, 640, 440)  # x0, y0, x1, y1


@pytest.fixture(scope="module", params=["short_range", "full_range", "centerface"])
def detector(request):
    with facekit.FaceDetector(facekit.FaceDetectorOptions(model=request.param)) as detector:
        yield detector


def box_iou(a, b) -> float:
    iw = max(0.0, min(a.x + a.width, b.x + b.width) - max(a.x, b.x))
    ih = max(0.0, min(a.y + a.height, b.y + b.height) - max(a.y, b.y))
    return iw * ih / (a.width * a.height + b.width * b.height - iw * ih)


def inside(x, y, box, slack=0.0):
    x0, y0, x1, y1 = box
    return x0 - slack <= x <= x1 + slack and y0 - slack <= y <= y1 + slack


def test_finds_the_face_in_the_committed_portrait(detector, photo):
    with detector.detect(photo) as result:
        assert len(result.faces) == 1
        face = result.faces[0]
        assert face.score > 0.8
        box = face.box
        assert inside(box.x + box.width / 2, box.y + box.height / 2, FACE)
        tall = 400 if detector.options.model == "centerface" else 340  # brow to chin: 350
        assert 220 < box.width < 340 and 220 < box.height < tall
        keypoints = np.array(face.keypoints, subok=False)  # test-only copy of a public photo
        # BlazeFace: eyes, nose tip, mouth, ears; CenterFace: eyes, nose tip, mouth corners.
        assert keypoints.shape == (5 if detector.options.model == "centerface" else 6, 2)
        right_eye, left_eye, nose, mouth = keypoints[:4]
        assert right_eye[0] < left_eye[0]  # the subject's right eye is on the image's left
        assert max(right_eye[1], left_eye[1]) < nose[1] < mouth[1]
        assert all(inside(x, y, FACE) for x, y in keypoints[:4])


def test_keypoints_are_ephemeral(detector, photo):
    with detector.detect(photo) as result:
        face = result.faces[0]
        keypoints = face.keypoints
        assert isinstance(keypoints, facekit.EphemeralArray)
    assert np.count_nonzero(np.asarray(keypoints)) == 0
    for accessor in ("faces",):
        with pytest.raises(ExpiredFrameError):
            getattr(result, accessor)
    with pytest.raises(ExpiredFrameError):
        face.keypoints
    with pytest.raises(ExpiredFrameError):
        face.box


def test_a_new_call_expires_the_previous_result(detector, photo):
    first = detector.detect(photo)
    second = detector.detect(photo)
    assert first.expired and not second.expired
    second.close()


@pytest.mark.parametrize("layout", ["bgr", "rgba", "gray", "pil"])
def test_formats_agree(layout, photo):
    options = facekit.FaceDetectorOptions(color_format="bgr" if layout == "bgr" else "rgb")
    image = {
        "bgr": np.ascontiguousarray(photo[:, :, ::-1]),
        "rgba": np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)]),
        "gray": np.ascontiguousarray(photo.mean(axis=2).astype(np.uint8)),
    }.get(layout)
    if layout == "pil":
        from PIL import Image

        image = Image.fromarray(photo)
    with facekit.FaceDetector() as reference, facekit.FaceDetector(options) as detector:
        with reference.detect(photo) as want, detector.detect(image) as got:
            assert len(got.faces) == len(want.faces) == 1
            a, b = got.faces[0].box, want.faces[0].box
            if layout == "gray":  # other pixels, so a slightly different box
                assert box_iou(a, b) > 0.8
            else:  # the same pixels, so the same box
                assert (a.x, a.y, a.width, a.height) == pytest.approx((b.x, b.y, b.width, b.height),
                                                                       abs=1e-3)


def test_no_face_in_a_blank_or_noise_image(detector):
    rng = np.random.default_rng(0)
    for image in (np.zeros((480, 640, 3), np.uint8), rng.integers(0, 256, (300, 200, 3), np.uint8)):
        with detector.detect(image) as result:
            assert len(result.faces) == 0


def test_two_people(detector):
    image = facekit.load_image(shared_face("two_people.jpg"))
    with detector.detect(image) as result:
        assert len(result.faces) == 2
        boxes = sorted(f.box.x for f in result.faces)
        assert boxes[1] - boxes[0] > 100  # two different places


def test_max_faces_limits_the_result():
    image = facekit.load_image(shared_face("two_people.jpg"))
    with facekit.FaceDetector(facekit.FaceDetectorOptions(max_faces=1)) as detector:
        with detector.detect(image) as result:
            assert len(result.faces) == 1


BAD_IMAGES = {
    "float": (np.zeros((64, 64, 3), np.float32), "dtype must be uint8"),
    "empty": (np.zeros((0, 64, 3), np.uint8), "empty"),
    "one pixel": (np.zeros((1, 1, 3), np.uint8), "too small"),
    "one row": (np.zeros((1, 500, 3), np.uint8), "too small"),
    "5 channels": (np.zeros((64, 64, 5), np.uint8), "shape"),
    "huge": (np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (20000, 30, 3)), "side limit"),
}


@pytest.mark.parametrize("model", ["short_range", "centerface"])
@pytest.mark.parametrize("case", sorted(BAD_IMAGES))
def test_bad_images_raise_value_error(case, model):
    image, message = BAD_IMAGES[case]
    with facekit.FaceDetector(facekit.FaceDetectorOptions(model=model)) as detector:
        with pytest.raises(ValueError, match=message):
            detector.detect(image)


def test_not_an_image_is_a_type_error():
    with facekit.FaceDetector() as detector:
        with pytest.raises(TypeError):
            detector.detect("photo.jpg")


def test_options_are_validated():
    for bad in (dict(model="tiny"), dict(min_detection_confidence=1.5), dict(max_faces=0),
                dict(color_format="yuv"), dict(intra_op_threads=0)):
        with pytest.raises(ValueError):
            facekit.FaceDetectorOptions(**bad)


def test_closed_detector_refuses_work(photo):
    detector = facekit.FaceDetector()
    result = detector.detect(photo)
    detector.close()
    detector.close()  # twice is fine
    assert result.expired
    with pytest.raises(ClosedError):
        detector.detect(photo)


def test_auto_finds_a_small_face_that_short_range_misses(photo):
    import cv2

    # The portrait at a quarter size on a 1280x960 canvas: a face about 1/18 of the width.
    small = cv2.resize(photo, (photo.shape[1] // 4, photo.shape[0] // 4))
    canvas = np.full((960, 1280, 3), 90, np.uint8)
    canvas[300:300 + small.shape[0], 600:600 + small.shape[1]] = small
    with facekit.FaceDetector() as short_range, short_range.detect(canvas) as result:
        assert len(result.faces) == 0
    with facekit.FaceDetector(facekit.FaceDetectorOptions(model="auto")) as detector:
        with detector.detect(canvas) as result:
            assert len(result.faces) == 1
            box = result.faces[0].box
            assert 600 <= box.x + box.width / 2 <= 600 + small.shape[1]
            assert 300 <= box.y + box.height / 2 <= 300 + small.shape[0]


def test_consecutive_calls_each_see_their_own_image(detector, photo):
    # Each network run reuses the previous run's input/output binding when the frame arena
    # hands out the same addresses: every call must still read its own image and write its
    # own result (a stale binding would repeat the previous frame's boxes).
    def box(image):
        with detector.detect(image) as result:
            assert len(result.faces) == 1
            b = result.faces[0].box
            return b.x, b.y, b.width, b.height

    width = photo.shape[1]
    first = box(photo)
    mirrored = box(np.ascontiguousarray(photo[:, ::-1]))
    assert mirrored[0] == pytest.approx(width - first[0] - first[2], abs=15)
    assert abs(mirrored[0] - first[0]) > 20  # the face is off-centre: the boxes differ
    half = box(np.ascontiguousarray(photo[::2, ::2]))
    assert half[2] == pytest.approx(first[2] / 2, rel=0.1)
    assert box(photo) == first  # the same image again gives exactly the same box
