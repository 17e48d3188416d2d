"""MediaPipe's attention face mesh (face_landmark_with_attention.tflite) split at its three custom
operators: the plain segments converted by models/tflite_to_onnx.convert_segment, the custom
operators as the test-only NumPy reference in tests/attention_reference.py, and the whole run
against MediaPipe's own run of the model on the same crops (issue 17, groundwork; nothing here
ships). ai-edge-litert cannot be the oracle: it has no kernels for the custom operators."""

from __future__ import annotations

import math

import attention_reference as ref
import numpy as np
import pytest
from support import converter, require, shared_face
from support_oracle import require_oracle, run_oracle

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless comes with the test extra")

# Faces in the photos (centre x, centre y, face width in pixels), as in test_mediapipe_models.
FACES = {"obama.jpg": (489, 241, 312), "obama2.jpg": (324, 375, 285), "biden.jpg": (551, 358, 358)}
# The split run against MediaPipe's, in 192-pixel crop units. Measured worst: 1.3e-4 (obama2,
# an unrefined mesh point): float32 rounding (MediaPipe hands back x / 192 as a float32).
POINT_TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def source() -> bytes:
    converter("tflite_to_onnx")  # skips without the dev extra
    from models import sources

    archive = sources.archive_path(sources.MEDIAPIPE)
    if archive is None:
        pytest.skip(f"{sources.MEDIAPIPE.requirement} is not downloaded; run "
                    "`python -m models.build --fetch-only`")
    return sources.read_member(archive, ref.MEMBER)


@pytest.fixture(scope="module")
def mesh(source) -> ref.AttentionMesh:
    ort = require("onnxruntime", "onnxruntime comes with facekit")
    return ref.AttentionMesh(source, converter("tflite_to_onnx"), ort)


def test_the_whole_model_is_refused_at_its_first_custom_operator(source):
    t = converter("tflite_to_onnx")
    _, ops, _, _ = t._read_model(source)
    custom = [op.code for op in ops if isinstance(op.code, str)]
    assert sorted(set(custom)) == ["Landmarks2TransformMatrix", "TransformLandmarks",
                                   "TransformTensorBilinear"]
    assert [custom.count(c) for c in sorted(set(custom))] == [3, 5, 3]
    with pytest.raises(ValueError, match="custom Landmarks2TransformMatrix"):
        t.convert(source, "attention")


def test_segments_hold_every_network_operator(source):
    # Everything outside the two segments is the glue the reference does in NumPy: the custom
    # operators, the reshapes and constant multiplies around them, the identity slice.
    t = converter("tflite_to_onnx")
    tensors, ops, _, _ = t._read_model(source)
    trunk = t.convert_segment(source, "trunk", ref.TRUNK_INPUTS, ref.TRUNK_OUTPUTS)
    regions = t.convert_segment(source, "regions", ref.REGION_CROPS, ref.REGION_OUTPUTS)
    assert [v.name for v in trunk.graph.output] == ref.TRUNK_OUTPUTS
    assert [v.name for v in regions.graph.input] == ref.REGION_CROPS
    convs = [op for op in ops if op.code in (t.CONV_2D, t.DEPTHWISE_CONV_2D)]
    n_conv = sum(n.op_type == "Conv" and not n.name.endswith(("/neg", "/scaled"))
                 and "channel_padding" not in n.name
                 for m in (trunk, regions) for n in m.graph.node)
    assert n_conv == len(convs)
    glue = {op.label for op in ops if op.code not in (
        t.CONV_2D, t.DEPTHWISE_CONV_2D, t.PRELU, t.ADD, t.MAX_POOL_2D, t.PAD, t.DEQUANTIZE)}
    assert glue == {"RESHAPE", "MUL", "STRIDED_SLICE", "custom Landmarks2TransformMatrix",
                    "custom TransformTensorBilinear", "custom TransformLandmarks"}


def test_convert_segment_names_what_is_wrong(source):
    t = converter("tflite_to_onnx")
    with pytest.raises(ValueError, match="no tensor named nowhere"):
        t.convert_segment(source, "x", ["input_1"], ["nowhere"])
    with pytest.raises(ValueError, match="transform_tensor_bilinear_v2_2, made by unsupported operator custom Trans"):
        t.convert_segment(source, "x", ref.REGION_CROPS[:2], ref.REGION_OUTPUTS)
    with pytest.raises(ValueError, match="not a float32 NHWC"):
        t.convert_segment(source, "x", ["multiply_by_constant"], ["landmarks_to_transform_matrix_v2"])


