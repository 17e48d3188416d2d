"""Memory scans: a child runs a pipeline; this process reads its whole address space at
checkpoints and counts copies of values it computed itself (:mod:`facekit.audit.memscan`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import FAIL, PASS, Check


def _scan_evidence(reports) -> dict[str, Any]:
    return {checkpoint: {"found": {name: dict(c) for name, c in r.counts.items()},
                         "mb_scanned": {k: round(v / 1e6, 1) for k, v in r.bytes_scanned.items()}}
            for checkpoint, r in reports.items()}


def _leftovers(report, skip_prefix: str | None = None) -> dict[str, int]:
    return {name: sum(c.values()) for name, c in report.counts.items()
            if sum(c.values()) and not (skip_prefix and name.startswith(skip_prefix))}


def _judge(check: Check, needles: dict, reports: dict, seen: bool, seen_what: str,
           left: dict[str, dict[str, int]]) -> Check:
    """Evidence, verdict and detail of a memory scan: pass when the positive control `seen`
    holds and every checkpoint in `left` has no copy left."""
    check.evidence = {"needles": {k: len(v) for k, v in needles.items()},
                      **_scan_evidence(reports)}
    check.verdict = PASS if seen and not any(left.values()) else FAIL
    check.detail = (f"{seen_what}: " + ("found" if seen else "NOT FOUND (the scan cannot see "
                                        "them)") + "".join(
        f"; {cp}: " + (", ".join(f"{n} x{c}" for n, c in found.items()) or "0 copies")
        for cp, found in left.items()))
    return check


def _left_after(reports: dict, checkpoints: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """What each checkpoint's report still holds (an empty dict where nothing is left)."""
    return {cp: _leftovers(reports[cp]) for cp in checkpoints}


def _scan_one_scope(check: Check, needles: dict, mode: str, env: dict[str, str],
                    controls: Iterable[str], seen_what: str,
                    after: tuple[str, ...] = ("after-scope", "after-close")) -> Check:
    """A scan around one scope: runs child `mode`; passes when every needle of each control
    set is in the arena at the "inside" checkpoint and nothing is left at the `after` ones."""
    from .. import memscan

    reports = memscan.audit_child(needles, mode=mode, env=env)
    inside = reports["inside"]
    seen = all(inside.counts[n][memscan.KIND_ARENA] >= len(needles[n]) for n in controls)
    return _judge(check, needles, reports, seen, seen_what, _left_after(reports, after))


def check_memory_image(env: dict[str, str]) -> Check:
    from .. import memscan, memscan_child

    check = Check(
        "memory-scan-image", "no biometric value outlives its frame",
        "A child process runs FaceLandmarker (iris on) on the sample photo; this process "
        "computes the same values and reads the child's whole address space (/proc/PID/mem) at "
        "three checkpoints, counting every 4-value window of the landmarks (float32 and "
        "float64), the keypoints, 16 face-crop rows, the mesh network's raw output and windows "
        "of each network's last hidden activation. Pass: inside the frame the arena holds the "
        "landmarks, keypoints, crop rows and raw output (the scan can see them); after the frame "
        "and after close(), zero copies anywhere.")
    needles = memscan.needle_sets(memscan_child.reference("image")[0])
    reports = memscan.audit_child(needles, mode="image", env=env)
    inside = reports["inside"]
    seen = all(len(inside.distinct[n]) == len(needles[n])
               for n in ("landmarks f32", "keypoints f32", "crop rows", "raw landmarks f32"))
    return _judge(check, needles, reports, seen, "every arena value inside the frame",
                  _left_after(reports, ("after-scope", "after-close")))


