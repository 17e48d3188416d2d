"""dlib's 5-point shape predictor (a cascade of regression-tree forests) in facekit's flat form.

dlib serializes a ``shape_predictor`` as: a version (1), the mean shape (a column of floats), the
forests (per cascade level a list of trees, each a list of splits and a list of leaf vectors), the
anchor part of every feature pixel and its offset from that part. This converter reads all of it
with the same primitives as ``dlib_to_onnx`` and writes one little-endian blob that native code
(``native/src/shape_predictor.cpp``) parses with fixed strides:

    b"FKSP", u32 format (1), u32 parts, cascades, trees, depth, features
    f32[parts * 2]                      mean shape, x/y interleaved, in units of the face box
    per cascade: u16[features] anchor parts, f32[features * 2] offsets
    per cascade, per tree: u16[splits] idx1, u16[splits] idx2, f32[splits] thresholds,
                           f32[leaves * parts * 2] leaf vectors   (splits = 2**depth - 1)

Every value is copied exactly (dlib stores float32 as mantissa/exponent pairs).
"""

from __future__ import annotations

import struct

import numpy as np

from .dlib_to_onnx import _Reader

MAGIC = b"FKSP"
FORMAT = 1


def _column(r: _Reader) -> np.ndarray:
    rows, cols = abs(r.integer()), abs(r.integer())  # dlib writes -nr, -nc
    if cols != 1:
        raise ValueError(f"expected a column vector, found {rows}x{cols}")
    return np.array([r.scalar() for _ in range(rows)], np.float32)


def parse(data: bytes) -> dict:
    """The predictor's arrays: mean shape, splits, leaves, anchors and offsets."""
    r = _Reader(data)
    r.version(1, "shape_predictor")
    mean = _column(r)
    if mean.size == 0 or mean.size % 2:
        raise ValueError(f"mean shape has {mean.size} values; expected an even, positive count")
    forests = []
    for _ in range(r.integer()):
        trees = []
        for _ in range(r.integer()):
            splits = [(r.integer(), r.integer(), r.scalar()) for _ in range(r.integer())]
            leaves = [_column(r) for _ in range(r.integer())]
            trees.append((splits, leaves))
        forests.append(trees)
    anchors = [[r.integer() for _ in range(r.integer())] for _ in range(r.integer())]
    offsets = [[(r.scalar(), r.scalar()) for _ in range(r.integer())] for _ in range(r.integer())]
    if r.pos != len(data):
        raise ValueError(f"{len(data) - r.pos} trailing bytes after the shape predictor")

    parts, cascades = mean.size // 2, len(forests)
    trees = len(forests[0]) if cascades else 0
    splits = len(forests[0][0][0]) if trees else 0
    depth = (splits + 1).bit_length() - 1
    features = len(anchors[0]) if anchors else 0
    if not (cascades and trees and splits == 2 ** depth - 1 and features):
        raise ValueError("empty or irregular shape predictor")
    if len(anchors) != cascades or len(offsets) != cascades:
        raise ValueError("anchor/offset lists do not match the cascade count")
    for level in range(cascades):
        if len(forests[level]) != trees or len(anchors[level]) != features or \
                len(offsets[level]) != features:
            raise ValueError(f"cascade level {level} differs in size from level 0")
        if max(anchors[level]) >= parts:
            raise ValueError(f"cascade level {level} anchors a part beyond {parts}")
        for split_list, leaf_list in forests[level]:
            if len(split_list) != splits or len(leaf_list) != splits + 1 or \
                    any(v.size != parts * 2 for v in leaf_list) or \
                    any(max(a, b) >= features for a, b, _ in split_list):
                raise ValueError(f"irregular tree in cascade level {level}")
    return {
        "mean": mean,
        "anchors": np.array(anchors, np.uint16),
        "offsets": np.array(offsets, np.float32),
        "idx1": np.array([[[s[0] for s in t[0]] for t in f] for f in forests], np.uint16),
        "idx2": np.array([[[s[1] for s in t[0]] for t in f] for f in forests], np.uint16),
        "thresholds": np.array([[[s[2] for s in t[0]] for t in f] for f in forests], np.float32),
        "leaves": np.array([[np.stack(t[1]) for t in f] for f in forests], np.float32),
        "depth": depth,
    }


def convert(data: bytes) -> bytes:
    """facekit's flat blob of a dlib shape predictor file (see the module docstring)."""
    p = parse(data)
    cascades, trees, splits = p["idx1"].shape
    out = [MAGIC, struct.pack("<6I", FORMAT, p["mean"].size // 2, cascades, trees, p["depth"],
                              p["anchors"].shape[1]),
           p["mean"].astype("<f4").tobytes()]
    for level in range(cascades):
        out += [p["anchors"][level].astype("<u2").tobytes(),
                p["offsets"][level].astype("<f4").tobytes()]
    for level in range(cascades):
        for tree in range(trees):
            out += [p["idx1"][level, tree].astype("<u2").tobytes(),
                    p["idx2"][level, tree].astype("<u2").tobytes(),
                    p["thresholds"][level, tree].astype("<f4").tobytes(),
                    p["leaves"][level, tree].astype("<f4").tobytes()]
    return b"".join(out)
