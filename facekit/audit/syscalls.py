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

Whole-process mode (``python -m facekit.audit.syscalls --whole SECONDS [CLIP]``,
:func:`trace_whole_process`) judges every system call of the child from its ``execve`` to its
exit, imports and model loading included, while it runs all the pipelines for SECONDS (at least
120 in the audit): the same offences, with writes allowed to fds 1 and 2 and to the one output
file declared on the command line. Reads (imports, models, the clip) are allowed. The child runs
with ``-B`` (Python writes no ``.pyc``), a fresh empty HOME (and XDG folders inside it), a fresh
empty working folder and without ``ORT_DISABLE_TELEMETRY`` or the CI variables that also silence
ONNX Runtime (``CI``, ``GITHUB_ACTIONS``...) in its environment, so that only facekit can switch
its telemetry off. Two oracles must agree: the trace (no
offence; DNS queries, port-53 sends, are listed by name) and the file system (HOME and the
working folder hold nothing afterwards but the declared output).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .._telemetry import user_environment

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
RENAME_CALLS = {"rename", "renameat", "renameat2"}
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


def offence(call: Call, write_fds: frozenset[int] | set[int] = frozenset({2})) -> str | None:
    """Why `call` is forbidden inside the window, or None if it is allowed (writes only to
    `write_fds`)."""
    name, args = call.name, call.args
    if name in OPEN_CALLS:
        flags = set(re.findall(r"\bO_[A-Z]+\b", args))
        if flags & WRITE_OPEN_FLAGS:
            return "opens a file for writing (" + "|".join(sorted(flags & WRITE_OPEN_FLAGS)) + ")"
        return None
    if name in WRITE_CALLS:
        fd = re.match(r"\s*(-?\d+)", args)
        if fd is None or int(fd[1]) not in write_fds:
            allowed = ", ".join(map(str, sorted(write_fds)))
            return f"writes to a file descriptor other than {allowed}"
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


# --- whole process -------------------------------------------------------------------------------

WHOLE_TRACE = "%file,%network,%process,write,writev,pwrite64,pwritev,pwritev2"
AUDIT_SECONDS = 120.0  # the audit's default run; ONNX Runtime's first lookup came after ~10 s
SEND_CALLS = {"sendto", "sendmsg", "sendmmsg"}
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
_ADDRESS = re.compile(r'inet_(?:addr|pton)\((?:AF_INET6?, )?"([^"]+)"')
_ESCAPE = re.compile(rb"\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)", re.S)
_SIMPLE_ESCAPES = {b"n": 10, b"t": 9, b"r": 13, b"v": 11, b"f": 12, b"a": 7, b"b": 8}


def _unescape(text: str) -> bytes:
    """The bytes of a string as strace printed it (C escapes, octal and hex)."""
    def one(match: re.Match) -> bytes:
        code = match[1]
        if code[:1] == b"x":
            return bytes([int(code[1:], 16)])
        if code[:1].isdigit():
            return bytes([int(code, 8) & 0xFF])
        return bytes([_SIMPLE_ESCAPES.get(code, code[0])])
    return _ESCAPE.sub(one, text.encode("latin-1", "replace"))


def dns_name(call: Call) -> str:
    """The queried name of a DNS packet sent by `call` ("?" when strace cut it short)."""
    strings = _STRING.findall(call.text)
    if not strings:
        return "?"
    packet = _unescape(strings[0].removesuffix("...")[1:-1])
    labels, at = [], 12  # past the header
    while at < len(packet) and packet[at]:
        length = packet[at]
        labels.append(packet[at + 1:at + 1 + length].decode("ascii", "replace"))
        at += 1 + length
    return ".".join(labels) or "?"


def _first_path(call: Call) -> str:
    found = _STRING.search(call.text)
    return found[0].strip('"').removesuffix('"...') if found else "?"


