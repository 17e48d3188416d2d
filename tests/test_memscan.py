"""Whole-process memory scan: a child processes the sample photo (or 100 video frames made from
it); the parent, which computed the same values itself, reads the child's whole address space
and counts copies of them per kind of memory region.

Needles: every run of 4 consecutive landmark values (float32 and float64), the keypoints
(float32), 16 inner 192-float rows of the face crop, the landmark network's raw 1404 outputs, the
attention mesh's feature map and region crops, and (strictest) windows of each network's last
hidden activation in both memory orders. The default 478-point path (the attention mesh) is
scanned everywhere; the older one (mesh + iris networks) once more in image mode.
"""

from __future__ import annotations

import os
import sys

import pytest

from facekit import _inference
from facekit.audit import memscan, memscan_child

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.path.exists("/proc/self/mem"),
    reason="needs Linux /proc/PID/mem")

HIDDEN = [f"hidden {n}" for n in ("face_detection_short_range", "attention_mesh_trunk",
                                   "attention_mesh_regions")]
ARENA_SETS = ("landmarks f32", "keypoints f32", "crop rows", "raw landmarks f32",
              "attention features", "region crops")
IRIS_PATH_HIDDEN = [f"hidden {n}" for n in ("face_detection_short_range", "face_landmark",
                                            "iris_landmark")]


def _leftovers(report: memscan.ScanReport) -> dict:
    return {name: dict(c) for name, c in report.counts.items() if sum(c.values())}


@pytest.fixture(scope="module")
def image_needles():
    needles = memscan.needle_sets(memscan_child.reference("image")[0])
    assert set(HIDDEN) <= set(needles) and all(len(needles[h]) > 100 for h in HIDDEN)
    return needles


@pytest.fixture(scope="module", params=["auto", "rerun"])
def image_scan(request, image_needles):
    """The default mechanism ("auto": ORT arena off + glibc free() perturbation + stack wipe
    here) and the portable one (a blank rerun), each scanned at three checkpoints."""
    scrub = None if request.param == "auto" else request.param
    reports = memscan.audit_child(image_needles, mode="image", scrub=scrub)
    for name, report in reports.items():
        print(f"\n== image, scrub {request.param}, checkpoint {name}\n{report.table()}")
    return reports


def test_the_older_478_point_path_keeps_nothing_either():
    """refine="iris" (the mesh network, then the iris network on both eyes): every value in
    the arena inside the frame (positive control), nowhere after it."""
    needles = memscan.needle_sets(memscan_child.reference("image-iris")[0])
    assert set(IRIS_PATH_HIDDEN) <= set(needles)
    assert all(len(needles[h]) > 100 for h in IRIS_PATH_HIDDEN)
    reports = memscan.audit_child(needles, mode="image-iris")
    for name, report in reports.items():
        print(f"\n== image, refine iris, checkpoint {name}\n{report.table()}")
    for name in ARENA_SETS[:4]:
        assert reports["inside"].counts[name][memscan.KIND_ARENA] >= len(needles[name]), name
    for checkpoint in ("after-scope", "after-close"):
        assert _leftovers(reports[checkpoint]) == {}, checkpoint


def test_the_default_on_this_machine_is_the_cheap_mechanism():
    assert _inference.choose_scrub(_inference.DEFAULT_SCRUB, 1) == "perturb"
    assert _inference.choose_scrub(_inference.DEFAULT_SCRUB, 2) == "rerun"


def test_inside_scope_values_are_found(image_scan, image_needles):
    """Positive control: inside the frame the arena holds every value, so the scan finds them."""
    inside = image_scan["inside"]
    for name in ARENA_SETS:
        assert len(inside.distinct[name]) == len(image_needles[name]), name
        assert inside.counts[name][memscan.KIND_ARENA] >= len(image_needles[name]), name


@pytest.mark.parametrize("checkpoint", ["after-scope", "after-close"])
def test_nothing_left_after_the_frame(image_scan, checkpoint):
    report = image_scan[checkpoint]
    assert _leftovers(report) == {}, f"{checkpoint}:\n{report.table()}"


