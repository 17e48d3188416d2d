"""The landmark pipeline against MediaPipe 0.10.14's Python FaceMesh, one compute thread each.

MediaPipe runs in its own venv through the oracle's ``bench`` task (tests/oracle/
mediapipe_oracle.py): one FaceMesh graph, ``warmup`` untimed calls, then ``repeats`` passes,
``FaceMesh.process`` timed per call. facekit is timed the same way in this process: one
FaceLandmarker, the same warm-up, the same passes, each ``detect``/``detect_for_video`` call
timed together with its result's ``close()`` (the wipe is part of facekit's cost). Same pixels
on both sides: images via ``cv2.imread`` + BGR->RGB as the oracle reads them; the clip decoded
once, before timing, with PyAV (all 275 frames byte-equal to OpenCV's decode, checked with
opencv-python-headless 5.0; the oracle decodes with its own OpenCV 4.10). Cross-process timings alternate MediaPipe and facekit ``ALTERNATIONS`` times in ABBA
order to spread this VM's drift over both, and report medians over the alternations.

Speed targets (facekit >= 1.3x MediaPipe static, >= 1.5x video) are reported, never asserted:
tests assert only sanity (faces found, numbers positive). Numbers go to pytest-benchmark's JSON
(``--benchmark-json``) under each test's ``extra_info`` and to a summary section at the end of the
run (a plugin this module registers, since benchmarks/conftest.py's summary covers only
``compare``).

Run:  pytest benchmarks/test_pipeline_vs_mediapipe.py -p no:cacheprovider
      FACEKIT_BENCH_ALTERNATIONS=5 for more alternations; --benchmark-disable for a quick smoke run.
Needs the oracle venv (tests/oracle/setup_mediapipe.sh) for the MediaPipe side, ../shared/testdata
for the photos and the clip, PyAV and OpenCV (test/bench extras), onnx (dev extra) for the MAC
count check, the matmul ceiling and the batch-2 iris measurement.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from support import shared_face, shared_video
from support_oracle import ORACLE, oracle_env, require_oracle, run_oracle

import facekit
from facekit import FaceLandmarker, FaceLandmarkerOptions, RunningMode
from facekit.models import model_info, open_session

ALTERNATIONS = int(os.environ.get("FACEKIT_BENCH_ALTERNATIONS", "3"))
WARMUP = 2                        # untimed calls before each timed run, on both sides
STATIC_CALLS = 60                 # timed calls per side per alternation on one photo
VIDEO_REPEATS = 3                 # timed passes over the clip per side per alternation
CLIP = "short_hamilton_clip.mp4"  # 640x360, 275 frames
CLIP_START, CLIP_FRAMES = 83, 150  # MediaPipe finds the face from about frame 83
PHOTOS = {"720p": "obama-720p.jpg", "1080p": "obama-1080p.jpg"}
FRAME_MS = 33

# facekit speedup over MediaPipe: 468 points (mesh) against refine_landmarks=False, 478 points
# (attention: the default iris=True path) against refine_landmarks=True. The older 478-point
# path (refine="iris": mesh + iris network) is measured against refine too, for the ratio only.
TARGETS = {("static", "mesh"): 1.3, ("video", "mesh"): 1.5,
           ("static", "attention"): 1.5, ("video", "attention"): 1.5}
MESH_MODES = ["mesh", "attention", "iris"]
# The 478-point video frame may cost at most this many times the 468-point one (reported).
REFINE_OVER_MESH = 1.5
_VIDEO_P50: dict[str, float] = {}  # facekit's video p50 per mode, for that ratio


def _landmarker_options(mode: str, **kwargs) -> FaceLandmarkerOptions:
    """The landmarker of a MESH_MODES entry."""
    if mode == "mesh":
        return FaceLandmarkerOptions(iris=False, **kwargs)
    return FaceLandmarkerOptions(iris=True, refine=mode, **kwargs)

# Multiply-adds per run of each source (TFLite) network. The converted ONNX graphs execute more
# (identity 1x1 convolutions for channel padding, PReLU as 1x1 depthwise pairs), counted from
# the graph when onnx is installed and reported next to these.
MODEL_MACS = {
    "face_detection_short_range": 30.8e6,
    "face_landmark": 35.8e6,
    "face_detection_full_range_sparse": 117e6,
    "iris_landmark": 54.5e6,  # one eye
}
CLOCK_HZ = 2.8e9
# The peak the issue asks for: 2 AVX2 FMA units x 8 float lanes per cycle at 2.8 GHz, one core.
PEAK_AVX2 = CLOCK_HZ * 2 * 8
# This Xeon (Ice Lake-SP, model 106) also has AVX-512 with two 512-bit FMA ports, and ONNX
# Runtime's MLAS kernels do use zmm registers here (seen with perf; its 1-thread SGEMM beats
# PEAK_AVX2, see the matmul ceiling row), so the true per-core peak is twice that.
PEAK_AVX512 = CLOCK_HZ * 2 * 16


# ------------------------------------------------------------------------------------------
# Summary: rows collected during the run, printed by a plugin registered from this module.

class _Summary:
    def __init__(self) -> None:
        self.sections: dict[str, list[str]] = {}

    def add(self, section: str, *lines: str) -> None:
        self.sections.setdefault(section, []).extend(lines)
        for line in lines:  # also visible with -s, next to the test
            print(line)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        for title, lines in self.sections.items():
            terminalreporter.section(title)
            for line in lines:
                terminalreporter.write_line(line)


_SUMMARY = _Summary()
_SPEED = "landmark pipeline vs MediaPipe 0.10.14 FaceMesh (ms per call, medians over alternations)"
_RSS = "peak RSS of a fresh process running the clip in video mode (MiB = ru_maxrss / 1024)"
_NETS = "each network alone, 1 thread (p50 of interleaved session.run calls)"
_BREAKDOWN = "where facekit's time goes per call (ms)"


@pytest.fixture(scope="module", autouse=True)
def _register_summary(request):
    manager = request.config.pluginmanager
    if not manager.is_registered(_SUMMARY):
        manager.register(_SUMMARY, "facekit-pipeline-vs-mediapipe-summary")
    yield


def _smoke(request) -> bool:
    return bool(request.config.getoption("benchmark_disable", False))


# ------------------------------------------------------------------------------------------
# Inputs

@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    """The photos as the oracle reads them: cv2.imread, BGR -> RGB."""
    cv2 = pytest.importorskip("cv2", reason="opencv-python-headless comes with the bench extra")
    out = {}
    for label, name in PHOTOS.items():
        bgr = cv2.imread(str(shared_face(name)), cv2.IMREAD_COLOR)
        assert bgr is not None, name
        out[label] = np.ascontiguousarray(bgr[:, :, ::-1])
    return out


def _decode(path: Path, start: int, count: int):
    """RGB frames start..start+count-1; earlier frames are decoded and dropped, as the oracle
    does (no seeking)."""
    import av

    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index >= start + count:
                break
            if index >= start:
                yield frame.to_ndarray(format="rgb24")


@pytest.fixture(scope="module")
def clip_frames() -> list[np.ndarray]:
    pytest.importorskip("av", reason="PyAV comes with the test extra")
    frames = list(_decode(shared_video(CLIP), CLIP_START, CLIP_FRAMES))
    assert len(frames) == CLIP_FRAMES
    return frames


# ------------------------------------------------------------------------------------------
# Timing

def _stats(times_s: list[float], cpu_s: float, faces: int, **extra) -> dict:
    t = np.asarray(times_s) * 1e3
    return {"p50_ms": float(np.percentile(t, 50)), "p95_ms": float(np.percentile(t, 95)),
            "mean_ms": float(t.mean()), "timed_calls": len(t),
            "cpu_ms_per_call": cpu_s * 1e3 / len(t), "faces_found": faces, **extra}


def _facekit_static(image: np.ndarray, mode: str, calls: int) -> dict:
    options = _landmarker_options(mode, running_mode=RunningMode.IMAGE, max_faces=1)
    times, faces = [], 0
    with FaceLandmarker(options) as landmarker:
        for _ in range(WARMUP):
            landmarker.detect(image).close()
        cpu0 = time.process_time()
        for _ in range(calls):
            start = time.perf_counter()
            with landmarker.detect(image) as result:
                faces += len(result.faces)
            times.append(time.perf_counter() - start)
        cpu = time.process_time() - cpu0
    return _stats(times, cpu, faces)


def _facekit_video(frames: list[np.ndarray], mode: str, repeats: int) -> dict:
    """Like the oracle: one tracker for all passes (the tracker sees a cut between passes)."""
    options = _landmarker_options(mode, running_mode=RunningMode.VIDEO, max_faces=1)
    times, faces, detector_runs, stamp = [], 0, 0, 0
    with FaceLandmarker(options) as landmarker:
        for _ in range(WARMUP):
            stamp += FRAME_MS
            landmarker.detect_for_video(frames[0], stamp).close()
        cpu0 = time.process_time()
        for _ in range(repeats):
            for frame in frames:
                stamp += FRAME_MS
                start = time.perf_counter()
                with landmarker.detect_for_video(frame, stamp) as result:
                    faces += len(result.faces)
                    detector_runs += result.detector_ran
                times.append(time.perf_counter() - start)
        cpu = time.process_time() - cpu0
    return _stats(times, cpu, faces, detector_runs=detector_runs)


def _mediapipe(request: dict) -> dict:
    return run_oracle({"task": "bench", "warmup": WARMUP, **request})


def _alternate(mediapipe: Callable[[], dict], facekit_: Callable[[], dict], rounds: int) -> dict:
    """Runs both sides `rounds` times, ABBA order; medians of p50/p95 over the rounds."""
    runs: dict[str, list[dict]] = {"mediapipe": [], "facekit": []}
    for i in range(rounds):
        order = [("mediapipe", mediapipe), ("facekit", facekit_)]
        for side, measure in (order if i % 2 == 0 else order[::-1]):
            runs[side].append(measure())
    report = {}
    for side, side_runs in runs.items():
        report[side] = {key: float(np.median([r[key] for r in side_runs]))
                        for key in ("p50_ms", "p95_ms", "mean_ms", "cpu_ms_per_call")}
        report[side]["faces_found"] = [r["faces_found"] for r in side_runs]
        report[side]["timed_calls"] = side_runs[0]["timed_calls"]
        report[side]["runs"] = [{k: r[k] for k in ("p50_ms", "p95_ms")} for r in side_runs]
        for key in ("threads", "detector_runs"):  # (RSS: see test_peak_rss_video)
            if key in side_runs[0]:
                report[side][key] = side_runs[-1][key]
    mp, fk = report["mediapipe"], report["facekit"]
    report["speedup_p50"] = mp["p50_ms"] / fk["p50_ms"]
    report["speedup_p95"] = mp["p95_ms"] / fk["p95_ms"]
    report["speedup_p50_per_alternation"] = [
        m["p50_ms"] / f["p50_ms"] for m, f in zip(mp["runs"], fk["runs"])]
    return report


def _speed_row(case: str, report: dict, target: float | None) -> str:
    if _SPEED not in _SUMMARY.sections:
        _SUMMARY.add(_SPEED, f"{'case':<30} {'MediaPipe p50/p95':>18} {'facekit p50/p95':>17} "
                             f"{'speedup p50 (p95)':>18}  per-alternation p50 speedups  target")
    mp, fk = report["mediapipe"], report["facekit"]
    spread = " ".join(f"{r:.2f}" for r in report["speedup_p50_per_alternation"])
    verdict = "(ratio only)" if target is None else (
        f">= {target}x {'met' if report['speedup_p50'] >= target else 'MISSED'}")
    return (f"{case:<30} {mp['p50_ms']:8.2f} /{mp['p95_ms']:7.2f}  {fk['p50_ms']:7.2f} /"
            f"{fk['p95_ms']:7.2f}  x{report['speedup_p50']:5.2f} (x{report['speedup_p95']:4.2f})"
            f"    [{spread}]  {verdict}")


# ------------------------------------------------------------------------------------------
# 1 and 3: static (IMAGE mode), 468 points and the two 478-point paths

@pytest.mark.parametrize("mode", MESH_MODES)
@pytest.mark.parametrize("size", list(PHOTOS))
def test_static_vs_mediapipe(benchmark, request, photos, size, mode):
    require_oracle()
    smoke = _smoke(request)
    calls, rounds = (3, 1) if smoke else (STATIC_CALLS, ALTERNATIONS)
    image = photos[size]
    path = shared_face(PHOTOS[size])
    benchmark.group = "pipeline vs mediapipe: static"
    report = benchmark.pedantic(_alternate, args=(
        lambda: _mediapipe({"images": [path], "static_image_mode": True,
                            "refine_landmarks": mode != "mesh", "repeats": calls}),
        lambda: _facekit_static(image, mode, calls), rounds), rounds=1, iterations=1)
    benchmark.extra_info.update(report)
    case = f"static {size} {_case(mode)}"
    _SUMMARY.add(_SPEED, _speed_row(case, report, TARGETS.get(("static", mode))))
    for side in ("mediapipe", "facekit"):
        assert all(found == calls for found in report[side]["faces_found"]), (side, report[side])
        assert report[side]["p50_ms"] > 0


# ------------------------------------------------------------------------------------------
def _case(mode: str) -> str:
    return {"mesh": "mesh", "attention": "478 attention/refine",
            "iris": "478 iris-net/refine"}[mode]


# 2 and 3: video mode on the clip, 468 points and the two 478-point paths

@pytest.mark.parametrize("mode", MESH_MODES)
def test_video_vs_mediapipe(benchmark, request, clip_frames, mode):
    require_oracle()
    smoke = _smoke(request)
    repeats, rounds = (1, 1) if smoke else (VIDEO_REPEATS, ALTERNATIONS)
    clip = shared_video(CLIP)
    benchmark.group = "pipeline vs mediapipe: video"
    report = benchmark.pedantic(_alternate, args=(
        lambda: _mediapipe({"video": clip, "start_frame": CLIP_START, "max_frames": CLIP_FRAMES,
                            "static_image_mode": False, "refine_landmarks": mode != "mesh",
                            "repeats": repeats}),
        lambda: _facekit_video(clip_frames, mode, repeats), rounds), rounds=1, iterations=1)
    benchmark.extra_info.update(report)
    case = f"video {CLIP_FRAMES} fr {_case(mode)}"
    _SUMMARY.add(_SPEED, _speed_row(case, report, TARGETS.get(("video", mode))))
    _VIDEO_P50[mode] = report["facekit"]["p50_ms"]
    if mode != "mesh" and "mesh" in _VIDEO_P50:
        ratio = _VIDEO_P50[mode] / _VIDEO_P50["mesh"]
        verdict = "met" if ratio <= REFINE_OVER_MESH else "MISSED"
        _SUMMARY.add(_SPEED, f"{'':<30} facekit video p50, {_case(mode)} / mesh: x{ratio:.2f} "
                             f"(target <= {REFINE_OVER_MESH}x {verdict})")
    calls = repeats * CLIP_FRAMES
    _SUMMARY.add(_SPEED, f"{'':<30} faces found per alternation ({calls} calls): MediaPipe "
                         f"{report['mediapipe']['faces_found']}, facekit "
                         f"{report['facekit']['faces_found']} (facekit detector runs: "
                         f"{report['facekit']['detector_runs']})")
    for side in ("mediapipe", "facekit"):
        # Most frames have the face on both sides (MediaPipe with refine loses it on some).
        assert all(found > calls // 2 for found in report[side]["faces_found"]), report[side]
        assert report[side]["p50_ms"] > 0


# ------------------------------------------------------------------------------------------
# 4: peak RSS of a fresh process running the clip

# Linux carries ru_maxrss across fork and exec: a child of this pytest process (already a few
# hundred MiB: onnxruntime, OpenCV, the decoded clip) reports at least the parent's RSS at fork
# time. So every measured process is started through a small Python that forks it: its peak is
# then its own (checked against /proc/self/status VmHWM, which is per address space).
_FRESH = [sys.executable, "-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"]

# A fresh facekit process: imports, decodes the clip with PyAV either frame by frame while
# running ("streamed": one decoded frame alive at a time) or all frames first ("held": as the
# oracle does, so that its peak includes the same ~99 MiB of frames), runs one video pass.
_RSS_CHILD = r"""
import json, resource, sys

