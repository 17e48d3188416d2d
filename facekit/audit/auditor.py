"""``facekit audit``: prove the privacy promises on this machine, with the installed package.

Each check runs the real pipelines on the bundled public-domain sample photo and records its
method, its evidence (counts, flags, events; never a biometric value) and a verdict: ``pass``,
``fail`` or ``not run`` (a tool it needs is missing, such as strace). :func:`run_audit` returns
the whole report; :func:`write_reports` writes ``audit.json`` and ``audit.md``. The command
exits 1 when any check fails.

The debug switch ``--debug-skip-wipe`` runs the audited children with
``FACEKIT_DEBUG_SKIP_WIPE=1`` (no arena wipe, no ONNX Runtime scrub): the memory scans must
then fail, which shows that they can.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Check", "CHECKS", "run_audit", "write_reports"]

PASS, FAIL, NOT_RUN = "pass", "fail", "not run"


@dataclass
class Check:
    """One check's outcome."""

    name: str
    promise: str
    method: str
    verdict: str = NOT_RUN
    evidence: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    seconds: float = 0.0


# --- memory scans -------------------------------------------------------------------------------

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


def check_memory_image(env: dict[str, str]) -> Check:
    from . import memscan, memscan_child

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
                  {cp: _leftovers(reports[cp]) for cp in ("after-scope", "after-close")})


def check_memory_video(env: dict[str, str]) -> Check:
    from . import memscan, memscan_child

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
    from . import memscan, memscan_child

    check = Check(
        "memory-scan-beauty", "beauty effects keep no landmark once apply() returns",
        "A child runs Beautifier (studio preset: smoothing, tone, teeth, shape warps, makeup) "
        "on the sample photo; the scan counts the landmarks (also as x, y pairs), keypoints, "
        "crop rows, raw network output and hidden activations inside the frame (after the "
        "effects ran), after apply() returned and after close(). Pass: found in the arena "
        "inside, zero copies anywhere afterwards.")
    needles = memscan.needle_sets(memscan_child.reference("beauty")[0])
    reports = memscan.audit_child(needles, mode="beauty", env=env)
    inside = reports["inside"]
    seen = all(inside.counts[n]["facekit arena"] >= len(needles[n])
               for n in ("landmarks f32", "landmarks xy f32", "crop rows"))
    return _judge(check, needles, reports, seen, "the mesh and crop while the effects run",
                  {cp: _leftovers(reports[cp]) for cp in ("after-apply", "after-close")})


def check_memory_verify(env: dict[str, str]) -> Check:
    from . import memscan, memscan_child

    check = Check(
        "memory-scan-verify", "face descriptors, aligned chips and their points outlive no call",
        "A child runs FaceVerifier.verify() on the sample and its mirror image, then a reference "
        "scope; the scan counts both descriptors (float32 and float64 windows), both aligned "
        "chips (normalized rows and 8-bit rows) and both photos' five alignment points right after each embedding run, after verify() "
        "returned, after the reference scope ended and after close(). Pass: found in the arena "
        "right after each run; zero copies anywhere afterwards.")
    needles = memscan.verify_sets(memscan_child.verify_reference())
    reports = memscan.audit_child(needles, mode="verify", env=env)
    seen = all(reports[cp].counts[f"descriptor {label} f32"]["facekit arena"] > 0
               and reports[cp].counts[f"chip {label} rows"]["facekit arena"] > 0
               and reports[cp].counts[f"points {label} f32"]["facekit arena"] > 0
               for cp, label in (("inside-1", "A"), ("inside-2", "B")))
    return _judge(check, needles, reports, seen, "descriptors, chips and points during the calls",
                  {cp: _leftovers(reports[cp])
                   for cp in ("after-verify", "after-reference", "after-close")})


def check_memory_threads(env: dict[str, str]) -> Check:
    from . import memscan, memscan_child

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
                  {cp: _leftovers(reports[cp]) for cp in ("after-scope", "after-close")})


def check_memory_unclosed(env: dict[str, str]) -> Check:
    from . import memscan, memscan_child

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
                  "failure", {cp: _leftovers(reports[cp]) for cp in (
                      "dropped after-drop", "dropped after-close", "exception after-exception",
                      "exception after-close")})


# --- I/O ----------------------------------------------------------------------------------------

