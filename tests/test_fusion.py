"""Face fusion (issue 14): the FaceFuser API, and properties of its output on real photos.

Figures the tests measure (identity rates, pose error, seam CIEDE2000, flicker) are printed
(``pytest -s``) and recorded with ``record_property`` (in ``--junitxml``). Fusers, landmarkers
and the verifier are shared per module: each loads its networks once.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import subprocess
import sys
import tempfile
import threading

import numpy as np
import pytest
from support import DATA, shared_face, shared_video

import facekit
from facekit import (
    FaceFuser,
    FaceLandmarker,
    FaceVerifier,
    FusionOptions,
    FusionResult,
    RunningMode,
)
from facekit.beauty import mesh_regions
from facekit.errors import (
    BiometricExportError,
    ClosedError,
    ConcurrentUseError,
    ConsentRequiredError,
    NoFaceError,
    NotSamePersonError,
)
from facekit.fusion import MAX_TEMPLATE_FACES, triangles

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless comes with the test extra")

CONSENT = "test suite: public-domain portraits and the project's shared test photos"
STEPS = (0.0, 0.25, 0.5, 0.75, 1.0)
# (user, template): different people, each direction.
DIFFERENT = [("biden.jpg", "obama.jpg"), ("obama.jpg", "biden.jpg"),
             ("rose_leslie_img1.jpg", "kit_harington_john1.jpeg"),
             ("kit_harington_john1.jpeg", "rose_leslie_img1.jpg"),
             ("rose_leslie_img2.jpg", "kit_harington_john2.jpeg"),
             ("kit_harington_john2.jpeg", "rose_leslie_img2.jpg"),
             ("alex_lacamoire_img1.jpg", "obama2.jpg"), ("obama2.jpg", "alex_lacamoire_img1.jpg")]
SAME = [("obama2.jpg", "obama.jpg"), ("rose_leslie_img2.jpg", "rose_leslie_img1.jpg")]
LEFT_EYE_OUTER, RIGHT_EYE_OUTER, UPPER_LIP_INNER, LOWER_LIP_INNER = 33, 263, 13, 14


# ---- shared pipelines and photos --------------------------------------------------------------

@pytest.fixture(scope="module")
def fuser_for():
    """FaceFuser by options (created once per module; closed at its end)."""
    made: dict[FusionOptions, FaceFuser] = {}

    def get(options: FusionOptions | None = None, **fields) -> FaceFuser:
        options = options or FusionOptions(consent=CONSENT, label=False, **fields)
        if options not in made:
            made[options] = FaceFuser.create_from_options(options)
        return made[options]

    yield get
    for fuser in made.values():
        fuser.close()


@pytest.fixture(scope="module")
def landmarker():
    with FaceLandmarker(facekit.FaceLandmarkerOptions(max_faces=6)) as made:
        yield made


@pytest.fixture(scope="module")
def verifier():
    with FaceVerifier() as made:
        yield made


@pytest.fixture(scope="module")
def sample():
    """The committed portrait (template) and its mirror image (user): always available."""
    photo = facekit.load_image(DATA / "obama.jpg")
    return photo, np.ascontiguousarray(photo[:, ::-1])


def _face(name: str) -> np.ndarray:
    return facekit.load_image(shared_face(name))


def fuse(fuser: FaceFuser, user_photo: np.ndarray, template: np.ndarray) -> np.ndarray:
    with fuser.user(user_photo) as user:
        return user.fuse(template).image


def mesh(landmarker: FaceLandmarker, image: np.ndarray) -> np.ndarray:
    """The largest face's 468 points (x, y): the test's own copy, of public photos."""
    with landmarker.detect(image) as result:
        face = max(result.faces, key=lambda f: f.roi.width)
        return np.array(face.landmarks)[:468, :2]


def iod(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[LEFT_EYE_OUTER] - points[RIGHT_EYE_OUTER]))


def trace(fuser: FaceFuser, landmarker: FaceLandmarker, user_photo: np.ndarray,
          template: np.ndarray) -> tuple[np.ndarray, dict]:
    """The native fuse of `fuser`'s options on the largest template face, with its trace
    (region, margin, min_area, mask): a test-only look under the public API."""
    from facekit import _native
    from facekit.arena import native_arena

    out = template.copy()
    with fuser.user(user_photo) as user, landmarker.detect(template) as result, \
            facekit.SecureArena() as arena, arena.frame() as frame:
        face = max(result.faces, key=lambda f: f.roi.width)
        prepared = user._prepared
        info = _native.fusion.fuse(template, out, "rgb", face.landmarks, prepared["texture"],
                                   prepared["mesh"], prepared["skin"], triangles(),
                                   mesh_regions(), fuser.options._params(),
                                   native_arena(frame), None, trace=True)
        plain = {k: (np.array(v) if k in ("mask", "warp") else v) for k, v in info.items()}
    return out, plain


# ---- CIEDE2000 (Sharma, Wu and Dalal 2005), written from the paper's formulas ------------------

def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """ΔE00 between two arrays of CIE Lab colours (..., 3)."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, np.float64), -1, 0)
    C1, C2 = np.hypot(a1, b1), np.hypot(a2, b2)
    C_bar7 = ((C1 + C2) / 2) ** 7
    G = 0.5 * (1 - np.sqrt(C_bar7 / (C_bar7 + 25.0 ** 7)))
    a1p, a2p = (1 + G) * a1, (1 + G) * a2
    C1p, C2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dLp, dCp = L2 - L1, C2p - C1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(C1p * C2p == 0, 0, dh)
    dHp = 2 * np.sqrt(C1p * C2p) * np.sin(np.radians(dh / 2))
    Lp_bar, Cp_bar = (L1 + L2) / 2, (C1p + C2p) / 2
    hsum = h1p + h2p
    hp_bar = np.where(C1p * C2p == 0, hsum,
                      np.where(np.abs(h1p - h2p) <= 180, hsum / 2,
                               np.where(hsum < 360, (hsum + 360) / 2, (hsum - 360) / 2)))
    T = (1 - 0.17 * np.cos(np.radians(hp_bar - 30)) + 0.24 * np.cos(np.radians(2 * hp_bar))
         + 0.32 * np.cos(np.radians(3 * hp_bar + 6)) - 0.20 * np.cos(np.radians(4 * hp_bar - 63)))
    d_theta = 30 * np.exp(-(((hp_bar - 275) / 25) ** 2))
    Cp_bar7 = Cp_bar ** 7
    R_C = 2 * np.sqrt(Cp_bar7 / (Cp_bar7 + 25.0 ** 7))
    S_L = 1 + 0.015 * (Lp_bar - 50) ** 2 / np.sqrt(20 + (Lp_bar - 50) ** 2)
    S_C, S_H = 1 + 0.045 * Cp_bar, 1 + 0.015 * Cp_bar * T
    R_T = -np.sin(np.radians(2 * d_theta)) * R_C
    return np.sqrt((dLp / S_L) ** 2 + (dCp / S_C) ** 2 + (dHp / S_H) ** 2
                   + R_T * (dCp / S_C) * (dHp / S_H))