def test_without_the_scrub_onnx_runtime_keeps_copies(image_needles):
    """Negative control, and the positive control of the hidden-activation needles: with the
    ONNX Runtime scrub off, its heap still holds the mesh network's raw output and every
    network's last hidden activations after the frame is wiped (the arena holds nothing)."""
    reports = memscan.audit_child(image_needles, mode="image", scrub="none")
    after = reports["after-scope"]
    print(f"\n== image, scrub off, after-scope\n{after.table()}")
    assert after.total("raw landmarks f32") >= len(image_needles["raw landmarks f32"])
    for name in HIDDEN:
        assert after.counts[name]["heap"] > 0, name
    for name in image_needles:
        assert after.counts[name][memscan.KIND_ARENA] == 0, name
    for name in ("landmarks f32", "landmarks f64", "keypoints f32", "crop rows"):
        assert after.total(name) == 0, name


def test_skip_wipe_debug_switch_leaves_the_frame_in_the_arena(image_needles):
    """The audit's self-test switch really disables the wipe, and the scan sees it."""
    reports = memscan.audit_child(image_needles, mode="image",
                                  env={"FACEKIT_DEBUG_SKIP_WIPE": "1"})
    after = reports["after-scope"]
    for name in ARENA_SETS:
        assert after.counts[name][memscan.KIND_ARENA] >= len(image_needles[name]), name


def test_a_dropped_result_keeps_nothing_once_collected(image_needles):
    """A result taken without `with` and dropped without close(): its values are in the arena
    while it is held (positive control) and nowhere once it is collected."""
    reports = memscan.audit_child(image_needles, mode="dropped")
    for name, report in reports.items():
        print(f"\n== dropped result, checkpoint {name}\n{report.table()}")
    held = reports["held"]
    for name in ARENA_SETS:
        assert held.counts[name][memscan.KIND_ARENA] >= len(image_needles[name]), name
    for checkpoint in ("after-drop", "after-close"):
        assert _leftovers(reports[checkpoint]) == {}, checkpoint


def test_a_call_that_raises_keeps_nothing(image_needles):
    """detect() fails after its last network ran (the attention mesh's regions): the
    keypoints, the face crop, the mesh output, the feature map and the region crops are in the
    arena just before the failure (positive control), and nowhere once the
    exception has left detect(), though the application keeps the exception and its frames."""
    reports = memscan.audit_child(image_needles, mode="exception")
    for name, report in reports.items():
        print(f"\n== failing call, checkpoint {name}\n{report.table()}")
    inside = reports["inside"]
    for name in ("keypoints f32", "crop rows", "raw landmarks f32", "attention features",
                 "region crops"):
        assert inside.counts[name][memscan.KIND_ARENA] >= len(image_needles[name]), name
    for checkpoint in ("after-exception", "after-close"):
        assert _leftovers(reports[checkpoint]) == {}, checkpoint


@pytest.fixture(scope="module")
def video_scan():
    records = memscan_child.reference("video")
    assert len(records) == memscan_child.VIDEO_FRAMES
    earlier = memscan.earlier_frame_sets(records)
    current = {f"current {k}": v for k, v in memscan.needle_sets(records[-1]).items()
               if k in ("landmarks f32", "raw landmarks f32", "crop rows")}
    reports = memscan.audit_child({**earlier, **current}, mode="video")
    for name, report in reports.items():
        print(f"\n== video, checkpoint {name}\n{report.table()}")
    return earlier, current, reports


def test_video_keeps_no_earlier_frame(video_scan):
    """After 100 frames, no value of frames 0-98 is anywhere; the last frame's result, still
    open, is found in the arena (positive control); after close(), nothing at all."""
    earlier, current, reports = video_scan
    assert sum(len(v) for v in earlier.values()) > 100_000
    after = reports["after-video"]
    assert {k: v for k, v in _leftovers(after).items() if not k.startswith("current ")} == {}
    for name, needles in current.items():
        assert after.counts[name][memscan.KIND_ARENA] >= len(needles), name
    assert _leftovers(reports["after-close"]) == {}


