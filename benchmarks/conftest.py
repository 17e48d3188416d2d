"""Benchmark helpers.

This VM's clock and neighbours change speed from second to second, so cases that are compared
are timed interleaved: every round runs each case once, in a fresh random order, and the
summary reports per-case p50/p95 and baseline/facekit ratios of medians from that one run.
Results land in pytest-benchmark's JSON (``--benchmark-json``) under each test's extra_info.
"""

from __future__ import annotations

import os

# Every comparison here is 1 thread a side: numpy's OpenBLAS pool would otherwise keep a thread
# spinning on the second core after any matrix product (a baseline's), slowing whichever case
# runs next. Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
# The helper modules here (opencv_effects, video_clips): importlib mode adds no folder to sys.path.
sys.path.insert(0, str(Path(__file__).parent))
BASELINE_PREFIX = "baseline"


@pytest.fixture(scope="session")
def frame_1080p() -> np.ndarray:
    """The committed portrait placed in a 1920x1080 RGB video frame."""
    cv2 = pytest.importorskip("cv2")
    bgr = cv2.imread(str(DATA / "obama.jpg"))
    canvas = np.zeros((1080, 1920, 3), np.uint8)
    canvas[:, 528:1392] = cv2.resize(bgr, (864, 1080), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(canvas[:, :, ::-1])


def interleaved(cases: dict[str, Callable[[], object]], rounds: int) -> dict[str, dict]:
    """Time every case once per round in a shuffled order; p50/p95 in microseconds, and for
    each non-baseline case its speedup (baseline p50 / case p50) over every baseline."""
    order = list(cases)
    for name in order:  # warm-up: first-call costs (page faults, lazy init) stay out
        cases[name]()
    samples: dict[str, list[float]] = {name: [] for name in order}
    rng = random.Random(0)
    for _ in range(rounds):
        rng.shuffle(order)
        for name in order:
            start = time.perf_counter()
            cases[name]()
            samples[name].append(time.perf_counter() - start)
    report = {
        name: {"p50_us": float(np.median(s)) * 1e6, "p95_us": float(np.percentile(s, 95)) * 1e6}
        for name, s in samples.items()
    }
    baselines = [n for n in report if n.startswith(BASELINE_PREFIX)]
    for name, row in report.items():
        if name not in baselines:
            row["speedup"] = {b: report[b]["p50_us"] / row["p50_us"] for b in baselines}
    return report


_RESULTS: list[tuple[str, dict]] = []


@pytest.fixture
def compare(benchmark, request):
    """Run `interleaved` under pytest-benchmark and keep its report for the JSON and summary."""

    def run(group: str, cases: dict[str, Callable[[], object]], rounds: int = 300) -> dict:
        benchmark.group = group
        disabled = request.config.getoption("benchmark_disable", False)
        report = benchmark.pedantic(interleaved, args=(cases, 1 if disabled else rounds),
                                    rounds=1, iterations=1)
        benchmark.extra_info.update(report)
        if not disabled:
            _RESULTS.append((group, report))
        return report

    return run


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _RESULTS:
        return
    terminalreporter.section("interleaved timings (p50 / p95) and speedup over each baseline")
    for group, report in _RESULTS:
        terminalreporter.write_line(group)
        for name, row in report.items():
            ratios = "  ".join(f"x{r:.2f} vs {b}" for b, r in row.get("speedup", {}).items())
            terminalreporter.write_line(
                f"  {name:<40} {row['p50_us']:9.1f} us {row['p95_us']:9.1f} us   {ratios}"
            )