def check_python_io(env: dict[str, str]) -> Check:
    import facekit

    from .io_guard import record_io
    from .memscan_child import SAMPLE, video_frame

    check = Check(
        "io-python", "processing writes no file, opens no socket, starts no process",
        "A process-wide sys.addaudithook recorder (facekit.audit.io_guard) runs while "
        "FaceDetector and FaceLandmarker process the sample photo and 30 video frames. Pass: it "
        "records no write-open, rename, removal, socket, subprocess or ctypes load.")
    image = facekit.load_image(SAMPLE)
    frames = [video_frame(image, i) for i in range(30)]
    with facekit.FaceDetector() as detector, \
            facekit.FaceLandmarker(facekit.FaceLandmarkerOptions(iris=True)) as image_marker, \
            facekit.FaceLandmarker(facekit.FaceLandmarkerOptions(
                iris=True, running_mode=facekit.RunningMode.VIDEO)) as video_marker:
        with record_io() as events:
            with detector.detect(image) as found:
                faces = len(found.faces)
            with image_marker.detect(image) as marked:
                faces += len(marked.faces)
            for i, frame in enumerate(frames):
                with video_marker.detect_for_video(frame, 33 * i) as tracked:
                    faces += len(tracked.faces)
    check.evidence = {"calls": 2 + len(frames), "faces": faces,
                      "events": [f"{e.event} {e.args}" for e in events]}
    check.verdict = PASS if not events and faces >= 32 else FAIL
    check.detail = f"{len(events)} forbidden events over {2 + len(frames)} calls"
    return check


def check_syscalls(env: dict[str, str]) -> Check:
    from . import syscalls

    check = Check(
        "io-syscalls", "native code writes no file, opens no socket, starts no process",
        "strace -f follows a child (and all its threads) processing 100 video frames; between "
        "two marker writes it may not open a file for writing, write anywhere but stderr, make "
        "a network call, change the file system or start a process.")
    try:
        report = syscalls.trace_video()
    except FileNotFoundError as exc:
        check.detail = str(exc)
        return check
    check.evidence = {"calls": report.calls, "tasks": report.tasks,
                      "calls_in_whole_log": report.log_calls,
                      "threads_created": report.threads_created,
                      "by_name": dict(report.counts),
                      "offenders": [f"{c.name}({c.text[:120]} -- {why}"
                                    for c, why in report.offenders]}
    check.verdict = PASS if report.ok else FAIL
    check.detail = (f"{report.calls} traced calls while processing ({report.log_calls} in the "
                    f"whole log), {len(report.offenders)} forbidden")
    return check


def check_whole_process(env: dict[str, str], seconds: float | None = None) -> Check:
    import facekit

    from . import syscalls

    seconds = syscalls.AUDIT_SECONDS if seconds is None else seconds
    check = Check(
        "io-whole-process", "no file written, no socket, no process from import to exit, "
        "ONNX Runtime's telemetry included",
        "strace -f follows a child from its start to its exit while it runs FaceDetector, "
        "FaceLandmarker (image and video), Beautifier and Anonymizer on the sample photo and "
        f"100 video frames made from it, over and over for {seconds:g} s; it runs with a fresh "
        "empty HOME and working folder, python -B (no .pyc) and without ORT_DISABLE_TELEMETRY "
        "in its environment, so only facekit can switch ONNX Runtime's telemetry off. Pass: no "
        "file opened for writing, no write but to stdout and stderr, no network call (no DNS "
        "packet), no file system change, no process started, and HOME and the working folder "
        "still empty at the end.")
    status = facekit.telemetry_status()
    telemetry = ("ONNX Runtime telemetry off (ORT_DISABLE_TELEMETRY=1 set by facekit before "
                 "onnxruntime loaded)" if status["telemetry_disabled"] else "ONNX Runtime "
                 "telemetry POSSIBLY ON in this process: onnxruntime was imported before facekit "
                 "without ORT_DISABLE_TELEMETRY=1")
    check.evidence = {"telemetry_in_this_process": status}
    try:
        report = syscalls.trace_whole_process(seconds)
    except FileNotFoundError as exc:
        check.detail = f"{exc}; {telemetry}"
        return check
    check.evidence.update({
        "seconds": report.child.get("seconds"), "passes": report.child.get("passes"),
        "frames": report.child.get("frames"), "telemetry_in_the_child": report.child.get(
            "telemetry"), "calls": report.calls, "threads_created": report.threads_created,
        "by_name": dict(report.counts), "dns_packets": report.dns,
        "files_written": report.files_written, "left_behind": report.left_behind,
        "offenders": [f"{c.name}({c.text[:120]} -- {why}" for c, why in report.offenders[:50]]})
    check.verdict = PASS if report.ok else FAIL
    check.detail = (f"{report.calls} traced calls in {report.child.get('seconds')} s, "
                    f"{len(report.offenders)} forbidden, {len(report.dns)} DNS packets, "
                    f"{len(report.left_behind)} files left behind; {telemetry}")
    if seconds < syscalls.AUDIT_SECONDS:
        check.detail += f"; shortened run ({seconds:g} s < {syscalls.AUDIT_SECONDS:g} s)"
    if not status["telemetry_disabled"]:
        check.verdict = FAIL
    return check


