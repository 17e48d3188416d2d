"""TEST-ONLY REFERENCE, never shipped: MediaPipe's attention face mesh
(face_landmark_with_attention.tflite, MediaPipe 0.10.14) run as two converted ONNX segments with
its three custom TFLite operators written in plain NumPy between them.

The operators are written from the semantics of MediaPipe's CPU kernels (version 2 of each,
the version the model's operator codes ask for and MediaPipe's CPU resolver registers):

- Landmarks2TransformMatrix: from 468 mesh points (feature-map units), the 4x4 matrix that maps
  a pixel of a 16x16 region crop to feature-map coordinates: rotate so that the line from
  landmark `left_rotation_idx` to `right_rotation_idx` is at `target_rotation_radians`, take the
  bounding box of the `subset_idxs` points in that frame, scale it by (scale_x, scale_y).
- TransformTensorBilinear: bilinear sampling of an NHWC tensor at the matrix-mapped pixel
  centres; a sample whose position falls outside [0, size - 1] is 0.
- TransformLandmarks: (x, y) -> the matrix applied to (x, y, 0, 1), first two rows.

This is the groundwork of issue 17's native implementation (see notes/attention_mesh.md); it
runs in Python on face data, so it must stay in tests/ (facekit's rule: biometric values are
touched only by native code in its wiped arena).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MEMBER = "mediapipe/modules/face_landmark/face_landmark_with_attention.tflite"

# The plain-operator segments the graph is cut into (tensor names of the TFLite file).
TRUNK_INPUTS = ["input_1"]
TRUNK_OUTPUTS = ["output_mesh", "conv_faceflag", "p_re_lu_3"]
REGION_CROPS = ["transform_tensor_bilinear_v2", "transform_tensor_bilinear_v2_1",
                "transform_tensor_bilinear_v2_2"]
REGION_OUTPUTS = ["conv_lips", "conv_left_eye", "conv_left_iris", "conv_right_eye",
                  "conv_right_iris"]
# Each region head's output, and the crop (0 lips, 1 left eye, 2 right eye) whose matrix maps
# it back: the irises share their eye's crop.
HEADS = {"conv_lips": 0, "conv_left_eye": 1, "conv_left_iris": 1, "conv_right_eye": 2,
         "conv_right_iris": 2}
# The whole model's outputs, in its order, and the head each one reshapes.
OUTPUTS = {"output_mesh_identity": "output_mesh", "output_lips": "conv_lips",
           "output_left_eye": "conv_left_eye", "output_right_eye": "conv_right_eye",
           "output_left_iris": "conv_left_iris", "output_right_iris": "conv_right_iris",
           "conv_faceflag": "conv_faceflag"}


@dataclass(frozen=True)
class Region:
    """One Landmarks2TransformMatrix operator's options (its flexbuffer custom options)."""

    subset_idxs: tuple[int, ...]
    left_rotation_idx: int
    right_rotation_idx: int
    target_rotation_radians: float
    scale_x: float
    scale_y: float
    output_width: int
    output_height: int


def landmarks_to_transform_matrix(landmarks: np.ndarray, region: Region) -> np.ndarray:
    """Landmarks2TransformMatrix v2: [N, 3] points -> the [4, 4] crop-to-input matrix."""
    pts = landmarks[:, :2].astype(np.float64)
    left, right = pts[region.left_rotation_idx], pts[region.right_rotation_idx]
    r = region.target_rotation_radians - np.arctan2(right[1] - left[1], right[0] - left[0])
    c, s = np.cos(r), np.sin(r)
    rotate = np.array([[c, -s], [s, c]])  # by r; its transpose rotates back
    # An odd-length subset repeats its last index (MediaPipe pairs them); a repeat does not
    # move a bounding box, so the set of points is all that matters.
    upright = pts[list(region.subset_idxs)] @ rotate.T
    low, high = upright.min(0), upright.max(0)
    centre = rotate.T @ ((low + high) / 2)
    size = (high - low) * (region.scale_x, region.scale_y) / (region.output_width,
                                                                region.output_height)
    # shift to the centre . rotate back . scale . shift the crop's centre to the origin
    linear = rotate.T @ np.diag(size)
    m = np.eye(4)
    m[:2, :2] = linear
    m[:2, 3] = centre - linear @ (region.output_width / 2, region.output_height / 2)
    return m.astype(np.float32)


def transform_tensor_bilinear(x: np.ndarray, matrix: np.ndarray, out_h: int,
                              out_w: int) -> np.ndarray:
    """TransformTensorBilinear v2: [H, W, C] sampled on the out_h x out_w grid."""
    h, w, _ = x.shape
    m = matrix.astype(np.float32)
    # v2 samples pixel centres: the matrix is applied to (x + 0.5, y + 0.5) and 0.5 taken off.
    ox = m[0, 3] + 0.5 * m[0, 0] + 0.5 * m[0, 1] - 0.5
    oy = m[1, 3] + 0.5 * m[1, 0] + 0.5 * m[1, 1] - 0.5
    gy, gx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    tx = m[0, 0] * gx + m[0, 1] * gy + ox
    ty = m[1, 0] * gx + m[1, 1] * gy + oy
    inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    x0, y0 = np.floor(tx), np.floor(ty)
    fx, fy = (tx - x0)[..., None], (ty - y0)[..., None]
    padded = np.zeros((h + 1, w + 1, x.shape[2]), np.float32)  # the +1 neighbours read 0
    padded[:h, :w] = x
    xi = np.clip(x0, 0, w - 1).astype(np.int64)
    yi = np.clip(y0, 0, h - 1).astype(np.int64)
    top = (1 - fx) * padded[yi, xi] + fx * padded[yi, xi + 1]
    bottom = (1 - fx) * padded[yi + 1, xi] + fx * padded[yi + 1, xi + 1]
    out = fy * bottom + (1 - fy) * top
    return np.where(inside[..., None], out, 0).astype(np.float32)


