#!/usr/bin/env python3
"""Executed-instruction counts of whole facekit stages on aarch64, against MediaPipe 0.10.14.

Wall time under qemu says nothing about speed on a phone; instructions executed by the guest
do. Both libraries run in emulated aarch64 venvs (tools/arm64_env.py) under qemu-user with the
counting plugin tools/arm64/insn_count.c, on the same frames, one thread each, after warm-up::

    python3.11 tools/arm64_env.py smoke                       # facekit's wheel, installed
    python3.11 benchmarks/arm64_counts.py --json counts.json  # facekit + MediaPipe, ~3 min
    python3.11 benchmarks/arm64_counts.py --check             # CI: facekit vs its baseline
    python3.11 benchmarks/arm64_counts.py --update            # rewrites facekit's baseline
    python3.11 benchmarks/arm64_counts.py --update-mediapipe  # rewrites MediaPipe's

--check and --update count facekit on a shorter frame set (one photo, two clip frames: the
counts are per frame) and compare each stage's mean with benchmarks/baselines/arm64_counts.json;
--check fails when one grew more than 5%. MediaPipe's counts do not change with facekit's code,
so CI does not re-count them: its table shows MediaPipe's baseline over the same frames.

How one call is isolated: the guest brackets each call with markers, lseek(-1, MARK + label)
(a harmless EBADF), and the plugin prints the process's running count at each one. A call's
count is end - begin, less the cost of an empty begin/end pair (measured in the same run).

The default CPU model is cortex-a53 (ARMv8.0 + NEON, no dot product, no fp16 arithmetic):
the little core of a generation of phones and of the Raspberry Pi 3, and the common
denominator of every arm64 phone (qemu 7.2 models no later little core). Under ``-cpu max``
ONNX Runtime picks its SME kernels, which only the newest big cores have, and counts would
describe the best case rather than the phone most users hold.

This file is both the host driver (python3.11, standard library only) and the guest worker
(``--worker facekit|mediapipe``, run by the emulated python).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PLUGIN_SOURCE = REPO / "tools" / "arm64" / "insn_count.c"
BASELINE = REPO / "benchmarks" / "baselines" / "arm64_counts.json"
TESTDATA = REPO.parent / "shared" / "testdata"  # as tests/support.py: CI's shared photos and clip
CPU = "cortex-a53"
TOLERANCE = 0.05  # --check fails when a stage grows more than this over its baseline
MARK_BASE = 0x46414345 << 32  # "FACE" << 32; the plugin's MARK_BASE

# The photos, and the clip whose frames serve the video modes (and, as stills, the image modes).
PHOTOS = ["obama-720p.jpg", "kit_harington_john1.jpeg", "rose_leslie_img1.jpg"]
CLIP = "short_hamilton_clip.mp4"
CLIP_START = 120  # facekit's landmarker finds the face in frames 82-210 (none before)
WARM_FRAMES = 3   # video: frames run before counting starts (the track is established)
CLIP_FRAMES = 4   # video: frames counted after them
CHECK_PHOTOS = 1  # --check / --update: counts are per frame, so fewer frames suffice
CHECK_CLIP_FRAMES = 2

# facekit stages (names as in facekit.bench.STAGES) and MediaPipe modes; "video" stages run on
# consecutive clip frames, the others on every still (photos + the counted clip frames).
FACEKIT_STAGES = {
    "detector_short": "FaceDetector, short_range",
    "landmarks": "FaceLandmarker IMAGE, 468 points",
    "landmarks_iris": "FaceLandmarker IMAGE, iris=True, 478 points",
    "landmarks_video": "FaceLandmarker VIDEO, 468 points",
    "landmarks_iris_video": "FaceLandmarker VIDEO, iris=True, 478 points",
    "beauty": "Beautifier IMAGE, natural preset (landmarks included)",
    "beauty_video": "Beautifier VIDEO, natural preset (tracked landmarks included)",
    "verify": "FaceVerifier.verify of two stills (landmarks, alignment, descriptors)",
    "anonymize": "Anonymizer, pixelate (BlazeFace x2 + CenterFace, cover, re-detection check)",
}
MEDIAPIPE_STAGES = {
    "facemesh_static": "FaceMesh static_image_mode=True, refine_landmarks=False (468)",
    "facemesh_static_refine": "FaceMesh static_image_mode=True, refine_landmarks=True (478)",
    "facemesh_video": "FaceMesh static_image_mode=False, refine_landmarks=False (468)",
    "facemesh_video_refine": "FaceMesh static_image_mode=False, refine_landmarks=True (478)",
}
VIDEO_STAGES = {"landmarks_video", "landmarks_iris_video", "beauty_video", "facemesh_video",
                "facemesh_video_refine"}
# facekit stage -> the MediaPipe mode doing the same job (ratios = facekit / MediaPipe).
COUNTERPART = {"landmarks": "facemesh_static", "landmarks_iris": "facemesh_static_refine",
               "landmarks_video": "facemesh_video", "landmarks_iris_video": "facemesh_video_refine"}

# MediaPipe's venv: tests/oracle/setup_mediapipe.sh's pins, without what FaceMesh never imports
# (jax, jaxlib, scipy, sounddevice: the model maker and audio). opencv-contrib-python-headless
# is the same OpenCV build as the oracle's opencv-contrib-python without the GUI, which needs
# libGL (not in the sysroot); mediapipe imports cv2 and matplotlib for its drawing helpers.
MEDIAPIPE_PINS = [
    "mediapipe==0.10.14", "numpy==1.26.4", "protobuf==4.25.9", "absl-py==2.5.1",
    "attrs==26.1.0", "flatbuffers==25.12.19", "opencv-contrib-python-headless==4.10.0.84",
    "matplotlib==3.11.2", "contourpy==1.3.3", "cycler==0.12.1", "fonttools==4.68.0",
    "kiwisolver==1.5.1", "packaging==26.4", "pillow==13.0.0", "pyparsing==3.3.3",
    "python-dateutil==4.0.0",
]
# One thread everywhere, and no hash randomisation: the counts must repeat exactly.
GUEST_ENV = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
             "OPENCV_FOR_THREADS_NUM": "1", "MPLBACKEND": "Agg", "GLOG_minloglevel": "2",
             "TF_CPP_MIN_LOG_LEVEL": "2"}


# ---- parsing, comparison, report (host side; tests/test_arm64_counts.py covers these) ----------

def parse_marks(text: str) -> dict[int, dict[int, int]]:
    """The plugin's output: ``{pid: {label: running count}}`` from its "mark PID LABEL COUNT"
    lines ("exit PID COUNT" lines and anything else are skipped). A label seen twice in one
    process is an error: each marker must be unique."""
    marks: dict[int, dict[int, int]] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 4 or fields[0] != "mark":
            continue
        pid, label, count = (int(f) for f in fields[1:])
        process = marks.setdefault(pid, {})
        if label in process:
            raise ValueError(f"marker {label} appears twice in process {pid}")
        process[label] = count
    return marks


def interval_counts(marks: dict[int, int], events: dict[str, Any]) -> dict[str, Any]:
    """Per-stage, per-frame counts of one worker from its markers and its event list.

    ``events``: ``{"empty": [[begin, end], ...], "stages": {stage: [[frame, begin, end], ...]}}``
    (marker labels). The cost of an empty pair (its minimum: the pairs are identical) is taken
    off every call.
    """
    def span(begin: int, end: int) -> int:
        try:
            return marks[end] - marks[begin]
        except KeyError as missing:
            raise ValueError(f"marker {missing} is missing from the plugin's output") from None
    overhead = min(span(b, e) for b, e in events["empty"])
    stages = {}
    for stage, calls in events["stages"].items():
        frames = {frame: span(b, e) - overhead for frame, b, e in calls}
        stages[stage] = {"per_frame": frames,
                         "mean": round(sum(frames.values()) / len(frames))}
    return {"marker_overhead": overhead, "stages": stages}


def growth(baseline: dict[str, int], current: dict[str, int],
           tolerance: float = TOLERANCE) -> list[str]:
    """Messages for every stage whose count grew more than `tolerance` over its baseline
    (and for stages missing on either side); empty when the check passes."""
    problems = []
    for stage in sorted(set(baseline) | set(current)):
        if stage not in current:
            problems.append(f"{stage}: in the baseline but not counted")
        elif stage not in baseline:
            problems.append(f"{stage}: counted but not in the baseline (run --update)")
        elif current[stage] > baseline[stage] * (1 + tolerance):
            change = current[stage] / baseline[stage] - 1
            problems.append(f"{stage}: {current[stage]:,} instructions per frame, "
                            f"{change:+.1%} over the baseline {baseline[stage]:,} "
                            f"(allowed: +{tolerance:.0%})")
    return problems


def table(facekit: dict[str, int], mediapipe: dict[str, int],
          baseline: dict[str, int] | None = None) -> str:
    """Markdown: per-stage instructions per frame, facekit / MediaPipe where both exist, and
    the change over `baseline` when given."""
    head = ["stage", "instructions per frame", "MediaPipe 0.10.14 counterpart", "its count",
            "facekit / MediaPipe"] + (["vs baseline"] if baseline is not None else [])
    lines = ["| " + " | ".join(head) + " |", "| --- | ---: | --- | ---: | ---: |" +
             (" ---: |" if baseline is not None else "")]
    for stage, count in facekit.items():
        other = COUNTERPART.get(stage)
        theirs = mediapipe.get(other) if other else None
        cells = [stage, f"{count:,}", other or "—", f"{theirs:,}" if theirs else "—",
                 f"{count / theirs:.2f}" if theirs else "—"]
        if baseline is not None:
            cells.append(f"{count / baseline[stage] - 1:+.2%}" if baseline.get(stage) else "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def frame_means(stages: dict[str, dict[str, int]], frames: dict[str, list[str]]) -> dict[str, int]:
    """Each stage's mean over the frames `frames[counterpart]` names (all frames when absent):
    MediaPipe's counts over exactly the frames facekit counted."""
    result = {}
    for stage, per_frame in stages.items():
        chosen = [per_frame[f] for f in frames.get(stage, per_frame) if f in per_frame]
        if chosen:
            result[stage] = round(sum(chosen) / len(chosen))
    return result


