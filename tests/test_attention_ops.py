"""The attention mesh's custom operators in native code (facekit._native.landmarks:
AttentionRegion, attention_matrices, attention_crops, attention_landmarks) against the test-only
NumPy reference (tests/attention_reference.py): on synthetic face-like meshes and random feature
maps, on the real model's outputs when its source is downloaded, bit-identical on every SIMD
path, and refusing bad input with messages that carry no values."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import types

import attention_reference as ref
import numpy as np
import pytest
from support import converter, require, shared_face

import facekit
from facekit import _native
from facekit.arena import native_arena

L = _native.landmarks

# The model's constant multiplier of each matrix before TransformLandmarks (its fp16 values).
MATRIX_SCALE = np.array([[1, 1, 4, 4], [1, 1, 4, 4], [.25, .25, 1, 1], [.25, .25, 1, 1]],
                        np.float32)
# MediaPipe's eye contours (z of each iris: their mean), as kRightEyeContour / kLeftEyeContour.
RIGHT_EYE_CONTOUR = [33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173]
LEFT_EYE_CONTOUR = [263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384,
                    398]
MATRIX_TOLERANCE = 1e-5  # relative to the matrix's largest entry
CROP_TOLERANCE = 1e-5
POINT_TOLERANCE = 1e-3  # image pixels


def synthetic_layout() -> tuple[np.ndarray, list[ref.Region]]:
    """A fixed face-like 468-point layout in 192-pixel units and three regions framing its lips
    and eyes (rotation points at MediaPipe's corners: 61/291, 33/133, 362/263)."""
    rng = np.random.default_rng(2024)
    angle = rng.uniform(0, 2 * np.pi, 468)
    radius = np.sqrt(rng.uniform(0, 1, 468))
    mesh = np.stack([96 + 60 * radius * np.cos(angle), 96 + 75 * radius * np.sin(angle),
                     rng.uniform(-12, 12, 468)], 1)
    pool = rng.permutation([i for i in range(468) if i not in (61, 291, 33, 133, 362, 263)])
    # (left, right, count, box x0, y0, x1, y1): lips, the model's left eye, its right eye.
    specs = [(61, 291, 80, 72, 128, 120, 152), (33, 133, 71, 52, 70, 90, 92),
             (362, 263, 71, 102, 70, 140, 92)]
    regions, used = [], 0
    for left, right, count, x0, y0, x1, y1 in specs:
        subset = [left, right] + [int(i) for i in pool[used:used + count - 2]]
        used += count - 2
        mesh[subset, 0] = rng.uniform(x0, x1, count)
        mesh[subset, 1] = rng.uniform(y0, y1, count)
        mesh[left, :2] = (x0 + 2, (y0 + y1) / 2 + 1)
        mesh[right, :2] = (x1 - 2, (y0 + y1) / 2 - 1)
        regions.append(ref.Region(tuple(subset), left, right, 0.0, 1.5, 1.5, 16, 16))
    return mesh.astype(np.float32), regions


def posed(mesh: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The layout turned, scaled and shifted in the crop as a real face would be."""
    a, s = rng.uniform(-0.7, 0.7), rng.uniform(0.7, 1.2)
    turn = s * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    out = mesh.copy()
    out[:, :2] = (mesh[:, :2] - 96) @ turn.T + 96 + rng.uniform(-15, 15, 2)
    out[:, 2] *= s
    return out.astype(np.float32)


def native_region(r: ref.Region) -> L.AttentionRegion:
    return L.AttentionRegion(list(r.subset_idxs), r.left_rotation_idx, r.right_rotation_idx,
                             r.target_rotation_radians, r.scale_x, r.scale_y, r.output_width,
                             r.output_height)


def reference_478(mesh: np.ndarray, heads: dict[str, np.ndarray], matrices, scales,
                  regions: list[ref.Region]) -> np.ndarray:
    """(478, 3) in 192-pixel units: the reference's assembly (points_478), mesh z for the
    mesh rows and each eye contour's mean z for its iris."""
    out = {"output_mesh_identity": mesh}
    for name, value in heads.items():
        k = ref.HEADS[ref.OUTPUTS[name]]
        out[name] = ref.transform_landmarks(value.reshape(-1, 2), matrices[k] * scales[k])
    xy = ref.AttentionMesh.points_478(types.SimpleNamespace(regions=regions), out)
    rows = mesh.reshape(-1, 3)
    z = np.concatenate([rows[:, 2], np.full(5, rows[RIGHT_EYE_CONTOUR, 2].mean()),
                        np.full(5, rows[LEFT_EYE_CONTOUR, 2].mean())])
    return np.concatenate([xy, z[:, None]], 1)


def project(points: np.ndarray, roi, size: int = 192) -> np.ndarray:
    """project_face_landmarks in NumPy: input pixels -> image pixels through the ROI."""
    cx, cy, w, h, rotation = roi
    c, s = math.cos(rotation), math.sin(rotation)
    u = (points[:, 0].astype(np.float64) / size - 0.5) * w
    v = (points[:, 1].astype(np.float64) / size - 0.5) * h
    return np.stack([cx + c * u - s * v, cy + s * u + c * v, points[:, 2] / size * w], 1)


def random_heads(regions, rng) -> dict[str, np.ndarray]:
    """Region outputs in crop units under the model's output names (1, 1, 1, 2N)."""
    counts = {"output_lips": len(regions[0].subset_idxs),
              "output_left_eye": len(regions[1].subset_idxs),
              "output_right_eye": len(regions[2].subset_idxs),
              "output_left_iris": 5, "output_right_iris": 5}
    return {n: rng.uniform(-2, 18, (1, 1, 1, 2 * c)).astype(np.float32)
            for n, c in counts.items()}


def native_points(na, mesh, heads, matrices, scales, regions, roi) -> np.ndarray:
    return np.array(L.attention_landmarks(
        na, mesh, heads["output_lips"], heads["output_left_eye"], heads["output_left_iris"],
        heads["output_right_eye"], heads["output_right_iris"], matrices, scales,
        [native_region(r) for r in regions], roi, 192))


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.abs(got - want).max() / np.abs(want).max())


@pytest.fixture
def na(arena):
    with arena.frame() as frame:
        yield native_arena(frame)


def test_synthetic_faces_match_the_reference(na):
    layout, regions = synthetic_layout()
    natives = [native_region(r) for r in regions]
    rng = np.random.default_rng(7)
    scales = np.stack([MATRIX_SCALE] * 3)
    worst = {"matrix": 0.0, "crop": 0.0, "points": 0.0}
    for _ in range(12):
        mesh = posed(layout, rng)
        features = rng.standard_normal((1, 48, 48, 32)).astype(np.float32)
        # The trunk's output shape; numpy scalars are numbers too.
        matrices = np.array(L.attention_matrices(na, mesh.reshape(1, 1, 1, -1), natives,
                                                 np.float32(0.25)))
        want = np.stack([ref.landmarks_to_transform_matrix(mesh * 0.25, r) for r in regions])
        worst["matrix"] = max(worst["matrix"], relative_error(matrices, want))
        crops = np.array(L.attention_crops(na, features, matrices))
        want_crops = np.stack([ref.transform_tensor_bilinear(features[0], m, 16, 16)
                               for m in matrices])
        # The crops sample the map, not zeros off its edge.
        assert np.count_nonzero(crops) > 0.9 * crops.size
        worst["crop"] = max(worst["crop"], float(np.abs(crops - want_crops).max()))
        heads = random_heads(regions, rng)
        side = rng.uniform(150, 600)  # square, as facekit's face ROIs
        roi = (rng.uniform(200, 900), rng.uniform(200, 700), side, side, rng.uniform(-1, 1))
        got = native_points(na, mesh, heads, matrices, scales, regions, np.array(roi))
        want_points = project(reference_478(mesh, heads, matrices, scales, regions), roi)
        worst["points"] = max(worst["points"], float(np.abs(got - want_points).max()))
    assert worst["matrix"] < MATRIX_TOLERANCE, worst
    assert worst["crop"] < CROP_TOLERANCE, worst
    assert worst["points"] < POINT_TOLERANCE, worst


def test_each_region_is_written_where_the_reference_puts_it(na):
    # Heads far outside the face: every refined row moves, every other row keeps the mesh.
    layout, regions = synthetic_layout()
    natives = [native_region(r) for r in regions]
    matrices = np.array(L.attention_matrices(na, layout, natives, 0.25))
    heads = random_heads(regions, np.random.default_rng(3))
    roi = (96.0, 96.0, 192.0, 192.0, 0.0)  # input pixels are image pixels
    got = native_points(na, layout, heads, matrices, np.stack([MATRIX_SCALE] * 3), regions, roi)
    refined = sorted({i for r in regions for i in r.subset_idxs})
    untouched = np.setdiff1d(np.arange(468), refined)
    np.testing.assert_allclose(got[untouched], layout[untouched], atol=1e-4)
    np.testing.assert_allclose(got[refined, 2], layout[refined, 2], atol=1e-4)  # z kept
    # The left-eye crop's iris (subject's right eye, corners 33/133) lands as 468..472.
    left_eye_iris = ref.transform_landmarks(heads["output_left_iris"].reshape(-1, 2),
                                            matrices[1] * MATRIX_SCALE)
    np.testing.assert_allclose(got[468:473, :2], left_eye_iris, atol=1e-4)
    assert regions[1].left_rotation_idx == RIGHT_EYE_CONTOUR[0] == 33
    np.testing.assert_allclose(got[468:473, 2], layout[RIGHT_EYE_CONTOUR, 2].mean(), atol=1e-4)
    np.testing.assert_allclose(got[473:478, 2], layout[LEFT_EYE_CONTOUR, 2].mean(), atol=1e-4)


def test_every_simd_path_gives_identical_crops(na):
    layout, regions = synthetic_layout()
    matrices = np.array(L.attention_matrices(na, layout, [native_region(r) for r in regions],
                                             0.25))
    rng = np.random.default_rng(11)
    maps = [rng.standard_normal(s).astype(np.float32)
            for s in ((48, 48, 32), (48, 48, 33), (7, 5, 13), (48, 48, 1))]
    paths = _native.cpu.available()
    assert "scalar" in paths and len(paths) >= 2 or facekit.cpu_features()["arch"] != "x86_64"
    active = _native.cpu.active()
    outputs = {}
    try:
        for path in paths:
            _native.cpu.force(path)
            outputs[path] = [np.array(L.attention_crops(na, m, matrices, size))
                             for m in maps for size in (16, np.int64(7))]
    finally:
        _native.cpu.force(active)
    for path in paths:
        for got, want in zip(outputs[path], outputs["scalar"]):
            assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), path