def test_beauty_apply_keeps_nothing_once_it_returns():
    """The Beautifier (studio preset: skin, shape and makeup) holds the mesh, its 2D copy, the
    crop, the network values and the skin mask (rows of its soft ramps) in the arena while the
    effects run, and nothing anywhere once apply() returns or the Beautifier is closed."""
    needles = memscan.needle_sets(memscan_child.reference("beauty")[0])
    reports = memscan.audit_child(needles, mode="beauty")
    for name, report in reports.items():
        print(f"\n== beauty, checkpoint {name}\n{report.table()}")
    inside = reports["inside"]
    assert len(needles["skin mask rows"]) >= 16
    for name in ("landmarks f32", "landmarks xy f32", "crop rows", "raw landmarks f32",
                 "skin mask rows"):
        assert inside.counts[name][memscan.KIND_ARENA] >= len(needles[name]), name
    for checkpoint in ("after-apply", "after-close"):
        assert _leftovers(reports[checkpoint]) == {}, checkpoint


def test_verification_keeps_no_descriptor_chip_or_points():
    """Both photos' descriptors, aligned chips (normalized and 8-bit) and five alignment points
    are found in the arena
    right after each embedding run (positive control) and nowhere after verify() returns, after
    a reference scope ends, or after close()."""
    needles = memscan.verify_sets(memscan_child.verify_reference())
    reports = memscan.audit_child(needles, mode="verify")
    for name, report in reports.items():
        print(f"\n== verify, checkpoint {name}\n{report.table()}")
    for checkpoint, label in (("inside-1", "A"), ("inside-2", "B"), ("inside-3", "A"),
                              ("inside-4", "B")):
        found = reports[checkpoint]
        for kind in (f"descriptor {label} f32", f"chip {label} rows", f"chip {label} u8 rows",
                     f"points {label} f32"):
            assert found.counts[kind][memscan.KIND_ARENA] >= len(needles[kind]), (checkpoint, kind)
    assert reports["inside-2"].counts["descriptor A f32"][memscan.KIND_ARENA] >= 125
    for checkpoint in ("after-verify", "after-reference", "after-close"):
        assert _leftovers(reports[checkpoint]) == {}, checkpoint


def test_fusion_keeps_no_texture_or_mesh_after_its_scope():
    """The user's face texture rows, the user's mesh (texture pixels) and both faces' meshes
    are found in the arena inside the user scope (positive control) and nowhere after the
    scope ends or after close()."""
    needles = memscan.fusion_sets(memscan_child.fusion_reference())
    assert all(len(v) > 10 for v in needles.values()), {k: len(v) for k, v in needles.items()}
    reports = memscan.audit_child(needles, mode="fusion")
    for name, report in reports.items():
        print(f"\n== fusion, checkpoint {name}\n{report.table()}")
    inside = reports["inside"]
    # (The user photo's landmarks are wiped once its texture and mesh are prepared, and the
    # template's (x, y) pairs once each fuse call returns.)
    for kind in ("user texture rows", "user mesh f32", "template landmarks f32"):
        assert inside.counts[kind][memscan.KIND_ARENA] >= len(needles[kind]), kind
    for checkpoint in ("after-scope", "after-close"):
        assert _leftovers(reports[checkpoint]) == {}, checkpoint


def test_portrait_keeps_no_matte_after_its_scope():
    """Rows of the sample's matte (windows across the person's edge) are found in the arena
    while the Portrait's result is open (positive control) and nowhere after its scope ends or
    after close()."""
    needles = memscan.portrait_sets(memscan_child.portrait_reference())
    assert len(needles["matte rows"]) >= 8, len(needles["matte rows"])
    reports = memscan.audit_child(needles, mode="portrait")
    for name, report in reports.items():
        print(f"\n== portrait, checkpoint {name}\n{report.table()}")
    inside = reports["inside"]
    assert inside.counts["matte rows"][memscan.KIND_ARENA] >= len(needles["matte rows"])
    for checkpoint in ("after-scope", "after-close"):
        assert _leftovers(reports[checkpoint]) == {}, checkpoint


