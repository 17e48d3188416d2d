"""Portrait background effects: each test measures a property that breaks if the feature does.

The ground truth is a synthetic green-screen composite built here (see :func:`composite`):
the person of a shared photo with a plain white background, keyed out by an OpenCV flood of
the white background from the photo's top, left and right borders, pasted onto pure green.
Portrait then runs on the composite, and its matte and outputs are compared with a chroma key
of the composite (every pixel that is not exactly pure green is the person). Mattes and
outputs are copied out of the arena inside their ``with`` blocks (test-only copies).
"""

from __future__ import annotations

import pickle

import cv2
import numpy as np
import pytest
from support import shared_face, shared_video

import facekit
from facekit import Portrait, PortraitOptions, RunningMode
from facekit.errors import BiometricExportError, ExpiredFrameError

GREEN = np.array([0, 255, 0], np.uint8)
BLUE = (0, 0, 255)


def composite() -> tuple[np.ndarray, np.ndarray]:
    """(composite, key): the person of alex_lacamoire_img1.jpg (a studio portrait on plain
    white) on pure green, and the chroma key of that composite (True: the person).

    The person is cut out of the photo by OpenCV: near-white pixels (every channel above 200,
    channels within 40 of each other) connected (4-connectivity) to the top, left or right
    border are the background (the shirt touches only the bottom border, so it stays); a 5x5
    opening removes specks. The key is then read back from the composite alone: a pixel is
    background exactly when it is pure green (0, 255, 0)."""
    photo = facekit.load_image(shared_face("alex_lacamoire_img1.jpg"))
    low = photo.min(axis=2).astype(int)
    plain = (low > 200) & (photo.max(axis=2).astype(int) - low < 40)
    _, labels = cv2.connectedComponents(plain.astype(np.uint8), connectivity=4)
    edge = (set(labels[0]) | set(labels[:, 0]) | set(labels[:, -1])) - {0}
    person = ~(np.isin(labels, list(edge)) & plain)
    person = cv2.morphologyEx(person.astype(np.uint8), cv2.MORPH_OPEN,
                              np.ones((5, 5), np.uint8)).astype(bool)
    image = np.where(person[..., None], photo, GREEN)
    key = ~np.all(image == GREEN, axis=2)
    assert 0.5 < key.mean() < 0.9  # the composite holds both a person and a background
    return np.ascontiguousarray(image), key


@pytest.fixture(scope="module")
def scene() -> tuple[np.ndarray, np.ndarray]:
    return composite()


def run(image: np.ndarray, **options) -> tuple[np.ndarray, np.ndarray]:
    """(matte, output image): copies made inside the result's block."""
    with Portrait(PortraitOptions(**options)) as portrait, portrait.segment(image) as result:
        return np.array(result.matte), np.array(result.image)


