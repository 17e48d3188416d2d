"""Recording every Python-level event that could persist or transmit data.

`record_io()` is a context manager that, while active, collects the audit events
(`sys.addaudithook`, PEP 578) through which Python code writes files, changes the file system,
talks to the network, starts processes or reaches foreign code via `ctypes`. It proves that a
stretch of processing did none of these things::

    with record_io() as events:
        with landmarker.detect(image) as result:
            ...
    assert events == []

What it sees: everything that goes through CPython's audit events, which covers the standard
library and every package built on it. What it cannot see: native code calling the C library
directly (ONNX Runtime, facekit's own C++). `tests/strace_video.py` and `tests/check_strace.py`
cover that side with `strace`.

One process-wide hook is installed the first time a recorder starts (audit hooks cannot be
removed); while no recorder is active it returns after one truth test. Events are recorded from
every thread, not only the one that started the recorder. Arguments are summarized: strings,
paths, integers and None are kept (short), everything else becomes a type name, so a recorded
event never carries array contents or other data payloads.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

__all__ = ["IOEvent", "forbidden_io_during", "is_forbidden", "record_io"]

class IOEvent(NamedTuple):
    """One recorded audit event: its name and a summary of its arguments."""

    event: str
    args: tuple[Any, ...]


# os.open flags that make an `open` event a write: any of them means the file may be changed.
_WRITE_FLAGS = (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
                | getattr(os, "O_TMPFILE", 0))
# Characters of an io/builtins mode string that mean writing, appending or creating.
_WRITE_MODE_CHARS = frozenset("wax+")

# Events recorded whenever they occur (exact names).
_EXACT = frozenset({
    # File system changes (os.replace raises os.rename; os.unlink raises os.remove).
    "os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.truncate", "os.chmod", "os.chown",
    "os.link", "os.symlink", "os.utime", "os.setxattr", "os.removexattr", "os.chflags",
    "os.lchflags", "os.mkfifo", "os.mknod",
    "tempfile.mkstemp", "tempfile.mkdtemp",
    # Processes.
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
    "os.forkpty", "os.startfile", "pty.spawn",
    # Other ways out of the process.
    "sqlite3.connect", "urllib.Request", "webbrowser.open", "syslog.openlog", "syslog.syslog",
})
# Events recorded whenever their name starts with one of these.
_PREFIXES = ("shutil.", "socket.", "ctypes.", "http.client.", "ftplib.", "smtplib.",
             "imaplib.", "poplib.", "nntplib.", "telnetlib.", "winreg.", "_winapi.")

_lock = threading.Lock()
_recorders: list[list[IOEvent]] = []  # the lists of the active recorders (empty: hook idle)
_installed = False
_busy = threading.local()  # reentrancy guard: summarizing must not record itself


def is_forbidden(event: str, args: tuple[Any, ...]) -> bool:
    """Whether the audit event `event` with `args` could persist or transmit data."""
    if event == "open":
        return _is_write_open(args)
    if event == "mmap.__new__":  # a shared writable mapping of a file writes to that file
        return bool(args) and isinstance(args[0], int) and args[0] != -1
    return event in _EXACT or event.startswith(_PREFIXES)


def _is_write_open(args: tuple[Any, ...]) -> bool:
    # `open` carries (path, mode, flags): mode is a str (io.open, FileIO) or None (os.open).
    mode = args[1] if len(args) > 1 else None
    flags = args[2] if len(args) > 2 else 0
    if isinstance(mode, str) and _WRITE_MODE_CHARS.intersection(mode):
        return True
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def _summarize(value: Any, depth: int = 0) -> Any:
    """A printable summary of one audit argument that carries no data payload."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, str):
        return value if len(value) <= 256 else value[:253] + "..."
    if isinstance(value, os.PathLike):
        try:
            return _summarize(os.fspath(value), depth)
        except Exception:  # noqa: BLE001 - a broken PathLike is still reported
            return f"<{type(value).__name__}>"
    if isinstance(value, bytes):
        # Paths may be bytes; anything else (a data payload) is reported by its length only.
        if len(value) <= 256 and value.isascii():
            text = value.decode("ascii")
            if text.isprintable():
                return text
        return f"<bytes len={len(value)}>"
    if isinstance(value, (tuple, list)) and depth < 2:
        items = tuple(_summarize(v, depth + 1) for v in value[:8])
        return items + (f"<{len(value) - 8} more>",) if len(value) > 8 else items
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        return f"<{type(value).__name__} shape={shape}>"
    return f"<{type(value).__name__}>"


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _recorders:  # the idle path: one truth test per audit event
        return
    if getattr(_busy, "active", False) or not is_forbidden(event, args):
        return
    _busy.active = True
    try:
        try:
            summary = tuple(_summarize(a) for a in args)
        except Exception:  # noqa: BLE001 - never let the recorder break the audited call
            summary = ("<unsummarizable>",)
        record = IOEvent(event, summary)
        with _lock:
            for events in _recorders:
                events.append(record)
    finally:
        _busy.active = False


def _install() -> None:
    global _installed
    with _lock:
        if not _installed:
            sys.addaudithook(_hook)
            _installed = True


@contextmanager
def record_io() -> Iterator[list[IOEvent]]:
    """Record, while active, every event that could persist or transmit data.

    Yields a list that fills as events happen, in every thread of the process: `open` for
    writing, appending or creating (by mode string or os.open flags), renames, removals,
    directory and permission changes, `shutil` copies and moves, sockets and name lookups,
    subprocesses, exec, spawn and fork, and every `ctypes` event (dlopen, dlsym, foreign
    calls). Reads, imports and extension-module loading are not recorded. Recorders nest; each
    sees the events of its own window.
    """
    _install()
    events: list[IOEvent] = []
    with _lock:
        _recorders.append(events)
    try:
        yield events
    finally:
        with _lock:
            # Remove this recorder by identity: equal (e.g. both empty) lists are other recorders.
            for i, active in enumerate(_recorders):
                if active is events:
                    del _recorders[i]
                    break


def forbidden_io_during(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> list[IOEvent]:
    """Call `fn(*args, **kwargs)` and return the forbidden I/O events it caused (empty: none).

    Its return value is discarded; an exception it raises propagates.
    """
    with record_io() as events:
        fn(*args, **kwargs)
    return list(events)