def test_bilinear_transform_with_the_identity_samples_pixels():
    x = np.random.default_rng(1).standard_normal((48, 48, 4)).astype(np.float32)
    out = ref.transform_tensor_bilinear(x, np.eye(4, dtype=np.float32), 16, 16)
    np.testing.assert_array_equal(out, x[:16, :16])
    # Half a pixel over: the mean of two neighbours; past the edge: zeros.
    m = np.eye(4, dtype=np.float32)
    m[0, 3] = 0.5
    np.testing.assert_allclose(ref.transform_tensor_bilinear(x, m, 4, 4),
                               (x[:4, :4] + x[:4, 1:5]) / 2, atol=1e-6)
    m[0, 3] = 40
    assert not ref.transform_tensor_bilinear(x, m, 16, 16)[:, 8:].any()


def test_transform_landmarks_applies_the_top_rows():
    m = np.eye(4, dtype=np.float32)
    m[:2, :2] = [[0, -2], [2, 0]]
    m[:2, 3] = [5, 7]
    got = ref.transform_landmarks(np.array([[1, 0], [0, 1]], np.float32), m)
    np.testing.assert_allclose(got, [[5, 9], [3, 7]])


def region(target: float = 0.0) -> ref.Region:
    return ref.Region(subset_idxs=(2, 3, 4), left_rotation_idx=0, right_rotation_idx=1,
                      target_rotation_radians=target, scale_x=1.5, scale_y=1.5,
                      output_width=16, output_height=16)


def test_landmarks_matrix_frames_the_subset_box():
    # Rotation landmarks level; subset box x 2..10, y 3..7: centre (6, 5), 8 x 4, grown 1.5x.
    points = np.array([[0, 0, 0], [10, 0, 0], [2, 3, 0], [10, 7, 0], [5, 5, 0]], np.float32)
    m = ref.landmarks_to_transform_matrix(points, region())
    corners = ref.transform_landmarks(np.array([[0, 0], [8, 8], [16, 16]], np.float32), m)
    np.testing.assert_allclose(corners, [[0, 2], [6, 5], [12, 8]], atol=1e-5)
    # The same points turned by 30 degrees: the crop turns with them.
    a = math.radians(30)
    turn = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], np.float32)
    turned = points.copy()
    turned[:, :2] = points[:, :2] @ turn.T
    m2 = ref.landmarks_to_transform_matrix(turned, region())
    np.testing.assert_allclose(
        ref.transform_landmarks(np.array([[0, 0], [16, 16]], np.float32), m2),
        np.array([[0, 2], [12, 8]], np.float32) @ turn.T, atol=1e-4)


def crop(name: str, photo: np.ndarray) -> np.ndarray:
    """The 192x192 face crop of a photo (as test_mediapipe_models' square_crop)."""
    image = photo if name == "obama.jpg" else np.ascontiguousarray(
        cv2.imread(str(shared_face(name)))[:, :, ::-1])
    cx, cy, width = FACES[name]
    s = 192 / (1.5 * width)
    matrix = np.array([[s, 0, 96 - s * cx], [0, s, 96 - s * cy]], np.float32)
    return cv2.warpAffine(image, matrix, (192, 192), flags=cv2.INTER_AREA)


@pytest.mark.parametrize("name", list(FACES))
def test_split_run_matches_mediapipe_refine(name, photo, mesh, tmp_path):
    require_oracle()
    rgb = crop(name, photo)
    path = tmp_path / "crop.png"
    cv2.imwrite(str(path), rgb[:, :, ::-1])
    expected = np.array(run_oracle({"task": "mesh_crop", "images": [path],
                                    "refine_landmarks": True})["images"][0]["landmarks"])
    out = mesh.run((rgb.astype(np.float32) / 255)[None])
    assert out["conv_faceflag"].item() > 0  # a face: the comparison means something
    got = mesh.points_478(out)
    assert expected.shape == (478, 3)
    assert np.abs(got - expected[:, :2]).max() < POINT_TOLERANCE
    # z of the mesh (the refined regions are x, y only; MediaPipe copies the mesh's z there).
    z = out["output_mesh_identity"].reshape(-1, 3)[:, 2]
    assert np.abs(z - expected[:468, 2]).max() < POINT_TOLERANCE
    # Each region's crop is a real sample of the trunk's features (not zeros off the map).
    for k in range(3):
        assert np.count_nonzero(out[f"crop_{k}"]) > 0.9 * out[f"crop_{k}"].size