THREAD_RUNS = 3  # before the counted switch, 9 of 10 runs left copies: 3 runs all but never pass


@pytest.fixture(scope="module")
def thread_needles():
    needles = memscan.thread_sets(memscan_child.threads_reference())
    assert all(f"{label} {name}" in needles for label in "AB" for name in ARENA_SETS + tuple(HIDDEN))
    return needles


@pytest.mark.parametrize("run", range(THREAD_RUNS))
def test_two_pipelines_in_two_threads_keep_nothing(thread_needles, run):
    """Two landmarkers (iris on) in two threads, each over many frames of its own image (the
    photo, its mirror image): both threads' values are in the arenas while both results are
    open (positive control), and nowhere once both scopes ended or after close(). Each run's
    switching of glibc's process-wide free() perturbation must not strand the other thread's
    frees."""
    reports = memscan.audit_child(thread_needles, mode="threads")
    for name, report in reports.items():
        print(f"\n== threads run {run}, checkpoint {name}\n{report.table()}")
    inside = reports["inside"]
    for label in "AB":
        for name in ARENA_SETS:
            key = f"{label} {name}"
            assert len(inside.distinct[key]) == len(thread_needles[key]), key
            assert inside.counts[key][memscan.KIND_ARENA] >= len(thread_needles[key]), key
    for checkpoint in ("after-scope", "after-close"):
        assert _leftovers(reports[checkpoint]) == {}, checkpoint


@pytest.fixture(scope="module")
def centerface_needles():
    needles = memscan.centerface_sets(memscan_child.centerface_reference())
    for name in ("keypoints f32", "centerface heatmap", "centerface scale", "centerface offset",
                 "centerface landmarks", "hidden centerface"):
        assert len(needles[name]) >= 4, name  # enough evidence in every set
    return needles


def test_centerface_keeps_no_outputs_after_its_scope(centerface_needles):
    """CenterFace's keypoints and output maps are found in the arena while the result is open
    (positive control) and nowhere, its hidden activations included, after the scope ends or
    after close()."""
    reports = memscan.audit_child(centerface_needles, mode="centerface")
    for name, report in reports.items():
        print(f"\n== centerface, checkpoint {name}\n{report.table()}")
    inside = reports["inside"]
    for name, needles in centerface_needles.items():
        if not name.startswith("hidden"):
            assert inside.counts[name][memscan.KIND_ARENA] >= len(needles), name
    for checkpoint in ("after-scope", "after-close"):
        assert _leftovers(reports[checkpoint]) == {}, checkpoint


def test_centerface_skip_wipe_leaves_its_outputs_in_the_arena(centerface_needles):
    """Negative control: with the wipe skipped, the scan finds the outputs after the scope."""
    reports = memscan.audit_child(centerface_needles, mode="centerface",
                                  env={"FACEKIT_DEBUG_SKIP_WIPE": "1"})
    after = reports["after-scope"]
    for name in ("keypoints f32", "centerface landmarks", "centerface heatmap"):
        assert after.counts[name][memscan.KIND_ARENA] >= len(centerface_needles[name]), name


def test_centerface_without_the_scrub_onnx_runtime_keeps_its_activations(centerface_needles):
    """Positive control of the hidden-activation needles: with the ONNX Runtime scrub off,
    its memory (a large malloc'd block: an anonymous mapping) still holds CenterFace's last
    hidden activations after the scope (measured: 5,633 windows; 0 with the scrub)."""
    reports = memscan.audit_child(centerface_needles, mode="centerface", scrub="none")
    after = reports["after-scope"]
    print(f"\n== centerface, scrub off, after-scope\n{after.table()}")
    assert after.total("hidden centerface") > 0
