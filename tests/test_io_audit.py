"""The I/O audit: `facekit.audit.io_guard` catches every way Python code persists or transmits
data, and facekit's pipelines trigger none of them while processing images and video."""

from __future__ import annotations

import ctypes
import ctypes.util
import fnmatch
import os
import shutil
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest
from support import shared_video

import facekit
from facekit import (
    FaceDetector,
    FaceDetectorOptions,
    FaceLandmarker,
    FaceLandmarkerOptions,
    RunningMode,
)
from facekit.audit.io_guard import IOEvent, forbidden_io_during, is_forbidden, record_io


def names(events: list[IOEvent]) -> set[str]:
    return {e.event for e in events}


# --- (a) the recorder catches each category, so the audit can fail --------------------------

def test_write_opens_are_recorded_and_reads_are_not(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("x")
    with record_io() as events:
        with open(path) as f:  # read: not recorded
            f.read()
        with open(path, "rb"):
            pass
    assert events == []
    for mode in ("w", "a", "x", "r+", "wb", "ab"):
        target = tmp_path / f"new-{mode.replace('+', 'p')}"
        if "r" in mode:
            target.write_text("")
        with record_io() as events:
            open(target, mode).close()
        assert [e.event for e in events] == ["open"], mode
        assert events[0].args[0] == str(target)
    with record_io() as events:  # os.open: mode is None, the flags say it
        os.close(os.open(tmp_path / "raw", os.O_WRONLY | os.O_CREAT, 0o600))
        os.close(os.open(tmp_path / "raw", os.O_RDONLY))
        os.close(os.open(tmp_path / "raw", os.O_RDWR))
        os.close(os.open(tmp_path / "raw", os.O_WRONLY | os.O_APPEND))
    assert len(events) == 3 and names(events) == {"open"}


def test_file_system_changes_are_recorded(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("x")
    with record_io() as events:
        os.rename(a, b)
        os.replace(b, a)
        os.chmod(a, 0o600)
        os.truncate(a, 0)
        shutil.copyfile(a, b)
        os.remove(b)
        os.mkdir(tmp_path / "d")
        os.rmdir(tmp_path / "d")
        os.unlink(a)
    assert {"os.rename", "os.chmod", "os.truncate", "shutil.copyfile", "os.remove", "os.mkdir",
            "os.rmdir"} <= names(events)
    assert [e.event for e in events].count("os.rename") == 2  # os.replace raises os.rename
    assert [e.event for e in events].count("os.remove") == 2  # so does os.unlink: os.remove


def test_sockets_are_recorded():
    with record_io() as events:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.sendto(b"biometric?", s.getsockname())
        socket.getaddrinfo("127.0.0.1", 80)
    assert {"socket.__new__", "socket.bind", "socket.sendto", "socket.getaddrinfo"} <= names(events)
    # The payload of sendto is not an audit argument; nothing recorded carries it.
    assert "biometric?" not in repr(events)


def test_subprocesses_are_recorded():
    with record_io() as events:
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert "subprocess.Popen" in names(events)


def test_ctypes_is_recorded():
    libc = ctypes.util.find_library("c") or "libc.so.6"
    with record_io() as events:
        ctypes.CDLL(libc).getpid()
    assert "ctypes.dlopen" in names(events)


def test_events_from_other_threads_are_recorded(tmp_path):
    with record_io() as events:
        thread = threading.Thread(target=lambda: open(tmp_path / "t", "w").close())
        thread.start()
        thread.join()
    assert names(events) == {"open"}


def test_recorders_nest_and_the_idle_hook_records_nothing(tmp_path):
    with record_io() as outer:
        open(tmp_path / "1", "w").close()
        with record_io() as inner:
            open(tmp_path / "2", "w").close()
        open(tmp_path / "3", "w").close()
    assert len(outer) == 3 and len(inner) == 1
    open(tmp_path / "4", "w").close()  # no recorder active: lists unchanged
    assert len(outer) == 3 and len(inner) == 1


def test_arguments_are_summarized_without_array_contents():
    assert is_forbidden("open", ("p", None, os.O_WRONLY))
    assert not is_forbidden("open", ("p", "rb", os.O_RDONLY))
    assert not is_forbidden("import", ("numpy", None, None, None, None))
    events = forbidden_io_during(sys.audit, "socket.sendto",
                                 np.arange(10_000, dtype=np.float32), b"\x00\x01" * 500, 1.5)
    assert events == [IOEvent("socket.sendto",
                              ("<ndarray shape=(10000,)>", "<bytes len=1000>", "<float>"))]


# --- (b) processing triggers none of them ----------------------------------------------------

def video_frames(photo: np.ndarray, start: int = 83, count: int = 30) -> list[np.ndarray]:
    """Frames `start`.. of the shared clip (a face is on screen from frame 83), decoded before
    any recording starts, or, where the clip or PyAV is absent, the committed photo repeated
    with small shifts (so tracking moves)."""
    try:
        import av

        clip = shared_video("short_hamilton_clip.mp4")
    except (ImportError, pytest.skip.Exception):
        return [np.ascontiguousarray(np.roll(photo, 3 * i, axis=1)) for i in range(count)]
    frames = []
    with av.open(str(clip)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index >= start:
                frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == count:
                break
    return frames


def test_face_detector_does_no_io(photo):
    with FaceDetector(FaceDetectorOptions(model="auto")) as detector:  # loading is start-up
        with record_io() as events:
            for _ in range(3):
                with detector.detect(photo) as result:
                    assert len(result.faces) == 1
                    assert result.faces[0].keypoints.shape == (6, 2)
    assert events == []


def test_face_landmarker_image_mode_with_iris_does_no_io(photo):
    with FaceLandmarker(FaceLandmarkerOptions(iris=True)) as landmarker:
        with record_io() as events:
            for _ in range(3):
                with landmarker.detect(photo) as result:
                    assert result.faces[0].landmarks.shape == (478, 3)
    assert events == []


def test_face_landmarker_video_mode_does_no_io(photo):
    frames = video_frames(photo)
    options = FaceLandmarkerOptions(running_mode=RunningMode.VIDEO, iris=True)
    found = 0
    with FaceLandmarker(options) as landmarker:
        with record_io() as events:
            for index, frame in enumerate(frames):
                with landmarker.detect_for_video(frame, 33 * index) as result:
                    found += bool(result.faces)
                    for face in result.faces:
                        assert face.landmarks.shape == (478, 3)
    assert found >= len(frames) // 2  # the window really processed faces
    assert events == []


def test_load_image_does_no_io_beyond_reading(tmp_path, photo):
    from PIL import Image

    path = tmp_path / "p.jpg"
    Image.fromarray(photo).save(path)
    assert forbidden_io_during(facekit.load_image, path) == []


# --- the strace check (facekit.audit.syscalls) fails on each kind of offence -------------------

SYNTHETIC_LOG = r'''100   openat(AT_FDCWD, "/models/x.onnx", O_RDONLY|O_CLOEXEC) = 3
100   write(2, "PROCESSING-START\n", 17) = 17
100   openat(AT_FDCWD, "/clip.mp4", O_RDONLY|O_CLOEXEC) = 4
101   openat(AT_FDCWD, "/tmp/O_WRONLY", O_RDONLY <unfinished ...>
100   clone3({flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, child_tid=0x1}, 88) = 102
101   <... openat resumed>)             = 5
102   openat(AT_FDCWD, "/tmp/leak", O_WRONLY|O_CREAT|O_TRUNC, 0666 <unfinished ...>
100   write(2, "progress\n", 9) = 9
102   <... openat resumed>)             = 6
102   write(6, "\1\2", 2)               = 2
102   socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 7
102   connect(7, {sa_family=AF_INET, sin_port=htons(80)}, 16) = -1 ECONNREFUSED
102   renameat2(AT_FDCWD, "/tmp/a", AT_FDCWD, "/tmp/b", 0) = 0
102   unlink("/tmp/b")                  = 0
100   clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 103
103   execve("/bin/sh", ["sh"], 0x7ff /* 3 vars */) = 0
102   +++ exited with 0 +++
100   write(2, "PROCESSING-END\n", 15)  = 15
100   openat(AT_FDCWD, "/out.png", O_WRONLY|O_CREAT, 0644) = 8
'''


def test_check_strace_finds_each_offence_inside_the_window_only():
    from facekit.audit import syscalls as check_strace

    calls = check_strace.parse(SYNTHETIC_LOG.splitlines(keepends=True))
    inside = check_strace.window(calls)
    offenders = [(c.name, c.line) for c in inside if check_strace.offence(c)]
    # The path "/tmp/O_WRONLY" opened read-only, the thread, and writes to fd 2 are allowed;
    # the write-open after PROCESSING-END is outside the window.
    assert offenders == [("openat", 7), ("write", 10), ("socket", 11), ("connect", 12),
                         ("renameat2", 13), ("unlink", 14), ("clone", 15), ("execve", 16)]


def test_check_strace_needs_both_markers(tmp_path):
    from facekit.audit import syscalls as check_strace

    calls = check_strace.parse(SYNTHETIC_LOG.splitlines()[:5])
    with pytest.raises(check_strace.NoWindowError, match="PROCESSING-END"):
        check_strace.window(calls)
    log = tmp_path / "cut.log"
    log.write_text("\n".join(SYNTHETIC_LOG.splitlines()[:5]))
    checked = subprocess.run([sys.executable, "-m", "facekit.audit.syscalls", str(log)],
                             check=False, capture_output=True, text=True, cwd=tmp_path)
    assert checked.returncode == 2, checked.stdout + checked.stderr


def test_check_strace_fails_on_a_real_trace_of_forbidden_io(tmp_path):
    """End to end with the real strace: a script that writes a file and opens a socket between
    the markers fails the check, naming both."""
    # A missing tracer fails: CI installs strace (.ci/run).
    assert shutil.which("strace"), "strace is not installed (Debian: apt-get install strace)"
    script = tmp_path / "leaky.py"
    script.write_text(
        "import os, socket, sys\n"
        "os.write(2, b'PROCESSING-START\\n')\n"
        f"open({str(tmp_path / 'leak.bin')!r}, 'wb').close()\n"
        "socket.socket().close()\n"
        "os.write(2, b'PROCESSING-END\\n')\n")
    log = tmp_path / "strace.log"
    traced = subprocess.run(
        ["strace", "-f", "-e", "trace=%file,%network,%process,write,writev,pwrite64", "-o",
         str(log), sys.executable, str(script)], check=False, capture_output=True,
        text=True)
    if traced.returncode != 0 and "ptrace" in traced.stderr.lower():
        pytest.skip(f"strace cannot trace here: {traced.stderr.strip()}")
    assert traced.returncode == 0, traced.stderr
    checked = subprocess.run([sys.executable, "-m", "facekit.audit.syscalls", str(log)],
                             check=False, capture_output=True, text=True, cwd=tmp_path)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "leak.bin" in checked.stdout and "socket(" in checked.stdout


# --- the whole-process check (facekit.audit.syscalls.check_whole_log) ----------------------------

WHOLE_LOG = r'''100   execve("/usr/bin/python3", ["python3", "-B"], 0x7ffd /* 30 vars */) = 0
100   openat(AT_FDCWD, "/usr/lib/python3.11/os.py", O_RDONLY|O_CLOEXEC) = 3
100   write(1, "{}\n", 3)             = 3
100   clone3({flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, child_tid=0x1}, 88) = 101
101   socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 8
101   connect(8, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.53")}, 16) = 0
101   sendto(8, "d\36\1\0\0\1\0\0\0\0\0\0\6mobile\6events\4data\tmicrosoft\3com\0\0\1\0\1", 50, MSG_NOSIGNAL, NULL, 0) = 50
100   mkdir("/home/u/.cache/Microsoft", 0700) = 0
100   openat(AT_FDCWD, "/home/u/.cache/x.db", O_RDWR|O_CREAT|O_NOFOLLOW|O_CLOEXEC, 0644) = 4
100   pwrite64(4, "SQLite format 3\0", 16, 0) = 16
100   openat(AT_FDCWD, "/out/anonymized.png", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 5
100   write(5, "\211PNG\r\n\32\n", 8) = 8
100   execve("/bin/sh", ["sh"], 0x7ff /* 3 vars */) = 0
100   exit_group(0)                     = ?
'''


def test_whole_process_check_allows_only_the_declared_output_and_names_dns_queries(tmp_path):
    from facekit.audit import syscalls as check_strace

    log = tmp_path / "whole.log"
    log.write_text(WHOLE_LOG)
    report = check_strace.check_whole_log(log, ["/out/anonymized.png"])
    # The child's own execve, reads, stdout, a thread and the declared output are allowed.
    assert [(c.line, c.name) for c, _ in report.offenders] == [
        (5, "socket"), (6, "connect"), (7, "sendto"), (8, "mkdir"), (9, "openat"),
        (10, "pwrite64"), (13, "execve")]
    assert report.dns == ["10.0.0.53 mobile.events.data.microsoft.com"]
    assert report.files_written == ["/home/u/.cache/x.db"]
    assert report.outputs == ["/out/anonymized.png"]
    assert report.threads_created == 1 and not report.ok
    assert "DNS packets: 1" in report.text()
    clean = tmp_path / "clean.log"
    clean.write_text("".join(WHOLE_LOG.splitlines(keepends=True)[i] for i in (0, 1, 2, 3, 13)))
    assert check_strace.check_whole_log(clean).ok
    # Without the declaration the output is a write-open like any other.
    undeclared = check_strace.check_whole_log(log)
    assert "/out/anonymized.png" in undeclared.files_written


# --- a video file end to end (facekit.video.process_video) ---------------------------------------

def test_rename_of_a_declared_temporary_file_over_the_output_is_allowed(tmp_path):
    from facekit.audit import syscalls as check_strace

    log = tmp_path / "video.log"
    log.write_text(
        '100   execve("/usr/bin/python3", ["python3"], 0x7ffd /* 3 vars */) = 0\n'
        '100   openat(AT_FDCWD, "/run/.out.1a2b.partial.mp4", O_WRONLY|O_CREAT|O_EXCL, 0666) = 3\n'
        '100   write(3, "\\0\\0\\0 ftyp", 8) = 8\n'
        '100   rename("/run/.out.1a2b.partial.mp4", "/run/out.mp4") = 0\n'
        '100   rename("/run/.out.1a2b.partial.mp4", "/home/u/elsewhere.mp4") = 0\n'
        '100   openat(AT_FDCWD, "/run/other.mp4", O_WRONLY|O_CREAT, 0666) = 4\n')
    report = check_strace.check_whole_log(log, ["/run/out.mp4", "/run/.out.*.partial.mp4"])
    assert report.outputs == ["/run/.out.1a2b.partial.mp4"]
    assert [(c.line, c.name) for c, _ in report.offenders] == [(5, "rename"), (6, "openat")]
    assert report.files_written == ["/run/other.mp4"]


def test_processing_a_video_file_writes_only_its_output_and_opens_no_socket():
    """strace of the whole process while process_video writes the shared clip, with fusion,
    beauty, the mesh and pixelation, to out.mp4: no file opened for writing but out.mp4 and its
    temporary file, no write elsewhere, no socket, no process; afterwards out.mp4 alone."""
    assert shutil.which("strace"), "strace is not installed (Debian: apt-get install strace)"
    pytest.importorskip("av", reason="PyAV comes with the test extra (and the video extra)")
    from facekit.audit import syscalls as check_strace

    report = check_strace.trace_video_file(shared_video("short_hamilton_clip.mp4"))
    print(report.text())
    assert report.child["frames"] == 275 and report.child["faces"] > 150
    assert report.child["audio_packets"] == 431
    assert report.child["telemetry"]["telemetry_disabled"] is True
    assert report.counts["execve"] == 1 and report.threads_created > 0
    assert report.offenders == [], report.text()
    assert report.files_written == [] and report.dns == []
    assert report.left_behind == []  # the temporary file is gone; out.mp4 is kept
    # Opened for writing: only the temporary file (created, then reopened by the muxer).
    assert len(set(report.outputs)) == 1
    assert fnmatch.fnmatchcase(os.path.basename(report.outputs[0]), ".out.*.partial.mp4")
    assert report.counts["rename"] + report.counts["renameat"] + \
        report.counts["renameat2"] == 1
