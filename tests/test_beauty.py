"""Beauty effects on real photos: each test measures a property that breaks if the effect does.

Masks and the warp map are read through the engine's trace (read-only arena views, copied here
inside the frame: test-only copies of a public photo's values).
"""

from __future__ import annotations

import numpy as np
import pytest
from support import shared_face

import facekit
from facekit import RunningMode
from facekit.beauty import PRESETS, Beautifier, BeautyOptions

SHAPES = ["face_slim", "v_chin", "chin_length", "forehead", "eye_enlarge", "eye_distance",
          "nose_slim", "mouth_size"]
SIGNED = {"chin_length", "forehead", "eye_distance", "mouth_size"}
COLOUR = ["smoothing", "whitening", "rosy", "sharpen", "dark_circles", "teeth_whitening",
          "lipstick", "blush", "brow_tint", "eyeshadow"]


def _traced(beautifier: Beautifier, image: np.ndarray) -> tuple[np.ndarray, dict]:
    """Output and a copy of the first face's trace (region, masks, warp)."""
    out = np.array(image, copy=True)
    copies: dict = {}

    def keep(traces):
        assert traces, "no face found"
        first = traces[0]
        copies["region"] = first["region"]
        for key in ("skin", "lips", "eyes", "warp"):
            if key in first:
                copies[key] = np.array(first[key])

    beautifier._apply(image, out, None, trace=True, inspect=keep)
    return out, copies


def _beautify(image, **strengths) -> tuple[np.ndarray, dict]:
    with Beautifier(BeautyOptions(**strengths)) as beautifier:
        return _traced(beautifier, image)


