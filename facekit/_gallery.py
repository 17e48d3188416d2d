"""``facekit gallery``: before / 0.5 / 1.0 strips of every beauty effect (the command line's,
not library API). The faces are found once and shared by every variant (``faces=``)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .beauty import EFFECTS, PRESETS, Beautifier, BeautyOptions
from .image import load_image
from .landmarker import FaceLandmarker, LandmarkerResult

__all__ = ["gallery"]

SAMPLE = Path(__file__).resolve().parent / "data" / "sample.jpg"


def gallery(folder: Path, image_path: Path | None = None) -> list[Path]:
    """Write ``<effect>.png`` for every effect (and each preset) into `folder`: the face region
    of the photo before, at strength 0.5 and at 1.0, side by side. Returns the files."""
    from PIL import Image

    image = load_image(image_path or SAMPLE)
    folder.mkdir(parents=True, exist_ok=True)
    cases: dict[str, list[BeautyOptions]] = {}
    for effect in EFFECTS:
        if effect == "lut":
            cases["lut_warm"] = [BeautyOptions(lut="warm", lut_strength=s) for s in (0.5, 1.0)]
        else:
            cases[effect] = [BeautyOptions(**{effect: s}) for s in (0.5, 1.0)]
    for name in ("natural", "studio"):
        cases[f"preset_{name}"] = [PRESETS[name]]
    written = []
    with FaceLandmarker(Beautifier.landmarker_options()) as landmarker, \
            landmarker.detect(image) as faces:
        x0, y0, x1, y1 = _face_region(faces, image.shape)
        for name, variants in cases.items():
            panels = [image]
            for options in variants:
                with Beautifier(options) as beautifier:
                    panels.append(beautifier.apply(image, faces=faces))
            strip = np.concatenate([p[y0:y1, x0:x1] for p in panels], axis=1)
            path = folder / f"{name}.png"
            Image.fromarray(np.ascontiguousarray(strip)).save(path)
            written.append(path)
    return written


def _face_region(faces: LandmarkerResult, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The first face's ROI extent (coarse geometry) within the image; the whole image when no
    face was found."""
    height, width = shape[:2]
    if not faces.faces:
        return 0, 0, width, height
    roi = faces.faces[0].roi
    half = 0.5 * max(roi.width, roi.height) * (abs(math.cos(roi.rotation))
                                               + abs(math.sin(roi.rotation)))
    return (max(0, int(roi.center_x - half)), max(0, int(roi.center_y - half)),
            min(width, int(math.ceil(roi.center_x + half))),
            min(height, int(math.ceil(roi.center_y + half))))
