"""Make docs/fusion.png: the template (obama.jpg), the user (biden.jpg), the user fused in at
shape = features = 0.5 and with the swap preset; each the face's region, 220 px square, side by
side, with the visible AI label.

    python tools/fusion_picture.py [--out docs/fusion.png]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image

from facekit import FaceFuser, FaceLandmarker, FusionOptions, load_image
from facekit._gallery import _face_region
from facekit.labels import draw_label, save_image

REPO = Path(__file__).resolve().parents[1]
FACES = REPO.parent / "shared" / "testdata" / "faces"
CONSENT = "README picture: public-domain official portraits"
SIDE = 220


def face_box(image: np.ndarray) -> tuple[int, int, int, int]:
    """The first face's region of `image`."""
    with FaceLandmarker() as landmarker, landmarker.detect(image) as faces:
        return _face_region(faces, image.shape)


def panel(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """`box` of `image`, resized to SIDE x SIDE."""
    x0, y0, x1, y1 = box
    crop = Image.fromarray(np.ascontiguousarray(image[y0:y1, x0:x1]))
    return np.asarray(crop.resize((SIDE, SIDE), Image.Resampling.LANCZOS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "fusion.png")
    args = parser.parse_args()
    template, user_photo = load_image(FACES / "obama.jpg"), load_image(FACES / "biden.jpg")
    box = face_box(template)
    panels = [panel(template, box), panel(user_photo, face_box(user_photo))]
    for options in (FusionOptions(shape=0.5, features=0.5, consent=CONSENT, label=False),
                    FusionOptions.swap(consent=CONSENT, label=False)):
        with FaceFuser.create_from_options(options) as fuser, fuser.user(user_photo) as user:
            result = user.fuse(template)
        panels.append(panel(result.image, box))
    strip = np.ascontiguousarray(np.concatenate(panels, axis=1))
    label = FusionOptions(consent=CONSENT).label_options
    draw_label(strip, label)
    save_image(args.out, strip, dataclasses.replace(result.provenance, visible_label=True,
                                                    label_text=label.text))
    print(f"wrote {args.out} ({strip.shape[1]}x{strip.shape[0]})")


if __name__ == "__main__":
    main()