def bands(key: np.ndarray, near: float, far: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixels between `near` and `far` pixels (L2 distance) outside and inside the key's
    person boundary."""
    person = key.astype(np.uint8)
    outside = cv2.distanceTransform(1 - person, cv2.DIST_L2, 5)
    inside = cv2.distanceTransform(person, cv2.DIST_L2, 5)
    return (outside > near) & (outside <= far), (inside > near) & (inside <= far)


def test_the_matte_separates_the_person_from_the_background(scene):
    """IoU of the matte (>= 128) with the chroma key of the composite is at least 0.9
    (measured 0.990); an all-person or all-background matte scores 0.71 or 0."""
    image, key = scene
    matte, _ = run(image)
    person = matte >= 128
    iou = (person & key).sum() / (person | key).sum()
    print(f"\nmatte IoU against the chroma key: {iou:.4f}")
    assert iou >= 0.9
    # Mostly decisive: a matte of mid-greys everywhere would not be a separation.
    assert np.mean((matte < 32) | (matte > 223)) > 0.9


def network_mask(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(matte, the network's own 256x256 mask) of one run: the mask copied from the arena at
    the address the network-run event names (a test-only copy, as the memory scan's reference
    run makes)."""
    from facekit import _observe
    from facekit.audit.memscan_child import _copy

    seen = {}

    def ran(name: str, where: dict) -> None:
        seen[name] = _copy(*where["activation_10"])

    with _observe.listening("network-run", ran), Portrait() as portrait, \
            portrait.segment(image) as result:
        matte = np.array(result.matte)
    assert set(seen) == {"selfie_segmentation"}
    return matte, seen["selfie_segmentation"].reshape(256, 256)


def test_the_matte_is_refined_at_full_resolution(scene):
    """The guided filter makes the matte follow the image: against the network's mask alone
    (OpenCV's bilinear resize to full resolution), the refined matte's step across the key's
    boundary (mean alpha 0-3 px inside minus 0-3 px outside) is at least 1.4x as steep
    (measured 0.44 vs 0.24), its IoU with the key is higher (0.990 vs 0.986), and 16-32 px
    away it is settled (inside > 0.95, outside < 0.02)."""
    image, key = scene
    matte, mask = network_mask(image)
    height, width = key.shape
    raw = cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR)
    alpha = matte / 255.0
    near_out, near_in = bands(key, 0, 3)
    far_out, far_in = bands(key, 16, 32)

    def step(a: np.ndarray) -> float:
        return float(a[near_in].mean() - a[near_out].mean())

    def iou(a: np.ndarray) -> float:
        return float(((a >= 0.5) & key).sum() / ((a >= 0.5) | key).sum())

    print(f"\nstep 0-3 px: refined {step(alpha):.3f}, network mask {step(raw):.3f}; IoU "
          f"{iou(alpha):.4f} vs {iou(raw):.4f}; 16-32 px out {alpha[far_out].mean():.3f} in "
          f"{alpha[far_in].mean():.3f}")
    assert step(alpha) >= 1.4 * step(raw)
    assert iou(alpha) > iou(raw)
    assert alpha[far_in].mean() > 0.95 and alpha[far_out].mean() < 0.02


def test_replacement_leaves_no_halo(scene):
    """Background replaced by pure blue on the green composite: every green in the output comes
    from the input. In the band 4-12 px outside the person (by the key) the output carries at
    most 3% of the input (mean green / 255; measured 0.8%); in the band 4-12 px inside it keeps
    the person's colours: mean absolute difference from the input at most 25 levels per
    channel (measured 15.8), and 16+ px inside within 3 levels (measured 0.00; blue would be
    100+ away)."""
    image, key = scene
    _, out = run(image, background=BLUE)
    outside, inside = bands(key, 4, 12)
    _, deep = bands(key, 16, 1e9)
    leak = out[outside][:, 1].mean() / 255.0
    kept = np.abs(out[inside].astype(int) - image[inside]).mean()
    deep_kept = np.abs(out[deep].astype(int) - image[deep]).mean()
    print(f"\nhalo: {leak:.3f} of the input outside, {kept:.1f} levels inside, "
          f"{deep_kept:.2f} deep inside")
    assert leak <= 0.03
    assert kept <= 25
    assert deep_kept <= 3
    assert np.abs(image[inside].astype(int) - np.array(BLUE)).mean() > 100  # the bound bites
    # Far from the person the background is exactly the replacement colour.
    far, _ = bands(key, 40, 1e9)
    assert np.all(out[far] == BLUE)


def test_blur_does_not_bleed_the_person_into_the_background(scene):
    """Background blur (strength 1) on the green composite: 8-40 px outside the person the
    output stays green (mean distance from pure green at most 10 levels per channel; measured
    3.5), while a plain Gaussian blur of the same image at a like radius blended with the same
    matte (what normalized convolution avoids) carries the person's colours there (more than 20;
    measured 28.8)."""
    image, key = scene
    matte, out = run(image, blur=1.0)
    outside, _ = bands(key, 8, 40)
    ours = np.abs(out[outside].astype(int) - GREEN).mean()
    naive_bg = cv2.GaussianBlur(image, (0, 0), sigmaX=image.shape[0] / 40)
    alpha = matte[..., None] / 255.0
    naive = (alpha * image + (1 - alpha) * naive_bg).round().astype(np.uint8)
    theirs = np.abs(naive[outside].astype(int) - GREEN).mean()
    print(f"\nbleed 8-40 px outside: ours {ours:.1f} levels, plain blur {theirs:.1f}")
    assert ours <= 10
    assert theirs > 20
    # And it is a blur: the original's background texture is smoothed (the photo's own
    # background, not the flat green one).
    photo = facekit.load_image(shared_face("alex_lacamoire_img1.jpg"))
    photo_matte, blurred = run(photo, blur=1.0)
    back = photo_matte == 0
    lap = lambda im: np.abs(cv2.Laplacian(cv2.cvtColor(im, cv2.COLOR_RGB2GRAY), cv2.CV_64F))  # noqa: E731
    assert lap(blurred)[back].mean() < 0.5 * lap(photo)[back].mean()