# ---- guest side (the emulated python) ----------------------------------------------------------

def mark(label: int) -> None:
    """A marker: the plugin records the running count when it sees this failing lseek."""
    try:
        os.lseek(-1, MARK_BASE + label, os.SEEK_SET)
    except OSError:
        pass


class Recorder:
    """Hands out marker labels and remembers what each pair bracketed."""

    def __init__(self) -> None:
        self.next = 0
        self.events: dict[str, Any] = {"empty": [], "stages": {}}

    def _mark(self) -> int:
        label = self.next
        self.next += 1
        mark(label)
        return label

    def empty(self, pairs: int = 5) -> None:
        for _ in range(pairs):
            begin = self._mark()
            self.events["empty"].append([begin, self._mark()])

    def call(self, stage: str, frame: str, step, *args) -> None:
        begin = self._mark()
        step(*args)
        end = self._mark()
        self.events["stages"].setdefault(stage, []).append([frame, begin, end])


def load_frames(plan: dict[str, Any]) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """(stills, clip): named RGB uint8 frames. facekit's worker decodes them (photos with
    facekit.load_image, the clip with PyAV) and saves them for MediaPipe's, which loads them,
    so both count the same pixels."""
    import numpy as np
    saved = Path(plan["frames"])
    if saved.exists():
        with np.load(saved) as data:
            named = [(name, data[name]) for name in data.files]
    else:
        import av  # noqa: I001 (the guest's modules, imported where the guest runs)
        import facekit
        named = [(f"photo:{name}", facekit.load_image(TESTDATA / "faces" / name))
                 for name in plan["photos"]]
        with av.open(str(TESTDATA / "video" / CLIP)) as container:
            for index, frame in enumerate(container.decode(video=0)):
                if index >= CLIP_START + plan["warm_frames"] + plan["clip_frames"]:
                    break
                if index >= CLIP_START:
                    named.append((f"clip:{index}", frame.to_ndarray(format="rgb24")))
        np.savez(saved, **dict(named))
    photos = [item for item in named if item[0].startswith("photo:")]
    clip = [item for item in named if item[0].startswith("clip:")]
    return photos + clip[plan["warm_frames"]:], clip