def test_ciede2000_matches_sharmas_published_pairs():
    # Pairs 1-4, 7 and 13 of the test data published with the formula (Sharma et al. 2005).
    pairs = [((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
             ((50, 3.1571, -77.2803), (50, 0, -82.7485), 2.8615),
             ((50, 2.8361, -74.0200), (50, 0, -82.7485), 3.4412),
             ((50, -1.3802, -84.2814), (50, 0, -82.7485), 1.0000),
             ((50, 0, 0), (50, -1, 2), 2.3669),
             ((50, 2.5, 0), (56, -27, -3), 31.9030)]
    first, second, expected = (np.array(x, np.float64) for x in zip(*pairs))
    assert np.allclose(ciede2000(first, second), expected, atol=1e-4)


def lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)


def seam_difference(image: np.ndarray, mask: np.ndarray, offset: int = 3) -> float:
    """Mean ΔE00 between the pixels `offset` px inside and outside the edge of a binary mask,
    paired along the edge's normal (bilinear samples)."""
    binary = (mask > 0).astype(np.uint8)
    edge = binary - cv2.erode(binary, np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero(edge)
    smooth = cv2.GaussianBlur(binary.astype(np.float32), (0, 0), 2.0)
    gy, gx = np.gradient(smooth)
    norm = np.hypot(gx[ys, xs], gy[ys, xs])
    keep = norm > 1e-3
    ys, xs, norm = ys[keep], xs[keep], norm[keep]
    nx, ny = gx[ys, xs] / norm, gy[ys, xs] / norm  # points inward (the mask rises inward)
    colours = lab(image)

    def sample(sx, sy):
        return cv2.remap(colours, sx.astype(np.float32)[None], sy.astype(np.float32)[None],
                         cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)[0]

    inside = sample(xs + offset * nx, ys + offset * ny)
    outside = sample(xs - offset * nx, ys - offset * ny)
    return float(ciede2000(inside, outside).mean())


# ---- the API -----------------------------------------------------------------------------------

def test_consent_is_required_and_names_the_rule():
    for missing in (FusionOptions(), FusionOptions(consent=""), FusionOptions(consent="  ")):
        with pytest.raises(ConsentRequiredError, match="Art. 14"):
            FaceFuser.create_from_options(missing)
    assert issubclass(ConsentRequiredError, ValueError)
    with pytest.raises(TypeError, match="consent"):
        FusionOptions(consent=True)


@pytest.mark.parametrize("fields, error, match", [
    ({"shape": 1.5}, ValueError, "shape"),
    ({"features": "1"}, TypeError, "features"),
    ({"features": float("nan")}, ValueError, "features"),
    ({"template_faces": "some"}, ValueError, "template_faces"),
    ({"template_faces": [0, 0]}, ValueError, "template_faces"),
    ({"template_faces": [MAX_TEMPLATE_FACES]}, ValueError, "template_faces"),
    ({"template_faces": 0}, TypeError, "template_faces"),
    ({"keep_mouth": 1}, TypeError, "keep_mouth"),
    ({"keep_eyes": None}, TypeError, "keep_eyes"),
    ({"blend": "alpha"}, ValueError, "blend"),
    ({"blend": "poisson", "running_mode": RunningMode.VIDEO}, ValueError, "poisson"),
    ({"smoothing": 2}, ValueError, "smoothing"),
    ({"label": "yes"}, TypeError, "label"),
    ({"label_options": {"text": "x"}}, TypeError, "label_options"),
    ({"max_faces": MAX_TEMPLATE_FACES + 1}, ValueError, "max_faces"),
    ({"running_mode": "video"}, ValueError, "running_mode"),
    ({"color_format": "yuv"}, ValueError, "color_format"),
    ({"intra_op_threads": 0}, ValueError, "intra_op_threads"),
])
def test_bad_options_are_refused_naming_the_field(fields, error, match):
    with pytest.raises(error, match=match):
        FusionOptions(consent=CONSENT, **fields)


def test_options_are_frozen_plain_and_the_swap_preset_composes():
    options = FusionOptions(shape=np.float32(0.25), template_faces=[1, 0], consent=CONSENT)
    assert type(options.shape) is float and options.template_faces == (1, 0)
    with pytest.raises(AttributeError):
        options.shape = 1.0  # type: ignore[misc]
    swap = FusionOptions.swap(consent=CONSENT, label=False)
    assert (swap.shape, swap.features, swap.keep_eyes, swap.keep_mouth, swap.label) == (
        1.0, 1.0, False, True, False)
    assert swap.replace(shape=0.5).shape == 0.5


def test_fused_output_is_labelled_and_carries_provenance(fuser_for, sample, tmp_path):
    template, photo = sample
    labelled = fuser_for(FusionOptions(consent=CONSENT, shape=0.5, features=0.8))
    plain = fuser_for(shape=0.5, features=0.8)
    with labelled.user(photo) as user:
        result = user.fuse(template)
    assert isinstance(result, FusionResult) and result.image.shape == template.shape
    provenance = result.provenance
    assert provenance.ai_generated and provenance.visible_label
    assert provenance.label_text == "AI-generated" and provenance.consent == CONSENT
    assert provenance.operation == "face_fusion" and provenance.producer == "facekit"
    unlabelled = fuse(plain, photo, template)
    corner = (slice(int(0.9 * template.shape[0]), None), slice(int(0.6 * template.shape[1]), None))
    assert np.any(result.image[corner] != unlabelled[corner])  # the visible mark
    with labelled.user(photo) as user:
        again = user.fuse(template)
    assert np.array_equal(again.image, result.image)
    # A fresh random id per result, never derived from the faces; no field but the consent
    # text comes from the caller.
    assert again.provenance.content_id != provenance.content_id
    assert dataclasses.replace(again.provenance, content_id=provenance.content_id) == provenance
    with plain.user(photo) as user:
        off = user.fuse(template).provenance
    assert not off.visible_label and off.label_text is None and off.ai_generated
    for suffix in (".png", ".jpg"):
        facekit.save_image(tmp_path / f"out{suffix}", result)
        read = facekit.read_labels(tmp_path / f"out{suffix}")
        assert read["aigc"] and read["digital_source_type"] == provenance.digital_source_type


def test_the_user_scope_ends_and_refuses_export(fuser_for, sample):
    template, photo = sample
    fuser = fuser_for(shape=0.5, features=0.5)
    with fuser.user(photo) as user:
        for export in (pickle.dumps, copy.copy, copy.deepcopy, json.dumps):
            with pytest.raises(BiometricExportError):
                export(user)
        assert "open" in repr(user)
    assert user.expired and "ended" in repr(user)
    with pytest.raises(ClosedError, match="ended"):
        user.fuse(template)


def test_close_ends_every_user_scope_and_the_fuser(sample):
    template, photo = sample
    fuser = FaceFuser.create_from_options(FusionOptions(consent=CONSENT))
    user = fuser.user(photo)
    fuser.close()
    assert user.expired
    with pytest.raises(ClosedError):
        user.fuse(template)
    with pytest.raises(ClosedError):
        fuser.user(photo)
    fuser.close()  # twice is fine
    with pytest.raises(facekit.errors.NotPicklableError):
        pickle.dumps(FaceFuser.create_from_options(FusionOptions(consent=CONSENT)))


def test_one_thread_at_a_time(fuser_for, sample):
    from facekit import _observe

    template, photo = sample
    fuser = fuser_for(shape=0.3, features=0.3)
    errors: list[Exception] = []
    with fuser.user(photo) as user:
        def meanwhile(name: str, where: dict) -> None:
            # Inside this thread's fuse call (its landmarker is running): another thread's call.
            worker = threading.Thread(target=_catch, args=(errors, user.fuse, template))
            worker.start()
            worker.join()

        with _observe.listening("network-run", meanwhile):
            user.fuse(template)
        with FaceLandmarker() as other, other.detect(template) as faces:
            worker = threading.Thread(target=_catch, args=(errors, user.fuse, template),
                                      kwargs={"faces": faces})
            worker.start()
            worker.join()
    assert errors and all(isinstance(e, ConcurrentUseError) for e in errors), errors
    assert len(errors) >= 2


def _catch(errors, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001  the test inspects it
        errors.append(exc)


def test_shared_faces_give_the_same_image(fuser_for, sample):
    template, photo = sample
    fuser = fuser_for(shape=0.7, features=0.7)
    with FaceLandmarker(fuser.options.landmarker_options()) as own, \
            fuser.user(photo) as user:
        alone = user.fuse(template).image
        with own.detect(template) as faces:
            shared = user.fuse(template, faces=faces).image
        with own.detect(photo) as photo_faces, fuser.user(photo, faces=photo_faces) as again:
            assert np.array_equal(again.fuse(template).image, alone)
    assert np.array_equal(shared, alone)
    with pytest.raises(facekit.errors.ExpiredFrameError):
        with fuser.user(photo) as user:
            user.fuse(template, faces=faces)  # that result's frame has ended


def test_zero_strengths_return_the_template_unchanged(fuser_for, sample):
    template, photo = sample
    assert np.array_equal(fuse(fuser_for(shape=0.0, features=0.0), photo, template), template)


def test_gray_bgr_and_rgba_inputs(fuser_for, sample):
    template, photo = sample
    options = FusionOptions(consent=CONSENT, label=False, shape=0.6, features=0.6)
    rgb = fuse(fuser_for(options), photo, template)
    bgr = fuse(fuser_for(options.replace(color_format="bgr")), photo[:, :, ::-1],
               template[:, :, ::-1])
    assert np.array_equal(bgr, rgb[:, :, ::-1])
    alpha = np.full(template.shape[:2] + (1,), 77, np.uint8)
    rgba = fuse(fuser_for(options), photo, np.concatenate([template, alpha], axis=2))
    assert np.array_equal(rgba[:, :, :3], rgb) and np.all(rgba[:, :, 3] == 77)
    gray = cv2.cvtColor(template, cv2.COLOR_RGB2GRAY)
    with pytest.raises(ValueError, match="gray"):
        fuse(fuser_for(options), photo, gray)
    with pytest.raises(ValueError, match="gray"):
        fuse(fuser_for(options), gray, template)


def test_no_face_and_tiny_faces_are_refused_clearly(fuser_for, sample):
    template, photo = sample
    fuser = fuser_for(shape=0.5, features=0.5)
    blank = np.full((400, 300, 3), 128, np.uint8)
    with pytest.raises(NoFaceError, match="user"):
        fuser.user(blank)
    with fuser.user(photo) as user, pytest.raises(NoFaceError, match="template"):
        user.fuse(blank)
    tiny = cv2.resize(photo, (60, 75), interpolation=cv2.INTER_AREA)
    min_width = facekit._native.fusion.MIN_FACE_WIDTH
    with pytest.raises(ValueError, match=f"{min_width}"):
        fuser.user(tiny)
    with fuser.user(photo) as user, pytest.raises(ValueError, match=f"{min_width}"):
        user.fuse(cv2.resize(template, (60, 75), interpolation=cv2.INTER_AREA))


def test_methods_match_the_running_mode(fuser_for, sample):
    template, photo = sample
    with fuser_for(shape=0.5, features=0.5).user(photo) as user:
        with pytest.raises(ValueError, match="fuse\\(\\)"):
            user.fuse_for_video(template, 0)
    video = fuser_for(shape=0.5, features=0.5, running_mode=RunningMode.VIDEO)
    with video.user(photo) as user:
        with pytest.raises(ValueError, match="fuse_for_video"):
            user.fuse(template)
        user.fuse_for_video(template, 5)
        with pytest.raises(ValueError, match="increase"):
            user.fuse_for_video(template, 5)
        with pytest.raises(TypeError, match="integer"):
            user.fuse_for_video(template, 6.0)


def test_fuse_many_fuses_each_user_into_its_face(fuser_for, landmarker):
    template = _face("two_people.jpg")
    fuser = fuser_for(shape=0.8, features=0.8)
    with fuser.user(_face("rose_leslie_img1.jpg")) as a, \
            fuser.user(_face("kit_harington_john1.jpeg")) as b:
        both = fuser.fuse_many(template, {0: a, 1: b}).image
        first = fuser.fuse_many(template, {0: a}).image
        with pytest.raises(NoFaceError, match="template face 5"):
            fuser.fuse_many(template, {5: a})
        with pytest.raises(TypeError, match="UserFace"):
            fuser.fuse_many(template, {0: "a"})
    changed_both = np.any(both != template, axis=2)
    changed_first = np.any(first != template, axis=2)
    assert changed_first.sum() > 1000 and changed_both.sum() > changed_first.sum() + 1000
    assert np.array_equal(both[changed_first & ~_grown(changed_both & ~changed_first)],
                          first[changed_first & ~_grown(changed_both & ~changed_first)])


def test_template_faces_chooses_which_faces_receive_the_user(fuser_for):
    template = _face("two_people.jpg")  # two faces of about the same size
    photo = _face("rose_leslie_img1.jpg")
    changed = {}
    for chosen in ("largest", "all", (1,)):
        out = fuse(fuser_for(shape=0.8, features=0.8, template_faces=chosen), photo, template)
        changed[chosen] = np.any(out != template, axis=2)
    largest, second, both = changed["largest"], changed[(1,)], changed["all"]
    assert largest.sum() > 1000 and second.sum() > 1000 and not np.any(largest & second)
    assert np.array_equal(both, largest | second)
    with pytest.raises(facekit.errors.AmbiguousFaceError, match="same size"):
        fuser_for(shape=0.8, features=0.8).user(template)  # whose face would it be?


def _grown(mask: np.ndarray, by: int = 3) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * by + 1,) * 2, np.uint8)) > 0


