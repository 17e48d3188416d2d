"""Check an `strace -f` log of `facekit.audit.syscalls_child`: no file written, no socket, no
process started while processing.

Usage::

    strace -f -e trace=%file,%network,%process,write,writev,pwrite64 -o LOG \\
        python -m facekit.audit.syscalls_child [CLIP]
    python -m facekit.audit.syscalls LOG

(``python -m facekit.audit.syscalls --trace [CLIP]`` and :func:`trace_video` do both.)

The window is the stretch of the log between the script's two marker writes to stderr,
`write(2, "PROCESSING-START\\n", 17)` and `write(2, "PROCESSING-END\\n", 15)`; everything the
process (any of its threads) does there is processing. Inside the window it is an offence to:

- open a file for writing, appending, creating or truncating (open, openat, openat2 with
  O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND or O_TMPFILE; creat), whether or not it succeeds;
- write to any file descriptor other than 2 (write, writev, pwrite64, pwritev, pwritev2);
- make any network system call (socket, connect, bind, sendto, ...);
- rename, unlink, link, make or remove directories, truncate, change modes or owners;
- start a process: execve, execveat, fork, vfork, or clone / clone3 without CLONE_THREAD
  (threads are fine: ONNX Runtime and the video decoder may create them).

Reads, stats and thread creation are allowed and counted. The command prints a summary (system
calls in the window by name) and the offenders; it exits 1 if there is any offender, 2 if the
log has no complete window (the markers are missing: wrong command line or the child failed).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

START = r'write(2, "PROCESSING-START\n"'
END = r'write(2, "PROCESSING-END\n"'

OPEN_CALLS = {"open", "openat", "openat2"}
WRITE_OPEN_FLAGS = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "O_TMPFILE"}
WRITE_CALLS = {"write", "writev", "pwrite64", "pwritev", "pwritev2"}
NETWORK_CALLS = {
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendto",
    "sendmsg", "sendmmsg", "recvfrom", "recvmsg", "recvmmsg", "getsockname", "getpeername",
    "getsockopt", "setsockopt", "shutdown", "socketcall",
}
FS_CHANGE_CALLS = {
    "creat", "rename", "renameat", "renameat2", "unlink", "unlinkat", "rmdir", "mkdir",
    "mkdirat", "link", "linkat", "symlink", "symlinkat", "truncate", "chmod", "fchmodat",
    "fchmodat2", "chown", "lchown", "fchownat", "mknod", "mknodat", "utime", "utimes",
    "utimensat", "futimesat", "setxattr", "lsetxattr", "removexattr", "lremovexattr",
    "mount", "umount2", "swapon", "swapoff", "acct", "chroot", "pivot_root",
}
PROCESS_CALLS = {"execve", "execveat", "fork", "vfork"}
CLONE_CALLS = {"clone", "clone3"}

# "PID  name(args) = result", the PID only with -f; optional timestamps are skipped.
_PREFIX = r"^(?:\[pid\s+)?(?P<pid>\d+)?\]?\s*(?:[\d:.]+\s+)?"
_CALL = re.compile(_PREFIX + r"(?P<name>[a-z_0-9]+)\((?P<rest>.*)$")
_UNFINISHED = re.compile(r"\s*<unfinished \.\.\.>\s*$")
_RESUMED = re.compile(_PREFIX + r"<\.\.\. (?P<name>[a-z_0-9]+) resumed>(?P<rest>.*)$")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"(?:\.\.\.)?')


@dataclass
class Call:
    """One system call from the log, its unfinished and resumed halves joined."""

    line: int  # 1-based line where it started
    pid: str
    name: str
    text: str  # the whole call as strace printed it (args, result)

    @property
    def args(self) -> str:
        """The arguments with string contents removed (so a path cannot fake a flag)."""
        return _STRING.sub('""', self.text)


def parse(lines: list[str]) -> list[Call]:
    """The system calls of an strace log in the order they started."""
    calls: list[Call] = []
    pending: dict[tuple[str, str], Call] = {}
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\n")
        resumed = _RESUMED.match(line)
        if resumed:
            key = (resumed["pid"] or "", resumed["name"])
            call = pending.pop(key, None)
            if call is not None:
                call.text += resumed["rest"]
            continue
        match = _CALL.match(line)
        if not match:
            continue  # signals, exits, "+++ exited", strace's own notes
        call = Call(number, match["pid"] or "", match["name"], match["rest"])
        if _UNFINISHED.search(line):
            call.text = _UNFINISHED.sub("", call.text)
            pending[(call.pid, call.name)] = call
        calls.append(call)
    return calls


class NoWindowError(ValueError):
    """The log has no complete processing window (wrong command line, or the child failed)."""


def window(calls: list[Call]) -> list[Call]:
    """The calls strictly between the START and END marker writes."""
    starts = [i for i, c in enumerate(calls) if f"{c.name}({c.text}".startswith(START)]
    ends = [i for i, c in enumerate(calls) if f"{c.name}({c.text}".startswith(END)]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise NoWindowError(
            f"expected one PROCESSING-START then one PROCESSING-END write to fd 2, found "
            f"{len(starts)} and {len(ends)}; was the log written by strace -f -e "
            f"trace=...,write and did facekit.audit.syscalls_child finish?")
    return calls[starts[0] + 1:ends[0]]


def offence(call: Call) -> str | None:
    """Why `call` is forbidden inside the window, or None if it is allowed."""
    name, args = call.name, call.args
    if name in OPEN_CALLS:
        flags = set(re.findall(r"\bO_[A-Z]+\b", args))
        if flags & WRITE_OPEN_FLAGS:
            return "opens a file for writing (" + "|".join(sorted(flags & WRITE_OPEN_FLAGS)) + ")"
        return None
    if name in WRITE_CALLS:
        fd = re.match(r"\s*(-?\d+)", args)
        if fd is None or int(fd[1]) != 2:
            return "writes to a file descriptor other than 2"
        return None
    if name in NETWORK_CALLS:
        return "network system call"
    if name in FS_CHANGE_CALLS:
        return "changes the file system"
    if name in PROCESS_CALLS:
        return "starts a process"
    if name in CLONE_CALLS and "CLONE_THREAD" not in args:
        return "clones a process (not a thread)"
    return None


@dataclass
class SyscallReport:
    """What the processing window of one log holds."""

    calls: int
    tasks: int
    log_calls: int  # traced calls in the whole log: proof that the tracer saw the process
    threads_created: int
    counts: Counter
    offenders: list[tuple[Call, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.offenders

    def text(self) -> str:
        lines = [f"strace window: {self.calls} traced system calls from {self.tasks} task(s), "
                 f"{self.threads_created} thread(s) created ({self.log_calls} in the whole log)"]
        lines += [f"  {name:<16} {count}" for name, count in
                  sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))]
        if self.offenders:
            lines.append(f"FAIL: {len(self.offenders)} forbidden system call(s) while processing:")
            lines += [f"  line {c.line}: [{c.pid}] {c.name}({c.text[:200]}  -- {why}"
                      for c, why in self.offenders[:200]]
        else:
            lines.append("OK: no file opened for writing, no write except to stderr, no network, "
                         "no file system change, no process started while processing")
        return "\n".join(lines)


def check_log(path: str | Path) -> SyscallReport:
    """Read an strace log and judge its processing window (NoWindowError if it has none)."""
    with open(path, encoding="utf-8", errors="replace") as log:
        calls = parse(log.readlines())
    inside = window(calls)
    return SyscallReport(
        calls=len(inside), tasks=len({c.pid for c in inside}), log_calls=len(calls),
        threads_created=sum(1 for c in inside
                            if c.name in CLONE_CALLS and "CLONE_THREAD" in c.args),
        counts=Counter(c.name for c in inside),
        offenders=[(c, why) for c in inside if (why := offence(c)) is not None])


TRACE = "%file,%network,%process,write,writev,pwrite64"


def trace_video(clip: str | Path | None = None, python: str | None = None,
                timeout: float = 600.0) -> SyscallReport:
    """Run ``facekit.audit.syscalls_child`` under ``strace -f`` and check its log.

    Raises FileNotFoundError when strace is not installed."""
    strace = shutil.which("strace")
    if strace is None:
        raise FileNotFoundError("strace is not installed (Debian: apt-get install strace)")
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "strace.log"
        command = [strace, "-f", "-e", f"trace={TRACE}", "-o", str(log),
                   python or sys.executable, "-m", "facekit.audit.syscalls_child"]
        if clip is not None:
            command.append(str(clip))
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"the traced child failed ({done.returncode}): "
                               f"{done.stderr.strip()[-500:]}")
        return check_log(log)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m facekit.audit.syscalls",
        description="Check an strace log of facekit.audit.syscalls_child, or (--trace) make one.")
    parser.add_argument("path", nargs="?", help="the strace log; with --trace, a video clip")
    parser.add_argument("--trace", action="store_true",
                        help="run the child under strace -f (on PATH as CLIP, or on frames "
                             "made from the sample photo) and check its log")
    args = parser.parse_args(argv)
    try:
        if args.trace:
            report = trace_video(args.path)
        elif args.path:
            report = check_log(args.path)
        else:
            parser.error("give an strace log, or --trace [CLIP]")
    except (NoWindowError, FileNotFoundError, RuntimeError) as exc:
        print(f"facekit.audit.syscalls: {exc}", file=sys.stderr)
        return 2
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
