"""A face-recall set that no detector here was tuned on, and the measure of an anonymizer on it.

Images: the shared photos (../shared/testdata/faces, their faces boxed by hand below) and
synthetic canvases built here, deterministically: face crops from five of those photos pasted on
non-face textures, rotated, flipped, scaled down to 10 px, blurred, partly covered, and cut to a
half face (a profile made by cropping), on 640x480 canvases; and small faces (48 to 16 px) on
1920x1080 canvases, where an anonymizer that scales a large frame down before detecting loses
them. Ground truth is known by construction.

The measure reads only the anonymized OUTPUT image, so any method compares fairly (facekit's
pixelation, deface's elliptic blur):
  * a face is *covered* when at least COVERED_FRACTION of its core (a centred square half the
    face's short side, less any occluder) changed by more than CHANGED_LEVELS in some channel;
  * *false-cover area* is the fraction of pixels outside every face's allowed region (its box
    grown by ALLOWED_MARGIN of its long side on each side) that changed at all.

Importable as `recall_set` (pytest puts tests/ on sys.path); used by tests/test_recall.py and
benchmarks/test_anonymize_vs_deface.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

SHARED_FACES = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "faces"

CHANGED_LEVELS = 4
# An uncovered face's core reads 0.00 changed on this set; covered ones 0.41-1.00 (a pixelated
# heavy blur changes least).
COVERED_FRACTION = 0.3
ALLOWED_MARGIN = 0.5

# Every face of the shared photos, (x0, y0, x1, y1) in pixels: brow to chin, ear to ear, boxed
# by hand and checked on a contact sheet (the README: one face a photo, two in two_people.jpg).
PHOTO_FACES: dict[str, list[tuple[int, int, int, int]]] = {
    "32bit.png": [(200, 214, 461, 659)],
    "alex_lacamoire_img1.jpg": [(300, 107, 578, 576)],
    "biden.jpg": [(432, 172, 699, 551)],
    "biden_biden2.jpg": [(427, 206, 863, 753)],
    "kit_harington_john1.jpeg": [(686, 79, 809, 233)],
    "kit_harington_john2.jpeg": [(310, 47, 482, 285)],
    "obama-1080p.jpg": [(884, 103, 1112, 418)],
    "obama-240p.jpg": [(197, 22, 248, 94)],
    "obama-480p.jpg": [(392, 38, 496, 190)],
    "obama-720p.jpg": [(580, 45, 752, 288)],
    "obama.jpg": [(374, 107, 603, 418)],
    "obama2.jpg": [(198, 214, 464, 658)],
    "obama3.jpg": [(648, 267, 902, 600)],
    "obama_partial_face.jpg": [(2, 72, 179, 437)],
    "obama_partial_face2.jpg": [(374, 73, 551, 452)],
    "obama_small.jpg": [(105, 43, 218, 193)],
    "rose_leslie_img1.jpg": [(620, 70, 864, 374)],
    "rose_leslie_img2.jpg": [(176, 125, 427, 453)],
    "two_people.jpg": [(231, 25, 391, 231), (783, 41, 949, 262)],
}
# The faces pasted into the synthetic canvases: five people, frontal.
SOURCES = ("obama.jpg", "biden.jpg", "kit_harington_john2.jpeg", "rose_leslie_img2.jpg",
           "alex_lacamoire_img1.jpg")
CANVAS = (640, 480)  # width, height
LARGE_CANVAS = (1920, 1080)  # the "small 1080p" category's
FACE_SIDE = 100      # face box height in the pasted crops (px), unless the category scales it
CROP_MARGIN = 0.35   # context kept around the face box in a pasted crop, per side


@dataclass
class Face:
    """One ground-truth face: its core (pixels that must change) and its allowed region."""

    core: np.ndarray            # bool, H x W
    allowed: tuple[int, int, int, int]  # x0, y0, x1, y1: where a cover may change pixels


@dataclass
class Sample:
    """One image of the set and its faces."""

    category: str
    name: str
    pixels: np.ndarray          # H x W x 3 uint8 RGB
    faces: list[Face] = field(default_factory=list)


def load_rgb(path: Path) -> np.ndarray:
    """An RGB uint8 array of a photo (alpha dropped)."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _core(shape: tuple[int, ...], cx: float, cy: float, side: float) -> np.ndarray:
    core = np.zeros(shape[:2], bool)
    half = max(side / 4, 1.0)
    y0, y1 = max(int(round(cy - half)), 0), min(int(round(cy + half)), shape[0])
    x0, x1 = max(int(round(cx - half)), 0), min(int(round(cx + half)), shape[1])
    core[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)] = True
    return core