def _luma(image: np.ndarray) -> np.ndarray:
    return image[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def _in_region(image: np.ndarray, region) -> np.ndarray:
    x0, y0, x1, y1 = region
    return image[y0:y1, x0:x1]


def _box3(plane: np.ndarray) -> np.ndarray:
    padded = np.pad(plane, 1, mode="edge")
    return sum(padded[dy:dy + plane.shape[0], dx:dx + plane.shape[1]]
               for dy in range(3) for dx in range(3)) / 9.0


def _gradient(plane: np.ndarray) -> np.ndarray:
    gy, gx = np.gradient(plane)
    return np.hypot(gx, gy)


@pytest.fixture(scope="module", params=["committed", "biden.jpg", "rose_leslie_img1.jpg"])
def portraits(request, photo):
    """One portrait per test instance, as {name: image}: the committed photo always runs, and
    without ../shared only the shared photos' instances skip (not the whole property test)."""
    if request.param == "committed":
        return {"committed": photo}
    return {request.param: facekit.load_image(shared_face(request.param))}


# --- identity and locality ----------------------------------------------------------------------

def test_all_zero_strengths_are_the_identity(photo):
    with Beautifier(BeautyOptions()) as beautifier:
        out = beautifier.apply(photo)
    assert out is not photo and np.array_equal(out, photo)


@pytest.mark.parametrize("effect", COLOUR + SHAPES)
def test_each_effect_changes_only_the_face_region(photo, effect):
    out, trace = _beautify(photo, **{effect: 1.0})
    x0, y0, x1, y1 = trace["region"]
    assert 0 < x1 - x0 < photo.shape[1] and 0 < y1 - y0 < photo.shape[0]
    outside = np.ones(photo.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(out[outside], photo[outside]), effect
    changed = np.count_nonzero(np.any(out != photo, axis=2))
    assert changed > 500, f"{effect} changed only {changed} pixels"


@pytest.mark.parametrize("effect", COLOUR + SHAPES)
def test_strength_zero_of_each_effect_is_the_identity(photo, effect):
    # Another effect on at 0 strength: identical to running nothing at all. Such options skip
    # the landmarker, so the native engine is also run on the face with the zero strengths.
    out, _ = _beautify(photo, **{effect: 0.0})
    assert np.array_equal(out, photo)
    with Beautifier(BeautyOptions(**{effect: 0.5})) as beautifier:
        beautifier._strengths = BeautyOptions(**{effect: 0.0})._strengths()
        out, trace = _traced(beautifier, photo)
    assert np.array_equal(out, photo) and trace["region"] == (0, 0, 0, 0)


def test_options_follow_the_native_table_of_effects():
    """BeautyOptions' fields, ranges, defaults and strengths dict come from the native table
    (_native.beauty.EFFECTS): every effect there is an option, validated by its kind."""
    from facekit import _native

    table = dict(_native.beauty.EFFECTS)
    assert set(table.values()) == {"unsigned", "signed", "makeup", "lut"}
    options = BeautyOptions()
    assert options.is_identity and list(options._strengths()) == list(table)
    for name, kind in table.items():
        if kind == "lut":
            assert options.lut is None and options.lut_strength == 1.0
            assert BeautyOptions(lut_strength=0.5).is_identity  # no table: nothing to apply
            assert not BeautyOptions(lut="warm").is_identity
            continue
        assert getattr(options, name) == 0.0
        low = -1.0 if kind == "signed" else 0.0
        assert getattr(BeautyOptions(**{name: low}), name) == low
        assert not BeautyOptions(**{name: 0.5}).is_identity
        with pytest.raises(ValueError, match=f"{name} must lie in"):
            BeautyOptions(**{name: low - 0.5})
        if kind == "makeup":
            assert getattr(options, f"{name}_color") == _native.beauty.DEFAULT_COLORS[name]
            assert options._strengths()[name] == (0.0, _native.beauty.DEFAULT_COLORS[name])


# --- skin ------------------------------------------------------------------------------------------

def test_smoothing_removes_skin_texture_but_keeps_eye_and_lip_contours(portraits):
    for name, image in portraits.items():
        out, trace = _beautify(image, smoothing=1.0)
        before, after = (_luma(_in_region(x, trace["region"])) for x in (image, out))
        skin = trace["skin"] >= 128
        energy = [np.sum((plane - _box3(plane))[skin] ** 2) for plane in (before, after)]
        reduction = 1 - energy[1] / energy[0]
        eyes = trace["eyes"] > 0
        lips = trace["lips"] >= 128
        contours = np.zeros_like(eyes)
        for mask in (eyes, lips):
            shifted = [np.roll(mask, s, axis=a) for a in (0, 1) for s in (-1, 1)]
            contours |= mask & ~np.logical_and.reduce(shifted)
        kept = _gradient(after)[contours].sum() / _gradient(before)[contours].sum()
        print(f"{name}: skin high-frequency energy -{reduction:.0%}, contour gradient kept "
              f"{kept:.0%} ({contours.sum()} contour px)")
        assert reduction >= 0.40, name
        assert kept >= 0.80, name


def _skin_mean(image, out, trace, channel_fn):
    skin = trace["skin"] >= 128
    return channel_fn(_in_region(out, trace["region"]))[skin].mean()


@pytest.mark.parametrize("effect,measure", [
    ("whitening", _luma),
    ("rosy", lambda img: img[..., 0].astype(float) - (img[..., 1].astype(float)
                                                      + img[..., 2]) / 2),
])
def test_skin_tone_moves_monotonically_with_strength(portraits, effect, measure):
    for name, image in portraits.items():
        values = []
        for strength in (0.0, 0.25, 0.5, 0.75, 1.0):
            out, trace = _beautify(image, **{effect: strength, "smoothing": 1e-6})
            values.append(_skin_mean(image, out, trace, measure))
        print(effect, name, [round(v, 2) for v in values])
        assert all(b > a for a, b in zip(values, values[1:])), (name, values)


# --- shape -----------------------------------------------------------------------------------------

def _landmarks(image) -> np.ndarray:
    with facekit.FaceLandmarker() as landmarker, landmarker.detect(image) as result:
        return np.array(result.faces[0].landmarks)[:, :2]  # test-only copy, public photo


def _polygon_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))


def test_eye_enlarge_opens_the_eyes_and_face_slim_narrows_the_jaw(portraits):
    from facekit.beauty import _REGION_ORDER, _regions

    regions = {name: list(points) for name, points in zip(_REGION_ORDER, _regions())}
    for name, image in portraits.items():
        areas, jaws = [], []
        for strength in (0.0, 0.5, 1.0):
            enlarged = _landmarks(_beautify(image, eye_enlarge=strength)[0]) if strength else \
                _landmarks(image)
            iod = np.linalg.norm(enlarged[regions["left_eye"]].mean(0)
                                 - enlarged[regions["right_eye"]].mean(0))
            areas.append(sum(_polygon_area(enlarged[regions[e]])
                             for e in ("left_eye", "right_eye")) / iod ** 2)
            slim = _landmarks(_beautify(image, face_slim=strength)[0]) if strength else \
                _landmarks(image)
            iod = np.linalg.norm(slim[regions["left_eye"]].mean(0)
                                 - slim[regions["right_eye"]].mean(0))
            jaws.append(np.linalg.norm(slim[172] - slim[397]) / iod)
        print(name, "eye area/IOD^2", [round(a, 4) for a in areas], "jaw/IOD",
              [round(j, 4) for j in jaws])
        assert areas[0] < areas[1] < areas[2], name
        assert jaws[0] > jaws[1] > jaws[2], name


