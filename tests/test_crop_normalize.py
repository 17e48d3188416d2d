"""The fused crop + normalize kernel: OpenCV parity, identical SIMD paths, formats, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import facekit
from facekit import _native

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless comes with the test extra")

RECTS = [
    facekit.RotatedRect(455, 500, 400, 440, 0.0),
    facekit.RotatedRect(455, 480, 380, 380, 0.35),
    facekit.RotatedRect(120, 90, 500, 420, -1.2),   # partly outside the image
    facekit.RotatedRect(900, 1130, 333, 217, 2.9),  # mostly outside, odd size
]


def crop(frame, image, rect, size=(64, 64), **kwargs) -> np.ndarray:
    """A plain copy of the kernel's output (fine in tests: the inputs are not biometric)."""
    return np.array(frame.crop_normalize(image, rect, size, **kwargs), subok=False)[0]


def opencv_reference(image, rect, size, border, scale=1.0, offset=0.0) -> np.ndarray:
    width, height = size
    matrix = np.array(
        _native.warp.rect_to_affine(rect.center_x, rect.center_y, rect.width, rect.height,
                                    rect.rotation, width, height)
    ).reshape(2, 3)
    mode = {"zero": cv2.BORDER_CONSTANT, "clamp": cv2.BORDER_REPLICATE}[border]
    sampled = cv2.warpAffine(image, matrix, (width, height),
                             flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=mode)
    return sampled.astype(np.float32) * scale + offset


@pytest.mark.parametrize("rect", RECTS, ids=["centred", "rotated", "partly-out", "mostly-out"])
@pytest.mark.parametrize("border", ["zero", "clamp"])
def test_matches_opencv_warp_affine_on_a_real_photo(arena, photo, rect, border):
    with arena.frame() as frame:
        ours = crop(frame, photo, rect, (97, 61), border=border, scale=1.0, offset=0.0)
    reference = opencv_reference(photo, rect, (97, 61), border)
    # OpenCV rounds to uint8 (<= 0.5) and samples on a 1/32-pixel grid; we interpolate in float.
    difference = np.abs(ours - reference)
    assert difference.max() <= 1.0, difference.max()
    assert difference.mean() <= 0.3


def test_scale_and_offset_apply_per_channel(arena, photo):
    rect = RECTS[1]
    with arena.frame() as frame:
        raw = crop(frame, photo, rect, scale=1.0, offset=0.0)
        normalized = crop(frame, photo, rect, scale=(2 / 255, 1 / 255, 0.5), offset=(-1, 0, 3))
    expected = raw * np.array([2 / 255, 1 / 255, 0.5], np.float32) + np.array([-1, 0, 3], np.float32)
    np.testing.assert_allclose(normalized, expected, rtol=1e-6, atol=1e-5)


def test_identity_crop_reproduces_pixels(arena, photo):
    rect = facekit.RotatedRect.from_box(100, 200, 50, 30)
    with arena.frame() as frame:
        out = crop(frame, photo, rect, (50, 30), scale=1.0, offset=0.0)
    assert np.array_equal(out, photo[200:230, 100:150].astype(np.float32))


@pytest.mark.parametrize("layout", ["bgr", "rgba", "bgra", "gray", "gray-hw1", "pil"])
def test_every_pixel_format_gives_rgb(arena, photo, layout):
    rect = RECTS[1]
    if layout.startswith("gray"):
        gray = np.ascontiguousarray(photo[:, :, 1])
        image = gray[:, :, None] if layout == "gray-hw1" else gray
        expected_source = np.repeat(gray[:, :, None], 3, axis=2)
    else:
        expected_source = photo
        image = {
            "bgr": np.ascontiguousarray(photo[:, :, ::-1]),
            "rgba": np.dstack([photo, np.full(photo.shape[:2], 7, np.uint8)]),
            "bgra": np.dstack([photo[:, :, ::-1], np.full(photo.shape[:2], 7, np.uint8)]),
        }.get(layout)
        if layout == "pil":
            Image = pytest.importorskip("PIL.Image", reason="Pillow not installed")
            image = Image.fromarray(photo)
    color_format = "bgr" if layout.startswith("bgr") else "rgb"
    with arena.frame() as frame:
        out = crop(frame, image, rect, color_format=color_format)
        expected = crop(frame, expected_source, rect)
    assert np.array_equal(out, expected)


