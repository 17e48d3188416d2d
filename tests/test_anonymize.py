"""anonymize(): every face covered so that neither detector finds one again, nor an independent
one (dlib's HOG detector); nothing else touched; fails closed when a face survives; bad input
refused, by the native cover too."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from support import SHARED_FACES, shared_face

import facekit
from facekit import FaceDetector, FaceDetectorOptions
from facekit.anonymize import Anonymizer, AnonymizerOptions
from facekit.errors import AnonymizationError

METHODS = ["pixelate", "blur", "solid"]


@pytest.fixture(scope="module")
def detectors():
    found = [FaceDetector(FaceDetectorOptions(model=m, max_faces=100))
             for m in ("short_range", "full_range")]
    yield found
    for d in found:
        d.close()


@pytest.fixture(scope="module")
def hog():
    """dlib's HOG frontal detector: an oracle independent of the BlazeFace networks anonymize
    loops on. Its absence fails the tests that need it."""
    try:
        import dlib
    except ImportError as error:
        pytest.fail(f"dlib (dlib-bin, the dev extra) is the independent oracle: {error}")
    return dlib.get_frontal_face_detector()


def _hog_faces(hog, image) -> int:
    # One upsampling (faces down to about 40 px) where it is affordable; larger photos have
    # faces of hundreds of pixels.
    return len(hog(np.ascontiguousarray(image), 1 if max(image.shape[:2]) <= 1280 else 0))


def _faces(detectors, image) -> int:
    total = 0
    for d in detectors:
        with d.detect(image) as result:
            total = max(total, len(result.faces))
    return total


def _photos():
    shared_face("obama.jpg")  # skips with the reason when the shared folder is absent
    return sorted(p for p in SHARED_FACES.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


@pytest.mark.parametrize("method", METHODS)
def test_no_detectable_face_remains_on_any_photo(detectors, hog, method):
    # Both BlazeFace networks and, independently, dlib's HOG detector find the face(s) before
    # (a positive control) and none after; no photo needs the whole-frame fallback.
    with Anonymizer(method) as worker:
        for path in _photos():
            image = facekit.load_image(path)
            out = worker.apply(image)
            assert _faces(detectors, image) >= 1 and _hog_faces(hog, image) >= 1, path.name
            assert _faces(detectors, out) == 0, (method, path.name)
            assert _hog_faces(hog, out) == 0, (method, path.name)
            assert not worker.covered_whole_frame, (method, path.name)
            assert out.shape == image.shape and out.dtype == np.uint8
        assert worker.whole_frames_covered == 0


@pytest.mark.parametrize("method", METHODS)
def test_independent_detector_finds_no_face_in_the_bundled_sample(hog, photo, method):
    assert _hog_faces(hog, photo) == 1
    out = facekit.anonymize(photo, method)
    assert _hog_faces(hog, out) == 0
    assert 0.02 < np.any(out != photo, axis=2).mean() < 0.6  # the face, not the whole picture


@pytest.fixture
def covers_nothing(monkeypatch):
    """Every per-face cover does nothing, so every round still finds the face."""
    monkeypatch.setattr(Anonymizer, "_cover", lambda *args: None)


@pytest.mark.parametrize("method", METHODS)
def test_a_face_that_survives_every_round_gets_the_whole_frame_covered(
        detectors, hog, photo, covers_nothing, method):
    with Anonymizer(method, color=(0, 255, 0)) as worker:
        out = worker.apply(photo)
        assert _hog_faces(hog, out) == 0 and _faces(detectors, out) == 0
        assert np.all(out == (0, 255, 0))  # filled whole, never handed back with the face
        assert worker.covered_whole_frame and worker.whole_frames_covered == 1
        assert np.any(photo != (0, 255, 0))  # the input is untouched
        faceless = np.full((120, 160, 3), 90, np.uint8)
        assert np.array_equal(worker.apply(faceless), faceless)
        assert not worker.covered_whole_frame and worker.whole_frames_covered == 1


def test_a_surviving_face_in_bgra_and_gray_images_is_filled_in_their_own_format(photo, covers_nothing):
    bgra = np.dstack([photo[..., ::-1], np.full(photo.shape[:2], 77, np.uint8)])
    out = facekit.anonymize(bgra, color=(10, 20, 30), color_format="bgr")
    assert np.all(out == (30, 20, 10, 77))  # colour in BGR order; alpha kept
    gray = np.ascontiguousarray(photo.mean(axis=2).astype(np.uint8))
    assert np.all(facekit.anonymize(gray, color=(10, 20, 30)) == 18)  # the colour's luma


def test_on_failure_raise_refuses_to_return_an_image_with_a_face(photo, covers_nothing):
    with pytest.raises(AnonymizationError, match="still found after 3 cover rounds"):
        facekit.anonymize(photo, "blur", on_failure="raise")
    with Anonymizer(on_failure="raise") as worker:
        with pytest.raises(RuntimeError):  # AnonymizationError is a RuntimeError too
            worker.apply(photo)
        assert not worker.covered_whole_frame


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


@pytest.mark.parametrize("kwargs,error,message", [
    ({"method": "smudge"}, ValueError, "method must be"),
    ({"method": None}, TypeError, "method must be"),
    ({"padding": -1}, ValueError, "padding must lie"),
    ({"padding": float("nan")}, ValueError, "padding must lie"),
    ({"padding": np.float32(2.5)}, ValueError, "padding must lie"),
    ({"padding": "x"}, TypeError, "padding must be a real number"),
    ({"padding": None}, TypeError, "padding must be a real number"),
    ({"padding": True}, TypeError, "padding must be a real number"),
    ({"padding": np.bool_(True)}, TypeError, "padding must be a real number"),
    ({"color": (300, 0, 0)}, ValueError, "color must be"),
    ({"color": (-1, 0, 0)}, ValueError, "color must be"),
    ({"color": (0, 0)}, ValueError, "color must be"),
    ({"color": (0, 0, 0, 0)}, ValueError, "color must be"),
    ({"color": (0.5, 0, 0)}, TypeError, "color must be"),
    ({"color": (True, 0, 0)}, TypeError, "color must be"),
    ({"color": "red"}, TypeError, "color must be"),
    ({"color": 7}, TypeError, "color must be"),
    ({"color_format": "hsv"}, ValueError, "color_format must be"),
    ({"color_format": 1}, TypeError, "color_format must be"),
    ({"on_failure": "ignore"}, ValueError, "on_failure must be"),
])
def test_bad_options_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        Anonymizer(**kwargs)


def test_numpy_numbers_are_accepted_as_options():
    with Anonymizer(np.str_("solid"), padding=np.float32(0.5),
                    color=np.array([1, 2, 3], np.uint8), on_failure="raise") as worker:
        assert worker.options.padding == 0.5 and type(worker.options.padding) is float
        color = worker.options.color
        assert color == (1, 2, 3) and all(type(c) is int for c in color)
    with Anonymizer(padding=np.int64(1), color=(np.int16(255), 0, np.uint8(7))) as worker:
        assert worker.options.padding == 1.0 and worker.options.color == (255, 0, 7)


def test_bad_images_are_refused():
    with pytest.raises(ValueError, match="dtype"):
        facekit.anonymize(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError):
        facekit.anonymize(np.zeros((0, 10, 3), np.uint8))


# The native cover is called directly, each case in a child process so that a crash or a hang
# (an overflowed loop) fails the case instead of the run.
_NATIVE_PRELUDE = """
import numpy as np
from facekit import SecureArena, _native
cover = _native.anonymize.cover
MAX = _native.anonymize.MAX_BLOCK
arena = SecureArena()._native
rng = np.random.default_rng(7)
def image(h=40, w=60, c=3):
    return rng.integers(0, 256, (h, w, c) if c else (h, w), dtype=np.uint8)