# --- memory protections, hardening, refusals, models ---------------------------------------------

def vm_flags(address: int) -> list[str]:
    """The ``VmFlags`` of this process's mapping that holds `address` (``/proc/self/smaps``)."""
    with open("/proc/self/smaps") as smaps:
        inside = False
        for line in smaps:
            head = line.split()[0] if line.strip() else ""
            if "-" in head and not line.startswith("VmFlags"):
                try:
                    low, high = (int(part, 16) for part in head.split("-"))
                    inside = low <= address < high
                    continue
                except ValueError:
                    pass
            if inside and line.startswith("VmFlags:"):
                return line.split()[1:]
    return []


def check_arena_protections(env: dict[str, str]) -> Check:
    import numpy as np

    import facekit
    from facekit.geometry import RotatedRect

    from .memscan_child import SAMPLE

    check = Check(
        "arena-protections", "the arena stays out of swap, core dumps and forked children",
        "Open an arena frame holding a face crop of the sample photo; read the region's "
        "/proc/self/smaps VmFlags (lo: locked, dd: no dump, wf: wipe on fork); fork, and count "
        "non-zero bytes of the crop in the child. Pass: dd and wf set, lo set exactly when "
        "mlock succeeded, and the child reads only zeros while the parent still reads the crop.")
    image = facekit.load_image(SAMPLE)
    height, width = image.shape[:2]
    with facekit.SecureArena() as arena, arena.frame() as frame:
        crop = frame.crop_normalize(image, RotatedRect(width / 2, height / 2, width / 2,
                                                       height / 2, 0.0), 64)
        region = arena.regions()[0]
        flags = vm_flags(int(region["start"]))
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: MADV_WIPEONFORK gave it zeroed pages
            os.write(write, str(int(np.count_nonzero(np.asarray(crop)))).encode())
            os._exit(0)
        os.close(write)
        child_nonzero = int(os.read(read, 64) or b"-1")
        os.close(read)
        os.waitpid(pid, 0)
        parent_nonzero = int(np.count_nonzero(np.asarray(crop)))
    locked = bool(region["locked"])
    check.evidence = {"vm_flags": flags, "mlock_took": locked,
                      "child_nonzero_bytes": child_nonzero, "parent_nonzero_values":
                      parent_nonzero}
    ok = ("dd" in flags and "wf" in flags and ("lo" in flags) == locked and child_nonzero == 0
          and parent_nonzero > 0)
    check.verdict = PASS if ok else FAIL
    check.detail = (f"VmFlags {' '.join(flags)}; forked child read {child_nonzero} non-zero "
                    f"values, the parent {parent_nonzero}"
                    + ("" if locked else "; mlock refused (RLIMIT_MEMLOCK): pages may be swapped"))
    return check


_HARDEN_CHILD = """
import ctypes, json, resource
import facekit
dumpable = lambda: ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)  # PR_GET_DUMPABLE
before = {"core": resource.getrlimit(resource.RLIMIT_CORE), "dumpable": dumpable()}
report = facekit.harden_process()
after = {"core": resource.getrlimit(resource.RLIMIT_CORE), "dumpable": dumpable()}
print(json.dumps({"report": report, "before": before, "after": after}))
"""