def _allowed(shape: tuple[int, ...], box: tuple[float, float, float, float]
             ) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    grow = ALLOWED_MARGIN * max(x1 - x0, y1 - y0)
    return (max(int(x0 - grow), 0), max(int(y0 - grow), 0),
            min(int(np.ceil(x1 + grow)), shape[1]), min(int(np.ceil(y1 + grow)), shape[0]))


def photo_samples() -> list[Sample]:
    """The shared photos with their hand-boxed faces."""
    samples = []
    for name, boxes in PHOTO_FACES.items():
        pixels = load_rgb(SHARED_FACES / name)
        faces = [Face(_core(pixels.shape, (x0 + x1) / 2, (y0 + y1) / 2, min(x1 - x0, y1 - y0)),
                      _allowed(pixels.shape, (x0, y0, x1, y1))) for x0, y0, x1, y1 in boxes]
        samples.append(Sample("photos", name, pixels, faces))
    return samples


def _texture(seed: int, size: tuple[int, int] = CANVAS) -> np.ndarray:
    """A non-face background: smooth colour blobs, stripes and noise."""
    rng = np.random.default_rng(seed)
    width, height = size
    low = rng.integers(30, 225, (6, 8, 3), dtype=np.uint8)
    smooth = np.asarray(Image.fromarray(low).resize((width, height), Image.BICUBIC), np.float32)
    y, x = np.mgrid[0:height, 0:width]
    angle, period = rng.uniform(0, np.pi), rng.uniform(15, 60)
    stripes = 25 * np.sin((x * np.cos(angle) + y * np.sin(angle)) * 2 * np.pi / period)
    noise = rng.normal(0, 8, (height, width, 3))
    return np.clip(smooth + stripes[..., None] + noise, 0, 255).astype(np.uint8)


def _crop(name: str, side: float) -> tuple[Image.Image, tuple[float, float, float, float]]:
    """The face of a source photo with CROP_MARGIN of context, scaled so that the face box is
    `side` px high; returns it and the face box inside it."""
    x0, y0, x1, y1 = PHOTO_FACES[name][0]
    width, height = x1 - x0, y1 - y0
    mx, my = CROP_MARGIN * width, CROP_MARGIN * height
    with Image.open(SHARED_FACES / name) as photo:
        crop = photo.convert("RGB").crop((int(x0 - mx), int(y0 - my),
                                          int(x1 + mx), int(y1 + my)))
    scale = side / height
    size = (max(int(round(crop.width * scale)), 1), max(int(round(crop.height * scale)), 1))
    crop = crop.resize(size, Image.LANCZOS)
    return crop, (mx * scale, my * scale, (mx + width) * scale, (my + height) * scale)


