"""Write the fixture native/tests/test_dlib_parity.cpp checks (dev extra: dlib-bin).

    python tests/dlib_fixture.py OUT

For the committed sample photo (tests/data/obama.jpg): dlib-bin's frontal face detector box
(``detector(image, 1)``) and confidence, its 5-point shape predictor's points in that box, and the
RGB pixels. Layout: b"FKFX", u32 width, height, i32 box[4], f64 score, i32 points[10], RGB bytes.
"""

from __future__ import annotations

import struct
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main(out: Path) -> None:
    from support import dlib_reference

    import facekit

    image = np.ascontiguousarray(facekit.load_image(HERE / "data" / "obama.jpg")[..., :3])
    with tempfile.TemporaryDirectory() as tmp:
        dlib, detector, predictor, _ = dlib_reference(Path(tmp))
        boxes, scores, _ = detector.run(image, 1, 0.0)
        if len(boxes) != 1:
            raise SystemExit(f"expected one face in the sample photo, dlib found {len(boxes)}")
        box = boxes[0]
        points = [v for p in predictor(image, box).parts() for v in (p.x, p.y)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"FKFX" + struct.pack("<2I4id10i", image.shape[1], image.shape[0],
                                          box.left(), box.top(), box.right(), box.bottom(),
                                          scores[0], *points) + image.tobytes())
    print(f"{out}: dlib box {box}, confidence {scores[0]:.4f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]))