def test_row_padding_negative_strides_and_unpacked_pixels(arena, photo):
    rect = RECTS[2]
    padded = np.zeros((photo.shape[0], photo.shape[1] + 13, 3), np.uint8)
    padded[:, : photo.shape[1]] = photo
    flipped = photo[::-1]  # negative row stride, read in place
    with arena.frame() as frame:
        expected = crop(frame, photo, rect)
        assert np.array_equal(crop(frame, padded[:, : photo.shape[1]], rect), expected)
        flipped_out = crop(frame, flipped, rect)
        assert np.array_equal(flipped_out, crop(frame, np.ascontiguousarray(flipped), rect))
        every_other = photo[:, ::2]  # pixels not packed: copied once, then sampled
        assert np.array_equal(crop(frame, every_other, rect),
                              crop(frame, np.ascontiguousarray(every_other), rect))


def test_every_simd_path_gives_identical_floats(arena, photo):
    paths = _native.cpu.available()
    assert "scalar" in paths and len(paths) >= 2 or facekit.cpu_features()["arch"] != "x86_64"
    active = _native.cpu.active()
    outputs = {}
    try:
        for path in paths:
            _native.cpu.force(path)
            before = _native.cpu.kernel_calls()[path]
            with arena.frame() as frame:
                outputs[path] = [
                    crop(frame, image, rect, size, border=border, scale=(0.007, 0.011, 0.013),
                         offset=(-1, -0.5, 0.25))
                    for image in (photo, photo[:, :, 0], photo[7:331, 3:250])
                    for rect in RECTS
                    for size in ((1, 1), (7, 3), (33, 17), (192, 192))
                    for border in ("zero", "clamp")
                ]
            assert _native.cpu.kernel_calls()[path] - before == len(outputs[path])
    finally:
        _native.cpu.force(active)
    for path in paths:
        for got, want in zip(outputs[path], outputs["scalar"]):
            assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), path


BAD_ARGUMENTS = {
    "float image": (lambda p: p.astype(np.float32), RECTS[0], 32, "dtype must be uint8"),
    "int16 image": (lambda p: p.astype(np.int16), RECTS[0], 32, "dtype must be uint8"),
    "1-D image": (lambda p: p.reshape(-1), RECTS[0], 32, "shape"),
    "4-D image": (lambda p: p[None], RECTS[0], 32, "shape"),
    "2 channels": (lambda p: p[:, :, :2], RECTS[0], 32, "shape"),
    "zero rows": (lambda p: p[:0], RECTS[0], 32, "empty"),
    "zero columns": (lambda p: p[:, :0], RECTS[0], 32, "empty"),
    "zero output": (lambda p: p, RECTS[0], 0, "not a positive size"),
    "absurd output": (lambda p: p, RECTS[0], 100_000, "outside 1..4096"),
    "negative output": (lambda p: p, RECTS[0], (-3, 5), "not a positive size"),
    "absurdly far rect": (lambda p: p, facekit.RotatedRect(1e9, 0, 10, 10), 8, "absurdly far"),
    "absurdly big rect": (lambda p: p, facekit.RotatedRect(0, 0, 1e12, 1e12), 8, "absurdly far"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGUMENTS))
def test_bad_arguments_raise_value_error(arena, photo, case):
    make_image, rect, size, message = BAD_ARGUMENTS[case]
    with arena.frame() as frame:
        used = arena.status().used
        with pytest.raises(ValueError, match=message):
            frame.crop_normalize(make_image(photo), rect, size)
        assert arena.status().used == used  # a refused call takes no arena memory


def test_nan_and_infinite_rectangles_are_refused():
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="finite"):
            facekit.RotatedRect(bad, 10, 10, 10)
        with pytest.raises(ValueError, match="finite"):
            facekit.RotatedRect(10, 10, 10, 10, rotation=bad)
    with pytest.raises(ValueError, match="positive size"):
        facekit.RotatedRect(10, 10, 0, 10)