def test_same_person_as_checks_the_owner(fuser_for):
    fuser = fuser_for(shape=0.5, features=0.5)
    with pytest.raises(NotSamePersonError, match="selfie"):
        fuser.user(_face("biden.jpg"), same_person_as=_face("obama2.jpg"))
    with fuser.user(_face("obama.jpg"), same_person_as=_face("obama2.jpg")) as user:
        assert not user.expired


PURPOSE_CHILD = r"""
import json, sys
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)
import numpy as np
import facekit
from facekit.audit.memscan_child import SAMPLE
image = facekit.load_image(SAMPLE)
options = facekit.FusionOptions(consent="purpose-limitation test", shape=0.5, features=0.5)
with facekit.FaceFuser.create_from_options(options) as fuser:
    with fuser.user(np.ascontiguousarray(image[:, ::-1])) as user:
        user.fuse(image)
    models = [p for p in opened if p.endswith((".onnx", ".bin"))]
    seen = len(opened)
    with fuser.user(image, same_person_as=image):
        pass
    verifier = [p for p in opened[seen:] if p.endswith((".onnx", ".bin"))]
print(json.dumps({"models": models, "verifier": verifier}))
"""


def test_fusion_loads_the_embedding_network_only_for_same_person_as():
    from facekit.models import model_info

    embedding = model_info("dlib_face_recognition_resnet_v1").file
    done = subprocess.run([sys.executable, "-c", PURPOSE_CHILD], capture_output=True, text=True,
                          timeout=300, cwd=tempfile.gettempdir())
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    # No network beyond the landmarker's two; the embedding network only for the owner check.
    assert {p.rsplit("/", 1)[-1] for p in report["models"]} == {
        "face_detection_short_range.onnx", "face_landmark.onnx"}
    assert embedding in {p.rsplit("/", 1)[-1] for p in report["verifier"]}