def test_strength_zero_and_no_effect_return_the_input_bit_identical(scene):
    image, _ = scene
    for options in ({}, {"blur": 0.0}, {"blur": 0}):
        _, out = run(image, **options)
        assert out.dtype == np.uint8 and np.array_equal(out, image)
    rgba = np.dstack([image, np.full(image.shape[:2], 77, np.uint8)])
    _, out = run(rgba, blur=0.0)
    assert np.array_equal(out, rgba)
    # Any effect changes it.
    assert not np.array_equal(run(image, blur=0.2)[1], image)


def test_cutout_is_rgba_with_the_matte_as_alpha(scene):
    image, key = scene
    matte, out = run(image, cutout=True)
    assert out.shape == (*image.shape[:2], 4)
    assert np.array_equal(out[..., :3], image)
    assert np.array_equal(out[..., 3], matte)
    # BGR in, BGRA out (channel order kept), same matte.
    bgr = np.ascontiguousarray(image[..., ::-1])
    matte_bgr, out_bgr = run(bgr, cutout=True, color_format="bgr")
    assert np.array_equal(out_bgr[..., :3], bgr)
    assert np.array_equal(matte_bgr, matte)


def test_colour_and_channel_order(scene):
    """A colour is given in RGB whatever the frames' order: BGR frames get the same picture,
    channels reversed; a PIL image gives the numpy result."""
    from PIL import Image

    image, _ = scene
    _, rgb_out = run(image, background=(200, 30, 10))
    _, bgr_out = run(np.ascontiguousarray(image[..., ::-1]), background=(200, 30, 10),
                     color_format="bgr")
    assert np.array_equal(bgr_out[..., ::-1], rgb_out)
    _, pil_out = run(Image.fromarray(image), background=(200, 30, 10))  # type: ignore[arg-type]
    assert np.array_equal(pil_out, rgb_out)


def test_background_image_is_resized_to_the_frame(scene):
    image, key = scene
    backdrop = np.zeros((50, 80, 3), np.uint8)
    backdrop[:, :40] = (255, 0, 0)
    backdrop[:, 40:] = (0, 0, 255)
    matte, out = run(image, background=backdrop)
    far, _ = bands(key, 40, 1e9)
    height, width = image.shape[:2]
    columns = np.broadcast_to(np.arange(width), (height, width))
    left, right = far & (columns < width * 0.45), far & (columns > width * 0.55)
    assert left.any() and right.any()
    assert np.all(out[left] == (255, 0, 0)) and np.all(out[right] == (0, 0, 255))


def clip_frames(count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(shared_video("short_hamilton_clip.mp4")))
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(np.ascontiguousarray(frame[..., ::-1]))
    capture.release()
    assert len(frames) == count
    return frames


def mean_change(frames: list[np.ndarray], smoothing: float) -> float:
    options = PortraitOptions(running_mode=RunningMode.VIDEO, temporal_smoothing=smoothing)
    previous, changes = None, []
    with Portrait(options) as portrait:
        for i, frame in enumerate(frames):
            with portrait.segment_for_video(frame, 33 * i) as result:
                matte = np.array(result.matte, dtype=np.int16)
            if previous is not None:
                changes.append(np.abs(matte - previous).mean())
            previous = matte
    return float(np.mean(changes))