@pytest.mark.parametrize("effect", SHAPES)
def test_warp_has_a_positive_jacobian_everywhere(photo, effect):
    for strength in ([-1.0, 1.0] if effect in SIGNED else [1.0]):
        _, trace = _beautify(photo, **{effect: strength})
        warp = trace["warp"].astype(np.float64)
        dx_dx = np.diff(warp[..., 0], axis=1)[:-1]
        dy_dx = np.diff(warp[..., 1], axis=1)[:-1]
        dx_dy = np.diff(warp[..., 0], axis=0)[:, :-1]
        dy_dy = np.diff(warp[..., 1], axis=0)[:, :-1]
        det = dx_dx * dy_dy - dx_dy * dy_dx
        moved = np.abs(warp - np.stack(np.meshgrid(np.arange(warp.shape[1]),
                                                   np.arange(warp.shape[0])), -1)).max()
        print(f"{effect} {strength:+}: min Jacobian {det.min():.3f}, max shift {moved:.1f} px")
        assert moved > 1.0
        assert det.min() > 0.0


# --- makeup --------------------------------------------------------------------------------------

def test_lipstick_moves_the_lips_toward_its_colour_and_nothing_else(portraits):
    colour = np.array([200, 20, 60], float)
    for name, image in portraits.items():
        out, trace = _beautify(image, lipstick=1.0, lipstick_color=tuple(int(c) for c in colour))
        before, after = (_in_region(x, trace["region"])[..., :3].astype(float)
                         for x in (image, out))
        lips = trace["lips"] >= 128
        hue = lambda px: px - px.mean(axis=-1, keepdims=True)  # noqa: E731 - chroma only
        distance = [np.linalg.norm(hue(x[lips]).mean(0) - hue(colour[None])[0])
                    for x in (before, after)]
        untouched = trace["lips"] == 0
        print(f"{name}: lip chroma distance to the colour {distance[0]:.1f} -> {distance[1]:.1f}")
        assert distance[1] < 0.5 * distance[0], name
        assert np.array_equal(before[untouched], after[untouched]), name


# --- modes, formats, errors -------------------------------------------------------------------------

def test_video_mode_does_not_flicker_on_a_still_face(photo):
    with Beautifier(PRESETS["natural"], running_mode=RunningMode.VIDEO) as beautifier:
        frames = [beautifier.apply(photo, timestamp_ms=33 * i) for i in range(5)]
    assert not np.array_equal(frames[0], photo)
    for later in frames[2:]:
        assert np.array_equal(later, frames[1])


def test_bgr_and_rgba_inputs_match_rgb(photo):
    with Beautifier(PRESETS["studio"]) as rgb:
        expected = rgb.apply(photo)
    with Beautifier(PRESETS["studio"], color_format="bgr") as bgr:
        assert np.array_equal(bgr.apply(np.ascontiguousarray(photo[..., ::-1]))[..., ::-1],
                              expected)
    rgba = np.dstack([photo, np.full(photo.shape[:2], 77, np.uint8)])
    with Beautifier(PRESETS["studio"]) as beautifier:
        out = beautifier.apply(rgba)
    assert np.array_equal(out[..., :3], expected) and np.all(out[..., 3] == 77)


def test_apply_into_in_place_equals_apply(photo):
    with Beautifier(PRESETS["natural"]) as beautifier:
        expected = beautifier.apply(photo)
        target = np.array(photo, copy=True)
        beautifier.apply_into(target, target)
    assert np.array_equal(target, expected)


@pytest.mark.parametrize("shift", [(0, 16), (9, 0), (-5, -7)], ids=["right", "down", "up-left"])
@pytest.mark.parametrize("preset", ["natural", "none"])
def test_apply_into_an_out_that_partly_overlaps_the_input_equals_apply(photo, shift, preset):
    """out a view of the same buffer as the input, shifted: writing it must not change pixels
    still to be read (a shifted copy, or garbage, came out before)."""
    dy, dx = shift
    height, width = photo.shape[:2]
    buffer = np.zeros((height + abs(dy), width + abs(dx), 3), np.uint8)
    image = buffer[max(-dy, 0):max(-dy, 0) + height, max(-dx, 0):max(-dx, 0) + width]
    out = buffer[max(dy, 0):max(dy, 0) + height, max(dx, 0):max(dx, 0) + width]
    image[...] = photo
    with Beautifier(PRESETS[preset]) as beautifier:
        expected = beautifier.apply(photo)
        beautifier.apply_into(image, out)
    assert np.array_equal(out, expected)