def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

def hwm():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmHWM")) / 1024.0

video, start, count, iris, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    sys.argv[4] == "1", sys.argv[5]
import av
import facekit
after_import = rss()

def frames():
    with av.open(video) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index >= start + count:
                break
            if index >= start:
                yield frame.to_ndarray(format="rgb24")

source = list(frames()) if mode == "held" else frames()
after_decode = rss()
options = facekit.FaceLandmarkerOptions(running_mode=facekit.RunningMode.VIDEO, iris=iris,
                                        max_faces=1)
faces = calls = 0
with facekit.FaceLandmarker(options) as landmarker:
    after_pipeline = rss()
    for i, rgb in enumerate(source):
        with landmarker.detect_for_video(rgb, 33 * (i + 1)) as result:
            faces += len(result.faces)
        calls += 1
print(json.dumps({"peak_rss_mb": rss(), "vm_hwm_mb": hwm(), "after_import_mb": after_import,
                  "after_decode_mb": after_decode, "after_pipeline_mb": after_pipeline,
                  "calls": calls, "faces_found": faces}))
"""


def _facekit_rss(clip: Path, iris: bool, mode: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="facekit-rss-") as cwd:  # away from the source tree
        proc = subprocess.run(
            [*_FRESH, sys.executable, "-c", _RSS_CHILD, str(clip), str(CLIP_START),
             str(CLIP_FRAMES), "1" if iris else "0", mode],
            capture_output=True, text=True, cwd=cwd, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _mediapipe_rss(request: dict) -> dict:
    """The oracle's bench task as run_oracle runs it (same environment, outside the repository),
    but started through _FRESH so that its ru_maxrss is its own."""
    python = require_oracle()
    env = oracle_env()
    payload = json.dumps({"task": "bench", "warmup": WARMUP, **request}, default=str)
    with tempfile.TemporaryDirectory(prefix="facekit-oracle-") as cwd:
        proc = subprocess.run([*_FRESH, str(python), str(ORACLE)], input=payload, text=True,
                              capture_output=True, cwd=cwd, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.mark.parametrize("iris", [False, True], ids=["mesh", "iris"])
def test_peak_rss_video(benchmark, clip_frames, iris):
    require_oracle()
    clip = shared_video(CLIP)
    frame_mib = sum(f.nbytes for f in clip_frames) / 2**20

    def measure():
        out = {"facekit_streamed": _facekit_rss(clip, iris, "streamed"),
               "facekit_held": _facekit_rss(clip, iris, "held")}
        out["mediapipe_held"] = _mediapipe_rss({
            "video": str(clip.resolve()), "start_frame": CLIP_START, "max_frames": CLIP_FRAMES,
            "static_image_mode": False, "refine_landmarks": iris, "repeats": 1})
        return out

    benchmark.group = "pipeline vs mediapipe: peak rss"
    out = benchmark.pedantic(measure, rounds=1, iterations=1)
    benchmark.extra_info.update(out, held_frames_mib=frame_mib)
    streamed, held, mp = out["facekit_streamed"], out["facekit_held"], out["mediapipe_held"]
    label = "iris/refine" if iris else "mesh"
    _SUMMARY.add(
        _RSS,
        f"{label}: frames held in memory when decoded up front: {CLIP_FRAMES} x 640x360x3 = "
        f"{frame_mib:.1f} MiB",
        f"  MediaPipe, frames held (oracle bench)  peak {mp['peak_rss_mb']:6.1f}  before graph "
        f"{mp['rss_before_graph_mb']:6.1f}  => est. without held frames "
        f"{mp['peak_rss_mb'] - frame_mib:6.1f}",
        f"  facekit,   frames held                 peak {held['peak_rss_mb']:6.1f}  after "
        f"import {held['after_import_mb']:6.1f}, decode {held['after_decode_mb']:6.1f}, "
        f"pipeline {held['after_pipeline_mb']:6.1f} (VmHWM {held['vm_hwm_mb']:.1f})",
        f"  facekit,   streamed (1 frame alive)    peak {streamed['peak_rss_mb']:6.1f}  after "
        f"import {streamed['after_import_mb']:6.1f}, pipeline {streamed['after_pipeline_mb']:6.1f}"
        f" (VmHWM {streamed['vm_hwm_mb']:.1f})",
        f"  MediaPipe/facekit: both holding frames x{mp['peak_rss_mb'] / held['peak_rss_mb']:.2f}; "
        f"MediaPipe est. without frames / facekit streamed "
        f"x{(mp['peak_rss_mb'] - frame_mib) / streamed['peak_rss_mb']:.2f}")
    for side in (streamed, held):
        assert side["calls"] == CLIP_FRAMES and side["faces_found"] > CLIP_FRAMES // 2
        assert side["peak_rss_mb"] > 0
    assert mp["peak_rss_mb"] > 0 and mp["faces_found"] > 0


# ------------------------------------------------------------------------------------------
# 5: each network alone, against the CPU's peak

def _graph_macs(name: str) -> dict | None:
    """Multiply-adds of the converted graph's convolutions, split into the source model's own
    and the converter's additions; None without onnx."""
    try:
        import onnx
        from onnx import numpy_helper, shape_inference
    except ImportError:
        return None
    model = shape_inference.infer_shapes(onnx.load(str(model_info(name).path)))
    shapes = {v.name: [d.dim_value if d.HasField("dim_value") else 1  # batch axis: 1
                       for d in v.type.tensor_type.shape.dim]
              for v in [*model.graph.value_info, *model.graph.output, *model.graph.input]}
    weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    macs = {"model": 0, "identity_1x1": 0, "depthwise_1x1": 0}
    for node in model.graph.node:
        if node.op_type not in ("Conv", "ConvTranspose"):
            continue
        w = weights[node.input[1]]
        n = math.prod(shapes[node.output[0]]) * math.prod(w.shape[1:])
        group = next((a.i for a in node.attribute if a.name == "group"), 1)
        if w.shape[1:] == (1, 1, 1) and group > 1:
            macs["depthwise_1x1"] += n  # PReLU rewritten as x + s * Relu(-x)
        elif (w.shape[2:] == (1, 1) and group == 1 and set(np.unique(w)) <= {0.0, 1.0}
              and np.count_nonzero(w) == min(w.shape[:2])):
            macs["identity_1x1"] += n  # channel zero-padding rewritten as a 1x1 convolution
        else:
            macs["model"] += n
    return macs


