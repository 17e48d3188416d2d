"""Face-free images for measuring false faces (tests/test_false_faces.py,
benchmarks/false_faces.py): all drawn here from fixed seeds, so the set is the same everywhere.

- emblems: seals and logos (rings, blobs, bars, stars at random places). A few of them are
  arranged like a face by chance, and the short-range detector and the landmark network take
  those for one, as MediaPipe does (a second face on a background emblem is how it shows in
  real photos).
- schematic faces: a ring around two dark eyes, a nose and a mouth. Both detectors take these
  for faces: no detector check can reject them, and the measurement says so.
- smileys and textures (noise, blobs, checkers, stripes): rarely or never taken for faces.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

EMBLEMS = 300


def emblem(seed: int, size: int = 320) -> np.ndarray:
    rng = np.random.default_rng(seed)

    def colour(low: int = 0, high: int = 256) -> tuple[int, ...]:
        return tuple(int(v) for v in rng.integers(low, high, 3))

    image = Image.new("RGB", (size, size), colour())
    draw = ImageDraw.Draw(image)
    c, outer = size / 2 + rng.uniform(-20, 20), size * rng.uniform(0.2, 0.4)
    draw.ellipse([c - outer, c - outer, c + outer, c + outer], fill=colour(),
                 outline=colour(0, 80), width=int(rng.integers(1, 8)))
    r = outer * rng.uniform(0.6, 0.9)
    draw.ellipse([c - r, c - r, c + r, c + r], fill=colour(120), outline=colour(0, 80), width=3)
    for _ in range(int(rng.integers(2, 7))):
        kind = rng.integers(0, 3)
        x, y = c + rng.uniform(-0.6, 0.6) * r, c + rng.uniform(-0.6, 0.6) * r
        s = rng.uniform(0.05, 0.25) * r
        if kind == 0:
            draw.ellipse([x - s, y - s * rng.uniform(0.5, 1.5), x + s, y + s], fill=colour(0, 120))
        elif kind == 1:
            draw.rectangle([x - s, y - s * 0.3, x + s, y + s * 0.3], fill=colour(0, 160))
        else:
            angles = np.linspace(0, 2 * np.pi, 6)[:-1] + rng.uniform(0, 1)
            draw.polygon([(x + s * np.cos(a), y + s * np.sin(a)) for a in angles], fill=colour())
    return np.asarray(image)


def schematic_face(seed: int, size: int = 480) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(image)
    c, r = size / 2, size * 0.32
    draw.ellipse([c - r, c - r, c + r, c + r], fill=tuple(int(v) for v in rng.integers(100, 255, 3)),
                 outline=(20, 20, 20), width=6)
    draw.ellipse([c - r * 0.8, c - r * 0.8, c + r * 0.8, c + r * 0.8], fill=(230, 230, 220),
                 outline=(20, 20, 20), width=3)
    for side in (-1, 1):
        x = c + side * r * 0.3
        draw.ellipse([x - r * 0.1, c - r * 0.3, x + r * 0.1, c - r * 0.15], fill=(30, 30, 30))
    draw.rectangle([c - r * 0.05, c - r * 0.15, c + r * 0.05, c + r * 0.2], fill=(90, 60, 40))
    draw.rectangle([c - r * 0.3, c + r * 0.3, c + r * 0.3, c + r * 0.38], fill=(120, 20, 20))
    return np.asarray(image)


def smiley(seed: int, size: int = 480) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(image)
    c, r = size / 2, size * rng.uniform(0.2, 0.4)
    draw.ellipse([c - r, c - r, c + r, c + r], fill=(255, 220, 0), outline=(0, 0, 0), width=3)
    e = r * 0.13
    for side in (-1, 1):
        x, y = c + side * r * 0.38, c - r * 0.25
        draw.ellipse([x - e, y - e * 1.4, x + e, y + e * 1.4], fill=(0, 0, 0))
    draw.arc([c - r * 0.5, c - r * 0.1, c + r * 0.5, c + r * 0.6], 20, 160, fill=(0, 0, 0),
             width=max(2, int(r * 0.04)))
    return np.asarray(image)


def textures(seed: int, size: int = 480) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    coarse = rng.integers(0, 256, (size // 8, size // 8, 3), dtype=np.uint8)
    gray = [((yy // 40 + xx // 40) % 2 * 255).astype(np.uint8),
            ((np.sin(xx / 7.0 + yy / 13.0) * 0.5 + 0.5) * 255).astype(np.uint8)]
    return [rng.integers(0, 256, (size, size, 3), dtype=np.uint8),
            np.asarray(Image.fromarray(coarse).resize((size, size), Image.BICUBIC)),
            *(np.repeat(g[..., None], 3, axis=2) for g in gray)]


def drawn() -> dict[str, np.ndarray]:
    """The drawn face-free set, by name."""
    images = {f"emblem{seed}": emblem(seed) for seed in range(EMBLEMS)}
    images.update({f"schematic{seed}": schematic_face(seed) for seed in range(6)})
    images.update({f"smiley{seed}": smiley(seed) for seed in range(6)})
    for seed in range(2):
        images.update({f"texture{seed}.{i}": t for i, t in enumerate(textures(seed))})
    return images


def background_crops(photo: np.ndarray, faces: list[tuple[float, float, float]]) -> list[np.ndarray]:
    """Square crops (a third of the short side, half-overlapping) of `photo` that stay clear of
    every face's ROI square (centre x, centre y, side)."""
    height, width = photo.shape[:2]
    side = min(height, width) // 3
    crops = []
    for y in range(0, height - side + 1, side // 2):
        for x in range(0, width - side + 1, side // 2):
            if all(x + side < cx - s or x > cx + s or y + side < cy - s or y > cy + s
                   for cx, cy, s in faces):
                crops.append(np.ascontiguousarray(photo[y:y + side, x:x + side, :3]))
    return crops