def facekit_stage(name: str):
    """Builds stage `name`'s pipeline; returns (task to close, call(frame, index)). Every
    result is closed or dropped unread."""
    import facekit
    from facekit import RunningMode
    from facekit.beauty import PRESETS
    video = RunningMode.VIDEO
    task: Any  # each stage's task class
    if name == "detector_short":
        task = facekit.FaceDetector.create_from_options(facekit.FaceDetectorOptions())
        return task, lambda frame, i: task.detect(frame).close()
    if name in ("landmarks", "landmarks_iris"):
        task = facekit.FaceLandmarker.create_from_options(
            facekit.FaceLandmarkerOptions(iris=name == "landmarks_iris"))
        return task, lambda frame, i: task.detect(frame).close()
    if name in ("landmarks_video", "landmarks_iris_video"):
        task = facekit.FaceLandmarker.create_from_options(facekit.FaceLandmarkerOptions(
            running_mode=video, iris=name == "landmarks_iris_video"))
        return task, lambda frame, i: task.detect_for_video(frame, i * 33).close()
    if name == "beauty":
        task = facekit.Beautifier.create_from_options(facekit.BeautifierOptions(PRESETS["natural"]))
        return task, lambda frame, i: task.apply(frame)
    if name == "beauty_video":
        task = facekit.Beautifier.create_from_options(
            facekit.BeautifierOptions(PRESETS["natural"], running_mode=video))
        return task, lambda frame, i: task.apply(frame, i * 33)
    if name == "verify":
        task = facekit.FaceVerifier.create_from_options(facekit.FaceVerifierOptions())
        return task, lambda pair, i: task.verify(*pair)
    if name == "anonymize":
        task = facekit.Anonymizer.create_from_options(facekit.AnonymizerOptions())
        return task, lambda frame, i: task.apply(frame)
    raise ValueError(f"unknown facekit stage {name!r}")


