"""Skin- and occlusion-aware beauty (issue 18): the skin mask reaches the neck and ears with a
soft falloff, leaves occluders alone, and the shape warps fade out over occluders.

Every measure here is computed independently of the engine: the face oval, features and
distances from the landmarks with OpenCV (fillPoly, distanceTransform), and "skin" by a numpy
chromaticity test around the cheeks' median colour, written here (not the engine's model: other
samples, other thresholds). Landmarks and traces are test-only copies of public photos' values.
"""

from __future__ import annotations

import numpy as np
import pytest
from support import shared_face

import facekit
from facekit import RunningMode
from facekit.beauty import _REGION_ORDER, PRESETS, Beautifier, BeautyOptions, _regions

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless comes with the test extra")

REGIONS = {name: list(points) for name, points in zip(_REGION_ORDER, _regions())}
SKIN_EFFECTS = ("smoothing", "whitening", "rosy", "dark_circles")
WARPS = ("face_slim", "v_chin", "eye_enlarge", "nose_slim")
# Photos with skin below the jaw line (neck) in view (obama2: the neck in shadow;
# alex_lacamoire_img1: a beard along the jaw, the neck brighter than the jaw).
JAW_PHOTOS = ("committed", "biden.jpg", "obama2.jpg", "rose_leslie_img1.jpg",
              "alex_lacamoire_img1.jpg")

# Today's face lift (before the skin model: mean luminance change of whitening at strength 1 on
# the reference skin of the cheeks and forehead, `_jaw_and_face(...)["face"]`), measured with
# the polygon-mask engine of main at c4b8eef by running this file's _jaw_and_face on each photo.
# The skin-aware engine must lift the face at least as much.
# (The jaw-line steps there were 23.95, 22.33, 22.43, 13.36 and 20.60 levels.)
LIFT_BEFORE = {"committed": 30.55, "biden.jpg": 35.23, "obama2.jpg": 31.37,
               "rose_leslie_img1.jpg": 19.60, "alex_lacamoire_img1.jpg": 28.45}
# Largest gradient (levels per pixel) of the luminance change field where the picture itself is
# flat (its own gradient under FLAT levels per pixel), both after a 5x5 box mean that takes out
# the per-pixel texture: a change that stops without an edge in the picture (a mask's edge)
# exceeds it (see test_a_hard_edged_change_field_fails_the_seam_bound); a change that follows
# the picture's own edges (hair, an occluder: the skin likelihood's edges) is not a seam.
SEAM_BOUND = 7.5
FLAT = 3.0


def _image(name: str) -> np.ndarray:
    if name == "committed":
        from pathlib import Path
        bgr = cv2.imread(str(Path(__file__).parent / "data" / "obama.jpg"))
        return np.ascontiguousarray(bgr[:, :, ::-1])
    return facekit.load_image(shared_face(name))


def _landmarks(image: np.ndarray) -> np.ndarray:
    with facekit.FaceLandmarker() as landmarker, landmarker.detect(image) as result:
        return np.array(result.faces[0].landmarks)[:, :2]  # test-only copy, public photo


