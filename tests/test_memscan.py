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


@pytest.fixture(scope="module")
def image_needles():
    return memscan.needle_sets(memscan_child.reference("image")[0])


@pytest.fixture(scope="module")
def image_scan(image_needles):
    # The clean mechanism, chosen explicitly: it is not yet the default (it costs +78% per
    # frame; see facekit/_inference.py), so the default configuration is the negative control.
    reports = memscan.audit_child(image_needles, mode="image", scrub="rerun")
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


def test_without_the_scrub_onnx_runtime_keeps_the_raw_output(image_needles):
    """Negative control (and today's default): with the ONNX Runtime scrub off, the check
    fails: ORT's heap still holds the landmark network's raw output after the frame is wiped,
    though no projected landmark, keypoint or crop row survives anywhere."""
    reports = memscan.audit_child(image_needles, mode="image", scrub="none")
    after = reports["after-scope"]
    print(f"\n== image, scrub off, after-scope\n{after.table()}")
    assert after.total("raw landmarks f32") >= len(image_needles["raw landmarks f32"])
    assert after.counts["raw landmarks f32"][memscan.KIND_ARENA] == 0
    for name in ("landmarks f32", "landmarks f64", "keypoints f32", "crop rows"):
        assert after.total(name) == 0, name
