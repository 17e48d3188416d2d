"""Check an `strace -f` log of `tests/strace_video.py`: no file written, no socket, no process.

Usage::

    python tests/check_strace.py LOG

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

Reads, stats and thread creation are allowed and counted. Prints a summary (system calls in the
window by name) and the offenders; exits 1 if there is any offender, 2 if the log has no
complete window (the markers are missing: wrong command line or the script failed).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass

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


def window(calls: list[Call]) -> list[Call]:
    """The calls strictly between the START and END marker writes; SystemExit(2) if absent."""
    starts = [i for i, c in enumerate(calls) if f"{c.name}({c.text}".startswith(START)]
    ends = [i for i, c in enumerate(calls) if f"{c.name}({c.text}".startswith(END)]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        print(f"check_strace: expected one PROCESSING-START then one PROCESSING-END write to "
              f"fd 2, found {len(starts)} and {len(ends)}; was the log written by strace -f "
              f"-e trace=...,write and did tests/strace_video.py finish?", file=sys.stderr)
        raise SystemExit(2)
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


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} STRACE_LOG", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8", errors="replace") as log:
        calls = parse(log.readlines())
    inside = window(calls)
    counts = Counter(c.name for c in inside)
    offenders = [(c, why) for c in inside if (why := offence(c)) is not None]
    pids = {c.pid for c in inside}
    threads = sum(1 for c in inside if c.name in CLONE_CALLS and "CLONE_THREAD" in c.args)
    print(f"strace window: {len(inside)} traced system calls from {len(pids)} task(s), "
          f"{threads} thread(s) created")
    for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {name:<16} {count}")
    if offenders:
        print(f"FAIL: {len(offenders)} forbidden system call(s) while processing:")
        for call, why in offenders[:200]:
            print(f"  line {call.line}: [{call.pid}] {call.name}({call.text[:200]}  -- {why}")
        return 1
    print("OK: no file opened for writing, no write except to stderr, no network, no file "
          "system change, no process started while processing")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