def transform_landmarks(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """TransformLandmarks v2: [N, 2] points -> the matrix applied to (x, y, 0, 1)."""
    m = matrix.astype(np.float32)
    return (points.astype(np.float32) @ m[:2, :2].T + m[:2, 3]).astype(np.float32)


class AttentionMesh:
    """The whole attention model: trunk segment, NumPy custom operators, region segment.

    `source` is the TFLite file's bytes; the options, the constant multipliers between the
    operators and the segments all come from it (nothing here is copied from MediaPipe).
    """

    def __init__(self, source: bytes, tflite_to_onnx, ort):
        from flatbuffers import flexbuffers

        self.source = source
        tensors, ops, _, _ = tflite_to_onnx._read_model(source)
        names = [t.name for t in tensors]
        consts = {}
        for op in ops:  # the fp16 multipliers, dequantized
            if op.code == tflite_to_onnx.DEQUANTIZE:
                consts[names[op.outputs[0]]] = tensors[op.inputs[0]].data.astype(np.float32)
        self.regions = [Region(**{k: (tuple(v) if k == "subset_idxs" else v) for k, v in
                                  flexbuffers.Loads(op.custom_options).items()})
                        for op in ops if op.code == "Landmarks2TransformMatrix"]
        assert len(self.regions) == 3, "expected three regions: lips, left eye, right eye"
        # output_mesh (192-pixel units) -> feature-map units before the matrix (0.25 = 48/192);
        # each matrix, per element, back to 192-pixel units before TransformLandmarks.
        self.mesh_scale = [float(consts[f"multiply_by_constant{s}/Constant_dequantize"][0])
                           for s in ("", "_2", "_4")]
        self.matrix_scale = [consts[f"multiply_by_constant_{k}/Constant_dequantize"]
                             .reshape(4, 4) for k in (1, 3, 5)]
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.trunk = ort.InferenceSession(
            tflite_to_onnx.convert_segment(source, "attention_trunk", TRUNK_INPUTS,
                                           TRUNK_OUTPUTS).SerializeToString(),
            options, providers=["CPUExecutionProvider"])
        self.heads = ort.InferenceSession(
            tflite_to_onnx.convert_segment(source, "attention_regions", REGION_CROPS,
                                           REGION_OUTPUTS).SerializeToString(),
            options, providers=["CPUExecutionProvider"])

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The model's seven outputs (TFLite names and shapes) for one [1, 192, 192, 3] input,
        and the intermediate tensors (matrices, crops) under their TFLite names."""
        trunk = dict(zip(TRUNK_OUTPUTS, self.trunk.run(TRUNK_OUTPUTS, {"input_1": x})))
        mesh = trunk["output_mesh"].reshape(-1, 3)
        matrices = [landmarks_to_transform_matrix(mesh * s, r)
                    for s, r in zip(self.mesh_scale, self.regions)]
        crops = [transform_tensor_bilinear(trunk["p_re_lu_3"][0], m, r.output_height,
                                           r.output_width)[None]
                 for m, r in zip(matrices, self.regions)]
        heads = dict(zip(REGION_OUTPUTS, self.heads.run(REGION_OUTPUTS,
                                                        dict(zip(REGION_CROPS, crops)))))
        values = {**trunk, **heads}
        out = {}
        for name, head in OUTPUTS.items():
            value = values[head]
            if head in HEADS:
                k = HEADS[head]
                points = transform_landmarks(value.reshape(-1, 2),
                                             matrices[k] * self.matrix_scale[k])
                value = points.reshape(value.shape)
            out[name] = value
        for k, (m, c) in enumerate(zip(matrices, crops)):
            out[f"matrix_{k}"], out[f"crop_{k}"] = m, c
        return out

    def points_478(self, out: dict[str, np.ndarray]) -> np.ndarray:
        """[478, 2] points in 192-pixel units, assembled as MediaPipe's refine mode does: the
        mesh, its lips and eyes replaced by the regions (their indices are the regions' subset
        indices), then the left and the right iris."""
        points = np.concatenate([out["output_mesh_identity"].reshape(-1, 3)[:, :2],
                                 np.zeros((10, 2), np.float32)])
        for region, name in zip(self.regions, ("output_lips", "output_left_eye",
                                               "output_right_eye")):
            points[list(region.subset_idxs)] = out[name].reshape(-1, 2)
        points[468:473] = out["output_left_iris"].reshape(-1, 2)
        points[473:478] = out["output_right_iris"].reshape(-1, 2)
        return points