def mediapipe_stage(name: str):
    import mediapipe as mp  # type: ignore[import-not-found]
    task = mp.solutions.face_mesh.FaceMesh(static_image_mode=name.startswith("facemesh_static"),
                                           refine_landmarks=name.endswith("_refine"),
                                           max_num_faces=1)
    return task, lambda frame, i: task.process(frame)  # the result is dropped unread


def worker(kind: str, plan_path: Path) -> None:
    """Runs every stage of `kind` over the plan's frames, with markers; writes the events."""
    plan = json.loads(plan_path.read_text())
    stills, clip = load_frames(plan)
    if kind == "facekit":
        import facekit
        build, stages, version = facekit_stage, plan["facekit_stages"], facekit.__version__
    else:
        import mediapipe
        build, stages, version = mediapipe_stage, plan["mediapipe_stages"], mediapipe.__version__
    recorder = Recorder()
    recorder.empty()
    warm = plan["warm_frames"]
    for name in stages:
        task, call = build(name)
        if name in VIDEO_STAGES:
            for index, (frame_name, frame) in enumerate(clip):
                if index < warm:
                    call(frame, index)
                else:
                    recorder.call(name, frame_name, call, frame, index)
        else:
            # verify compares each still with the next; the others take one still.
            items = list(stills) if name != "verify" else [
                (f"{a}+{b}", (fa, fb)) for (a, fa), (b, fb) in zip(stills, stills[1:] + stills[:1])]
            call(items[0][1], 0)  # warm-up: first-call costs (allocations, lazy set-up)
            for index, (frame_name, frame) in enumerate(items):
                recorder.call(name, frame_name, call, frame, index)
        task.close()
    recorder.empty()
    Path(plan["events"][kind]).write_text(json.dumps(
        {"version": version, "pid": os.getpid(), **recorder.events}))


# ---- host side ---------------------------------------------------------------------------------

def arm64_env():
    """tools/arm64_env.py as a module (its setup, install and cache helpers)."""
    sys.path.insert(0, str(REPO / "tools"))
    import arm64_env as env  # type: ignore[import-not-found]
    return env


def plugin(cache: Path) -> Path:
    """The plugin, compiled by the host's gcc once per source version."""
    digest = hashlib.sha256(PLUGIN_SOURCE.read_bytes()).hexdigest()[:12]
    built = cache / f"insn_count-{digest}.so"
    if not built.exists():
        partial = built.with_suffix(".tmp")
        subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror",
                        "-fvisibility=hidden", "-o", str(partial), str(PLUGIN_SOURCE)], check=True)
        partial.rename(built)
    return built


def mediapipe_venv(env, cache: Path) -> Path:
    """A second emulated venv (same sysroot and wrapper as facekit's) with MediaPipe 0.10.14."""
    name = "mediapipe-" + hashlib.sha256("\n".join(MEDIAPIPE_PINS).encode()).hexdigest()[:8]
    root = cache / "root"

    def build(venv: Path) -> None:
        shutil.rmtree(venv)
        env.run("qemu-aarch64", "-L", root, root / "usr/bin/python3.11", "-m", "venv",
                "--without-pip", venv)
        for python in ("python", "python3", "python3.11"):
            (venv / "bin" / python).unlink()
        (venv / "bin" / "python").write_text(env.wrapper(root))
        (venv / "bin" / "python").chmod(0o755)
        platforms = [arg for p in env.PLATFORMS for arg in ("--platform", p)]
        env.run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                env.site_packages(venv), *platforms, "--python-version", "3.11",
                "--only-binary=:all:", *MEDIAPIPE_PINS)
        shutil.rmtree(env.site_packages(venv) / "bin", ignore_errors=True)

    env.step(cache, name, build)
    return cache / name / "bin" / "python"