def test_video_matte_is_stable():
    """On the shared clip (first 60 frames), the mean frame-to-frame matte change with the
    default temporal smoothing is lower than without it by at least 10% (measured 11.5 vs
    15.3 levels)."""
    frames = clip_frames(60)
    smoothed, alone = mean_change(frames, 0.6), mean_change(frames, 0.0)
    print(f"\nmean frame-to-frame matte change: {smoothed:.3f} smoothed, {alone:.3f} without")
    assert smoothed < 0.9 * alone


def test_video_repeated_frames_give_identical_output_from_frame_two(scene):
    image, _ = scene
    options = PortraitOptions(running_mode=RunningMode.VIDEO, blur=0.7)
    outputs = []
    with Portrait(options) as portrait:
        for i in range(4):
            with portrait.segment_for_video(image, 40 * i) as result:
                outputs.append((np.array(result.matte), np.array(result.image)))
    for matte, out in outputs[2:]:
        assert np.array_equal(matte, outputs[1][0]) and np.array_equal(out, outputs[1][1])
    # And the first frame's matte equals IMAGE mode's (no history yet).
    assert np.array_equal(outputs[0][0], run(image, blur=0.7)[0])


def test_video_follows_motion_at_once(scene):
    """Five still frames of the composite, then the person moved 120 px to the right: the
    first moved frame's matte agrees with IMAGE mode's matte of that frame (IoU of the
    mattes >= 128 at least 0.97), so the smoothing leaves no trailing ghost of the old
    position."""
    image, _ = scene
    moved = np.ascontiguousarray(np.roll(image, 120, axis=1))
    moved[:, :120] = GREEN
    with Portrait(running_mode=RunningMode.VIDEO) as portrait:
        for i in range(5):
            portrait.segment_for_video(image, 33 * i).close()
        with portrait.segment_for_video(moved, 33 * 5) as result:
            video = np.array(result.matte) >= 128
    alone = run(moved)[0] >= 128
    iou = (video & alone).sum() / (video | alone).sum()
    print(f"\nfirst moved frame: IoU with IMAGE mode {iou:.4f}")
    assert iou >= 0.97


def test_video_mode_checks(scene):
    image, _ = scene
    with Portrait(running_mode=RunningMode.VIDEO) as portrait:
        with pytest.raises(ValueError, match="segment_for_video"):
            portrait.segment(image)
        portrait.segment_for_video(image, 10).close()
        with pytest.raises(ValueError, match="timestamp"):
            portrait.segment_for_video(image, 10)
        with pytest.raises(TypeError, match="timestamp_ms"):
            portrait.segment_for_video(image, 1.5)  # type: ignore[arg-type]
    with Portrait() as portrait, pytest.raises(ValueError, match="segment"):
        portrait.segment_for_video(image, 0)


@pytest.mark.parametrize(("image", "match"), [
    (np.zeros((64, 64, 3), np.float32), "dtype"),
    (np.zeros((64, 64, 5), np.uint8), "shape"),
    (np.zeros((0, 0, 3), np.uint8), "empty|too small"),
    (np.zeros((1, 64, 3), np.uint8), "too small"),
    (np.zeros((64, 64), np.uint8), "colour image"),
    ([[1, 2, 3]], "numpy uint8 array"),
])
def test_bad_images_are_refused(image, match):
    with Portrait(blur=0.5) as portrait, pytest.raises((ValueError, TypeError), match=match):
        portrait.segment(image)


@pytest.mark.parametrize(("options", "error", "match"), [
    ({"blur": 1.5}, ValueError, "blur must lie in"),
    ({"blur": -0.1}, ValueError, "blur must lie in"),
    ({"blur": float("nan")}, ValueError, "blur"),
    ({"blur": "strong"}, TypeError, "blur"),
    ({"background": (300, 0, 0)}, ValueError, "background must be three ints"),
    ({"background": (1, 2)}, ValueError, "background must be three ints"),
    ({"background": (0.5, 0, 0)}, TypeError, "background"),
    ({"background": "red"}, TypeError, "background must be"),
    ({"background": np.zeros((10, 10), np.uint8)}, ValueError, "HxWx3 or HxWx4"),
    ({"background": np.zeros((10, 10, 3), np.float32)}, ValueError, "dtype must be uint8"),
    ({"background": np.zeros((0, 10, 3), np.uint8)}, ValueError, "empty"),
    ({"blur": 0.5, "cutout": True}, ValueError, "one background effect"),
    ({"background": (0, 0, 0), "cutout": True}, ValueError, "one background effect"),
    ({"temporal_smoothing": 1.0}, ValueError, "temporal_smoothing"),
    ({"cutout": 1}, TypeError, "cutout"),
    ({"running_mode": "video"}, ValueError, "running_mode"),
])
def test_bad_options_are_refused(options, error, match):
    with pytest.raises(error, match=match):
        PortraitOptions(**options)


