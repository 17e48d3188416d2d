"""Benchmark helpers: each group holds facekit's cases and the baseline a user would pick
instead, measured in the same run; the summary prints baseline/facekit median ratios."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
BASELINE_PREFIX = "baseline"


@pytest.fixture(scope="session")
def frame_1080p() -> np.ndarray:
    """The committed portrait scaled to a 1920x1080 RGB video frame."""
    cv2 = pytest.importorskip("cv2")
    bgr = cv2.imread(str(DATA / "obama.jpg"))
    canvas = np.zeros((1080, 1920, 3), np.uint8)
    face = cv2.resize(bgr, (864, 1080), interpolation=cv2.INTER_AREA)
    canvas[:, 528:1392] = face
    return np.ascontiguousarray(canvas[:, :, ::-1])


def _ratios(benchmarks) -> list[dict]:
    """baseline median / case median for every non-baseline case with a baseline in its group."""
    groups: dict[str, list] = {}
    for bench in benchmarks:
        if bench.stats is None or getattr(bench, "has_error", False):
            continue
        groups.setdefault(bench.group or "", []).append(bench)
    rows = []
    for group, members in sorted(groups.items()):
        baselines = [b for b in members if _label(b).startswith(BASELINE_PREFIX)]
        for base in baselines:
            for case in members:
                if case in baselines:
                    continue
                rows.append({
                    "group": group,
                    "case": _label(case),
                    "baseline": _label(base),
                    "case_median_us": case.stats.median * 1e6,
                    "baseline_median_us": base.stats.median * 1e6,
                    "speedup": base.stats.median / case.stats.median,
                })
    return rows


def _label(bench) -> str:
    return bench.name


def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json["speedups"] = _ratios(benchmarks)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    session = getattr(config, "_benchmarksession", None)
    if session is None or session.disabled:
        return
    rows = _ratios(session.benchmarks)
    if not rows:
        return
    terminalreporter.section("speedup over baseline (median ratio, same run)")
    for r in rows:
        terminalreporter.write_line(
            f"{r['group']:<28} {r['case']:<22} {r['case_median_us']:9.1f} us   vs "
            f"{r['baseline']:<30} {r['baseline_median_us']:9.1f} us   x{r['speedup']:.2f}"
        )
