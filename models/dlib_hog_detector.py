"""dlib's frontal face detector (HOG features, five 10x10x31 linear filters) in facekit's flat
form.

The detector is compiled into dlib (``dlib/image_processing/frontal_face_detector.h`` holds it
compressed with dlib's own coder), so the source is the serialization dlib-bin itself writes:
``dlib.get_frontal_face_detector().save(path)`` (dev extra). This converter checks that it is
the detector ``native/src/dlib_hog.cpp`` implements (8-pixel cells, 80x80 window, no padding,
pyramid_down<6>, 3100 weights plus a threshold per filter) and writes:

    b"FKHG", u32 format (1), cell (8), window in cells (10), planes (31), pyramid N (6), filters
    f64[filters]                       thresholds (each weight vector's last value)
    f32[filters][31][10][10]           weights, plane-major, as dlib casts them for filtering
"""

from __future__ import annotations

import struct
import tempfile
from pathlib import Path

import numpy as np

from .dlib_to_onnx import _Reader

MAGIC = b"FKHG"
FORMAT = 1
CELL, WINDOW, PLANES, PYRAMID = 8, 10, 31, 6


def source_bytes() -> bytes:
    """The frontal face detector as installed dlib-bin serializes it."""
    import dlib

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frontal_face_detector.svm"
        dlib.get_frontal_face_detector().save(str(path))
        return path.read_bytes()


def parse(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(thresholds, weights as filters x 31 x 10 x 10) of a serialized fhog object_detector."""
    r = _Reader(data)
    r.version(2, "object_detector")
    r.version(1, "scan_fhog_pyramid")
    if (r.integer(), r.integer()) != (0, 0):
        raise ValueError("the scanner carries feature images; expected a bare configuration")
    cell, padding, width, height = (r.integer() for _ in range(4))
    r.integer()  # max pyramid levels (1000: no limit in practice)
    min_width, min_height = r.integer(), r.integer()
    r.scalar()  # nuclear norm regularization: a training setting
    dims = r.integer()
    r.scalar(), r.scalar()  # box-overlap tester; only the top window per face is used
    expected = (CELL, 0, WINDOW * CELL, WINDOW * CELL, 64, 64, PLANES * WINDOW * WINDOW)
    if (cell, padding, width, height, min_width, min_height, dims) != expected:
        raise ValueError(f"not dlib's frontal face detector layout: {(cell, padding, width, height, min_width, min_height, dims)}")
    weights = []
    for _ in range(r.integer()):
        rows, cols = abs(r.integer()), abs(r.integer())
        if (rows, cols) != (dims + 1, 1):
            raise ValueError(f"weight vector of {rows}x{cols}; expected {dims + 1}x1")
        weights.append([r.scalar() for _ in range(rows)])
    if r.pos != len(data):
        raise ValueError(f"{len(data) - r.pos} trailing bytes after the detector")
    w = np.array(weights)
    return w[:, -1].copy(), w[:, :-1].reshape(len(w), PLANES, WINDOW, WINDOW)


def convert(data: bytes) -> bytes:
    """facekit's flat blob of a serialized dlib frontal face detector."""
    thresholds, weights = parse(data)
    return b"".join([MAGIC, struct.pack("<6I", FORMAT, CELL, WINDOW, PLANES, PYRAMID, len(thresholds)),
                     thresholds.astype("<f8").tobytes(), weights.astype("<f4").tobytes()])