def check_memory_video(env: dict[str, str]) -> Check:
    from .. import memscan, memscan_child

    check = Check(
        "memory-scan-video", "video keeps no earlier frame's values",
        f"A child runs FaceLandmarker in VIDEO mode (iris on) over {memscan_child.VIDEO_FRAMES} "
        "frames made from the sample photo (shifted one pixel per frame); this process computes "
        "every frame's values and scans the child after the last frame (its result still open) "
        "and after close(). Pass: zero copies of frames 0..98 anywhere, the last frame's values "
        "found in the arena (positive control), and zero copies of anything after close().")
    records = memscan_child.reference("video")
    earlier = memscan.earlier_frame_sets(records)
    current = {f"current {k}": v for k, v in memscan.needle_sets(records[-1]).items()
               if k in ("landmarks f32", "raw landmarks f32", "crop rows")}
    needles = {**earlier, **current}
    reports = memscan.audit_child(needles, mode="video", env=env)
    after = reports["after-video"]
    seen = all(after.counts[n]["facekit arena"] >= len(v) for n, v in current.items())
    return _judge(check, needles, reports, seen, "the last frame, in the arena", {
        "earlier frames after the video": _leftovers(after, skip_prefix="current "),
        "after-close": _leftovers(reports["after-close"])})


def check_memory_beauty(env: dict[str, str]) -> Check:
    from .. import memscan, memscan_child

    check = Check(
        "memory-scan-beauty", "beauty effects keep no landmark once apply() returns",
        "A child runs Beautifier (studio preset: smoothing, tone, teeth, shape warps, makeup) "
        "on the sample photo; the scan counts the landmarks (also as x, y pairs), keypoints, "
        "crop rows, raw network output and hidden activations inside the frame (after the "
        "effects ran), after apply() returned and after close(). Pass: found in the arena "
        "inside, zero copies anywhere afterwards.")
    needles = memscan.needle_sets(memscan_child.reference("beauty")[0])
    return _scan_one_scope(check, needles, "beauty", env,
                           ("landmarks f32", "landmarks xy f32", "crop rows"),
                           "the mesh and crop while the effects run",
                           after=("after-apply", "after-close"))


def check_memory_verify(env: dict[str, str]) -> Check:
    from .. import memscan, memscan_child

    check = Check(
        "memory-scan-verify", "face descriptors, aligned chips and their points outlive no call",
        "A child runs FaceVerifier.verify() on the sample and its mirror image, then a reference "
        "scope; the scan counts both descriptors (float32 and float64 windows), both aligned "
        "chips (normalized rows and 8-bit rows) and both photos' five alignment points right "
        "after each embedding run, after verify() "
        "returned, after the reference scope ended and after close(). Pass: found in the arena "
        "right after each run; zero copies anywhere afterwards.")
    needles = memscan.verify_sets(memscan_child.verify_reference())
    reports = memscan.audit_child(needles, mode="verify", env=env)
    seen = all(reports[cp].counts[f"descriptor {label} f32"]["facekit arena"] > 0
               and reports[cp].counts[f"chip {label} rows"]["facekit arena"] > 0
               and reports[cp].counts[f"points {label} f32"]["facekit arena"] > 0
               for cp, label in (("inside-1", "A"), ("inside-2", "B")))
    return _judge(check, needles, reports, seen, "descriptors, chips and points during the calls",
                  _left_after(reports, ("after-verify", "after-reference", "after-close")))


def check_memory_fusion(env: dict[str, str]) -> Check:
    from .. import memscan, memscan_child

    check = Check(
        "memory-scan-fusion", "face fusion keeps no texture or mesh after its scope",
        "A child runs FaceFuser (swap preset): it prepares the sample's mirror image as the "
        "user's face in a user scope and fuses it into the sample, the template's landmarks "
        "shared from an open result; the scan counts rows of the user's face texture, the "
        "user's mesh in texture pixels and both faces' meshes (image pixels, also as x, y "
        "pairs) inside the scope, after the user scope and the template's result ended and "
        "after close(). Pass: all found in the arena inside; zero copies anywhere afterwards.")
    needles = memscan.fusion_sets(memscan_child.fusion_reference())
    return _scan_one_scope(check, needles, "fusion", env,
                           ("user texture rows", "user mesh f32", "template landmarks f32"),
                           "the user's texture and both meshes inside")