def _representative_inputs(image: np.ndarray) -> dict[str, np.ndarray]:
    """Network inputs cut from a real photo the way the pipeline prepares them (letterboxed
    whole image for the detectors; face and eye squares for the landmark networks)."""
    import cv2

    height, width = image.shape[:2]
    side = max(width, height)
    square = np.zeros((side, side, 3), np.uint8)
    square[(side - height) // 2:(side - height) // 2 + height,
           (side - width) // 2:(side - width) // 2 + width] = image
    with facekit.FaceDetector() as detector, detector.detect(image) as result:
        box = result.faces[0].box
        eye_x, eye_y = (float(v) for v in result.faces[0].keypoints[0])

    def crop(cx: float, cy: float, size: float, out: int) -> np.ndarray:
        matrix = np.float32([[out / size, 0, out / 2 - cx * out / size],
                             [0, out / size, out / 2 - cy * out / size]])
        return cv2.warpAffine(image, matrix, (out, out), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)

    def unit(pixels):
        return (pixels.astype(np.float32) / 255.0)[None]

    face = crop(box.x + box.width / 2, box.y + box.height / 2, 1.5 * max(box.width, box.height),
                192)
    eye = crop(eye_x, eye_y, 0.35 * box.width, 64)
    return {
        "face_detection_short_range": cv2.resize(square, (128, 128), interpolation=cv2.INTER_AREA)
        .astype(np.float32)[None] / 127.5 - 1.0,
        "face_detection_full_range_sparse": cv2.resize(square, (192, 192),
                                                       interpolation=cv2.INTER_AREA)
        .astype(np.float32)[None] / 127.5 - 1.0,
        "face_landmark": unit(face),
        "iris_landmark": unit(eye),
    }


def _matmul_session(n: int):
    """A 1-thread ONNX Runtime MatMul n x n x n: what MLAS's SGEMM reaches on this CPU."""
    pytest.importorskip("onnx")
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.random.default_rng(1).uniform(-1, 1, (n, n))
                                .astype(np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, n])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def _runner(session, feed: dict) -> Callable[[], object]:
    return lambda: session.run(None, feed)