def test_an_image_without_a_face_comes_back_unchanged():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    with Beautifier(PRESETS["studio"]) as beautifier:
        assert np.array_equal(beautifier.apply(noise), noise)


@pytest.mark.parametrize("kwargs,message", [
    ({"smoothing": 1.5}, "smoothing must lie in"),
    ({"chin_length": -1.5}, "chin_length must lie in"),
    ({"face_slim": -0.2}, "face_slim must lie in"),
    ({"whitening": float("nan")}, "finite"),
    ({"lipstick_color": (300, 0, 0)}, "lipstick_color"),
    ({"lut": "no-such-preset"}, "neither a preset"),
])
def test_bad_options_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Beautifier(BeautyOptions(**kwargs)).close()


def test_bad_images_are_refused(photo):
    with Beautifier() as beautifier:
        with pytest.raises(ValueError, match="colour image"):
            beautifier.apply(photo[..., 0])
        with pytest.raises(ValueError, match="out must be"):
            beautifier.apply_into(photo, np.zeros((10, 10, 3), np.uint8))
        with pytest.raises(ValueError, match="dtype"):
            beautifier.apply(photo.astype(np.float32))
    with Beautifier(running_mode=RunningMode.VIDEO) as video:
        with pytest.raises(ValueError, match="timestamp_ms"):
            video.apply(photo)


def test_lut_grades_the_face_only(photo):
    out, trace = _beautify(photo, lut="warm", lut_strength=1.0)
    before, after = (_in_region(x, trace["region"]).astype(float) for x in (photo, out))
    skin = trace["skin"] >= 200
    assert after[skin][:, 0].mean() > before[skin][:, 0].mean()   # warmer: more red
    assert after[skin][:, 2].mean() < before[skin][:, 2].mean()   # less blue


def test_cube_files_round_trip_and_bad_files_are_refused(tmp_path):
    from facekit.lut import load_lut, preset_table, read_cube, write_cube

    for name in ("warm", "cool", "film"):
        assert np.array_equal(load_lut(name), preset_table(name))
    write_cube(preset_table("film", 5), tmp_path / "f.cube")
    assert np.array_equal(read_cube(tmp_path / "f.cube"), preset_table("film", 5))
    bad = tmp_path / "bad.cube"
    bad.write_text("LUT_3D_SIZE 4\n0 0 0\n")
    with pytest.raises(ValueError, match="expected 64 entries"):
        read_cube(bad)
    bad.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ValueError):
        read_cube(bad)


def test_an_identity_lut_changes_no_pixel_by_more_than_one(photo):
    size = 17
    axis = np.rint(np.linspace(0, 255, size)).astype(np.uint8)
    b, g, r = np.meshgrid(axis, axis, axis, indexing="ij")
    identity = np.ascontiguousarray(np.stack([r, g, b], axis=-1))
    out, trace = _beautify(photo, lut=identity, lut_strength=1.0)
    diff = np.abs(out.astype(int) - photo.astype(int))
    assert diff.max() <= 1
    warm, _ = _beautify(photo, lut="warm", lut_strength=1.0)
    assert np.abs(warm.astype(int) - photo.astype(int)).max() > 10  # and a real grade moves


def test_simd_and_scalar_paths_give_the_same_image(tmp_path):
    """End to end: the studio preset plus a LUT, once per SIMD path in a fresh process."""
    import hashlib
    import subprocess
    import sys

    script = ("import hashlib, sys, facekit\n"
              "from facekit.beauty import Beautifier, PRESETS\n"
              "from facekit.audit.memscan_child import SAMPLE\n"
              "image = facekit.load_image(SAMPLE)\n"
              "with Beautifier(PRESETS['studio'].replace(lut='film', lut_strength=0.7)) as b:\n"
              "    print(hashlib.sha256(b.apply(image).tobytes()).hexdigest())\n")
    digests = {}
    for path in facekit.cpu_features()["available"]:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              env={**__import__("os").environ, "FACEKIT_SIMD": path},
                              cwd=tmp_path, timeout=300)
        assert done.returncode == 0, done.stderr
        digests[path] = done.stdout.strip()
    assert len(digests) >= 2 and len(set(digests.values())) == 1, digests
    assert hashlib.sha256(b"").hexdigest() not in digests.values()
