"""Make docs/skin.png and docs/portrait.png, the README's pictures of the skin-aware studio preset
and of the portrait background effects: `facekit gallery`'s strips of two public-domain shared
photos (the group that may be committed, see ../shared/testdata/README), 880 px wide.

    python tools/gallery_pictures.py [--skin obama2.jpg] [--portrait biden.jpg] [--out docs]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from PIL import Image

from facekit._gallery import portrait_strip, skin_strips
from facekit.image import load_image

REPO = Path(__file__).resolve().parents[1]
FACES = REPO.parent / "shared" / "testdata" / "faces"
WIDTH = 880


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skin", default="obama2.jpg")
    parser.add_argument("--portrait", default="biden.jpg")
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        made = {"skin": skin_strips(Path(folder), load_image(FACES / args.skin))[0],
                "portrait": portrait_strip(Path(folder), load_image(FACES / args.portrait))[0]}
        for name, path in made.items():
            picture = Image.open(path)
            picture = picture.resize((WIDTH, round(picture.height * WIDTH / picture.width)),
                                     Image.LANCZOS)
            picture.save(args.out / f"{name}.png", optimize=True)
            print(f"wrote {args.out / f'{name}.png'}")


if __name__ == "__main__":
    main()
