"""Peak resident memory of process_video on a 10-minute 1080p video (issue 15: under 300 MB).

Not collected by pytest (run by hand; it takes as long as the video takes to process):

    python benchmarks/video_memory.py [--minutes 10] [--effect beauty|anonymize|none] [--json F]

The input is the shared clip scaled to 1920x1080 (video_clips.excerpt, encoded once) and its
packets repeated until it lasts --minutes (video_clips.looped: a remux, nothing decoded or held),
both cached. process_video (beauty: the natural preset) then runs on it in a fresh child process
that writes the output to a temporary folder, removed afterwards. The peak is the child's own
VmHWM (/proc/self/status, the high-water mark of its address space, read at its end); the
child is started through a small Python that forks it, so that ru_maxrss (which Linux carries
over fork and exec) is its own as well, and the two are reported side by side.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from video_clips import excerpt, looped

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO.parent / "shared" / "testdata" / "video" / "short_hamilton_clip.mp4"
TARGET_MB = 300

_CHILD = r"""
import json, resource, sys
from facekit.beauty import PRESETS
from facekit.video import process_video

source, output, effect = sys.argv[1:4]
effects = {"beauty": {"beauty": PRESETS["natural"]}, "anonymize": {"anonymize": "pixelate"},
           "none": {}}[effect]
report = process_video(source, output, **effects)
with open("/proc/self/status") as status:
    hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
print(json.dumps({"frames_in": report.frames_in, "frames_out": report.frames_out,
                  "fps": report.fps, "seconds": report.seconds,
                  "stage_seconds": report.stage_seconds,
                  "frames_with_faces": report.frames_with_faces, "vm_hwm_mib": hwm,
                  "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
# A small Python that forks the measured child, so that its ru_maxrss starts from nothing of ours.
_FRESH = [sys.executable, "-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--effect", choices=("beauty", "anonymize", "none"), default="beauty")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    started = time.perf_counter()
    source, frames = looped(excerpt(CLIP, 1080), args.minutes * 60)
    print(f"input: {source} ({frames} frames of {1920}x{1080}, "
          f"{source.stat().st_size / 1e6:.0f} MB), made in {time.perf_counter() - started:.0f} s",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="facekit-video-memory-") as folder:
        output = Path(folder) / "out.mp4"
        done = subprocess.run([*_FRESH, sys.executable, "-c", _CHILD, str(source), str(output),
                               args.effect], capture_output=True, text=True, cwd=folder)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            return 1
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["output_mb"] = output.stat().st_size / 1e6
    result.update(effect=args.effect, minutes=args.minutes, input=str(source),
                  target_mb=TARGET_MB, peak_mb=result["vm_hwm_mib"] * 1.048576)
    verdict = "met" if result["peak_mb"] < TARGET_MB else "MISSED"
    print(f"{args.effect}: {result['frames_out']} frames of 1080p in {result['seconds']:.0f} s "
          f"({result['fps']:.1f} fps); peak RSS {result['vm_hwm_mib']:.0f} MiB = "
          f"{result['peak_mb']:.0f} MB (ru_maxrss {result['ru_maxrss_mib']:.0f} MiB); "
          f"target < {TARGET_MB} MB {verdict}")
    print("stages (s): " + ", ".join(f"{k} {v:.0f}" for k, v in result["stage_seconds"].items()))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
