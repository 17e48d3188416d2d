"""``facekit bench``: per-stage latency and sustained throughput on the device at hand.

For performance engineers with a phone, a board or a laptop: no pytest, no test data. It times
the public pipelines (never reading a biometric value: each result is closed unread) and
describes the device, so that two reports can be compared::

    facekit bench --json a.json                      # every stage: p50 / p95 / p99 in ms
    facekit bench --cpus 4-7 --threads 2 --json b.json
    facekit bench --compare a.json b.json            # B's speedup over A per stage
    facekit bench --sustained 10 --plot run.png      # fps per 10 s window, temperature, MHz

Reports are JSON of schema :data:`SCHEMA`: ``{"schema", "settings", "device", "stages",
"sustained"}``. ``--plot`` needs matplotlib (``pip install 'facekit[bench]'``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from ._pipeline import RunningMode
from .anonymize import Anonymizer, AnonymizerOptions
from .beauty import PRESETS, Beautifier, BeautifierOptions
from .cpu import cpu_features
from .detector import FaceDetector, FaceDetectorOptions
from .image import load_image
from .landmarker import FaceLandmarker, FaceLandmarkerOptions
from .verify import FaceVerifier, FaceVerifierOptions

__all__ = ["SCHEMA", "STAGES", "SUSTAINED_STAGE", "SAMPLE", "add_arguments", "compare",
           "cpu_model", "device_info", "frequency_mhz", "latency", "parse_cpus", "pinned",
           "plot_sustained", "run", "run_stages", "run_sustained", "temperature_c"]

SCHEMA = 1  # bumped when a field changes meaning; --compare refuses other schemas
SAMPLE = Path(__file__).parent / "data" / "sample.jpg"  # the photo `facekit demo` uses

#: Stage names (``--stages``) and what each times: one call of a public pipeline, warm.
STAGES: dict[str, str] = {
    "detector_short": "FaceDetector, short_range model (faces within ~2 m)",
    "detector_full": "FaceDetector, full_range model",
    "landmarks": "FaceLandmarker, IMAGE mode: detector + 468-point mesh",
    "landmarks_video": "FaceLandmarker, VIDEO mode: 468 points, face tracked between frames",
    "landmarks_iris": "FaceLandmarker, IMAGE mode, iris=True: 478 points",
    "beauty": "Beautifier, natural preset, IMAGE mode (landmarks included)",
    "beauty_video": "Beautifier, natural preset, VIDEO mode (tracked landmarks included)",
    "verify": "FaceVerifier.verify on two photos (landmarks, alignment, descriptors)",
    "anonymize": "Anonymizer, pixelate (both detectors, cover, re-detection check)",
}
SUSTAINED_STAGE = "beauty_video"  # what a camera app runs per frame
FRAME_MS = 33  # timestamp step of the VIDEO-mode stages (30 fps)
EXTRA_HINT = "pip install 'facekit[bench]'"


def latency(times_ms: list[float]) -> dict[str, float]:
    """Summary of one stage's timed runs (ms): mean, min, p50, p95, p99 and max."""
    times = np.asarray(times_ms, dtype=np.float64)
    p50, p95, p99 = np.percentile(times, [50, 95, 99])
    return {"mean_ms": float(times.mean()), "min_ms": float(times.min()),
            "p50_ms": float(p50), "p95_ms": float(p95), "p99_ms": float(p99),
            "max_ms": float(times.max())}


@contextmanager
def _stage(name: str, image: np.ndarray, threads: int) -> Iterator[Callable[[], object]]:
    """Build stage `name`'s pipeline and yield one call of it; results are closed unread."""
    clock = itertools.count(0, FRAME_MS)  # increasing timestamps for the VIDEO-mode stages
    video = RunningMode.VIDEO
    if name in ("detector_short", "detector_full"):
        with FaceDetector(FaceDetectorOptions(
                model="short_range" if name == "detector_short" else "full_range",
                intra_op_threads=threads)) as d:
            yield lambda: d.detect(image).close()
    elif name in ("landmarks", "landmarks_iris"):
        options = FaceLandmarkerOptions(iris=name == "landmarks_iris", intra_op_threads=threads)
        with FaceLandmarker(options) as landmarker:
            yield lambda: landmarker.detect(image).close()
    elif name == "landmarks_video":
        options = FaceLandmarkerOptions(running_mode=video, intra_op_threads=threads)
        with FaceLandmarker(options) as tracker:
            yield lambda: tracker.detect_for_video(image, next(clock)).close()
    elif name in ("beauty", "beauty_video"):
        mode = video if name == "beauty_video" else RunningMode.IMAGE
        with Beautifier(BeautifierOptions(PRESETS["natural"], running_mode=mode,
                                          intra_op_threads=threads)) as beautifier:
            if mode is video:
                yield lambda: beautifier.apply(image, next(clock))
            else:
                yield lambda: beautifier.apply(image)
    elif name == "verify":  # facekit ships one photo: it is compared with itself
        with FaceVerifier(FaceVerifierOptions(intra_op_threads=threads)) as verifier:
            yield lambda: verifier.verify(image, image)
    elif name == "anonymize":
        with Anonymizer(AnonymizerOptions(intra_op_threads=threads)) as anonymizer:
            yield lambda: anonymizer.apply(image)
    else:
        raise ValueError(f"unknown stage {name!r}; stages: {', '.join(STAGES)}")