def test_network_fraction_of_peak(compare, photos):
    pytest.importorskip("cv2")
    inputs = _representative_inputs(photos["720p"])
    cases, executed = {}, {}
    for name in MODEL_MACS:
        session = open_session(name)  # facekit's own settings: 1 thread, no spinning
        feed = {session.get_inputs()[0].name: inputs[name]}
        cases[name] = _runner(session, feed)
        executed[name] = _graph_macs(name)
    gemm_n = 512
    try:
        matmul = _matmul_session(gemm_n)
        x = np.random.default_rng(2).uniform(-1, 1, (gemm_n, gemm_n)).astype(np.float32)
        cases[f"ceiling: ORT MatMul {gemm_n}^3"] = lambda: matmul.run(None, {"x": x})
    except pytest.skip.Exception:
        pass
    report = compare("networks alone, 1 thread (session.run)", cases, rounds=300)

    macs = dict(MODEL_MACS, **{k: float(gemm_n) ** 3 for k in cases if k.startswith("ceiling")})
    _SUMMARY.add(
        _NETS,
        f"peak assumed: {CLOCK_HZ / 1e9:.1f} GHz x 2 FMA units x 8 fp32 lanes (AVX2) = "
        f"{PEAK_AVX2 / 1e9:.1f} GMAC/s per core; with AVX-512 (2 x 16 lanes, which ORT's kernels "
        f"use on this CPU) {PEAK_AVX512 / 1e9:.1f} GMAC/s. Turbo/AVX-512 clocks not modelled.",
        f"{'network':<34} {'p50 ms':>7} {'p95 ms':>7} {'MMAC':>6} {'GMAC/s':>7} "
        f"{'of AVX2':>8} {'of AVX512':>9}   executed MMAC in the ONNX graph (GMAC/s)")
    for name, mac in macs.items():
        row = report[name]
        rate = mac / (row["p50_us"] * 1e-6)
        graph = executed.get(name)
        extra = ""
        if graph:
            total = sum(graph.values())
            extra = (f"{total / 1e6:6.1f} = {graph['model'] / 1e6:.1f} + "
                     f"{graph['identity_1x1'] / 1e6:.1f} identity 1x1 + "
                     f"{graph['depthwise_1x1'] / 1e6:.1f} PReLU 1x1 "
                     f"({total / (row['p50_us'] * 1e-6) / 1e9:.1f})")
        benchmark_row = {"macs": mac, "gmac_per_s": rate / 1e9,
                         "fraction_of_avx2_peak": rate / PEAK_AVX2,
                         "fraction_of_avx512_peak": rate / PEAK_AVX512, "graph_macs": graph}
        row.update(benchmark_row)
        _SUMMARY.add(_NETS, f"{name:<34} {row['p50_us'] / 1e3:7.3f} {row['p95_us'] / 1e3:7.3f} "
                            f"{mac / 1e6:6.1f} {rate / 1e9:7.2f} {rate / PEAK_AVX2:8.1%} "
                            f"{rate / PEAK_AVX512:9.1%}   {extra}")
        assert row["p50_us"] > 0 and rate > 0


