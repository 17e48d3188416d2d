"""What CenterFace adds to the anonymizer's search: faces of the shared photos turned by 0-180
degrees, and half faces (profiles made by cropping: the image cut 35% or 50% into the face from
either side), found by both BlazeFace networks at the search score (0.35), by CenterFace at its
search score (0.1), and by the union.

    python benchmarks/centerface_rotations.py

Ground truth by construction: the centre of each face the full-range network finds in the
upright photo at its default score, turned with the image (PIL's rotate, expand=True); a face
counts as found when a box contains that centre. A half face counts as found when a box
overlaps its visible part.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

import facekit
from facekit.anonymize import CENTERFACE_SEARCH_SCORE, SEARCH_SCORE

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from support import parity_photos  # noqa: E402

ANGLES = (0, 45, 90, 135, 180)
KEEP = (0.35, 0.5)  # how far into the face a half-face crop reaches


def detector(model: str, score: float | None) -> facekit.FaceDetector:
    return facekit.FaceDetector(facekit.FaceDetectorOptions(
        model=model, max_faces=100, min_detection_confidence=score))


def boxes(detectors, image) -> list[facekit.BoundingBox]:
    found = []
    for d in detectors:
        with d.detect(image) as result:
            found += [face.box for face in result.faces]
    return found


def contains(found, x: float, y: float) -> bool:
    return any(b.x <= x <= b.x + b.width and b.y <= y <= b.y + b.height for b in found)


def main() -> None:
    blazeface = [detector("short_range", SEARCH_SCORE), detector("full_range", SEARCH_SCORE)]
    centerface = [detector("centerface", CENTERFACE_SEARCH_SCORE)]
    reference = detector("full_range", None)
    counts = {angle: np.zeros(4, int) for angle in ANGLES}  # faces, BlazeFace, CenterFace, union
    halves = {keep: np.zeros(4, int) for keep in KEEP}
    for path in parity_photos()[0][1:]:
        upright = Image.open(path).convert("RGB")
        with reference.detect(np.asarray(upright)) as result:
            centres = [(f.box.x + f.box.width / 2, f.box.y + f.box.height / 2)
                       for f in result.faces]
        for angle in ANGLES:
            turned = upright.rotate(angle, expand=True)  # counter-clockwise
            image = np.asarray(turned)
            by_blazeface, by_centerface = boxes(blazeface, image), boxes(centerface, image)
            a = np.radians(angle)
            for cx, cy in centres:
                dx, dy = cx - upright.width / 2, cy - upright.height / 2
                x = turned.width / 2 + dx * np.cos(a) + dy * np.sin(a)
                y = turned.height / 2 - dx * np.sin(a) + dy * np.cos(a)
                counts[angle] += (1, contains(by_blazeface, x, y), contains(by_centerface, x, y),
                                  contains(by_blazeface + by_centerface, x, y))
        half_faces(upright, result_boxes(reference, upright), blazeface, centerface, halves)
    for angle, (faces, blaze, center, union) in counts.items():
        print(f"turned {angle:3d} degrees: {faces} faces; BlazeFace x2 at {SEARCH_SCORE}: {blaze}, "
              f"CenterFace at {CENTERFACE_SEARCH_SCORE}: {center}, union: {union}")
    for keep, (faces, blaze, center, union) in halves.items():
        print(f"half faces, {keep:.0%} of the width: {faces}; BlazeFace x2: {blaze}, "
              f"CenterFace: {center}, union: {union}")


def result_boxes(detector, picture: Image.Image) -> list[tuple[float, float, float, float]]:
    with detector.detect(np.asarray(picture)) as result:
        return [(f.box.x, f.box.y, f.box.width, f.box.height) for f in result.faces]


def overlaps(found, x0: float, y0: float, x1: float, y1: float) -> bool:
    return any(b.x < x1 and b.x + b.width > x0 and b.y < y1 and b.y + b.height > y0
               for b in found)


def half_faces(upright: Image.Image, faces, blazeface, centerface, halves) -> None:
    """Each face cut `keep` of its width in from the left and from the right, the crop reaching
    a face width beyond the face elsewhere."""
    for x, y, w, h in faces:
        for keep in KEEP:
            for cut in (x + keep * w, x + (1 - keep) * w):
                x0 = max(0, int(x - w)) if cut < x + w / 2 else int(cut)
                x1 = int(cut) if cut < x + w / 2 else min(upright.width, int(x + 2 * w))
                y0 = max(0, int(y - h))
                crop = upright.crop((x0, y0, x1, min(upright.height, int(y + 2 * h))))
                image = np.asarray(crop)
                visible = (max(x, x0) - x0, y - y0, min(x + w, x1) - x0, y + h - y0)
                by_blazeface, by_centerface = boxes(blazeface, image), boxes(centerface, image)
                halves[keep] += (1, overlaps(by_blazeface, *visible),
                                 overlaps(by_centerface, *visible),
                                 overlaps(by_blazeface + by_centerface, *visible))


if __name__ == "__main__":
    main()