def test_fusion_writes_no_file(fuser_for, sample):
    from facekit.audit.io_guard import forbidden_io_during

    template, photo = sample
    fuser = fuser_for(shape=0.5, features=0.5)
    assert forbidden_io_during(fuse, fuser, photo, template) == []


# ---- properties of the output on real photos ---------------------------------------------------

def test_identity_moves_monotonically_from_template_to_user(fuser_for, verifier, record_property):
    figures = {}
    for user_name, template_name in DIFFERENT[:4]:
        user_photo, template = _face(user_name), _face(template_name)
        to_user, to_template = [], []
        with verifier.reference(user_photo) as user_ref, \
                verifier.reference(template) as template_ref:
            for t in STEPS:
                out = fuse(fuser_for(shape=t, features=t), user_photo, template)
                to_user.append(user_ref.matches(out).distance)
                to_template.append(template_ref.matches(out).distance)
        figures[f"{user_name}->{template_name}"] = {"to_user": to_user,
                                                    "to_template": to_template}
        print(f"identity {user_name} -> {template_name}: to user "
              f"{[round(d, 3) for d in to_user]}, to template {[round(d, 3) for d in to_template]}")
        assert all(b < a for a, b in zip(to_user, to_user[1:])), (user_name, to_user)
        assert all(b > a for a, b in zip(to_template, to_template[1:])), (user_name, to_template)
    record_property("identity", json.dumps(figures))