def _check_stages(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in STAGES]
    if unknown or not names:
        raise ValueError(f"unknown stage {', '.join(map(repr, unknown)) or '(none given)'}; "
                         f"stages: {', '.join(STAGES)}")
    return names


def _require_face(image: np.ndarray) -> None:
    """A photo without a face would time empty frames: refuse it (only the count is read)."""
    with FaceLandmarker() as landmarker, landmarker.detect(image) as result:
        if not result.faces:
            raise ValueError("no face found in the image: every stage would time an empty "
                             "frame; give --image a photo with a face")


def run_stages(image: np.ndarray, stages: list[str], *, runs: int = 50, warmup: int = 5,
               threads: int = 1) -> dict[str, dict[str, Any]]:
    """Time each stage: build its pipeline, call it `warmup` times, then time `runs` calls.

    Returns, per stage, its description, ``setup_ms`` (building the pipeline: loading its
    networks), ``runs`` and the :func:`latency` summary.
    """
    _check_stages(stages)
    if runs < 1 or warmup < 0:
        raise ValueError(f"--runs must be at least 1 and --warmup at least 0, got {runs} and "
                         f"{warmup}")
    report: dict[str, dict[str, Any]] = {}
    for name in stages:
        start = time.perf_counter()
        with _stage(name, image, threads) as step:
            setup_ms = (time.perf_counter() - start) * 1e3
            for _ in range(warmup):
                step()
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                step()
                times.append((time.perf_counter() - start) * 1e3)
        report[name] = {"description": STAGES[name], "setup_ms": setup_ms, "runs": runs,
                        **latency(times)}
    return report


def run_sustained(image: np.ndarray, stage: str = SUSTAINED_STAGE, *, minutes: float,
                  window_s: float = 10.0, warmup: int = 5, threads: int = 1,
                  root: Path = Path("/")) -> dict[str, Any]:
    """Run one stage back to back for `minutes`; report frames per second per window.

    Each window also samples the hottest thermal zone (°C, :func:`temperature_c`) and the mean
    current frequency of the CPUs this process may run on (MHz, :func:`frequency_mhz`), or
    ``None`` where /sys does not expose them: a falling fps with a rising temperature or a
    falling frequency is throttling.
    """
    _check_stages([stage])
    if minutes <= 0 or window_s <= 0:
        raise ValueError(f"--sustained and --window must be positive, got {minutes:g} and "
                         f"{window_s:g}")
    cpus = _affinity()
    windows: list[dict[str, Any]] = []
    with _stage(stage, image, threads) as step:
        for _ in range(warmup):
            step()
        begin = time.perf_counter()
        end = begin + minutes * 60
        window_start, frames, now = begin, 0, begin
        while now < end:
            step()
            frames += 1
            now = time.perf_counter()
            if now - window_start >= window_s or now >= end:
                seconds = now - window_start
                windows.append({"start_s": window_start - begin, "seconds": seconds,
                                "frames": frames, "fps": frames / seconds,
                                "temp_c": temperature_c(root),
                                "freq_mhz": frequency_mhz(cpus, root)})
                window_start, frames = now, 0
    total = sum(w["frames"] for w in windows)
    return {"stage": stage, "description": STAGES[stage], "minutes": minutes,
            "window_s": window_s, "frames": total, "fps": total / (now - begin),
            "windows": windows}


# --- the device ---------------------------------------------------------------------------

# ARM's "CPU part" numbers (implementer 0x41) of the cores found in phones and boards.
_ARM_PARTS = {
    "0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55", "0xd07": "Cortex-A57",
    "0xd08": "Cortex-A72", "0xd09": "Cortex-A73", "0xd0a": "Cortex-A75", "0xd0b": "Cortex-A76",
    "0xd0d": "Cortex-A77", "0xd41": "Cortex-A78", "0xd44": "Cortex-X1", "0xd46": "Cortex-A510",
    "0xd47": "Cortex-A710", "0xd48": "Cortex-X2", "0xd4d": "Cortex-A715", "0xd4e": "Cortex-X3",
    "0xd80": "Cortex-A520", "0xd81": "Cortex-A720", "0xd82": "Cortex-X4",
}