def count(python: Path, kind: str, plan: dict[str, Any], plugin_so: Path, work: Path,
          cpu: str) -> dict[str, Any]:
    """One emulated worker run under the plugin: its per-stage, per-frame counts."""
    out = work / f"{kind}.marks"
    out.unlink(missing_ok=True)
    env = {**os.environ, **GUEST_ENV, "QEMU_CPU": cpu,
           "QEMU_PLUGIN": f"{plugin_so},out={out}"}
    start = time.monotonic()
    plan_path = work / "plan.json"
    plan_path.write_text(json.dumps(plan))
    # No address randomisation: where buffers land changes the instructions of some copies.
    norandom = ["setarch", platform.machine(), "-R"] if shutil.which("setarch") else []
    subprocess.run([*norandom, str(python), "-P", str(Path(__file__).resolve()), "--worker", kind,
                    "--plan", str(plan_path)], env=env, check=True, cwd=work)
    seconds = time.monotonic() - start
    events = json.loads(Path(plan["events"][kind]).read_text())
    marks = parse_marks(out.read_text())
    if events["pid"] not in marks:
        raise RuntimeError(f"the plugin recorded no marker of the {kind} worker")
    result = interval_counts(marks[events["pid"]], events)
    return {"version": events["version"], "seconds": round(seconds), **result}


def means(result: dict[str, Any]) -> dict[str, int]:
    return {stage: entry["mean"] for stage, entry in result["stages"].items()}


