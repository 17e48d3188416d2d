"""facekit.video.process_video against the loop an app engineer writes today, whole files.

For each effect, frames per second over the whole file (wall time from the call to the closed
output, set-up included) of:
- ``facekit``: ``process_video(clip, out, <effect>)`` in this process (decode, landmarks and
  effects, encode in three threads), with its default encoder (libx264 CRF 18, preset
  veryfast) and again with ``codec="mpeg4"``, the encoder behind ``cv2.VideoWriter``'s mp4v
  (facekit's constant quantiser 3: PSNR 46.5 against OpenCV's 42.8 dB on the shared clip,
  files 1.0-1.2x OpenCV's), so that one ratio compares the loops and not the encoders;
- ``baseline``: benchmarks/video_baseline.py in the MediaPipe 0.10.14 venv
  (tests/oracle/setup_mediapipe.sh): ``cv2.VideoCapture`` -> MediaPipe FaceMesh (tracking,
  ``max_num_faces`` 4 as facekit's ``max_faces``; ``refine_landmarks`` only for the mesh) ->
  the OpenCV effect of benchmarks/opencv_effects.py on each face -> ``cv2.VideoWriter`` (mp4v),
  one Python thread.
Effects: none (landmarks only, the frames written back: each loop's floor), beauty (facekit
``PRESETS["natural"]``; baseline: the OpenCV natural-preset pipeline of test_beauty.py),
anonymize (pixelate on both; facekit also runs its check rounds, both detector networks on
every frame, which the baseline has no equivalent of), mesh (the 468 points and the iris
points drawn) and fusion (a face swap with biden.jpg; facekit only: no OpenCV video baseline).
Clips: the shared clip (640x360, 275 frames) and the same scaled to 1920x1080
(video_clips.excerpt, re-encoded once and cached outside the repository).

Anonymized outputs (of the first round) are also judged by an independent detector:
benchmarks/video_faces_left.py runs MediaPipe's own full-range face detector in the oracle venv
over the input and each output and counts the frames in which it still finds a face.

Runs alternate the sides in ABBA order ``FACEKIT_BENCH_VIDEO_RUNS`` times (3 on the shared
clip, 1 at 1080p by default); the figures are medians. Target (issue 15): facekit at least 3x
the baseline on beauty and anonymize, judged at the same codec. Reported, never asserted: the
tests assert that every side wrote every frame and found faces. With ``--benchmark-disable``
(CI) each case runs once on a short excerpt (60 frames at 360p, 24 at 1080p).

The figures, measured on the 2-core development VM, and what sets each side's pace are in the
README ("Performance"); the summary printed at the end has each stage's time per frame.

Run:  pytest benchmarks/test_video.py -p no:cacheprovider
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from support import shared_face, shared_video
from support_oracle import oracle_env, require_oracle
from video_clips import excerpt

from facekit.beauty import _REGION_ORDER, PRESETS, _regions

BASELINE = Path(__file__).resolve().parent / "video_baseline.py"
CLIP = "short_hamilton_clip.mp4"  # 640x360, 275 frames
SIZES = {"360p": None, "1080p": 1080}
RUNS = {"360p": 3, "1080p": 1}
SMOKE = {"360p": (90, 60), "1080p": (120, 24)}  # (first frame, frames) of the CI excerpt
CONSENT = "benchmark: the public test photos' subjects"
TARGETS = {"beauty": 3.0, "anonymize": 3.0}
EFFECTS = ("none", "beauty", "anonymize", "mesh", "fusion")
# facekit runs with its default encoder and with the baseline's (cv2.VideoWriter's mp4v is
# FFmpeg's mpeg4 encoder): the same-codec ratio compares the loops, not the encoders.
CODECS = {"facekit": "libx264", "facekit mpeg4": "mpeg4"}
FACES_LEFT = Path(__file__).resolve().parent / "video_faces_left.py"


def _facekit_effect(effect: str) -> dict:
    if effect == "none":
        return {}
    if effect == "beauty":
        return {"beauty": PRESETS["natural"]}
    if effect == "anonymize":
        return {"anonymize": "pixelate"}
    if effect == "mesh":
        return {"mesh": True}
    return {"fuse_user": shared_face("biden.jpg"), "consent": CONSENT}


# ------------------------------------------------------------------------------------------
# Summary (printed at the end, as test_pipeline_vs_mediapipe.py does)

_TITLE = "facekit.video vs OpenCV + MediaPipe FaceMesh loop (fps over the whole file, medians)"


class _Summary:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        self.lines.append(line)
        print(line)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.lines:
            terminalreporter.section(_TITLE)
            for line in self.lines:
                terminalreporter.write_line(line)


_SUMMARY = _Summary()


@pytest.fixture(scope="module", autouse=True)
def _register_summary(request):
    manager = request.config.pluginmanager
    if not manager.is_registered(_SUMMARY):
        manager.register(_SUMMARY, "facekit-video-summary")
    yield


# ------------------------------------------------------------------------------------------
# The two sides

@pytest.fixture(scope="module")
def clips(request) -> dict[str, Path]:
    pytest.importorskip("av", reason="PyAV comes with the test extra")
    source = shared_video(CLIP)
    if request.config.getoption("benchmark_disable", False):
        return {size: excerpt(source, height, *SMOKE[size]) for size, height in SIZES.items()}
    return {"360p": source, "1080p": excerpt(source, 1080)}




def _run_baseline(python: Path, clip: Path, effect: str, folder: Path, keep: bool) -> dict:
    output = folder / "baseline.mp4"
    request = {"video": str(clip), "output": str(output), "effect": effect, "max_faces": 4,
               "regions": {name: [int(i) for i in points]
                           for name, points in zip(_REGION_ORDER, _regions())}}
    done = subprocess.run([str(python), str(BASELINE)], input=json.dumps(request), text=True,
                          capture_output=True, cwd=folder, env=oracle_env(), timeout=1200)
    assert done.returncode == 0, f"baseline failed:\n{done.stderr[-3000:]}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return _finish(result, output, keep)


def _run_facekit(clip: Path, effect: str, folder: Path, side: str, keep: bool) -> dict:
    from facekit.video import process_video

    output = folder / f"{side.replace(' ', '-')}.mp4"
    start = time.perf_counter()
    report = process_video(clip, output, codec=CODECS[side], force=True,
                           **_facekit_effect(effect))
    seconds = time.perf_counter() - start
    result = {"frames": report.frames_out, "seconds": seconds,
              "fps": report.frames_out / seconds, "faces": sum(report.faces_per_frame),
              "stage_seconds": report.stage_seconds}
    return _finish(result, output, keep)


def _finish(result: dict, output: Path, keep: bool) -> dict:
    result["output_bytes"] = output.stat().st_size
    if keep:  # judged afterwards (faces left), then removed with the folder
        result["output"] = output.rename(output.with_name(f"kept-{output.name}"))
    else:
        output.unlink()
    return result


def _faces_left(python: Path, videos: dict[str, Path]) -> dict[str, dict]:
    """Per side, the frames in which MediaPipe's own full-range face detector still finds a
    face (video_faces_left.py in the oracle venv)."""
    request = {"videos": [str(v) for v in videos.values()]}
    done = subprocess.run([str(python), str(FACES_LEFT)], input=json.dumps(request), text=True,
                          capture_output=True, env=oracle_env(), timeout=1200)
    assert done.returncode == 0, f"face count failed:\n{done.stderr[-3000:]}"
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    return {side: counts[str(video)] for side, video in videos.items()}


def _median(runs: list[dict]) -> dict:
    middle = sorted(runs, key=lambda r: r["fps"])[len(runs) // 2]
    return {**middle, "fps": float(np.median([r["fps"] for r in runs])),
            "fps_per_run": [r["fps"] for r in runs]}


def _compare(clip: Path, effect: str, rounds: int) -> dict:
    """facekit with each codec of CODECS and the baseline (none for fusion) `rounds` times
    each, in ABBA order. Anonymized outputs of the first round are judged for faces left."""
    python = None if effect == "fusion" else require_oracle()
    judge = effect == "anonymize"
    sides = [*CODECS, *(() if effect == "fusion" else ("baseline",))]
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    with tempfile.TemporaryDirectory(prefix="facekit-bench-video-") as name:
        folder = Path(name)
        for i in range(rounds):
            for side in sides if i % 2 == 0 else sides[::-1]:
                keep = judge and i == 0
                runs[side].append(
                    _run_baseline(python, clip, effect, folder, keep) if python and side == "baseline"
                    else _run_facekit(clip, effect, folder, side, keep))
        report: dict = {side: _median(side_runs) for side, side_runs in runs.items()}
        if judge and python is not None:
            report["faces_left"] = _faces_left(python, {
                "input": clip, **{side: runs[side][0]["output"] for side in sides}})
    for side in report:
        if side in runs:
            report[side].pop("output", None)
    if "baseline" in report:
        for side in CODECS:
            report[f"speedup {side}"] = report[side]["fps"] / report["baseline"]["fps"]
    return report


def _stages(stage_seconds: dict, frames: int) -> str:
    return " ".join(f"{k} {v * 1e3 / frames:.1f}" for k, v in stage_seconds.items())


@pytest.mark.parametrize("effect", EFFECTS)
@pytest.mark.parametrize("size", list(SIZES))
def test_video_vs_opencv_mediapipe(benchmark, request, clips, size, effect):
    smoke = request.config.getoption("benchmark_disable", False)
    rounds = 1 if smoke else int(os.environ.get("FACEKIT_BENCH_VIDEO_RUNS", RUNS[size]))
    clip = clips[size]
    benchmark.group = f"video {size}"
    report = benchmark.pedantic(_compare, args=(clip, effect, rounds), rounds=1, iterations=1)
    benchmark.extra_info.update(report)
    fk, same, base = report["facekit"], report["facekit mpeg4"], report.get("baseline")
    if not _SUMMARY.lines:
        _SUMMARY.add(f"{'clip':<6} {'effect':<10} {'x264 fps':>8} {'mpeg4 fps':>9} "
                     f"{'baseline':>8} {'x264':>6} {'mpeg4':>6}  target (same codec)  output kB "
                     "(x264/mpeg4/baseline); ms a frame per stage (x264 | mpeg4 | baseline)")
    ratios = (f"x{report['speedup facekit']:5.2f} x{report['speedup facekit mpeg4']:5.2f}"
              if base else "     -      -")
    target = TARGETS.get(effect)
    verdict = (f">= {target}x {'met' if report['speedup facekit mpeg4'] >= target else 'MISSED'}"
               if target and base else "(ratio only)" if base else "(no baseline)")
    frames = fk["frames"]
    sizes = "/".join(str(side["output_bytes"] // 1000) if side else "-" for side in (fk, same, base))
    stages = " | ".join(_stages(side["stage_seconds"], frames) for side in (fk, same, base) if side)
    _SUMMARY.add(f"{size:<6} {effect:<10} {fk['fps']:8.1f} {same['fps']:9.1f} "
                 f"{base['fps'] if base else float('nan'):8.1f} {ratios}  {verdict:<19} "
                 f"{sizes}; {stages}")
    if "faces_left" in report:
        left = report["faces_left"]
        _SUMMARY.add(f"{'':<6} {'':<10} frames in which MediaPipe's full-range face detector "
                     f"finds a face, of {left['input']['frames']}: " + ", ".join(
                         f"{side} {counts['frames_with_faces']}" for side, counts in left.items()))
    for side in (fk, same, base):
        if side:
            assert side["frames"] == frames > 0, report  # every frame written on every side
            assert side["faces"] > 0, report
            assert side["fps"] > 0