def cpu_model(cpuinfo: str) -> str | None:
    """The CPU model named by a /proc/cpuinfo text.

    x86: its ``model name``. ARM: the ``Hardware`` line where the kernel gives one, and the
    cores by ``CPU part`` (``"4x Cortex-A55 + 4x Cortex-A76"``: big and little cores).
    ``None`` when the text names neither.
    """
    blocks = [dict((k.strip(), v.strip()) for k, _, v in (line.partition(":")
                                                         for line in block.splitlines()))
              for block in cpuinfo.split("\n\n") if block.strip()]
    for block in blocks:
        if block.get("model name"):
            return block["model name"]
    parts: dict[str, int] = {}
    for block in blocks:
        if "CPU part" in block:
            part = block["CPU part"].lower()
            name = _ARM_PARTS.get(part, f"part {part}")
            parts[name] = parts.get(name, 0) + 1
    cores = " + ".join(f"{count}x {name}" for name, count in parts.items())
    hardware = next((b["Hardware"] for b in blocks if b.get("Hardware")), "")
    return ", ".join(filter(None, (hardware, cores))) or None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):  # absent, unreadable or a zone that errors on read
        return None


def temperature_c(root: Path = Path("/")) -> float | None:
    """The hottest of /sys/class/thermal/thermal_zone*/temp (°C), or None where none reads."""
    found = []
    for zone in sorted((root / "sys/class/thermal").glob("thermal_zone*")):
        text = _read(zone / "temp")
        if text and text.lstrip("-").isdigit() and 0 < int(text) < 150_000:  # millidegrees
            found.append(int(text) / 1000)
    return max(found) if found else None


def frequency_mhz(cpus: list[int], root: Path = Path("/")) -> float | None:
    """Mean current frequency (MHz) of `cpus` from cpufreq's scaling_cur_freq, or None."""
    found = []
    for cpu in cpus:
        text = _read(root / f"sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_cur_freq")
        if text and text.isdigit():
            found.append(int(text) / 1000)  # kHz
    return sum(found) / len(found) if found else None


def _governor(cpus: list[int], root: Path) -> str | None:
    """cpufreq's scaling governor of `cpus` (several joined by commas), or None."""
    found = {_read(root / f"sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_governor")
             for cpu in cpus}
    return ",".join(sorted(g for g in found if g)) or None


def _affinity() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def device_info(root: Path = Path("/")) -> dict[str, Any]:
    """What the numbers depend on: CPU model, cores, features and SIMD path, governor, versions.

    ``affinity`` is the set of CPUs this thread may run on now (after ``--cpus``); ``governor``
    and ``freq_mhz`` cover those CPUs; fields /proc or /sys do not expose are ``None``.
    """
    import onnxruntime

    cpus = _affinity()
    features = cpu_features()
    return {
        "cpu_model": cpu_model(_read(root / "proc/cpuinfo") or ""),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "affinity": cpus,
        "features": features["features"],
        "simd_available": features["available"],
        "simd_active": features["active"],
        "governor": _governor(cpus, root),
        "freq_mhz": frequency_mhz(cpus, root),
        "temp_c": temperature_c(root),
        "facekit": __version__,
        "onnxruntime": onnxruntime.__version__,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def parse_cpus(text: str) -> set[int]:
    """CPU numbers from ``"0,1"`` or ``"4-7"`` (or a mix: ``"0,4-7"``)."""
    cpus: set[int] = set()
    for item in text.split(","):
        first, dash, last = item.strip().partition("-")
        try:
            low, high = int(first), int(last if dash else first)
        except ValueError:
            raise ValueError(f"--cpus takes CPU numbers and ranges such as 0,1 or 4-7, got "
                             f"{text!r}") from None
        if low < 0 or high < low:
            raise ValueError(f"--cpus: bad range {item.strip()!r} in {text!r}")
        cpus.update(range(low, high + 1))
    return cpus


@contextmanager
def pinned(cpus: set[int] | None) -> Iterator[None]:
    """Run the block on `cpus` only (os.sched_setaffinity), then restore the previous set.

    The pin holds for this thread and the threads it starts meanwhile (ONNX Runtime's pools
    are created with the pipelines, inside the block). ``None``: no pin.
    """
    if cpus is None:
        yield
        return
    if not hasattr(os, "sched_setaffinity"):
        raise ValueError(f"--cpus is not supported on this platform ({platform.system()} has "
                         f"no os.sched_setaffinity)")
    previous = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, cpus)
    except OSError as exc:
        online = ",".join(map(str, sorted(previous)))
        raise ValueError(f"--cpus {','.join(map(str, sorted(cpus)))}: the system refused "
                         f"({exc.strerror}); this process may use CPUs {online}") from None
    try:
        yield
    finally:
        os.sched_setaffinity(0, previous)