@dataclass
class WholeProcessReport(SyscallReport):
    """What the whole trace of a child holds, and what its HOME and working folder hold."""

    dns: list[str] = field(default_factory=list)  # "destination name" of each port-53 send
    files_written: list[str] = field(default_factory=list)  # paths opened for writing (offences)
    outputs: list[str] = field(default_factory=list)  # declared outputs opened for writing
    left_behind: list[str] = field(default_factory=list)  # files in HOME or the working folder
    child: dict = field(default_factory=dict)  # the child's summary line (seconds, telemetry...)

    @property
    def ok(self) -> bool:
        return not self.offenders and not self.left_behind

    def text(self) -> str:
        lines = [f"strace of the whole process: {self.calls} traced system calls from "
                 f"{self.tasks} task(s), {self.threads_created} thread(s) created; child: "
                 f"{json.dumps(self.child)}"]
        lines += [f"  {name:<16} {count}" for name, count in
                  sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))]
        lines.append(f"DNS packets: {len(self.dns)}" + "".join(
            f"\n  {query}" for query in sorted(set(self.dns))))
        lines.append(f"files opened for writing: {len(self.files_written)}" + "".join(
            f"\n  {path}" for path in sorted(set(self.files_written))))
        lines.append(f"declared outputs written: {', '.join(self.outputs) or 'none'}")
        lines.append(f"left in HOME or the working folder: {len(self.left_behind)}" + "".join(
            f"\n  {path}" for path in self.left_behind))
        if self.offenders:
            lines.append(f"FAIL: {len(self.offenders)} forbidden system call(s):")
            lines += [f"  line {c.line}: [{c.pid}] {c.name}({c.text[:200]}  -- {why}"
                      for c, why in self.offenders[:200]]
        elif self.left_behind:
            lines.append("FAIL: files left behind")
        else:
            lines.append("OK: from start to exit no file opened for writing but the declared "
                         "output, no write but to stdout, stderr and that output, no network "
                         "call, no file system change, no process started")
        return "\n".join(lines)


def _declared(path: str, outputs: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in outputs)


def check_whole_log(path: str | Path, outputs: Sequence[str] = ()) -> WholeProcessReport:
    """Judge every system call of an strace log; `outputs` are the paths it may write
    (``fnmatch`` patterns: a temporary name), and rename one to another."""
    with open(path, encoding="utf-8", errors="replace") as log:
        calls = parse(log.readlines())
    if not calls or calls[0].name != "execve":
        raise NoWindowError(f"{path} does not start with the child's execve")
    report = WholeProcessReport(
        calls=len(calls), tasks=len({c.pid for c in calls}), log_calls=len(calls),
        threads_created=sum(1 for c in calls if c.name in CLONE_CALLS and "CLONE_THREAD" in c.args),
        counts=Counter(c.name for c in calls))
    write_fds, dns_servers = {1, 2}, dict[int, str]()  # fds it may write; fds connected to port 53
    for call in calls[1:]:  # the first is the execve that starts the child
        if call.name in OPEN_CALLS | {"creat"} and offence(call) is not None:
            target = _first_path(call)
            if _declared(target, outputs):
                report.outputs.append(target)
                opened = re.search(r"=\s*(\d+)\s*$", call.text)
                if opened:
                    write_fds.add(int(opened[1]))
                continue
            report.files_written.append(target)
        fd = re.match(r"\s*(-?\d+)", call.args)
        port, address = _PORT.search(call.text), _ADDRESS.search(call.text)
        destination = address[1] if address else "?"
        if call.name == "connect" and fd:
            dns_servers.pop(int(fd[1]), None)
            if port and port[1] == "53":
                dns_servers[int(fd[1])] = destination
        if call.name in SEND_CALLS and fd:
            if port and port[1] == "53":
                report.dns.append(f"{destination} {dns_name(call)}")
            elif int(fd[1]) in dns_servers:
                report.dns.append(f"{dns_servers[int(fd[1])]} {dns_name(call)}")
        if call.name in RENAME_CALLS:
            paths = [p.strip('"') for p in _STRING.findall(call.text)]
            if len(paths) == 2 and all(_declared(p, outputs) for p in paths):
                continue  # a declared temporary file renamed over the declared output
        why = offence(call, write_fds)
        if why is not None:
            report.offenders.append((call, why))
    return report


# Runs the child after importing onnxruntime, as an app that imports it before facekit does.
ONNXRUNTIME_FIRST = ("import onnxruntime, runpy; "
                     "runpy.run_module('facekit.audit.syscalls_child', run_name='__main__')")


def _entries(folder: Path, skip: list[str]) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*") if str(p) not in skip)