def check_hardening(env: dict[str, str]) -> Check:
    import subprocess

    check = Check(
        "process-hardening", "an app can turn off core dumps and debugger access",
        "A child calls facekit.harden_process(); it reads RLIMIT_CORE and PR_GET_DUMPABLE "
        "before and after. Pass: core limit (0, 0) and not dumpable afterwards.")
    done = subprocess.run([sys.executable, "-c", _HARDEN_CHILD], capture_output=True,
                          text=True, timeout=120, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        check.verdict, check.detail = FAIL, done.stderr.strip()[-300:]
        return check
    state = json.loads(done.stdout)
    check.evidence = state
    ok = state["after"]["core"] == [0, 0] and state["after"]["dumpable"] == 0
    check.verdict = PASS if ok else FAIL
    check.detail = (f"RLIMIT_CORE {state['before']['core']} -> {state['after']['core']}, "
                    f"dumpable {state['before']['dumpable']} -> {state['after']['dumpable']}")
    return check


def check_refusals(env: dict[str, str]) -> Check:
    import numpy as np

    import facekit
    from facekit.errors import BiometricExportError

    from .channels import (
        ARRAY_OBJECTS,
        ARRAY_ONLY,
        DOCUMENTED_OPEN,
        REFUSED,
        ephemeral_objects,
        marshal_refused,
        printed_forms,
        text_channels,
    )
    from .memscan_child import SAMPLE

    check = Check(
        "refusal-matrix", "no standard channel exports a biometric value",
        "Every ephemeral object (landmarker result, face, landmarks, one landmark row, detector "
        "result, detected face, keypoints, arena frame, verifier reference) goes through "
        "pickle (all protocols), copy, deepcopy, json (also with a numpy-aware encoder) and "
        "marshal; the arrays also through np.save/savez/savez_compressed/savetxt, tofile, "
        "tobytes, tolist, dump, dumps and the buffer protocol (bytes, bytearray, memoryview, "
        "hashlib, sqlite3, stream write, PIL); repr, str, f-strings, logging and np.testing "
        "messages are searched for printed coordinates. Pass: each is refused (and writes no "
        "file) or shows no values. Open channels, by design: " + "; ".join(DOCUMENTED_OPEN) + ".")
    image = facekit.load_image(SAMPLE)
    outcomes: dict[str, dict[str, str]] = {}
    with ephemeral_objects(image) as objects, tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        printed = printed_forms(np.array(objects["landmarks"]))  # auditor's own copy
        for name, obj in objects.items():
            row = outcomes[name] = {}
            channels = dict(REFUSED)
            if name in ARRAY_OBJECTS:
                channels.update(ARRAY_ONLY)
            for channel, export in channels.items():
                try:
                    export(obj, scratch)
                    row[channel] = "EXPORTED"
                except BiometricExportError:
                    row[channel] = "refused"
                except Exception as exc:  # noqa: BLE001 - any other outcome is a failure
                    row[channel] = f"error {type(exc).__name__}"
                if any(scratch.iterdir()):
                    row[channel] += " (WROTE A FILE)"
                    for leftover in scratch.iterdir():
                        leftover.unlink()
            row["marshal"] = "refused" if marshal_refused(obj) else "EXPORTED"
            for channel, text in text_channels(obj).items():
                row[channel] = ("SHOWS VALUES" if any(p in text for p in printed)
                                else "no values")
    bad = {f"{o}/{c}": v for o, row in outcomes.items() for c, v in row.items()
           if v not in ("refused", "no values")}
    check.evidence = {"outcomes": outcomes, "failures": bad}
    check.verdict = PASS if not bad else FAIL
    check.detail = (f"{sum(len(r) for r in outcomes.values())} object x channel cases, "
                    f"{len(bad)} failures")
    return check


def check_models(env: dict[str, str]) -> Check:
    from facekit.models import list_models, verify_models

    check = Check(
        "model-integrity", "only vetted networks run",
        "Re-hash every installed model file and compare with the sha256 in the shipped "
        "manifest (the loader does the same before every session). Pass: all match.")
    report = verify_models()
    check.evidence = {"models": {m.name: {"sha256": m.sha256, "bytes": m.bytes,
                                          "result": report[m.name]} for m in list_models()}}
    failed = [name for name, result in report.items() if result != "ok"]
    check.verdict = PASS if not failed else FAIL
    check.detail = f"{len(report)} models, {len(failed)} mismatched" + (
        f": {', '.join(failed)}" if failed else "")
    return check


CHECKS: dict[str, Callable[[dict[str, str]], Check]] = {
    "model-integrity": check_models,
    "memory-scan-image": check_memory_image,
    "memory-scan-video": check_memory_video,
    "memory-scan-beauty": check_memory_beauty,
    "memory-scan-verify": check_memory_verify,
    "memory-scan-threads": check_memory_threads,
    "memory-scan-unclosed": check_memory_unclosed,
    "io-python": check_python_io,
    "io-syscalls": check_syscalls,
    "io-whole-process": check_whole_process,
    "arena-protections": check_arena_protections,
    "process-hardening": check_hardening,
    "refusal-matrix": check_refusals,
}


# --- environment and the report ----------------------------------------------------------------

def _package_hashes() -> dict[str, Any]:
    """sha256 of every file of the installed facekit package, and of them all together."""
    root = Path(__file__).resolve().parents[1]
    files: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[path.relative_to(root).as_posix()] = hashlib.sha256(
                path.read_bytes()).hexdigest()
    overall = hashlib.sha256("".join(f"{h}  {p}\n" for p, h in files.items()).encode())
    return {"package_sha256": overall.hexdigest(), "files": files}


def environment() -> dict[str, Any]:
    import numpy
    import onnxruntime

    import facekit
    from facekit import _inference

    return {
        "facekit": getattr(facekit, "__version__", "unknown"),
        "location": str(Path(facekit.__file__).resolve().parent),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "libc": " ".join(platform.libc_ver()),
        "numpy": numpy.__version__,
        "onnxruntime": onnxruntime.__version__,
        "cpu": facekit.cpu_features(),
        "onnxruntime_scrub": _inference.choose_scrub(_inference.DEFAULT_SCRUB, 1),
        "onnxruntime_telemetry": ("off" if facekit.telemetry_status()["telemetry_disabled"]
                                  else "possibly on: onnxruntime imported before facekit"),
        "user_is_root": os.geteuid() == 0 if hasattr(os, "geteuid") else None,
    }


def run_audit(only: list[str] | None = None, debug_skip_wipe: bool = False,
              progress: Callable[[str], None] | None = None,
              strace_seconds: float | None = None) -> dict[str, Any]:
    """Run the checks (all, or those named in `only`); return the report as a dict.

    `strace_seconds` shortens (or lengthens) the whole-process trace (default 120 s)."""
    from facekit._debug import ENV_SKIP_WIPE

    names = list(CHECKS) if not only else only
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {unknown}; choose from {list(CHECKS)}")
    env = {ENV_SKIP_WIPE: "1"} if debug_skip_wipe else {}
    options = {"io-whole-process": {"seconds": strace_seconds}}
    checks = []
    for name in names:
        if progress:
            progress(name)
        start = time.perf_counter()
        try:
            check = CHECKS[name](env, **options.get(name, {}))
        except Exception as exc:  # noqa: BLE001 - a check that cannot run has failed
            check = Check(name, "", "", FAIL, detail=f"the check raised {type(exc).__name__}: "
                          f"{exc}")
        check.seconds = round(time.perf_counter() - start, 1)
        checks.append(check)
    failed = [c.name for c in checks if c.verdict == FAIL]
    return {
        "tool": "facekit audit",
        "time_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "debug_skip_wipe": debug_skip_wipe,
        "passed": not failed,
        "failed": failed,
        "environment": environment(),
        "package": _package_hashes(),
        "checks": [asdict(c) for c in checks],
    }


def _markdown(report: dict[str, Any]) -> str:
    env = report["environment"]
    lines = ["# facekit privacy audit", "",
             f"**Result: {'PASSED' if report['passed'] else 'FAILED'}** "
             f"({report['time_utc']})" + (" — run with the skip-wipe debug switch"
                                           if report["debug_skip_wipe"] else ""), "",
             "## Environment", "", "| | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in env.items()]
    lines += [f"| package sha256 | `{report['package']['package_sha256']}` "
              f"({len(report['package']['files'])} files; each in audit.json) |", "",
              "## Checks", "", "| check | verdict | detail | seconds |", "| --- | --- | --- | ---: |"]
    lines += [f"| {c['name']} | **{c['verdict']}** | {c['detail']} | {c['seconds']} |"
              for c in report["checks"]]
    for c in report["checks"]:
        lines += ["", f"### {c['name']}: {c['verdict']}", "", f"Promise: {c['promise']}.", "",
                  f"Method: {c['method']}", "", "Evidence:", "", "```json",
                  json.dumps(c["evidence"], indent=1, sort_keys=True)[:20000], "```"]
    return "\n".join(lines) + "\n"


def write_reports(report: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """Write ``audit.json`` and ``audit.md`` into `folder`; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    as_json, as_markdown = folder / "audit.json", folder / "audit.md"
    as_json.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    as_markdown.write_text(_markdown(report))
    return as_json, as_markdown