def test_options_compare_by_value_and_keep_their_own_background():
    backdrop = np.zeros((4, 5, 3), np.uint8)
    options = PortraitOptions(background=backdrop)
    assert options == PortraitOptions(background=backdrop.copy())
    assert hash(options) == hash(PortraitOptions(background=backdrop.copy()))
    assert options != PortraitOptions(background=backdrop + 1)
    assert options != PortraitOptions(background=(0, 0, 0))
    backdrop[:] = 9  # the options hold their own read-only copy
    assert not options.background.any() and not options.background.flags.writeable
    assert PortraitOptions(blur=0.5) == PortraitOptions(blur=np.float32(0.5))
    assert options.effect == "image" and PortraitOptions().effect == "none"


def test_background_image_of_another_channel_count_is_refused(scene):
    image, _ = scene
    with Portrait(background=np.zeros((8, 8, 4), np.uint8)) as portrait, \
            pytest.raises(ValueError, match="channels"):
        portrait.segment(image)


def test_the_matte_lives_in_the_arena(scene):
    image, _ = scene
    with Portrait(blur=0.5) as portrait:
        with portrait.segment(image) as result:
            matte, out = result.matte, result.image
            assert isinstance(matte, facekit.EphemeralArray) and matte.dtype == np.uint8
            assert matte.shape == image.shape[:2] and not matte.flags.writeable
            assert matte.any()
            with pytest.raises(BiometricExportError):
                pickle.dumps(matte)
            with pytest.raises(BiometricExportError):
                pickle.dumps(result)
        assert result.expired
        with pytest.raises(ExpiredFrameError):
            result.matte  # noqa: B018
        with pytest.raises(ExpiredFrameError):
            result.image  # noqa: B018
        # Views taken inside the block read zeros now.
        assert not np.asarray(matte).any() and not np.asarray(out).any()
        # The next call ends an open result too.
        first = portrait.segment(image)
        portrait.segment(image).close()
        assert first.expired


def test_every_export_channel_refuses_the_matte_and_the_result(scene, tmp_path):
    """The refusal matrix's channels (facekit.audit.channels) on the matte, the output image
    and the result: pickle at every protocol, copy, deepcopy, json; for the arrays also
    np.save/savez/savetxt, tofile, tobytes, tolist, the buffer protocol (PIL included); marshal
    cannot carry them."""
    from facekit.audit.channels import ARRAY_ONLY, REFUSED, marshal_refused

    image, _ = scene
    with Portrait(cutout=True) as portrait, portrait.segment(image) as result:
        for name, obj in (("matte", result.matte), ("image", result.image), ("result", result)):
            for export in REFUSED.values():
                with pytest.raises(BiometricExportError):
                    export(obj, tmp_path)
            if name != "result":
                for export in ARRAY_ONLY.values():
                    with pytest.raises(BiometricExportError):
                        export(obj, tmp_path)
            assert marshal_refused(obj), name
        assert list(tmp_path.iterdir()) == []
        assert "255" not in repr(result.matte)  # repr shows the shape, never values


def test_closing_wipes_the_video_state(scene):
    image, _ = scene
    portrait = Portrait(running_mode=RunningMode.VIDEO)
    portrait.segment_for_video(image, 0).close()
    state = portrait._state
    assert state is not None and np.asarray(state).any()
    portrait.close()
    assert not np.asarray(state).any()
    with pytest.raises(facekit.errors.ClosedError):
        portrait.segment_for_video(image, 1)