def trace_whole_process(seconds: float = AUDIT_SECONDS, clip: str | Path | None = None,
                        output: str | Path | None = None, onnxruntime_first: bool = False,
                        python: str | None = None) -> WholeProcessReport:
    """Run the whole-process child under ``strace -f`` for `seconds`; judge its trace, and list
    what it left in its fresh HOME and working folder.

    `output`: a file the child writes (the anonymized photo), the one write it may do.
    `onnxruntime_first`: import onnxruntime before facekit, as an app might (the negative
    control: ONNX Runtime's telemetry then runs). Raises FileNotFoundError when strace is not
    installed, RuntimeError when the child fails."""
    start = ["-c", ONNXRUNTIME_FIRST] if onnxruntime_first else [
        "-m", "facekit.audit.syscalls_child"]
    arguments = ["--seconds", str(seconds)]
    if clip is not None:
        arguments += ["--clip", str(Path(clip).resolve())]
    outputs = [] if output is None else [str(Path(output).resolve())]
    arguments += [a for path in outputs for a in ("--output", path)]
    return _trace_child([*start, *arguments], outputs, outputs, seconds + 600, python)


def trace_video_file(clip: str | Path, python: str | None = None,
                     timeout: float = 600.0) -> WholeProcessReport:
    """Run ``facekit.audit.syscalls_child --video`` under ``strace -f``: the whole process
    while :func:`facekit.video.process_video` writes `clip`, with every effect, to ``out.mp4``
    in the child's fresh working folder. It may write only that file and its temporary file
    (``.out.*.partial.mp4`` in the same folder, renamed over it at the end); afterwards the
    working folder must hold ``out.mp4`` alone and HOME nothing. Raises FileNotFoundError when
    strace is not installed, RuntimeError when the child fails."""
    def arguments(run: Path) -> list[str]:
        return ["-m", "facekit.audit.syscalls_child", "--video", str(run / "out.mp4"),
                "--clip", str(Path(clip).resolve())]

    return _trace_child(arguments, ["{run}/out.mp4", "{run}/.out.*.partial.mp4"],
                        ["{run}/out.mp4"], timeout, python)


def _trace_child(arguments: list[str] | Callable[[Path], list[str]], outputs: list[str], kept: list[str],
                 timeout: float, python: str | None = None) -> WholeProcessReport:
    """Trace ``python -B ARGUMENTS`` in a fresh HOME and working folder (`arguments` may be a
    function of that folder; ``{run}`` in `outputs`, the paths it may write, and `kept`, the
    files it may leave, stands for it)."""
    strace = shutil.which("strace")
    if strace is None:
        raise FileNotFoundError("strace is not installed (Debian: apt-get install strace)")
    with tempfile.TemporaryDirectory() as folder:
        log, home, run = Path(folder) / "strace.log", Path(folder) / "home", Path(folder) / "run"
        home.mkdir()
        run.mkdir()
        run = run.resolve()
        env = user_environment(dict(os.environ))
        env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"),
                   XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"),
                   XDG_STATE_HOME=str(home / ".local/state"), PYTHONDONTWRITEBYTECODE="1")
        if callable(arguments):
            arguments = arguments(run)
        outputs = [p.replace("{run}", str(run)) for p in outputs]
        kept = [p.replace("{run}", str(run)) for p in kept]
        command = [strace, "-f", "-s", "256", "-e", f"trace={WHOLE_TRACE}", "-o", str(log),
                   python or sys.executable, "-B", *arguments]
        done = subprocess.run(command, cwd=run, env=env, capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"the traced child failed ({done.returncode}): "
                               f"{done.stderr.strip()[-500:]}")
        report = check_whole_log(log, outputs)
        report.child = json.loads(done.stdout.strip().splitlines()[-1])
        report.child["stderr"] = done.stderr.strip()[-1000:]
        report.left_behind = _entries(home, []) + _entries(run, kept)
        return report


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m facekit.audit.syscalls",
        description="Check an strace log of facekit.audit.syscalls_child, or (--trace) make one.")
    parser.add_argument("path", nargs="?", help="the strace log; with --trace, a video clip")
    parser.add_argument("--trace", action="store_true",
                        help="run the child under strace -f (on PATH as CLIP, or on frames "
                             "made from the sample photo) and check its log")
    parser.add_argument("--whole", type=float, metavar="SECONDS",
                        help="trace the whole process (PATH: a clip) running every pipeline "
                             f"for SECONDS (the audit runs {AUDIT_SECONDS:g}) and check it")
    args = parser.parse_args(argv)
    try:
        if args.whole is not None:
            report: SyscallReport | WholeProcessReport = trace_whole_process(args.whole, args.path)
        elif args.trace:
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
