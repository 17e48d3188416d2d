"""MediaPipe's attention face mesh (its ``refine_landmarks`` network): 478 points from one
network run instead of the mesh network plus the iris network on both eyes.

The TFLite model holds three custom operators, so it ships as two ONNX segments around them
(models/attention_mesh.py, notes/attention_mesh.md): the trunk gives the 468-point mesh, the
presence logit and a 48x48x32 feature map; native code turns the mesh into one matrix per
region (lips, each eye) and samples each region's 16x16x32 crop of the feature map; the regions
network refines lips, eyes and irises; native code maps those points back and assembles the
478-point set in image pixels. Every tensor in between lives in the frame arena.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import _native
from ._inference import Network
from .arena import Frame, native_arena
from .geometry import RotatedRect

__all__ = ["AttentionMesh", "TRUNK", "REGIONS"]

TRUNK, REGIONS = "attention_mesh_trunk", "attention_mesh_regions"
_CONSTANTS = Path(__file__).resolve().parent / "data" / "attention_mesh.json"
# The regions network's heads, in the order attention_landmarks takes them.
_HEADS = ("conv_lips", "conv_left_eye", "conv_left_iris", "conv_right_eye", "conv_right_iris")


def _load_constants() -> tuple[list, float, np.ndarray]:
    """The regions' operator options, the mesh multiplier and the matrices' multipliers."""
    regions = json.loads(_CONSTANTS.read_text())["regions"]
    mesh_scales = {r["mesh_scale"] for r in regions}
    if len(mesh_scales) != 1 or [h for r in regions for h in r["heads"]] != [
            "conv_lips", "conv_left_eye", "conv_left_iris", "conv_right_eye", "conv_right_iris"]:
        raise RuntimeError(f"{_CONSTANTS.name} does not describe the shipped attention mesh")
    natives = [_native.landmarks.AttentionRegion(
        r["subset_idxs"], r["left_rotation_idx"], r["right_rotation_idx"],
        r["target_rotation_radians"], r["scale_x"], r["scale_y"], r["output_width"],
        r["output_height"]) for r in regions]
    matrix_scale = np.array([r["matrix_scale"] for r in regions], np.float32).reshape(-1, 4, 4)
    return natives, mesh_scales.pop(), matrix_scale


class AttentionMesh:
    """The attention mesh's two networks and the native operators between them."""

    def __init__(self, intra_op_threads: int) -> None:
        self.trunk = Network(TRUNK, intra_op_threads)
        self.regions = Network(REGIONS, intra_op_threads)
        self._regions, self._mesh_scale, self._matrix_scale = _load_constants()
        self._crop_size = int(self.regions.input_shape[1])

    def refine(self, frame: Frame, trunk: dict, roi: RotatedRect) -> np.ndarray:
        """The (478, 3) landmarks in image pixels (an arena view) from the trunk's outputs
        for a face crop taken in `roi`."""
        arena = native_arena(frame)
        mesh, features = trunk["output_mesh"], trunk["p_re_lu_3"]
        matrices = _native.landmarks.attention_matrices(arena, mesh, self._regions,
                                                        self._mesh_scale)
        crops = _native.landmarks.attention_crops(arena, features, matrices, self._crop_size)
        heads = self.regions.run(frame, crops)
        box = (roi.center_x, roi.center_y, roi.width, roi.height, roi.rotation)
        lips, left_eye, left_iris, right_eye, right_iris = (heads[name] for name in _HEADS)
        return _native.landmarks.attention_landmarks(
            arena, mesh, lips, left_eye, left_iris, right_eye, right_iris, matrices,
            self._matrix_scale, self._regions, box, int(self.trunk.input_shape[1]))