CHILD = """
import hashlib, sys
sys.path.insert(0, {tests!r})
import numpy as np, facekit
from facekit import _native
from facekit.arena import native_arena
import test_attention_ops as t
layout, regions = t.synthetic_layout()
features = np.random.default_rng(5).standard_normal((48, 48, 33)).astype(np.float32)
with facekit.SecureArena() as arena, arena.frame() as frame:
    na = native_arena(frame)
    m = _native.landmarks.attention_matrices(na, layout, [t.native_region(r) for r in regions],
                                             0.25)
    before = _native.cpu.kernel_calls()
    crops = _native.landmarks.attention_crops(na, features, m)
    ran = [p for p, n in _native.cpu.kernel_calls().items() if n != before[p]]
    print(_native.cpu.active(), ",".join(ran), hashlib.sha256(crops.tobytes()).hexdigest())
"""


def test_facekit_simd_forces_the_sampler_path():
    tests = os.path.dirname(os.path.abspath(__file__))
    digests = {}
    for path in _native.cpu.available():
        env = {**os.environ, "FACEKIT_SIMD": path}
        result = subprocess.run([sys.executable, "-P", "-c", CHILD.format(tests=tests)], env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        active, ran, digest = result.stdout.split()
        assert active == path
        # SSE4.1 has no variant of this kernel: it runs (and counts) the scalar one.
        assert ran == ("scalar" if path == "sse41" else path)
        digests[path] = digest
    assert len(set(digests.values())) == 1, digests


@pytest.fixture(scope="module")
def model():
    converter("tflite_to_onnx")  # skips without the dev extra
    from models import sources

    archive = sources.archive_path(sources.MEDIAPIPE)
    if archive is None:
        pytest.skip(f"{sources.MEDIAPIPE.requirement} is not downloaded; run "
                    "`python -m models.build --fetch-only`")
    ort = require("onnxruntime", "onnxruntime comes with facekit")
    return ref.AttentionMesh(sources.read_member(archive, ref.MEMBER),
                             converter("tflite_to_onnx"), ort)


# Faces in the photos (centre x, centre y, face width in pixels), as in test_attention_split.
FACES = {"obama.jpg": (489, 241, 312), "obama2.jpg": (324, 375, 285), "biden.jpg": (551, 358, 358)}


@pytest.mark.parametrize("name", list(FACES))
def test_the_real_model_through_native_operators_matches_the_reference(na, model, photo, name):
    cv2 = pytest.importorskip("cv2", reason="opencv-python-headless comes with the test extra")
    image = photo if name == "obama.jpg" else np.ascontiguousarray(
        cv2.imread(str(shared_face(name)))[:, :, ::-1])
    cx, cy, width = FACES[name]
    s = 192 / (1.5 * width)
    crop = cv2.warpAffine(image, np.array([[s, 0, 96 - s * cx], [0, s, 96 - s * cy]]),
                          (192, 192), flags=cv2.INTER_AREA)
    x = (crop.astype(np.float32) / 255)[None]
    want = model.run(x)  # the reference end to end
    assert want["conv_faceflag"].item() > 0
    trunk = dict(zip(ref.TRUNK_OUTPUTS, model.trunk.run(ref.TRUNK_OUTPUTS, {"input_1": x})))
    assert len(set(model.mesh_scale)) == 1
    regions = [native_region(r) for r in model.regions]
    matrices = np.array(L.attention_matrices(na, trunk["output_mesh"], regions,
                                             model.mesh_scale[0]))
    want_matrices = np.stack([want[f"matrix_{k}"] for k in range(3)])
    assert relative_error(matrices, want_matrices) < MATRIX_TOLERANCE
    # The sampler alone (the reference's own matrices): the reference's crops.
    crops = np.array(L.attention_crops(na, trunk["p_re_lu_3"], want_matrices))
    want_crops = np.concatenate([want[f"crop_{k}"] for k in range(3)])
    assert np.abs(crops - want_crops).max() < CROP_TOLERANCE
    # Native matrices -> native crops -> regions network -> native 478 points.
    crops = np.array(L.attention_crops(na, trunk["p_re_lu_3"], matrices))
    heads = dict(zip(ref.REGION_OUTPUTS, model.heads.run(
        ref.REGION_OUTPUTS, {name: crops[k:k + 1] for k, name in enumerate(ref.REGION_CROPS)})))
    roi = (cx, cy, 192 / s, 192 / s, 0.0)
    got = np.array(L.attention_landmarks(
        na, trunk["output_mesh"], heads["conv_lips"], heads["conv_left_eye"],
        heads["conv_left_iris"], heads["conv_right_eye"], heads["conv_right_iris"], matrices,
        np.stack(model.matrix_scale), regions, roi))
    mesh = want["output_mesh_identity"].reshape(-1, 3)
    points = np.concatenate([model.points_478(want), np.zeros((478, 1), np.float32)], 1)
    points[:468, 2] = mesh[:, 2]
    points[468:473, 2] = mesh[RIGHT_EYE_CONTOUR, 2].mean()
    points[473:, 2] = mesh[LEFT_EYE_CONTOUR, 2].mean()
    assert np.abs(got - project(points, roi)).max() < POINT_TOLERANCE


PLANTED = 1234.5  # a value no message may show


def bad_call(case: str, na):
    layout, regions = synthetic_layout()
    natives = [native_region(r) for r in regions]
    mesh = layout.copy()
    mesh[5] = PLANTED
    features = np.full((48, 48, 32), PLANTED, np.float32)
    matrices = np.array(L.attention_matrices(na, mesh, natives, 0.25))
    scales = np.stack([MATRIX_SCALE] * 3)
    heads = random_heads(regions, np.random.default_rng(1))
    heads = {k: np.where(v > 0, PLANTED, v).astype(np.float32) for k, v in heads.items()}
    roi = (300.0, 300.0, 200.0, 200.0, 0.0)

    def landmarks(**change):
        args = dict(mesh_raw=mesh, lips=heads["output_lips"], left_eye=heads["output_left_eye"],
                    left_iris=heads["output_left_iris"], right_eye=heads["output_right_eye"],
                    right_iris=heads["output_right_iris"], matrices=matrices,
                    matrix_scale=scales, regions=natives, roi=roi, input_size=192)
        args.update(change)
        return L.attention_landmarks(na, **args)

    nan_mesh = mesh.copy()
    nan_mesh[regions[0].subset_idxs[3], 1] = np.nan
    cases = {
        "float64 mesh": lambda: L.attention_matrices(na, mesh.astype(np.float64), natives, 0.25),
        "short mesh": lambda: L.attention_matrices(na, mesh[:467], natives, 0.25),
        "nan mesh": lambda: L.attention_matrices(na, nan_mesh, natives, 0.25),
        "no regions": lambda: L.attention_matrices(na, mesh, [], 0.25),
        "regions not regions": lambda: L.attention_matrices(na, mesh, [1, 2], 0.25),
        "zero mesh scale": lambda: L.attention_matrices(na, mesh, natives, 0.0),
        "text mesh scale": lambda: L.attention_matrices(na, mesh, natives, "0.25"),
        "2-D features": lambda: L.attention_crops(na, features[0], matrices),
        "batch of 2 features": lambda: L.attention_crops(na, np.stack([features] * 2), matrices),
        "int features": lambda: L.attention_crops(na, features.astype(np.int32), matrices),
        "matrices 4x3": lambda: L.attention_crops(na, features, matrices[:, :, :3].copy()),
        "nan matrix": lambda: L.attention_crops(na, features, np.where(matrices == 0, np.nan,
                                                                       matrices)),
        "zero output": lambda: L.attention_crops(na, features, matrices, 0),
        "float output": lambda: L.attention_crops(na, features, matrices, 16.0),
        "short lips": lambda: landmarks(lips=heads["output_lips"][..., :-2].copy()),
        "nan iris": lambda: landmarks(left_iris=np.full(10, np.nan, np.float32)),
        "two regions": lambda: landmarks(regions=natives[:2]),
        "matrices for 2": lambda: landmarks(matrices=matrices[:2].copy()),
        "float64 scale": lambda: landmarks(matrix_scale=scales.astype(np.float64)),
        "short roi": lambda: landmarks(roi=(1.0, 2.0, 3.0)),
        "empty roi": lambda: landmarks(roi=(300.0, 300.0, 0.0, 200.0, 0.0)),
        "text input size": lambda: landmarks(input_size="192"),
        "bool output": lambda: L.attention_crops(na, features, matrices, True),
    }
    return cases[case]


BAD = {"float64 mesh": (ValueError, "mesh_raw dtype must be float32"),
       "short mesh": (ValueError, "mesh_raw must hold 1404"),
       "nan mesh": (ValueError, "is not finite"),
       "no regions": (ValueError, "regions must hold 1..64"),
       "regions not regions": (TypeError, "sequence of AttentionRegion"),
       "zero mesh scale": (ValueError, "mesh scale is not a positive"),
       "text mesh scale": (TypeError, "mesh_scale must be a number"),
       "2-D features": (ValueError, r"features must have shape \(1, H, W, C\)"),
       "batch of 2 features": (ValueError, r"features must have shape \(1, H, W, C\)"),
       "int features": (ValueError, "features dtype must be float32"),
       "matrices 4x3": (ValueError, r"matrices must have shape \(R, 4, 4\)"),
       "nan matrix": (ValueError, "sampling matrix is not finite"),
       "zero output": (ValueError, "output_size 0 is outside"),
       "float output": (TypeError, "output_size must be an int"),
       "short lips": (ValueError, "lips must hold 160"),
       "nan iris": (ValueError, "left iris is not finite"),
       "two regions": (ValueError, "regions must hold 3"),
       "matrices for 2": (ValueError, r"matrices must have shape \(3, 4, 4\)"),
       "float64 scale": (ValueError, "matrix_scale dtype must be float32"),
       "short roi": (TypeError, "roi must be 5 numbers"),
       "empty roi": (ValueError, "ROI needs a positive size"),
       "text input size": (TypeError, "input_size must be an int"),
       "bool output": (TypeError, "output_size must be an int")}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_refused_without_values(na, case):
    error, message = BAD[case]
    with pytest.raises(error, match=message) as caught:
        bad_call(case, na)()
    assert "1234" not in str(caught.value)


@pytest.mark.parametrize("change, message", [
    ({"subset": []}, "subset is empty"),
    ({"subset": [0, 468]}, "subset index 468 is outside 0..467"),
    ({"left_index": -1}, "left rotation index -1"),
    ({"right_index": 61}, "rotation indices are the same point"),
    ({"target_rotation": math.nan}, "target rotation is not finite"),
    ({"scale_x": 0.0}, "scale is not a positive"),
    ({"scale_y": math.inf}, "scale is not a positive"),
    ({"output_width": 0}, "output width 0 is outside"),
    ({"output_height": 5000}, "output height 5000 is outside"),
])
def test_bad_regions_are_refused(change, message):
    args = dict(subset=[61, 291, 0], left_index=61, right_index=291, target_rotation=0.0,
                scale_x=1.5, scale_y=1.5, output_width=16, output_height=16)
    L.AttentionRegion(**args)  # the unchanged options are fine
    with pytest.raises(ValueError, match=message):
        L.AttentionRegion(**{**args, **change})


def test_region_options_read_back_and_pickle():
    import copy
    import pickle

    r = L.AttentionRegion([61, 291, 0], 61, 291, 0.25, 1.5, 2.0, 16, 8)
    assert (r.subset, r.left_index, r.right_index, r.target_rotation, r.scale_x, r.scale_y,
            r.output_width, r.output_height) == ((61, 291, 0), 61, 291, 0.25, 1.5, 2.0, 16, 8)
    for twin in (pickle.loads(pickle.dumps(r)), copy.deepcopy(r)):
        assert twin.subset == r.subset and twin.output_height == 8
    with pytest.raises(AttributeError):
        r.scale_x = 3.0
    assert "subset=<3 indices>" in repr(r)