def test_native_layer_refuses_nan_transforms_and_bad_options(arena, photo):
    args = dict(out_width=8, out_height=8, scale=(1, 1, 1), offset=(0, 0, 0))
    nan_transform = [(math.nan, 0, 0, 0, 1, 0)]
    with pytest.raises(ValueError, match="not finite"):
        _native.warp.crop_normalize(arena._native, photo, "rgb", nan_transform, border="zero", **args)
    identity = [(1, 0, 0, 0, 1, 0)]
    with pytest.raises(ValueError, match="unknown border"):
        _native.warp.crop_normalize(arena._native, photo, "rgb", identity, border="wrap", **args)
    with pytest.raises(ValueError, match="unknown pixel format"):
        _native.warp.crop_normalize(arena._native, photo, "yuv", identity, border="zero", **args)
    with pytest.raises(ValueError, match="does not fit format"):
        _native.warp.crop_normalize(arena._native, photo, "rgba", identity, border="zero", **args)
    with pytest.raises(ValueError, match="finite"):
        _native.warp.crop_normalize(arena._native, photo, "rgb", identity, border="zero",
                                    out_width=8, out_height=8, scale=(math.nan, 1, 1), offset=(0, 0, 0))


def test_python_layer_option_errors(arena, photo):
    with arena.frame() as frame:
        with pytest.raises(ValueError, match="color_format"):
            frame.crop_normalize(photo, RECTS[0], 8, color_format="yuv")
        with pytest.raises(ValueError, match="three"):
            frame.crop_normalize(photo, RECTS[0], 8, scale=(1, 2))
        with pytest.raises(TypeError, match="RotatedRect"):
            frame.crop_normalize(photo, (1, 2, 3, 4), 8)
        with pytest.raises(TypeError, match="numpy uint8 array or a PIL image"):
            frame.crop_normalize([[1, 2], [3, 4]], RECTS[0], 8)


def test_huge_images_are_refused_without_reading_them(arena):
    # A broadcast view claims 20000x20000 pixels but owns one byte: refused before any read.
    huge = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (20000, 20000, 3))
    with arena.frame() as frame:
        with pytest.raises(ValueError, match="side limit"):
            frame.crop_normalize(huge, RECTS[0], 8)


def test_a_batch_of_crops_is_one_block_equal_to_single_crops(arena, photo):
    rects = [(RECTS[0], False), (RECTS[1], True), (RECTS[2], False)]
    with arena.frame() as frame:
        batch = facekit.arena.crop_batch(frame, photo, "rgb", rects, (33, 17), (0.5, 1, 2),
                                         (0, 0, 1))
        assert batch.shape == (3, 17, 33, 3)
        for index, (rect, mirror) in enumerate(rects):
            single = frame.crop_normalize(photo, rect, (33, 17), scale=(0.5, 1, 2),
                                          offset=(0, 0, 1), mirror=mirror)
            assert np.array_equal(np.asarray(batch[index]), np.asarray(single[0]))


def test_mirror_reverses_the_columns(arena, photo):
    with arena.frame() as frame:
        plain = np.asarray(frame.crop_normalize(photo, RECTS[1], (40, 24)))
        mirrored = np.asarray(frame.crop_normalize(photo, RECTS[1], (40, 24), mirror=True))
    assert np.array_equal(mirrored, plain[:, :, ::-1])


def test_batch_size_is_bounded(arena, photo):
    identity = (1, 0, 0, 0, 1, 0)
    args = dict(out_width=8, out_height=8, scale=(1, 1, 1), offset=(0, 0, 0), border="zero")
    with pytest.raises(ValueError, match="1 to 64 transforms"):
        _native.warp.crop_normalize(arena._native, photo, "rgb", [], **args)
    with pytest.raises(ValueError, match="1 to 64 transforms"):
        _native.warp.crop_normalize(arena._native, photo, "rgb", [identity] * 65, **args)