def check_memory_portrait(env: dict[str, str]) -> Check:
    from .. import memscan, memscan_child

    check = Check(
        "memory-scan-portrait", "the portrait matte outlives no result",
        "A child runs Portrait (background blur) on the sample; the scan counts 64-byte windows "
        "of the matte's rows across the person's edge while the result is open, after its "
        "scope ended and after close(). Pass: all found in the arena inside; zero copies "
        "anywhere afterwards.")
    needles = memscan.portrait_sets(memscan_child.portrait_reference())
    return _scan_one_scope(check, needles, "portrait", env, ("matte rows",),
                           "the matte's rows inside the result")


def check_memory_centerface(env: dict[str, str]) -> Check:
    from .. import memscan, memscan_child

    check = Check(
        "memory-scan-centerface", "CenterFace's outputs and keypoints outlive no result",
        "A child runs FaceDetector(model='centerface') on the sample; the scan counts the five "
        "keypoints, windows of the four output maps (heatmap, scale, offset, landmarks; those "
        "a blank input also gives left out) and the network's last hidden activations while "
        "the result is open, after its scope ended and after close(). Pass: keypoints and "
        "output maps found in the arena inside; zero copies anywhere afterwards.")
    needles = memscan.centerface_sets(memscan_child.centerface_reference())
    return _scan_one_scope(check, needles, "centerface", env,
                           [n for n in needles if not n.startswith("hidden")],
                           "keypoints and output maps inside the result")


def check_memory_threads(env: dict[str, str]) -> Check:
    from .. import memscan, memscan_child

    check = Check(
        "memory-scan-threads", "the scrub holds with pipelines in several threads",
        f"A child runs two FaceLandmarkers (iris on) in two threads, one on the sample photo and "
        f"one on its mirror image, {memscan_child.THREAD_FRAMES} frames each; this process "
        "computes both images' values and scans the child while both threads hold a result open, "
        "after both scopes ended and after close(). Pass: both threads' landmarks, keypoints, "
        "crop rows and raw output found in the arenas inside; zero copies of either thread's "
        "values anywhere afterwards (each thread's ONNX Runtime buffers are scrubbed although "
        "the other thread's runs switch the process-wide free() perturbation).")
    needles = memscan.thread_sets(memscan_child.threads_reference())
    reports = memscan.audit_child(needles, mode="threads", env=env)
    inside = reports["inside"]
    seen = all(len(inside.distinct[f"{label} {n}"]) == len(needles[f"{label} {n}"])
               for label in "AB"
               for n in ("landmarks f32", "keypoints f32", "crop rows", "raw landmarks f32"))
    return _judge(check, needles, reports, seen, "both threads' arena values inside the frames",
                  _left_after(reports, ("after-scope", "after-close")))


def check_memory_unclosed(env: dict[str, str]) -> Check:
    from .. import memscan, memscan_child

    check = Check(
        "memory-scan-unclosed", "a result never closed keeps nothing once dropped or failed",
        "Two children run FaceLandmarker (iris on) on the sample photo without `with` or "
        "close(): one takes a result, then drops it and runs the garbage collector; in the "
        "other, detect() fails right after the iris network ran and the exception is kept. The "
        "scan counts the same values as memory-scan-image. Pass: the held result's values, and "
        "the keypoints, crop rows and raw mesh output just before the failure, are found in the "
        "arena; after the drop, after the failure and after close(), zero copies anywhere.")
    needles = memscan.needle_sets(memscan_child.reference("image")[0])
    dropped = memscan.audit_child(needles, mode="dropped", env=env)
    failed = memscan.audit_child(needles, mode="exception", env=env)
    reports = {**{f"dropped {k}": v for k, v in dropped.items()},
               **{f"exception {k}": v for k, v in failed.items()}}
    seen = (all(dropped["held"].counts[n]["facekit arena"] >= len(needles[n])
                for n in ("landmarks f32", "keypoints f32", "crop rows", "raw landmarks f32"))
            and all(failed["inside"].counts[n]["facekit arena"] >= len(needles[n])
                    for n in ("keypoints f32", "crop rows", "raw landmarks f32")))
    return _judge(check, needles, reports, seen, "the held result and the values before the "
                  "failure", _left_after(reports, (
                      "dropped after-drop", "dropped after-close", "exception after-exception",
                      "exception after-close")))