def test_the_swap_preset_transfers_identity(fuser_for, verifier, record_property):
    fuser = fuser_for(FusionOptions.swap(consent=CONSENT, label=False))
    as_user = not_template = 0
    rows = []
    for user_name, template_name in DIFFERENT:
        user_photo, template = _face(user_name), _face(template_name)
        out = fuse(fuser, user_photo, template)
        user = verifier.verify(out, user_photo)
        other = verifier.verify(out, template)
        as_user += user.same_person
        not_template += not other.same_person
        rows.append((user_name, template_name, round(user.distance, 3), round(other.distance, 3)))
    for user_name, template_name in SAME:  # controls: the same person stays the same person
        out = fuse(fuser, _face(user_name), _face(template_name))
        assert verifier.verify(out, _face(user_name)).same_person
        assert verifier.verify(out, _face(template_name)).same_person
    rates = {"same_as_user": as_user / len(DIFFERENT),
             "not_template": not_template / len(DIFFERENT), "pairs": rows}
    print(f"swap preset on {len(DIFFERENT)} different-person pairs: {rates}")
    record_property("swap_rates", json.dumps(rates))
    assert rates["same_as_user"] >= 0.8 and rates["not_template"] >= 0.8


def test_shape_zero_keeps_the_templates_pose_and_mouth(fuser_for, landmarker, record_property):
    fuser = fuser_for(shape=0.0, features=1.0)
    errors = []
    for user_name, template_name in DIFFERENT[:4]:
        template = _face(template_name)
        out = fuse(fuser, _face(user_name), template)
        before, after = mesh(landmarker, template), mesh(landmarker, out)
        scale = iod(before)
        error = float(np.linalg.norm(after - before, axis=1).mean() / scale)
        opening = [float(np.linalg.norm(p[UPPER_LIP_INNER] - p[LOWER_LIP_INNER])) / scale
                   for p in (before, after)]
        errors.append(error)
        print(f"pose {user_name} -> {template_name}: mean point error {100 * error:.2f}% of "
              f"the inter-ocular distance; mouth opening {opening[0]:.3f} -> {opening[1]:.3f}")
        assert error < 0.03
        assert abs(opening[1] - opening[0]) < 0.03
    record_property("pose_error", json.dumps(errors))