# --- reports ------------------------------------------------------------------------------

def _load_report(path: str) -> dict[str, Any]:
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a facekit bench report ({exc})") from None
    schema = report.get("schema") if isinstance(report, dict) else None
    if schema != SCHEMA:
        raise ValueError(f"{path}: a report of schema {schema!r}; this facekit reads schema "
                         f"{SCHEMA} (rerun facekit bench to make one)")
    return report


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Table lines: per stage A's and B's p50 and p95 (ms) and B's speedup (A's time / B's).

    Stages found in one report only are listed as such; with two sustained runs, their fps
    ratio (B / A) follows.
    """
    lines = [f"{'stage':<16} {'A p50':>8} {'B p50':>8} {'speedup':>8} "
             f"{'A p95':>8} {'B p95':>8} {'speedup':>8}"]
    a_stages, b_stages = a.get("stages", {}), b.get("stages", {})
    for name in list(a_stages) + [n for n in b_stages if n not in a_stages]:
        if name not in a_stages or name not in b_stages:
            lines.append(f"{name:<16} only in {'A' if name in a_stages else 'B'}")
            continue
        row = f"{name:<16}"
        for key in ("p50_ms", "p95_ms"):
            old, new = a_stages[name][key], b_stages[name][key]
            ratio = f"{old / new:7.2f}x" if new > 0 else "     n/a"
            row += f" {old:8.2f} {new:8.2f} {ratio}"
        lines.append(row)
    if a.get("sustained") and b.get("sustained"):
        old, new = a["sustained"]["fps"], b["sustained"]["fps"]
        lines.append(f"sustained fps: A {old:.1f} ({a['sustained']['stage']}), B {new:.1f} "
                     f"({b['sustained']['stage']}), B/A {new / old:.2f}x")
    return lines


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ValueError(f"--plot needs matplotlib: {EXTRA_HINT}") from None


def plot_sustained(sustained: dict[str, Any], out: Path) -> None:
    """Draw fps per window, and the temperature on a second axis where it was read, to PNG."""
    _require_matplotlib()
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

    windows = sustained["windows"]
    middle = [w["start_s"] + w["seconds"] / 2 for w in windows]
    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.add_subplot()
    axes.plot(middle, [w["fps"] for w in windows], "o-", color="tab:blue")
    axes.set_xlabel("seconds")
    axes.set_ylabel("frames per second", color="tab:blue")
    axes.set_ylim(bottom=0)
    axes.set_title(f"facekit bench --sustained: {sustained['stage']}, "
                   f"{sustained['window_s']:g} s windows")
    temps = [(t, w["temp_c"]) for t, w in zip(middle, windows) if w["temp_c"] is not None]
    if temps:
        heat = axes.twinx()
        heat.plot(*zip(*temps), "s--", color="tab:red")
        heat.set_ylabel("CPU temperature (°C)", color="tab:red")
    figure.tight_layout()
    figure.savefig(out, format="png")


# --- the command --------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``facekit bench``."""
    parser.add_argument("--image", help="a photo with a face instead of the bundled sample")
    parser.add_argument("--stages", help=f"comma-separated, of: {', '.join(STAGES)} (default: "
                        f"all; with --sustained one, default {SUSTAINED_STAGE})")
    parser.add_argument("--runs", type=int, default=50, help="timed calls per stage (50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls first (5)")
    parser.add_argument("--threads", type=int, default=1,
                        help="ONNX Runtime intra-op threads per network (1; more also changes "
                             "how its buffers are scrubbed, see FaceLandmarkerOptions)")
    parser.add_argument("--cpus", metavar="LIST",
                        help="run on these CPUs only, e.g. 0,1 or 4-7 (big or little cores)")
    parser.add_argument("--sustained", type=float, metavar="MINUTES",
                        help="run one stage back to back this long; fps per window")
    parser.add_argument("--window", type=float, default=10.0, metavar="SECONDS",
                        help="window of --sustained (10)")
    parser.add_argument("--json", metavar="OUT", help="write the whole report as JSON")
    parser.add_argument("--plot", metavar="OUT.png",
                        help=f"draw the --sustained run (needs matplotlib: {EXTRA_HINT})")
    parser.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"),
                        help="print B's speedup over A per stage (p50, p95), run nothing")