def refused(error, text, *args):
    try:
        cover(*args)
    except error as e:
        assert text in str(e), (text, str(e))
    else:
        raise AssertionError(f"accepted {args[1:]!r}")
"""

_NATIVE_CASES = {
    "huge and negative blocks are refused": """
        for method in ("pixelate", "blur", "solid"):
            for block in (0, -1, -2**31, MAX + 1, 2**31 - 1, 2**31, 2**40, 2**63 - 1):
                refused(ValueError, "block must lie in [1, 2048]", image(), (0, 0, 60, 40), method, block, (0, 0, 0), arena)
            refused(TypeError, "", image(), (0, 0, 60, 40), method, 2**64, (0, 0, 0), arena)
    """,
    "the largest block blurs without overflow": """
        # Box sums of a white image at the largest radius stay exact: white stays white.
        for h, w in ((40, 60), (3, 1), (1, 5000)):
            white = np.full((h, w, 3), 255, np.uint8)
            cover(white, (0, 0, w, h), "blur", MAX, (0, 0, 0), arena)
            assert np.all(white == 255)
        flat = np.full((50, 70), 131, np.uint8)
        cover(flat, (-9, -9, 99, 99), "blur", MAX, (0, 0, 0), arena)
        assert np.all(flat == 131)
    """,
    "the largest block pixelates to the mean": """
        picture = image(300, 500, 4)
        expected = np.round(picture.reshape(-1, 4).astype(np.float64).mean(axis=0))
        cover(picture, (0, 0, 500, 300), "pixelate", MAX, (0, 0, 0), arena)
        assert np.all(np.abs(picture.astype(int) - expected) <= 0.5 + 1e-9)
    """,
    "huge boxes are clipped to the image": """
        big = 2**62
        for box in ((-big, -big, big, big), (-2**63, -2**63, 2**63 - 1, 2**63 - 1)):
            picture = image()
            cover(picture, box, "solid", 1, (1, 2, 3), arena)
            assert np.all(picture == (1, 2, 3))
        picture = image()
        reference = picture.astype(np.float64)
        cover(picture, (-big, -big, big, big), "pixelate", 7, (0, 0, 0), arena)
        for y in range(0, 40, 7):
            for x in range(0, 60, 7):
                cell = reference[y:y + 7, x:x + 7].reshape(-1, 3).mean(axis=0)
                assert np.all(np.abs(picture[y:y + 7, x:x + 7] - cell) <= 0.5 + 1e-9), (y, x)
        for box in ((big, big, 2**63 - 1, 2**63 - 1), (-big, 0, -1, 40), (30, 20, 10, 5)):
            picture = image()
            before = picture.copy()
            cover(picture, box, "solid", 1, (1, 2, 3), arena)
            assert np.array_equal(picture, before), box
        refused(TypeError, "", image(), (0, 0, 2**64, 10), "solid", 1, (0, 0, 0), arena)
        refused(TypeError, "", image(), (0, 0, 10), "solid", 1, (0, 0, 0), arena)
    """,
    "bad methods and colours are refused": """
        refused(ValueError, "method must be 'pixelate', 'blur', 'solid' or 'mask'", image(), (0, 0, 9, 9), "smudge", 4, (0, 0, 0), arena)
        refused(ValueError, "a picture needs cover_ellipse", image(), (0, 0, 9, 9), "mask", 4, (0, 0, 0), arena)
        for color in ((256, 0, 0), (0, -1, 0), (0, 0, 2**40)):
            refused(ValueError, "color channels lie in 0..255", image(), (0, 0, 9, 9), "solid", 1, color, arena)
        for color in ((0, 0), (0, 0, 0, 0), (0, 0, 2**64)):
            refused(TypeError, "", image(), (0, 0, 9, 9), "solid", 1, color, arena)
        refused(TypeError, "arena must be", image(), (0, 0, 9, 9), "blur", 3, (0, 0, 0), object())
    """,
    "bad images are refused": """
        box = (0, 0, 9, 9)
        def refuses(picture, text):
            refused(ValueError, text, picture, box, "pixelate", 4, (0, 0, 0), arena)
        refuses(np.zeros((40, 60, 3), np.float32), "dtype must be uint8")
        refuses(np.zeros((40, 60, 3), np.int8), "dtype must be uint8")
        refuses(np.zeros((40, 60, 3), bool), "dtype must be uint8")
        refuses(np.zeros((40, 60, 2), np.uint8), "is not HxW, HxWx1, HxWx3 or HxWx4")
        refuses(np.zeros((40, 60, 5), np.uint8), "is not HxW, HxWx1, HxWx3 or HxWx4")
        refuses(np.zeros((40, 60, 3, 1), np.uint8), "is not HxW, HxWx1, HxWx3 or HxWx4")
        refuses(np.zeros(40, np.uint8), "is not HxW, HxWx1, HxWx3 or HxWx4")
        refuses(np.zeros((0, 60, 3), np.uint8), "empty")
        refuses(np.zeros((40, 0), np.uint8), "empty")
        refuses(np.zeros((40, 60, 0), np.uint8), "is not HxW")
        refuses(image()[:, ::2], "packed")
        refuses(np.zeros((40, 60, 3), np.uint8).transpose(1, 0, 2)[:, :, ::-1], "packed")
        overlapping = np.lib.stride_tricks.as_strided(np.zeros(200, np.uint8), (40, 60), (1, 1), writeable=True)
        refuses(overlapping, "row stride")
        refuses(np.zeros((16385, 1), np.uint8), "side limit")
        frozen = image()
        frozen.flags.writeable = False
        refuses(frozen, "read-only")
    """,
    "flipped and padded rows are covered in place": """
        picture = image(41, 61)
        expected = np.ascontiguousarray(picture[::-1])
        cover(expected, (5, 6, 50, 30), "blur", 4, (0, 0, 0), arena)
        flipped = picture[::-1]
        cover(flipped, (5, 6, 50, 30), "blur", 4, (0, 0, 0), arena)
        assert np.array_equal(flipped, expected)
        padded = np.zeros((41, 80, 3), np.uint8)
        padded[:, :61] = picture
        view = padded[:, :61]
        cover(view, (-3, -3, 99, 99), "solid", 1, (9, 8, 7), arena)
        assert np.all(view == (9, 8, 7)) and np.all(padded[:, 61:] == 0)
        gray = image(30, 30, 0)
        cover(gray, (0, 0, 30, 30), "solid", 1, (5, 200, 200), arena)
        assert np.all(gray == 5)
    """,
}


@pytest.mark.parametrize("case", sorted(_NATIVE_CASES))
def test_native_cover_validates_everything_it_is_given(case):
    code = _NATIVE_PRELUDE + textwrap.dedent(_NATIVE_CASES[case]) + "\nprint('ok')\n"
    run = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "ok", (run.returncode, run.stderr[-2000:])


def test_a_face_only_centerface_finds_is_covered():
    """A face turned 135 degrees: both BlazeFace networks miss it even at the search score,
    CenterFace finds it, so the anonymizer covers it. Where the face is comes from the upright
    photo (the short-range network's box there, turned with the image), not from CenterFace."""
    from PIL import Image

    upright = Image.open(shared_face("obama-720p.jpg")).convert("RGB")
    with FaceDetector(FaceDetectorOptions(model="short_range")) as d, \
            d.detect(np.asarray(upright)) as result:
        (face,) = result.faces
        cx, cy = face.box.x + face.box.width / 2, face.box.y + face.box.height / 2
        half = face.box.width / 4
    turned = upright.rotate(135, expand=True)  # counter-clockwise, about the centre
    image = np.asarray(turned)
    angle = np.radians(135)
    dx, dy = cx - upright.width / 2, cy - upright.height / 2
    x = turned.width / 2 + dx * np.cos(angle) + dy * np.sin(angle)
    y = turned.height / 2 - dx * np.sin(angle) + dy * np.cos(angle)
    for model in ("short_range", "full_range"):
        options = FaceDetectorOptions(model=model, min_detection_confidence=0.35)
        with FaceDetector(options) as d, d.detect(image) as result:
            assert not result.faces, model  # the case this test exists for
    with FaceDetector(FaceDetectorOptions(model="centerface")) as d, d.detect(image) as result:
        assert len(result.faces) == 1

    with Anonymizer() as anonymizer:
        out = anonymizer.apply(image)
        assert not anonymizer.covered_whole_frame
    region = (slice(int(y - half), int(y + half)), slice(int(x - half), int(x + half)))
    changed = np.abs(out[region].astype(int) - image[region]).max(axis=2) > 0
    assert changed.mean() > 0.9
    with FaceDetector(FaceDetectorOptions(model="centerface")) as d, d.detect(out) as result:
        assert not result.faces


def test_a_half_face_only_centerface_finds_is_covered(photo):
    """A profile made by cropping: the image's left part up to 35% into the face of the
    committed portrait. Both BlazeFace networks miss it at the search score, CenterFace finds
    it, the anonymizer covers it. The visible part of the face is known from the upright photo
    (the full-range network's box), not from CenterFace."""
    with FaceDetector(FaceDetectorOptions(model="full_range")) as d, d.detect(photo) as result:
        (face,) = result.faces
        x, y, w, h = face.box.x, face.box.y, face.box.width, face.box.height
    left, top = int(x - w), int(y - h)
    image = np.ascontiguousarray(photo[max(0, top):int(y + 2 * h), max(0, left):int(x + 0.35 * w)])
    for model in ("short_range", "full_range"):
        options = FaceDetectorOptions(model=model, min_detection_confidence=0.35)
        with FaceDetector(options) as d, d.detect(image) as result:
            assert not result.faces, model  # the case this test exists for
    with FaceDetector(FaceDetectorOptions(model="centerface")) as d, d.detect(image) as result:
        assert len(result.faces) == 1

    with Anonymizer() as anonymizer:
        out = anonymizer.apply(image)
        assert not anonymizer.covered_whole_frame
    fx, fy = int(x) - max(0, left), int(y) - max(0, top)
    region = (slice(fy, fy + int(h)), slice(fx, image.shape[1]))  # the visible part
    changed = np.abs(out[region].astype(int) - image[region]).max(axis=2) > 0
    assert changed.mean() > 0.9
    with FaceDetector(FaceDetectorOptions(model="centerface")) as d, d.detect(out) as result:
        assert not result.faces


def test_options_compare_and_hash_a_mask_image_by_value():
    """Two options with equal mask pictures (separate arrays) are equal and hash alike; another
    picture makes them differ; every field takes part in the comparison."""
    import dataclasses

    picture = np.zeros((8, 8, 3), np.uint8)
    first = AnonymizerOptions(method="mask", mask_image=picture)
    same = AnonymizerOptions(method="mask", mask_image=picture.copy())
    other = AnonymizerOptions(method="mask", mask_image=picture + 1)
    assert first == same and hash(first) == hash(same)
    assert first != other
    assert len(first._key()) == len(dataclasses.fields(AnonymizerOptions))
    assert AnonymizerOptions(hold_frames=3) != AnonymizerOptions(hold_frames=4)