def skin_region(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The test's own skin mask of a face: the mesh's face oval eroded by 12% of the
    inter-ocular distance, less the eyes, brows, lips and nostrils dilated by 8% (OpenCV
    polygons on the mesh's region table)."""
    regions, scale = mesh_regions(), iod(points)
    skin = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(skin, [points[list(regions[0])].round().astype(np.int32)], 255)
    skin = cv2.erode(skin, np.ones((3, 3), np.uint8), iterations=max(1, int(0.12 * scale)))
    features = np.zeros_like(skin)
    for region in regions[1:]:
        cv2.fillPoly(features, [points[list(region)].round().astype(np.int32)], 255)
    features = cv2.dilate(features, np.ones((3, 3), np.uint8), iterations=max(1, int(0.08 * scale)))
    return (skin > 0) & (features == 0)


def test_the_users_skin_takes_the_templates_skin_colour(fuser_for, landmarker, record_property):
    """features=1, shape=0: the mean CIE Lab colour of the output's skin (the template's skin
    region) is closer to the template's skin colour than the user's own skin colour is, on
    every pair, and on average within a third of that distance."""
    fuser = fuser_for(shape=0.0, features=1.0)
    rows = []
    for user_name, template_name in DIFFERENT:
        user_photo, template = _face(user_name), _face(template_name)
        user_skin = lab(user_photo)[skin_region(user_photo, mesh(landmarker, user_photo))]
        region = skin_region(template, mesh(landmarker, template))
        template_skin = lab(template)[region].mean(0)
        out = fuse(fuser, user_photo, template)
        before = float(ciede2000(user_skin.mean(0), template_skin))
        after = float(ciede2000(lab(out)[region].mean(0), template_skin))
        rows.append((user_name, template_name, round(before, 2), round(after, 2)))
        print(f"skin colour ΔE00 to the template's {user_name} -> {template_name}: "
              f"user {before:.2f}, fused {after:.2f}")
    record_property("skin_colour", json.dumps(rows))
    for _, _, before, after in rows:
        assert after < before
    assert np.mean([r[3] for r in rows]) < np.mean([r[2] for r in rows]) / 3


@pytest.mark.parametrize("keep, region", [("keep_eyes", ("left_eye", "right_eye")),
                                           ("keep_mouth", ("lips_inner",))])
def test_the_templates_eye_openings_and_mouth_interior_are_kept(fuser_for, landmarker, keep,
                                                                region):
    from facekit.beauty import _REGION_ORDER, mesh_regions

    polygons = dict(zip(_REGION_ORDER, mesh_regions()))
    for user_name, template_name in DIFFERENT[:4]:
        photo, template = _face(user_name), _face(template_name)
        points = mesh(landmarker, template)
        inside = np.zeros(template.shape[:2], np.uint8)
        for name in region:
            cv2.fillPoly(inside, [points[list(polygons[name])].round().astype(np.int32)], 1)
        inside = cv2.erode(inside, np.ones((3, 3), np.uint8)) > 0
        if inside.sum() < 20:
            continue  # a closed mouth has no interior to keep
        kept, replaced = (fuse(fuser_for(shape=0.0, features=1.0, **{keep: flag}), photo,
                               template) for flag in (True, False))
        kept_error = np.abs(kept[inside].astype(int) - template[inside]).mean()
        replaced_error = np.abs(replaced[inside].astype(int) - template[inside]).mean()
        print(f"{keep} {user_name} -> {template_name}: mean abs difference from the template "
              f"inside {kept_error:.1f} (kept) vs {replaced_error:.1f}")
        assert kept_error < 0.5 * replaced_error


def test_pixels_beyond_the_blend_margin_are_untouched(fuser_for, landmarker, sample):
    template, photo = sample
    fuser = fuser_for(shape=1.0, features=1.0)
    out, info = trace(fuser, landmarker, photo, template)
    x0, y0, x1, y1 = info["region"]
    assert 0 <= x0 < x1 <= template.shape[1] and 0 <= y0 < y1 <= template.shape[0]
    outside = np.ones(template.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(out[outside], template[outside])
    assert np.any(out[y0:y1, x0:x1] != template[y0:y1, x0:x1])
    public = fuse(fuser, photo, template)
    assert np.array_equal(public, out)  # the trace shows what the public call does
    # The mask's bounding box grown by the margin holds every changed pixel.
    ys, xs = np.nonzero(info["mask"])
    margin = info["margin"]
    box = np.zeros(template.shape[:2], bool)
    box[max(0, y0 + ys.min() - margin):y0 + ys.max() + margin + 1,
        max(0, x0 + xs.min() - margin):x0 + xs.max() + margin + 1] = True
    assert not np.any(np.any(out != template, axis=2) & ~box)


@pytest.mark.parametrize("shape", [0.0, 0.5, 1.0])
def test_no_triangle_folds(fuser_for, landmarker, shape):
    for user_name, template_name in DIFFERENT[:4]:
        _, info = trace(fuser_for(shape=shape, features=1.0), landmarker, _face(user_name),
                        _face(template_name))
        assert info["min_area"] > 0, (user_name, template_name, shape)


def test_faces_that_touch_the_border(fuser_for, sample, landmarker):
    template, photo = sample
    points = mesh(landmarker, template)
    fuser = fuser_for(shape=1.0, features=1.0)
    for cut in ("left", "top", "right"):
        if cut == "left":
            crop = template[:, int(points[:, 0].min() + 0.2 * iod(points)):]
        elif cut == "top":
            crop = template[int(points[:, 1].min() + 0.2 * iod(points)):]
        else:
            crop = template[:, :int(points[:, 0].max() - 0.2 * iod(points))]
        crop = np.ascontiguousarray(crop)
        out = fuse(fuser, photo, crop)
        changed = np.any(out != crop, axis=2)
        assert changed.sum() > 1000, cut
        edge = {"left": np.s_[:, :2], "top": np.s_[:2, :], "right": np.s_[:, -2:]}[cut]
        inner = {"left": np.s_[:, 6:8], "top": np.s_[6:8, :], "right": np.s_[:, -8:-6]}[cut]
        # No rim: the image edge changes no more than the pixels just inside it.
        rim = np.abs(out[edge].astype(int) - crop[edge]).mean()
        near = np.abs(out[inner].astype(int) - crop[inner]).mean()
        assert rim <= near + 2.0, (cut, rim, near)


def test_seams_are_smoother_than_a_paste_and_no_worse_than_poisson_cloning(
        fuser_for, landmarker, record_property):
    figures = []
    for user_name, template_name in DIFFERENT[:4]:
        user_photo, template = _face(user_name), _face(template_name)
        fuser = fuser_for(shape=0.0, features=1.0)
        out, info = trace(fuser, landmarker, user_photo, template)
        x0, y0, x1, y1 = info["region"]
        mask = np.zeros(template.shape[:2], np.uint8)
        mask[y0:y1, x0:x1] = (info["mask"] >= 128) * 255
        warped = warp_user(landmarker, user_photo, template)
        paste = np.where(mask[..., None] > 0, warped, template)
        ys, xs = np.nonzero(mask)
        centre = ((int(xs.min()) + int(xs.max()) + 1) // 2, (int(ys.min()) + int(ys.max()) + 1) // 2)
        clone = cv2.seamlessClone(warped, template, mask, centre, cv2.NORMAL_CLONE)
        poisson, _ = trace(fuser_for(shape=0.0, features=1.0, blend="poisson"), landmarker,
                           user_photo, template)
        row = {name: seam_difference(image, mask) for name, image in
               (("facekit", out), ("facekit poisson", poisson), ("paste", paste),
                ("seamlessClone", clone))}
        figures.append((user_name, template_name, row))
        print(f"seam ΔE00 {user_name} -> {template_name}: " +
              ", ".join(f"{k} {v:.2f}" for k, v in row.items()))
    record_property("seams", json.dumps(figures))
    for _, _, row in figures:
        assert row["facekit"] < row["paste"]
        assert row["facekit"] <= row["seamlessClone"]


def warp_user(landmarker: FaceLandmarker, user_photo: np.ndarray, template: np.ndarray
              ) -> np.ndarray:
    """The user's face warped onto the template's mesh triangle by triangle with
    cv2.warpAffine (the classic swap's warp; the template elsewhere)."""
    source, target = mesh(landmarker, user_photo), mesh(landmarker, template)
    out = template.copy()
    for tri in triangles():
        s, d = source[tri].astype(np.float32), target[tri].astype(np.float32)
        x, y, w, h = cv2.boundingRect(d)
        if w <= 0 or h <= 0:
            continue
        affine = cv2.getAffineTransform(s, d - np.float32([x, y]))
        piece = cv2.warpAffine(user_photo, affine, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT)
        inside = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(inside, (d - [x, y]).round().astype(np.int32), 1)
        x1, y1 = min(x + w, out.shape[1]), min(y + h, out.shape[0])
        if x < 0 or y < 0:
            continue
        area, keep = out[y:y1, x:x1], inside[:y1 - y, :x1 - x] > 0
        area[keep] = piece[:y1 - y, :x1 - x][keep]
    return out


# ---- video ------------------------------------------------------------------------------------

def test_a_still_clip_gives_identical_frames_from_the_second_on(sample):
    template, photo = sample
    options = FusionOptions(consent=CONSENT, shape=0.6, features=0.8, label=False,
                            running_mode=RunningMode.VIDEO)
    with FaceFuser.create_from_options(options) as fuser, fuser.user(photo) as user:
        frames = [user.fuse_for_video(template, 33 * i).image for i in range(5)]
    assert np.any(frames[0] != template)
    for frame in frames[2:]:
        assert np.array_equal(frame, frames[1])


def test_video_does_not_flicker_beyond_the_input(record_property):
    av = pytest.importorskip("av", reason="PyAV comes with the test extra")
    path = shared_video("short_hamilton_clip.mp4")
    with av.open(str(path)) as container:  # frames 90-149: one face in every frame
        frames = [f.to_ndarray(format="rgb24") for i, f in zip(range(150),
                                                                container.decode(video=0))
                  if i >= 90]
    options = FusionOptions(consent=CONSENT, shape=0.6, features=0.8, label=False,
                            running_mode=RunningMode.VIDEO)
    with FaceFuser.create_from_options(options) as fuser, \
            fuser.user(_face("biden.jpg")) as user:  # a fuser of its own: a stream from 0 ms
        outputs = [user.fuse_for_video(f, 40 * i).image for i, f in enumerate(frames)]
    changed = np.zeros(frames[0].shape[:2], bool)
    for frame, out in zip(frames, outputs):
        changed |= np.any(frame != out, axis=2)
    assert changed.sum() > 1000
    face = _grown(changed, 0)

    def flicker(images):
        return float(np.mean([np.abs(b.astype(np.int16) - a)[face].mean()
                              for a, b in zip(images, images[1:])]))

    before, after = flicker(frames), flicker(outputs)
    print(f"flicker inside the face over {len(frames)} frames: input {before:.2f}, "
          f"output {after:.2f} (ratio {after / before:.2f})")
    record_property("flicker", json.dumps({"input": before, "output": after}))
    assert after <= 1.25 * before