# ------------------------------------------------------------------------------------------
# Iris: both eyes as one batch of two (the shipped models have a dynamic batch axis)

def test_iris_batch_of_two(compare, photos):
    pytest.importorskip("cv2")
    single = double = open_session("iris_landmark")
    eye = _representative_inputs(photos["720p"])["iris_landmark"]
    eyes = np.ascontiguousarray(np.concatenate([eye, eye[:, :, ::-1]]))  # right, mirrored left
    name = single.get_inputs()[0].name
    apart = [single.run(None, {name: eyes[i:i + 1]}) for i in range(2)]
    together = double.run(None, {name: eyes})
    for k in range(len(together)):
        np.testing.assert_allclose(np.concatenate([a[k] for a in apart]), together[k],
                                   rtol=1e-5, atol=1e-5)
    report = compare("iris_landmark, both eyes, 1 thread", {
        "baseline 2 eyes as 2 batch-1 runs": lambda: [single.run(None, {name: eyes[i:i + 1]})
                                                      for i in range(2)],
        "2 eyes as 1 batch-2 run": lambda: double.run(None, {name: eyes}),
    }, rounds=300)
    two, one = report["baseline 2 eyes as 2 batch-1 runs"], report["2 eyes as 1 batch-2 run"]
    _SUMMARY.add(_NETS, f"iris both eyes: 2 batch-1 runs {two['p50_us'] / 1e3:.3f} ms, one batch-2 "
                        f"run {one['p50_us'] / 1e3:.3f} ms: saves "
                        f"{(two['p50_us'] - one['p50_us']) / 1e3:.3f} ms per face-frame "
                        f"(x{two['p50_us'] / one['p50_us']:.2f})")
    assert one["p50_us"] > 0