def run(args: argparse.Namespace) -> int:
    """Run ``facekit bench`` with parsed :func:`add_arguments` options; print the table."""
    if args.compare:
        a, b = map(_load_report, args.compare)
        print("\n".join(compare(a, b)))
        return 0
    # Every option is checked before anything runs: a mistake fails in a second, not minutes.
    names = args.stages.split(",") if args.stages else None
    if args.sustained is None:
        if args.plot:
            raise ValueError("--plot draws a sustained run: add --sustained MINUTES")
        _check_stages(names or list(STAGES))
    else:
        if names is not None and len(names) != 1:
            raise ValueError(f"--sustained runs one stage; --stages gave {len(names)}")
        _check_stages(names or [SUSTAINED_STAGE])
        if args.sustained <= 0 or args.window <= 0:
            raise ValueError("--sustained and --window must be positive")
        if args.plot:
            _require_matplotlib()
    if args.threads < 1 or args.runs < 1 or args.warmup < 0:
        raise ValueError("--threads and --runs must be at least 1, --warmup at least 0")
    cpus = parse_cpus(args.cpus) if args.cpus else None
    source = Path(args.image) if args.image else SAMPLE
    image = load_image(source)
    with pinned(cpus):
        _require_face(image)
        report: dict[str, Any] = {
            "schema": SCHEMA,
            "settings": {"image": source.name, "width": image.shape[1],
                         "height": image.shape[0], "threads": args.threads,
                         "cpus": sorted(cpus) if cpus else None, "warmup": args.warmup,
                         "runs": args.runs,
                         "verify": "the photo compared with itself"},
            "device": device_info(),
            "stages": {},
            "sustained": None,
        }
        if args.sustained is None:
            report["stages"] = run_stages(image, names or list(STAGES), runs=args.runs,
                                          warmup=args.warmup, threads=args.threads)
        else:
            report["sustained"] = run_sustained(
                image, (names or [SUSTAINED_STAGE])[0], minutes=args.sustained,
                window_s=args.window, warmup=args.warmup, threads=args.threads)
    print("\n".join(_table(report)))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    if args.plot:
        plot_sustained(report["sustained"], Path(args.plot))
        print(f"wrote {args.plot}")
    return 0


def _table(report: dict[str, Any]) -> list[str]:
    """The human summary: device, settings, then the stages or the sustained windows."""
    device, settings = report["device"], report["settings"]
    cpus = ",".join(map(str, device["affinity"]))
    lines = [
        f"facekit bench {device['facekit']} (onnxruntime {device['onnxruntime']}, Python "
        f"{device['python']}, {device['machine']})",
        f"CPU: {device['cpu_model'] or 'unknown'}; {device['cores']} cores, running on {cpus}; "
        f"SIMD {device['simd_active']}; governor {device['governor'] or 'n/a'}",
        f"image: {settings['image']} ({settings['width']}x{settings['height']}); "
        f"{settings['threads']} ONNX Runtime thread(s) per network",
    ]
    if report["stages"]:
        lines.append(f"{'stage':<16} {'runs':>5} {'mean':>8} {'min':>8} {'p50':>8} "
                     f"{'p95':>8} {'p99':>8}  (ms, after {settings['warmup']} warm-up calls)")
        for name, s in report["stages"].items():
            lines.append(f"{name:<16} {s['runs']:>5} {s['mean_ms']:8.2f} {s['min_ms']:8.2f} "
                         f"{s['p50_ms']:8.2f} {s['p95_ms']:8.2f} {s['p99_ms']:8.2f}")
        if "verify" in report["stages"]:
            lines.append(f"verify: {settings['verify']} (facekit ships one sample photo)")
    sustained = report["sustained"]
    if sustained:
        lines.append(f"sustained {sustained['stage']}: {sustained['minutes']:g} min, "
                     f"{sustained['frames']} frames, {sustained['fps']:.1f} fps overall")
        lines.append(f"{'window':>8} {'frames':>7} {'fps':>8} {'temp C':>7} {'MHz':>7}")
        for w in sustained["windows"]:
            temp = "n/a" if w["temp_c"] is None else f"{w['temp_c']:.1f}"
            mhz = "n/a" if w["freq_mhz"] is None else f"{w['freq_mhz']:.0f}"
            lines.append(f"{w['start_s']:7.0f}s {w['frames']:7d} {w['fps']:8.1f} {temp:>7} "
                         f"{mhz:>7}")
    return lines
