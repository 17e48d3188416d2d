"""Whole-process memory scan: a child processes the sample photo; the parent, which computed the
same values itself, reads the child's address space and counts copies of them.

Needles: every run of 4 consecutive landmark values (float32 and float64), keypoints (float32),
16 inner 192-float rows of the face crop, and (strict) the landmark network's raw 1404 outputs.
"""

from __future__ import annotations

import os
import sys

import pytest

from facekit.audit import memscan, memscan_child

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.path.exists("/proc/self/mem"),
    reason="needs Linux /proc/PID/mem")


def _readable_child_memory() -> bool:
    try:
        with open(f"/proc/{os.getpid()}/mem", "rb") as f:
            return f is not None
    except OSError:
        return False


@pytest.fixture(scope="module")
def image_needles():
    return memscan.needle_sets(memscan_child.reference("image")[0])


@pytest.fixture(scope="module")
def image_scan(image_needles):
    reports = memscan.audit_child(image_needles, mode="image")
    for name, report in reports.items():
        print(f"\n== image, checkpoint {name}\n{report.table()}")
    return reports


def test_inside_scope_values_are_found(image_scan, image_needles):
    """Positive control: inside the frame the arena holds every value, so the scan finds them."""
    inside = image_scan["inside"]
    for name in ("landmarks f32", "keypoints f32", "crop rows", "raw landmarks f32"):
        assert len(inside.distinct[name]) == len(image_needles[name]), name
        assert inside.counts[name][memscan.KIND_ARENA] >= len(image_needles[name]), name


@pytest.mark.parametrize("checkpoint", ["after-scope", "after-close"])
def test_nothing_left_after_the_frame(image_scan, checkpoint):
    report = image_scan[checkpoint]
    leftovers = {name: dict(c) for name, c in report.counts.items() if sum(c.values())}
    assert leftovers == {}, f"{checkpoint}:\n{report.table()}"


def test_video_keeps_no_earlier_frame():
    """After 100 frames (frame i = the photo shifted i px), no copy of any earlier frame's
    landmarks (or raw outputs, crop rows, keypoints) anywhere; the last frame's may be live."""
    records = memscan_child.reference("video")
    assert len(records) == memscan_child.VIDEO_FRAMES
    sets = {}
    for i, record in enumerate(records[:-1]):
        for name, needles in memscan.needle_sets(record, f"frame {i} ").items():
            sets[name] = needles
    # Needles shared with the live last frame would be legitimate hits: leave them out.
    live = {n for needles in memscan.needle_sets(records[-1]).values() for n in needles}
    sets = {name: [n for n in needles if n not in live] for name, needles in sets.items()}
    reports = memscan.audit_child(sets, mode="video")
    for checkpoint, report in reports.items():
        found = {name: dict(c) for name, c in report.counts.items() if sum(c.values())}
        by_kind = {}
        for name, counts in report.counts.items():
            kind = name.split(" ", 2)[2]
            for region, n in counts.items():
                by_kind.setdefault(kind, {}).setdefault(region, 0)
                by_kind[kind][region] += n
        print(f"\n== video, checkpoint {checkpoint}: {len(sets)} needle sets; hits by kind "
              f"{by_kind or 'none'}; MB scanned {sum(report.bytes_scanned.values()) / 1e6:.0f}")
        assert found == {}, f"{checkpoint}: {found}"
    assert set(reports) == {"after-video", "after-close"}


def test_without_the_scrub_onnx_runtime_keeps_the_raw_output(image_needles):
    """Negative control: with the ONNX Runtime scrub off, the check fails (ORT's heap still
    holds the landmark network's raw output after the frame is wiped)."""
    reports = memscan.audit_child(image_needles, mode="image", scrub="none")
    after = reports["after-scope"]
    print(f"\n== image, scrub off, after-scope\n{after.table()}")
    assert after.total("raw landmarks f32") >= len(image_needles["raw landmarks f32"])
    assert after.counts["raw landmarks f32"][memscan.KIND_ARENA] == 0