def _canvas(category: str, name: str, seed: int,
            faces: list[tuple[Image.Image, tuple[float, float, float, float]]],
            size: tuple[int, int] = CANVAS) -> Sample:
    """Pastes (RGBA crop, face box in it) pairs in a row-major grid of cells on a texture."""
    pixels = _texture(seed, size).copy()
    columns = 3 if len(faces) > 2 else len(faces)
    rows = -(-len(faces) // columns)
    cell_w, cell_h = size[0] // columns, size[1] // rows
    sample = Sample(category, name, pixels)
    for index, (crop, (fx0, fy0, fx1, fy1)) in enumerate(faces):
        cx = (index % columns) * cell_w + cell_w // 2
        cy = (index // columns) * cell_h + cell_h // 2
        left, top = cx - crop.width // 2, cy - crop.height // 2
        canvas = Image.fromarray(pixels)
        canvas.paste(crop, (left, top), crop if crop.mode == "RGBA" else None)
        pixels[:] = np.asarray(canvas)
        box = (left + fx0, top + fy0, left + fx1, top + fy1)
        side = min(fx1 - fx0, fy1 - fy0)
        sample.faces.append(Face(_core(pixels.shape, (box[0] + box[2]) / 2,
                                       (box[1] + box[3]) / 2, side),
                                 _allowed(pixels.shape, box)))
    return sample


def _rotated(crop: Image.Image, box: tuple[float, float, float, float], angle: float
             ) -> tuple[Image.Image, tuple[float, float, float, float]]:
    """The crop turned by `angle` degrees about its centre (transparent corners); the box
    becomes the axis-aligned extent of the turned face box."""
    turned = crop.convert("RGBA").rotate(angle, resample=Image.BILINEAR, expand=True)
    cx0, cy0 = crop.width / 2, crop.height / 2
    cx1, cy1 = turned.width / 2, turned.height / 2
    rad = np.deg2rad(angle)
    corners = np.array([[box[0], box[1]], [box[2], box[1]], [box[0], box[3]], [box[2], box[3]]])
    dx, dy = corners[:, 0] - cx0, corners[:, 1] - cy0
    # PIL turns counter-clockwise on screen: y grows downwards.
    x = cx1 + dx * np.cos(rad) + dy * np.sin(rad)
    y = cy1 - dx * np.sin(rad) + dy * np.cos(rad)
    return turned, (float(x.min()), float(y.min()), float(x.max()), float(y.max()))


def _transformed(category: str, seed: int,
                 make: Callable[[str], tuple[Image.Image, tuple[float, float, float, float]]],
                 name: str, size: tuple[int, int] = CANVAS) -> Sample:
    return _canvas(category, name, seed, [make(source) for source in SOURCES], size)


def synthetic_samples() -> Iterator[Sample]:
    """The synthetic canvases, category by category (5 faces a canvas)."""
    seed = 100
    yield _transformed("upright", seed, lambda s: _crop(s, FACE_SIDE), "upright")
    for angle in (30, 60, 90, 135, 180):
        seed += 1
        yield _transformed("rotated", seed,
                           lambda s, a=angle: _rotated(*_crop(s, FACE_SIDE), a), f"rot{angle}")

    def mirror(source: str, how: Image.Transpose):
        crop, (x0, y0, x1, y1) = _crop(source, FACE_SIDE)
        flipped = crop.transpose(how)
        if how == Image.Transpose.FLIP_LEFT_RIGHT:
            return flipped, (crop.width - x1, y0, crop.width - x0, y1)
        return flipped, (x0, crop.height - y1, x1, crop.height - y0)

    for how, label in ((Image.Transpose.FLIP_LEFT_RIGHT, "mirror"),
                       (Image.Transpose.FLIP_TOP_BOTTOM, "upside-down")):
        seed += 1
        yield _transformed("flipped", seed, lambda s, h=how: mirror(s, h), label)
    for side in (40, 28, 20, 14, 10):
        seed += 1
        yield _transformed("small", seed, lambda s, z=side: _crop(s, z), f"small{side}")
    for sigma in (0.02, 0.04, 0.07):  # of the face's height
        seed += 1

        def blurred(source: str, fraction: float = sigma):
            crop, box = _crop(source, FACE_SIDE)
            return crop.filter(ImageFilter.GaussianBlur(fraction * FACE_SIDE)), box

        yield _transformed("blurred", seed, blurred, f"blur{sigma}")
    for part in ("mouth", "eyes", "side"):
        seed += 1
        yield _occluded(seed, part)
    for keep in ("left", "right"):
        seed += 1
        yield _transformed("profile", seed, lambda s, k=keep: _half(s, k), f"half-{keep}")
    for side in (48, 32, 24, 16):
        seed += 1
        yield _transformed("small 1080p", seed, lambda s, z=side: _crop(s, z),
                           f"small{side}-1080p", LARGE_CANVAS)


def _half(source: str, keep: str) -> tuple[Image.Image, tuple[float, float, float, float]]:
    """A profile made by cropping: the face cut down the nose, one half kept (0.55 of its
    width, the nose included), with the context on that side."""
    crop, (x0, y0, x1, y1) = _crop(source, FACE_SIDE)
    cut = x0 + 0.55 * (x1 - x0) if keep == "left" else x1 - 0.55 * (x1 - x0)
    if keep == "left":
        return crop.crop((0, 0, int(cut), crop.height)), (x0, y0, int(cut), y1)
    return crop.crop((int(cut), 0, crop.width, crop.height)), (0, y0, x1 - int(cut), y1)


def _occluded(seed: int, part: str) -> Sample:
    """Faces partly covered by a textured patch (not a face) that leaves the rest visible: the
    lower half (a mask), a band over the eyes (glasses), or the left 40% (a hand)."""
    patch = _texture(seed + 1000)
    made = []
    for source in SOURCES:
        crop, (x0, y0, x1, y1) = _crop(source, FACE_SIDE)
        w, h = x1 - x0, y1 - y0
        if part == "mouth":
            region = (x0, y0 + 0.55 * h, x1, y1)
        elif part == "eyes":
            region = (x0, y0 + 0.2 * h, x1, y0 + 0.5 * h)
        else:
            region = (x0, y0, x0 + 0.4 * w, y1)
        rx0, ry0, rx1, ry1 = (int(v) for v in region)
        pixels = np.asarray(crop).copy()
        pixels[ry0:ry1, rx0:rx1] = patch[:ry1 - ry0, :rx1 - rx0]
        made.append((Image.fromarray(pixels), (x0, y0, x1, y1), (rx0, ry0, rx1, ry1)))
    sample = _canvas("occluded", f"occluded-{part}", seed, [(c, b) for c, b, _ in made])
    # The occluder is not face: take it out of each face's core, keeping the visible part.
    columns, rows = 3, 2
    cell_w, cell_h = CANVAS[0] // columns, CANVAS[1] // rows
    for index, (face, (crop, _, (rx0, ry0, rx1, ry1))) in enumerate(zip(sample.faces, made)):
        left = (index % columns) * cell_w + cell_w // 2 - crop.width // 2
        top = (index // columns) * cell_h + cell_h // 2 - crop.height // 2
        face.core[max(top + ry0, 0):max(top + ry1, 0), max(left + rx0, 0):max(left + rx1, 0)] = False
    return sample


def recall_set() -> list[Sample]:
    """The whole set: the shared photos, then the synthetic canvases."""
    return photo_samples() + list(synthetic_samples())


def changed(before: np.ndarray, after: np.ndarray, levels: int = 0) -> np.ndarray:
    """Pixels where some channel differs by more than `levels`."""
    if before.shape != after.shape:
        raise ValueError(f"output shape {after.shape} differs from the input's {before.shape}")
    diff = np.abs(before.astype(np.int16) - after.astype(np.int16))
    return (diff > levels).any(axis=2)


def covered(face: Face, before: np.ndarray, after: np.ndarray) -> bool:
    """Whether the output changed enough of the face's core."""
    return float(changed(before, after, CHANGED_LEVELS)[face.core].mean()) >= COVERED_FRACTION


@dataclass
class Row:
    """One category's figures for one anonymizer."""

    faces: int = 0
    covered: int = 0
    outside_pixels: int = 0
    false_cover_pixels: int = 0

    @property
    def recall(self) -> float:
        """Covered faces over faces."""
        return self.covered / self.faces if self.faces else float("nan")

    @property
    def false_cover(self) -> float:
        """Changed pixels outside the allowed regions over all pixels there."""
        return self.false_cover_pixels / self.outside_pixels if self.outside_pixels else 0.0


def score(samples: list[Sample], outputs: list[np.ndarray]) -> dict[str, Row]:
    """Per-category recall and false-cover area of `outputs` (one per sample, same order)."""
    rows: dict[str, Row] = {}
    for sample, out in zip(samples, outputs, strict=True):
        row = rows.setdefault(sample.category, Row())
        outside = np.ones(sample.pixels.shape[:2], bool)
        for face in sample.faces:
            x0, y0, x1, y1 = face.allowed
            outside[y0:y1, x0:x1] = False
            row.faces += 1
            row.covered += covered(face, sample.pixels, out)
        row.outside_pixels += int(outside.sum())
        row.false_cover_pixels += int((changed(sample.pixels, out) & outside).sum())
    return rows