# ------------------------------------------------------------------------------------------
# Profile: facekit's per-call time split into networks, crops and the rest (Python + native
# geometry), by wrapping the internal Network.run and the pipelines' single crops (arena.crop).

def test_facekit_time_breakdown(benchmark, request, monkeypatch, photos, clip_frames):
    from facekit import _blazeface, _inference
    from facekit import landmarker as landmarker_module

    smoke = _smoke(request)
    spent: dict[str, float] = {}
    calls: dict[str, int] = {}

    def timed(key_of, original):
        def wrapper(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                key = key_of(self)
                spent[key] = spent.get(key, 0.0) + time.perf_counter() - start
                calls[key] = calls.get(key, 0) + 1
        return wrapper

    monkeypatch.setattr(_inference.Network, "run",
                        timed(lambda s: f"network {s.name}", _inference.Network.run))
    for stage in (_blazeface, landmarker_module):  # the modules that crop (imported name)
        monkeypatch.setattr(stage, "crop", timed(lambda s: "crops", stage.crop))

    def profile(label: str, run: Callable[[], tuple[int, float]]) -> dict:
        n, seconds = run()
        total = seconds * 1e3 / n
        parts = {k: v * 1e3 / n for k, v in sorted(spent.items())}
        rest = total - sum(parts.values())
        detail = ", ".join(f"{k} {v:.2f} ({calls[k] / n:.2f}/call)" for k, v in parts.items())
        _SUMMARY.add(_BREAKDOWN, f"{label:<18} total {total:6.2f} = {detail}, "
                                 f"rest (Python + native geometry) {rest:.2f}")
        return {"total_ms": total, "parts_ms": parts, "rest_ms": rest,
                "calls_per_call": {k: c / n for k, c in calls.items()}}

    def reset() -> float:
        spent.clear()
        calls.clear()
        return time.perf_counter()

    def static(image, iris, n):
        def run():
            with FaceLandmarker(FaceLandmarkerOptions(iris=iris)) as landmarker:
                for _ in range(WARMUP):
                    landmarker.detect(image).close()
                start = reset()
                for _ in range(n):
                    with landmarker.detect(image) as result:
                        assert len(result.faces) == 1
                return n, time.perf_counter() - start
        return run

    def video(iris, repeats):
        def run():
            options = FaceLandmarkerOptions(running_mode=RunningMode.VIDEO, iris=iris)
            with FaceLandmarker(options) as landmarker:
                stamp = FRAME_MS
                landmarker.detect_for_video(clip_frames[0], stamp).close()
                start = reset()
                for _ in range(repeats):
                    for frame in clip_frames:
                        stamp += FRAME_MS
                        landmarker.detect_for_video(frame, stamp).close()
                return repeats * len(clip_frames), time.perf_counter() - start
        return run

    n, repeats = (2, 1) if smoke else (100, 2)

    def measure():
        out = {}
        for iris in (False, True):
            suffix = "iris" if iris else "mesh"
            for size in PHOTOS:
                out[f"static {size} {suffix}"] = profile(f"static {size} {suffix}",
                                                         static(photos[size], iris, n))
            out[f"video {suffix}"] = profile(f"video {suffix}", video(iris, repeats))
        return out

    benchmark.group = "pipeline breakdown"
    out = benchmark.pedantic(measure, rounds=1, iterations=1)
    benchmark.extra_info.update(out)
    assert all(row["total_ms"] > 0 for row in out.values())


# ------------------------------------------------------------------------------------------
# Why the attention mesh's regions network costs more in the pipeline than alone: its weights
# (2.65 MB) are not in cache after the trunk has run. Measured as the regions network alone in a
# loop against the same network run right after the trunk, each call timed, interleaved rounds.
# A graph with a third fewer nodes (the converter's PReLU form folded into ONNX's PRelu) is
# timed in the same loop, to show whether per-node overhead is the cost.

def _onnx_nodes(name: str) -> list:
    """The nodes of a shipped network's graph ([] without onnx)."""
    try:
        import onnx
    except ImportError:
        return []
    return list(onnx.load(str(model_info(name).path)).graph.node)


def _regions_with_prelu_ops():
    """The regions network with each converted PReLU (x + s * Relu(-x): 4 nodes) as one PRelu
    node; None without onnx."""
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:
        return None
    model = onnx.load(str(model_info("attention_mesh_regions").path))
    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    for negate in [n for n in graph.node if n.op_type == "Conv" and n.input[1].endswith("/neg/w")]:
        relu = consumers[negate.output[0]][0]
        scale = consumers[relu.output[0]][0]
        add = consumers[scale.output[0]][0]
        slope = 1.0 - numpy_helper.to_array(weights[scale.input[1]]).reshape(-1, 1, 1)
        graph.initializer.append(numpy_helper.from_array(slope.astype(np.float32),
                                                         scale.input[1] + "/slope"))
        at = list(graph.node).index(negate)
        for node in (negate, relu, scale, add):
            graph.node.remove(node)
        graph.node.insert(at, helper.make_node("PRelu", [negate.input[0],
                                                         scale.input[1] + "/slope"],
                                               [add.output[0]]))
    for name in [n for n in weights if n.endswith(("/neg/w", "/scaled/w"))]:
        graph.initializer.remove(weights[name])
    return model


def test_regions_network_warm_and_after_trunk(benchmark, request):
    import onnxruntime as ort

    rounds, calls = (1, 20) if _smoke(request) else (5, 300)
    trunk = open_session("attention_mesh_trunk")
    regions = open_session("attention_mesh_regions")
    rng = np.random.default_rng(0)
    trunk_feed = {trunk.get_inputs()[0].name: rng.random((1, 192, 192, 3), np.float32)}
    regions_feed = {"region_crops": rng.standard_normal((3, 16, 16, 32)).astype(np.float32)}
    sessions = {"regions": regions}
    folded = _regions_with_prelu_ops()
    if folded is not None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        sessions["regions, PRelu nodes"] = ort.InferenceSession(
            folded.SerializeToString(), options, providers=["CPUExecutionProvider"])
        reference = regions.run(None, regions_feed)
        for ours, theirs in zip(sessions["regions, PRelu nodes"].run(None, regions_feed),
                                reference):
            np.testing.assert_allclose(ours, theirs, atol=1e-3)  # the same network

    def timed(session, after_trunk: bool) -> float:
        times = []
        for _ in range(calls):
            if after_trunk:
                trunk.run(None, trunk_feed)
            start = time.perf_counter()
            session.run(None, regions_feed)
            times.append(time.perf_counter() - start)
        return float(np.median(times)) * 1e3

    def measure():
        out: dict[str, list[float]] = {}
        for _ in range(rounds):
            for label, session in sessions.items():
                out.setdefault(f"{label} alone", []).append(timed(session, False))
                out.setdefault(f"{label} after trunk", []).append(timed(session, True))
        return {k: float(np.median(v)) for k, v in out.items()}

    benchmark.group = "regions network"
    out = benchmark.pedantic(measure, rounds=1, iterations=1)
    benchmark.extra_info.update(out)
    nodes = {"regions": len(_onnx_nodes("attention_mesh_regions"))}
    if folded is not None:
        nodes["regions, PRelu nodes"] = len(folded.graph.node)
    title = "attention mesh regions network: warm (alone) vs after the trunk (p50 ms, 1 thread)"
    for label in sessions:
        alone, after = out[f"{label} alone"], out[f"{label} after trunk"]
        _SUMMARY.add(title, f"{label:<22} {nodes.get(label, 0):4d} nodes  alone {alone:.3f}  "
                            f"after trunk {after:.3f}  (x{after / alone:.2f})")
    assert all(v > 0 for v in out.values())
