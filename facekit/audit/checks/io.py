"""I/O checks: Python's audit hooks and strace see no file written, no socket, no process."""

from __future__ import annotations

from . import FAIL, PASS, Check


def check_python_io(env: dict[str, str]) -> Check:
    import facekit

    from ..io_guard import record_io
    from ..memscan_child import SAMPLE, video_frame

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
    from .. import syscalls

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

    from .. import syscalls

    seconds = syscalls.AUDIT_SECONDS if seconds is None else seconds
    check = Check(
        "io-whole-process", "no file written, no socket, no process from import to exit, "
        "ONNX Runtime's telemetry included",
        "strace -f follows a child from its start to its exit while it runs FaceDetector, "
        "FaceLandmarker (image and video), Beautifier, Anonymizer and FaceFuser on the sample "
        f"photo and 100 video frames made from it, over and over for {seconds:g} s; it runs with a fresh "
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