def per_frame(result: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {stage: entry["per_frame"] for stage, entry in result["stages"].items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help=f"count facekit on the short frame set and fail if a stage grew more "
                           f"than {TOLERANCE * 100:.0f}%% over {BASELINE.relative_to(REPO)}")
    mode.add_argument("--update", action="store_true",
                      help="count facekit as --check does and rewrite its baseline")
    mode.add_argument("--update-mediapipe", action="store_true",
                      help="count MediaPipe on the full frame set and rewrite its baseline")
    mode.add_argument("--facekit-only", action="store_true", help="full frame set, no MediaPipe")
    parser.add_argument("--cpu", default=CPU, help="qemu CPU model (default: %(default)s)")
    parser.add_argument("--stages", help="comma-separated facekit stages (default: all)")
    parser.add_argument("--wheel", type=Path, help="install this facekit wheel first")
    parser.add_argument("--json", type=Path, help="write every count to this file")
    parser.add_argument("--worker", choices=["facekit", "mediapipe"], help=argparse.SUPPRESS)
    parser.add_argument("--plan", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.plan)
        return 0
    stages = args.stages.split(",") if args.stages else list(FACEKIT_STAGES)
    unknown = set(stages) - set(FACEKIT_STAGES)
    if unknown:
        parser.error(f"unknown stages: {', '.join(sorted(unknown))}")
    if args.stages and (args.update or args.update_mediapipe):
        parser.error("--update and --update-mediapipe count every stage: drop --stages")
    if args.update_mediapipe:
        stages = []  # facekit's worker only decodes the frames
    quick = args.check or args.update
    with_mediapipe = not (quick or args.facekit_only)

    started = time.monotonic()
    env = arm64_env()
    cache = env.setup()
    if args.wheel:
        env.install(cache, args.wheel)
    if not TESTDATA.is_dir():
        sys.exit(f"{TESTDATA} is missing: the counts run on its photos and clip")
    if not (env.site_packages(cache / "venv") / "facekit").is_dir():
        sys.exit("facekit is not installed in the emulated venv: run "
                 "`python3.11 tools/arm64_env.py smoke` first, or give --wheel")
    plugin_so = plugin(cache)
    with tempfile.TemporaryDirectory(prefix="arm64-counts-") as tmp:
        work = Path(tmp)
        plan = {"photos": PHOTOS[:CHECK_PHOTOS] if quick else PHOTOS,
                "warm_frames": WARM_FRAMES,
                "clip_frames": CHECK_CLIP_FRAMES if quick else CLIP_FRAMES,
                "frames": str(work / "frames.npz"), "facekit_stages": stages,
                "mediapipe_stages": list(MEDIAPIPE_STAGES),
                "events": {k: str(work / f"{k}.json") for k in ("facekit", "mediapipe")}}
        report: dict[str, Any] = {"cpu": args.cpu, "qemu": qemu_version(),
                                  "frames": {k: plan[k] for k in ("photos", "warm_frames",
                                                                  "clip_frames")},
                                  "stages": {**FACEKIT_STAGES, **MEDIAPIPE_STAGES}}
        report["facekit"] = count(cache / "venv" / "bin" / "python", "facekit", plan, plugin_so,
                                  work, args.cpu)
        if with_mediapipe:
            report["mediapipe"] = count(mediapipe_venv(env, cache), "mediapipe", plan,
                                        plugin_so, work, args.cpu)
    if args.update_mediapipe:
        del report["facekit"]
    else:
        facekit_means, mediapipe_means = means(report["facekit"]), counterpart_means(report)
        report["facekit_over_mediapipe"] = ratios(facekit_means, mediapipe_means)
        baseline = load_baseline().get("facekit", {}).get("mean", {}) if args.check else None
        print(table(facekit_means, mediapipe_means, baseline))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    status = 0
    if args.check:
        problems = check_against_baseline(means(report["facekit"]), args.cpu,
                                          subset=args.stages is not None)
        for problem in problems:
            print(f"arm64_counts: FAIL {problem}", file=sys.stderr)
        status = 1 if problems else 0
        if not problems:
            print(f"arm64_counts: every facekit stage within +{TOLERANCE:.0%} of its baseline")
            for stage, now in means(report["facekit"]).items():
                before = load_baseline()["facekit"]["mean"][stage]
                if now < before * (1 - TOLERANCE):
                    print(f"arm64_counts: {stage} fell {1 - now / before:.1%} below its "
                          "baseline: run --update to keep the gain")
    if args.update or args.update_mediapipe:
        write_baseline(report)
    print(f"arm64_counts: {time.monotonic() - started:.0f} s", file=sys.stderr)
    return status


def counterpart_means(report: dict[str, Any]) -> dict[str, int]:
    """MediaPipe's mean per mode over the frames facekit counted for its counterpart stage
    (from the baseline when MediaPipe was not counted in this run)."""
    if "mediapipe" in report:
        mediapipe_frames = per_frame(report["mediapipe"])
    else:
        mediapipe_frames = load_baseline().get("mediapipe", {}).get("per_frame", {})
    counted = {COUNTERPART[s]: list(frames) for s, frames in per_frame(report["facekit"]).items()
               if s in COUNTERPART}
    return frame_means(mediapipe_frames, counted)


def ratios(facekit: dict[str, int], mediapipe: dict[str, int]) -> dict[str, float]:
    """facekit / MediaPipe per facekit stage that has a counterpart counted."""
    return {stage: round(count / mediapipe[COUNTERPART[stage]], 4)
            for stage, count in facekit.items()
            if COUNTERPART.get(stage) in mediapipe}


def qemu_version() -> str:
    out = subprocess.run(["qemu-aarch64", "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "unknown"


def load_baseline() -> dict[str, Any]:
    return json.loads(BASELINE.read_text()) if BASELINE.exists() else {}


def check_against_baseline(current: dict[str, int], cpu: str,
                           subset: bool = False) -> list[str]:
    """growth() against the committed baseline; with `subset` (--stages), only the stages
    counted are compared."""
    baseline = load_baseline().get("facekit")
    if not baseline:
        return [f"no facekit baseline in {BASELINE}: run --update"]
    if baseline["cpu"] != cpu:
        return [f"the baseline was counted on {baseline['cpu']}, not {cpu}"]
    before = baseline["mean"]
    if subset:
        before = {stage: count for stage, count in before.items() if stage in current}
    return growth(before, current)


def write_baseline(report: dict[str, Any]) -> None:
    """Rewrites the baseline entry of each library counted: facekit's with --update (the short
    frame set --check counts), MediaPipe's with --update-mediapipe (the full set; its counts do
    not change with facekit's code, so CI does not re-count them)."""
    baseline = load_baseline()
    for kind in ("facekit", "mediapipe"):
        if kind in report:
            # "mean" is what --check compares; "per_frame" lets its table show MediaPipe's
            # counts over exactly the frames facekit counted.
            baseline[kind] = {"cpu": report["cpu"], "qemu": report["qemu"],
                              "frames": report["frames"], "version": report[kind]["version"],
                              "mean": means(report[kind]), "per_frame": per_frame(report[kind])}
    baseline["host"] = platform.machine()
    BASELINE.parent.mkdir(exist_ok=True)
    BASELINE.write_text(json.dumps(baseline, indent=1) + "\n")
    print(f"arm64_counts: wrote {BASELINE.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
