"""``facekit gallery``: before / 0.5 / 1.0 strips of every beauty effect, where the studio
preset reaches on the shared portraits, the portrait background effects, and fusion strips (the
command line's, not library API). The faces are found once and shared by every variant
(``faces=``)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from .beauty import EFFECTS, PRESETS, Beautifier, BeautyOptions
from .image import load_image
from .landmarker import FaceLandmarker, LandmarkerResult

__all__ = ["gallery"]

SAMPLE = Path(__file__).resolve().parent / "data" / "sample.jpg"
# The shared test photos of a development checkout (../shared/testdata beside the repository).
SHARED_FACES = Path("..") / "shared" / "testdata" / "faces"
FUSION_PAIRS = (("obama.jpg", "biden.jpg"), ("kit_harington_john1.jpeg", "rose_leslie_img1.jpg"))
# Shared portraits for the skin strips (a neck in light, a neck in shadow, a beard) and the
# portrait background effects (a plain studio background).
SKIN_PHOTOS = ("biden.jpg", "obama2.jpg", "alex_lacamoire_img1.jpg")
PORTRAIT_PHOTO = "alex_lacamoire_img1.jpg"
CHANGE_GAIN = 8  # the skin strips' change panel: |after - before| times this
GALLERY_CONSENT = "facekit gallery: the project's test photos, for development only"


def gallery(folder: Path, image_path: Path | None = None) -> list[Path]:
    """Write ``<effect>.png`` for every effect (and each preset) into `folder`: the face region
    of the photo before, at strength 0.5 and at 1.0, side by side; then the fusion strips
    (:func:`fusion_strips`). Returns the files."""
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
    written += skin_strips(folder, image if image_path else None)
    written += portrait_strip(folder, image if image_path else None)
    written += fusion_strips(folder, image if image_path else None)
    return written


def _shared_or(names: tuple[str, ...], image: np.ndarray | None) -> list[tuple[str, np.ndarray]]:
    """The shared photos `names` when `image` is None and they are all there; else `image` (or
    the bundled sample) as "sample"."""
    if image is None and all((SHARED_FACES / name).exists() for name in names):
        return [(Path(name).stem, load_image(SHARED_FACES / name)) for name in names]
    return [("sample", load_image(SAMPLE) if image is None else image)]


def skin_strips(folder: Path, image: np.ndarray | None = None) -> list[Path]:
    """Write ``skin_<photo>.png`` for each skin photo (or the sample): the head before, with the
    studio preset, and where whitening at strength 1 changed the picture (``|after - before|``
    times CHANGE_GAIN, grey): the skin mask at work, seen from the pictures alone, reaching the
    neck and sparing eyes, lips and the background. Returns the files."""
    from PIL import Image

    written = []
    with FaceLandmarker(Beautifier.landmarker_options()) as landmarker, \
            Beautifier(PRESETS["studio"]) as studio, \
            Beautifier(BeautyOptions(whitening=1.0)) as whitening:
        for name, picture in _shared_or(SKIN_PHOTOS, image):
            with landmarker.detect(picture) as faces:
                x0, y0, x1, y1 = _face_region(faces, picture.shape, grow=1.6)
                after = studio.apply(picture, faces=faces)
                lifted = whitening.apply(picture, faces=faces)
            change = np.abs(lifted.astype(np.int16) - picture.astype(np.int16)).max(axis=2)
            grey = np.clip(change * CHANGE_GAIN, 0, 255).astype(np.uint8)
            panels = [picture, after, np.repeat(grey[..., None], 3, axis=2)]
            strip = np.concatenate([p[y0:y1, x0:x1] for p in panels], axis=1)
            path = folder / f"skin_{name}.png"
            Image.fromarray(np.ascontiguousarray(strip)).save(path)
            written.append(path)
    return written


def portrait_strip(folder: Path, image: np.ndarray | None = None) -> list[Path]:
    """Write ``portrait_<photo>.png``: the photo, its background blurred (strength 1), replaced
    by a colour, and the person cut out over a checkerboard. Returns the files."""
    from PIL import Image

    from .portrait import Portrait, PortraitOptions

    [(name, picture)] = _shared_or((PORTRAIT_PHOTO,), image)
    panels = [picture]
    for options in (PortraitOptions(blur=1.0), PortraitOptions(background=(40, 110, 200)),
                    PortraitOptions(cutout=True)):
        with Portrait(options) as portrait, portrait.segment(picture) as result:
            out = np.array(result.image)  # the gallery's own copy of the output picture
        if out.shape[2] == 4:  # the cut-out: composite its alpha over a checkerboard
            height, width = out.shape[:2]
            yy, xx = np.mgrid[:height, :width]
            board = np.where(((yy // 16 + xx // 16) % 2)[..., None] == 0, 200, 150)
            alpha = out[..., 3:].astype(np.float32) / 255.0
            out = (out[..., :3] * alpha + board * (1.0 - alpha) + 0.5).astype(np.uint8)
        panels.append(out)
    path = folder / f"portrait_{name}.png"
    Image.fromarray(np.ascontiguousarray(np.concatenate(panels, axis=1))).save(path)
    return [path]


def fusion_strips(folder: Path, image: np.ndarray | None = None) -> list[Path]:
    """Write ``fusion_<template>_<user>.png`` for each shared pair (the bundled sample and its
    mirror image when the shared photos are absent, or `image` and its mirror): the template's
    face region, then fused at shape = features = 0, 0.5 and 1 and with the swap preset, side
    by side, labelled, with the provenance in the file. Returns the files."""
    from .fusion import FaceFuser, FusionOptions
    from .labels import draw_label, save_image

    if image is None and all((SHARED_FACES / name).exists() for pair in FUSION_PAIRS
                             for name in pair):
        pairs = [(Path(t).stem, load_image(SHARED_FACES / t), Path(u).stem,
                  load_image(SHARED_FACES / u)) for t, u in FUSION_PAIRS]
    else:
        picture = load_image(SAMPLE) if image is None else image
        pairs = [("sample", picture, "mirrored", np.ascontiguousarray(picture[:, ::-1]))]
    variants = [FusionOptions(shape=t, features=t, consent=GALLERY_CONSENT, label=False)
                for t in (0.0, 0.5, 1.0)]
    variants.append(FusionOptions.swap(consent=GALLERY_CONSENT, label=False))
    written = []
    for template_name, template, user_name, photo in pairs:
        fusers = [FaceFuser.create_from_options(options) for options in variants]
        try:
            with FaceLandmarker(variants[0].landmarker_options()) as landmarker, \
                    landmarker.detect(template) as faces:
                x0, y0, x1, y1 = _face_region(faces, template.shape)
                panels = [template]
                for fuser in fusers:
                    with fuser.user(photo) as user:
                        result = user.fuse(template, faces=faces)
                    panels.append(result.image)
            strip = np.ascontiguousarray(np.concatenate(
                [p[y0:y1, x0:x1] for p in panels], axis=1))
            label = variants[0].label_options
            draw_label(strip, label)
            provenance = dataclasses.replace(result.provenance, visible_label=True,
                                             label_text=label.text)
            path = folder / f"fusion_{template_name}_{user_name}.png"
            save_image(path, strip, provenance)
            written.append(path)
        finally:
            for fuser in fusers:
                fuser.close()
    return written


def _face_region(faces: LandmarkerResult, shape: tuple[int, ...],
                 grow: float = 1.0) -> tuple[int, int, int, int]:
    """The first face's ROI extent (coarse geometry), `grow` times its size, within the image;
    the whole image when no face was found."""
    height, width = shape[:2]
    if not faces.faces:
        return 0, 0, width, height
    roi = faces.faces[0].roi
    half = 0.5 * grow * max(roi.width, roi.height) * (abs(math.cos(roi.rotation))
                                               + abs(math.sin(roi.rotation)))
    return (max(0, int(roi.center_x - half)), max(0, int(roi.center_y - half)),
            min(width, int(math.ceil(roi.center_x + half))),
            min(height, int(math.ceil(roi.center_y + half))))
