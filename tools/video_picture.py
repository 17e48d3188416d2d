"""Make docs/video.png: one frame of the shared clip before and after `facekit video --beauty
studio --mesh` (the frames side by side, 880 px wide).

    python tools/video_picture.py [--clip CLIP] [--frame N] [--out docs/video.png]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import av
import numpy as np
from PIL import Image

from facekit.beauty import PRESETS
from facekit.video import process_video

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO.parent / "shared" / "testdata" / "video" / "short_hamilton_clip.mp4"


def frame(path: Path, index: int) -> np.ndarray:
    with av.open(str(path)) as container:
        for number, picture in enumerate(container.decode(video=0)):
            if number == index:
                return picture.to_ndarray(format="rgb24")
    raise ValueError(f"{path} has no frame {index}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clip", type=Path, default=CLIP)
    parser.add_argument("--frame", type=int, default=150)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "video.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.mp4"
        process_video(args.clip, out, beauty=PRESETS["studio"], mesh=True)
        pair = np.concatenate([frame(args.clip, args.frame), frame(out, args.frame)], axis=1)
    picture = Image.fromarray(pair)
    width = 880
    picture = picture.resize((width, round(picture.height * width / picture.width)),
                             Image.LANCZOS)
    picture.save(args.out, optimize=True)
    print(f"wrote {args.out} ({picture.width}x{picture.height})")


if __name__ == "__main__":
    main()