def _luma(image: np.ndarray) -> np.ndarray:
    return image[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def _fill(shape, *polygons) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    for points in polygons:
        cv2.fillPoly(mask, [np.round(points * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
    return mask.astype(bool)


def _face_width(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[454] - points[234]))


def _reference_skin(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Lit skin: pixels whose r, g chromaticity lies near the median of two cheek discs, and
    whose luminance is at least 40% of theirs (not a beard, not a deep shadow)."""
    rgb = image[..., :3].astype(np.float64)
    total = rgb.sum(-1) + 1e-6
    r, g = rgb[..., 0] / total, rgb[..., 1] / total
    yy, xx = np.mgrid[:image.shape[0], :image.shape[1]]
    radius = 0.05 * _face_width(points)
    cheeks = np.zeros(image.shape[:2], bool)
    for index in (50, 280):
        cheeks |= (xx - points[index, 0]) ** 2 + (yy - points[index, 1]) ** 2 < radius ** 2
    mr, mg = np.median(r[cheeks]), np.median(g[cheeks])
    luma = _luma(image)
    return ((np.abs(r - mr) < 0.035) & (np.abs(g - mg) < 0.025)
            & (luma > 0.4 * np.median(luma[cheeks])))


def _jaw_and_face(image: np.ndarray, out: np.ndarray, points: np.ndarray) -> dict:
    """Mean luminance change: just inside vs just outside the face oval below the mouth (the jaw
    line, 0.05 face widths each side), and on the cheeks and forehead (inside the oval by more
    than 0.1 face widths, features excluded), all on reference skin."""
    fw = _face_width(points)
    change = _luma(out) - _luma(image)
    oval = _fill(image.shape, points[REGIONS["face_oval"]])
    inside = cv2.distanceTransform(oval.astype(np.uint8), cv2.DIST_L2, 5)
    outside = cv2.distanceTransform((~oval).astype(np.uint8), cv2.DIST_L2, 5)
    features = _fill(image.shape, *(points[REGIONS[r]] for r in
                                    ("left_eye", "right_eye", "left_brow", "right_brow",
                                     "lips_outer", "nostrils")))
    features = cv2.dilate(features.astype(np.uint8), np.ones((int(0.06 * fw) * 2 + 1,) * 2)) > 0
    skin = _reference_skin(image, points)
    below_mouth = np.arange(image.shape[0])[:, None] > points[REGIONS["lips_outer"], 1].mean()
    band_in = skin & below_mouth & oval & (inside <= 0.05 * fw)
    band_out = skin & below_mouth & ~oval & (outside <= 0.05 * fw)
    face = skin & oval & (inside > 0.1 * fw) & ~features
    return {"inside": change[band_in].mean(), "outside": change[band_out].mean(),
            "step": change[band_in].mean() - change[band_out].mean(),
            "face": change[face].mean(), "pixels": (int(band_in.sum()), int(band_out.sum()),
                                                     int(face.sum()))}


def _box5(plane: np.ndarray) -> np.ndarray:
    return cv2.blur(plane, (5, 5), borderType=cv2.BORDER_REPLICATE)


def _gradient(plane: np.ndarray) -> np.ndarray:
    gy, gx = np.gradient(_box5(plane))
    return np.hypot(gx, gy)


def _seam(change: np.ndarray, image: np.ndarray) -> float:
    """The largest gradient magnitude of a change field where the image is flat, both after a
    5x5 box mean."""
    return float(_gradient(change)[_gradient(_luma(image)) < FLAT].max())


def _whitened(image: np.ndarray, **strengths) -> np.ndarray:
    with Beautifier(BeautyOptions(**strengths)) as beautifier:
        return beautifier.apply(image)


# --- the skin mask reaches connected skin: no step at the jaw line, no seam anywhere ------------

@pytest.mark.parametrize("name", JAW_PHOTOS)
def test_whitening_crosses_the_jaw_line_without_a_step(name):
    image = _image(name)
    points = _landmarks(image)
    out = _whitened(image, whitening=1.0)
    m = _jaw_and_face(image, out, points)
    print(f"{name}: jaw line inside {m['inside']:.2f}, outside {m['outside']:.2f}, step "
          f"{m['step']:.2f} levels; face lifted {m['face']:.2f} (before: "
          f"{LIFT_BEFORE[name]:.2f}); pixels {m['pixels']}")
    assert min(m["pixels"]) >= 500, "too few reference-skin pixels to measure"
    assert abs(m["step"]) < 2.0
    assert m["face"] >= LIFT_BEFORE[name]


def _whitening_curve(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """A numpy reference of the whitening tone curve at strength 1: v + 0.62 v (255 - v) / 255
    per channel, where values darker than the skin's median luminance m get at least m's lift
    (and brighter ones at least min(m's lift, 0.62 (255 - v))). m is part of the curve's
    definition: the median luminance of the engine's skin samples, discs of 0.04 face widths
    on the cheeks and forehead at these mesh points (native/src/beauty/skin_model.cpp),
    computed here with numpy."""
    yy, xx = np.mgrid[:image.shape[0], :image.shape[1]]
    radius = 0.04 * _face_width(points)
    samples = np.zeros(image.shape[:2], bool)
    for index in (50, 280, 101, 330, 205, 425, 117, 346, 151, 108, 337, 9):
        samples |= (xx - points[index, 0]) ** 2 + (yy - points[index, 1]) ** 2 < radius ** 2
    m = float(np.median(_luma(image)[samples]))
    values = np.arange(256.0)
    lift_m = 0.62 * m * (255 - m) / 255
    floor = np.where(values <= m, lift_m, np.minimum(lift_m, 0.62 * (255 - values)))
    lift = np.maximum(0.62 * values * (255 - values) / 255, floor)
    return np.clip(np.round(values + lift), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("name", JAW_PHOTOS)
def test_the_skin_mask_adds_no_step_at_the_jaw_line(name):
    """The step the mask itself makes: the engine's jaw-line step less the step of the same
    tone curve applied with a full mask everywhere (_whitening_curve), under 1 level on every
    photo."""
    image = _image(name)
    points = _landmarks(image)
    everywhere = _jaw_and_face(image, _whitening_curve(image, points)[image], points)
    engine = _jaw_and_face(image, _whitened(image, whitening=1.0), points)
    print(f"{name}: jaw-line step {engine['step']:.2f} levels, of the curve alone "
          f"{everywhere['step']:.2f}: the mask adds {engine['step'] - everywhere['step']:.2f}")
    assert abs(engine["step"] - everywhere["step"]) < 1.0


@pytest.mark.parametrize("name", JAW_PHOTOS)
def test_the_change_field_has_no_seam(name):
    """The studio preset's tone effects (smoothing, whitening, rosy, dark circles; no makeup,
    sharpen or shape, whose edges are meant): the gradient of the change field stays under
    SEAM_BOUND everywhere."""
    image = _image(name)
    out = _whitened(image, smoothing=0.75, whitening=1.0, rosy=0.2, dark_circles=0.5)
    seam = _seam(_luma(out) - _luma(image), image)
    print(f"{name}: largest change-field gradient {seam:.2f} levels/px (bound {SEAM_BOUND})")
    assert seam <= SEAM_BOUND


def test_a_hard_edged_change_field_fails_the_seam_bound(photo):
    """The bound catches a mask edge: the same whitening change field cut off hard at the face
    oval (what a polygon mask without feathering gives) exceeds it."""
    points = _landmarks(photo)
    change = _luma(_whitened(photo, whitening=1.0)) - _luma(photo)
    oval = _fill(photo.shape, points[REGIONS["face_oval"]])
    hard = np.where(oval, change, 0.0)
    print(f"hard-edged: {_seam(hard, photo):.2f}, real: {_seam(change, photo):.2f} levels/px")
    assert _seam(hard, photo) > SEAM_BOUND >= _seam(change, photo)


# --- occluders --------------------------------------------------------------------------------

def _with_occluders(image: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, dict]:
    """The photo with two synthetic occluders on the face, away from eyes, brows, nose and
    lips: a grey-blue bar (a microphone) over the subject's right cheek and an ellipse of a
    clearly different skin tone (a hand, red-brown: chromaticity r 0.58, g 0.27) over the left cheek, both with a
    little texture. Returns the image and each occluder's pixels."""
    fw = _face_width(points)
    rng = np.random.default_rng(18)
    out = np.array(image, copy=True)
    yy, xx = np.mgrid[:image.shape[0], :image.shape[1]]
    bar_centre = points[205]  # the subject's right lower cheek
    microphone = (np.abs(xx - bar_centre[0]) < 0.06 * fw) & (np.abs(yy - bar_centre[1]) < 0.14 * fw)
    hand_centre = points[425]
    hand = ((xx - hand_centre[0]) / (0.08 * fw)) ** 2 + ((yy - hand_centre[1]) / (0.12 * fw)) ** 2 < 1
    for mask, colour in ((microphone, (70, 82, 110)), (hand, (150, 70, 38))):
        texture = rng.integers(-5, 6, (int(mask.sum()), 3))
        out[mask] = np.clip(np.array(colour) + texture, 0, 255).astype(np.uint8)
    return out, {"microphone": microphone, "hand": hand}


def _occluded(name: str):
    image = _image(name)
    points = _landmarks(image)
    return (*_with_occluders(image, points), points)


@pytest.mark.parametrize("name", ["committed", "biden.jpg"])
def test_skin_effects_leave_occluders_unchanged(name):
    image, occluders, points = _occluded(name)
    skin = _reference_skin(image, points) & ~(occluders["microphone"] | occluders["hand"])
    for effect in SKIN_EFFECTS + ("lut",):
        strengths = {"lut": "warm", "lut_strength": 1.0} if effect == "lut" else {effect: 1.0}
        out = _whitened(image, **strengths)
        diff = np.abs(out.astype(int) - image.astype(int)).max(axis=-1)
        changed = {k: int(diff[m].max()) for k, m in occluders.items()}
        print(f"{name} {effect}: largest change on the occluders {changed}, skin pixels changed "
              f"{np.count_nonzero(diff[skin])}")
        assert max(changed.values()) <= 1, (effect, changed)
        assert np.count_nonzero(diff[skin]) > 1000, effect  # and the effect does run on skin


@pytest.mark.parametrize("name", ["committed", "biden.jpg"])
def test_shape_warps_do_not_drag_occluders(name):
    image, occluders, _ = _occluded(name)
    kept: dict = {}

    def keep(traces):
        kept.update(region=traces[0]["region"], warp=np.array(traces[0]["warp"]))

    for effect in WARPS:
        with Beautifier(BeautyOptions(**{effect: 0.5})) as beautifier:
            beautifier._apply(image, np.array(image, copy=True), None, trace=True, inspect=keep)
        x0, y0, x1, y1 = kept["region"]
        grid = np.stack(np.meshgrid(np.arange(x1 - x0), np.arange(y1 - y0)), -1)
        moved = np.zeros(image.shape[:2])
        moved[y0:y1, x0:x1] = np.hypot(*np.moveaxis(kept["warp"] - grid, -1, 0))
        shifts = {k: round(float(moved[m].max()), 2) for k, m in occluders.items()}
        print(f"{name} {effect} 0.5: largest displacement on the occluders {shifts} px, "
              f"anywhere {moved.max():.2f} px")
        assert max(shifts.values()) <= 1.0, (effect, shifts)
        assert moved.max() > 1.5, effect  # the warp still works on the face


# --- video ---------------------------------------------------------------------------------------

def test_the_skin_mask_is_stable_on_still_frames(photo):
    masks, outputs = [], []
    with Beautifier(PRESETS["studio"], running_mode=RunningMode.VIDEO) as beautifier:
        for i in range(5):
            out = np.array(photo, copy=True)
            beautifier._apply(photo, out, 33 * i, trace=True,
                              inspect=lambda traces: masks.append(np.array(traces[0]["skin"])))
            outputs.append(out)
    assert masks[1].max() == 255 and not np.array_equal(outputs[1], photo)
    for mask, out in zip(masks[2:], outputs[2:]):
        assert np.array_equal(mask, masks[1]) and np.array_equal(out, outputs[1])


# --- connected skin only ---------------------------------------------------------------------------

def test_skin_coloured_pixels_not_connected_to_the_face_are_left_alone(photo):
    """A disc of the face's own colour beside the face (0.15 face widths out from the oval, within
    the skin mask's reach), cut off from everything by a blue ring, is not skin of this face:
    whitening leaves it unchanged. With a bridge of the same colour to the cheek it is
    connected, and whitening lifts it (the control: the disc itself is skin-like)."""
    points = _landmarks(photo)
    fw = _face_width(points)
    skin = _reference_skin(photo, points)
    colour = np.median(photo[skin], axis=0).astype(np.uint8)
    centre = points[234] + np.array([-0.15 * fw, 0.0])  # out from the oval's side (image left)
    yy, xx = np.mgrid[:photo.shape[0], :photo.shape[1]]
    distance = np.hypot(xx - centre[0], yy - centre[1])
    disc, ring = distance < 0.04 * fw, (distance >= 0.04 * fw) & (distance < 0.1 * fw)
    island = np.array(photo, copy=True)
    island[ring] = (40, 60, 200)
    island[disc] = colour
    bridged = np.array(island, copy=True)
    bridge = (np.abs(yy - centre[1]) < 0.02 * fw) & (xx >= centre[0]) & (xx <= points[234][0] + 0.1 * fw)
    bridged[bridge] = colour
    changes = []
    for image in (island, bridged):
        diff = np.abs(_whitened(image, whitening=1.0).astype(int) - image.astype(int)).max(-1)
        changes.append(int(diff[disc].max()))
    print(f"the disc's largest change: cut off {changes[0]}, bridged {changes[1]} levels")
    assert changes[0] <= 1
    assert changes[1] >= 10


# --- hair beside the face ----------------------------------------------------------------------

def _beside_the_temple(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Pixels just outside the face oval (up to 0.08 face widths) above the eyes, on both sides:
    where hair meets the temples."""
    fw = _face_width(points)
    oval = _fill(image.shape, points[REGIONS["face_oval"]])
    outside = cv2.distanceTransform((~oval).astype(np.uint8), cv2.DIST_L2, 5)
    eyes = points[REGIONS["left_eye"] + REGIONS["right_eye"], 1].min()
    above = np.arange(image.shape[0])[:, None] < eyes
    return ~oval & (outside <= 0.08 * fw) & above


def test_hair_of_the_skins_hue_beside_the_face_is_left_alone(photo):
    """Hair can share skin's chromaticity (red, auburn, brown): painted beside the temples with
    the face's own colour at 35% of its luminance, in strands (+-15%), touching the face's skin,
    whitening leaves it (mean change under 1 level). The control: the same strands at the skin's
    own luminance are skin-like and lifted (over 10 levels)."""
    points = _landmarks(photo)
    skin = _reference_skin(photo, points)
    colour = np.median(photo[skin], axis=0).astype(np.float64)
    zone = _beside_the_temple(photo, points)
    xx = np.arange(photo.shape[1])[None, :].repeat(photo.shape[0], 0)
    strands = 1.0 + 0.15 * np.sin(xx[zone] * 1.3)[:, None]
    changes = {}
    for name, level in (("hair", 0.35), ("skin", 1.0)):
        image = np.array(photo, copy=True)
        image[zone] = np.clip(colour * level * strands, 0, 255).astype(np.uint8)
        change = np.abs(_luma(_whitened(image, whitening=1.0)) - _luma(image))
        changes[name] = float(change[zone].mean())
    print(f"beside the temples: hair changed {changes['hair']:.2f}, skin {changes['skin']:.2f}")
    assert changes["hair"] < 1.0
    assert changes["skin"] > 10.0


# Mean whitening change (strength 1) beside the temples on two photos with hair there (auburn;
# dark brown; lit strands of the auburn hair are as bright as skin in shadow and still get some),
# and what the engine gave before hair was excluded there (main at 41a9bf3).
HAIR_PHOTOS = {"rose_leslie_img1.jpg": (7.5, 23.51), "alex_lacamoire_img1.jpg": (2.0, 8.30)}


@pytest.mark.parametrize("name", sorted(HAIR_PHOTOS))
def test_hair_beside_the_temples_is_barely_changed(name):
    """Real hair beside the temples (the zone less reference skin and its surroundings): the
    mean luminance change of whitening at 1 stays under the bound (a third of before or less)."""
    image = _image(name)
    points = _landmarks(image)
    fw = _face_width(points)
    near_skin = cv2.dilate(_reference_skin(image, points).astype(np.uint8),
                           np.ones((int(0.03 * fw) * 2 + 1,) * 2)) > 0
    hair = _beside_the_temple(image, points) & ~near_skin
    change = np.abs(_luma(_whitened(image, whitening=1.0)) - _luma(image))
    bound, before = HAIR_PHOTOS[name]
    print(f"{name}: {int(hair.sum())} pixels, mean change {change[hair].mean():.2f} "
          f"(bound {bound}, before {before})")
    assert hair.sum() >= 500
    assert change[hair].mean() < bound
