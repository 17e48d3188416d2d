"""Reading another process's whole address space for copies of known biometric values.

The auditor (a parent process, root or the same user with ptrace rights) runs the same pipeline
on the same public photo in its own process, so it knows the exact float32 values the child
must not keep: landmarks, detector keypoints, face-crop rows and the landmark network's raw
output. It then reads the child's memory region by region (``/proc/PID/maps`` then
``/proc/PID/mem``) and counts every occurrence of each needle, per kind of region.

Needles are byte strings: every run of 4 consecutive values of a flattened array (float32 or
float64), or a whole 192-float window of a crop row. Search: a 24-bit table of one "key" word
(a 4-byte word of the needle that is not 0 or +-1.0) per needle, probed with numpy at all four
byte alignments, then an exact comparison of the candidates. A few hundred MB scan in seconds.

Region kinds: ``facekit arena`` (the child's ``SecureArena.regions()``), ``heap`` (``[heap]``),
``stack`` (``[stack]``), ``thread stack`` (an anonymous mapping holding a thread's stack pointer,
from ``/proc/PID/task/TID/syscall``), ``anonymous``, ``file-backed``, ``vdso/vvar`` (not read:
kernel pages) and ``unreadable`` (skipped).
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Region", "Needles", "ScanReport", "read_maps", "scan_process", "window_needles",
           "crop_row_needles", "KIND_ARENA"]

KIND_ARENA = "facekit arena"
_CHUNK = 32 << 20
_TABLE_BITS = 24
_COMMON_WORDS = {0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x3FF00000, 0xBFF00000}


@dataclass(frozen=True)
class Region:
    start: int
    end: int
    perms: str
    path: str
    kind: str

    @property
    def size(self) -> int:
        return self.end - self.start


_MAPS_LINE = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$")


def _thread_stack_pointers(pid: int) -> list[int]:
    """Each thread's stack pointer, for threads blocked in a system call (our checkpoints)."""
    pointers: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return pointers
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                fields = f.read().split()
        except OSError:
            continue
        if len(fields) >= 3 and fields[0] not in ("running", "-1"):
            try:
                pointers.append(int(fields[-2], 16))
            except ValueError:
                pass
    return pointers


def read_maps(pid: int, arena: Iterable[tuple[int, int]] = ()) -> list[Region]:
    """The child's mappings, each classified; `arena` is (start, size) of its arena regions."""
    arena = [(int(s), int(s) + int(n)) for s, n in arena]
    stacks = _thread_stack_pointers(pid)
    regions = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            m = _MAPS_LINE.match(line.rstrip("\n"))
            if not m:
                continue
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            perms, path = m.group(3), m.group(4).strip()
            if any(start < a_end and a_start < end for a_start, a_end in arena):
                kind = KIND_ARENA
            elif path in ("[vdso]", "[vvar]", "[vsyscall]", "[vvar_vclock]"):
                kind = "vdso/vvar"
            elif path == "[heap]":
                kind = "heap"
            elif path.startswith("[stack"):
                kind = "stack"
            elif "r" not in perms:
                kind = "unreadable"
            elif path.startswith("/") or path.startswith("anon_inode") or path.startswith("/memfd"):
                kind = "file-backed"
            elif any(start <= sp < end for sp in stacks):
                kind = "thread stack"
            else:
                kind = "anonymous"
            regions.append(Region(start, end, perms, path, kind))
    return regions


def window_needles(values: np.ndarray, run: int = 4, dtype=np.float32) -> list[bytes]:
    """Every run of `run` consecutive values of the flattened array, as `dtype` bytes.

    Left out: windows whose values are all equal, and windows with fewer than two non-zero
    values (one float among zeros is 32 bits of evidence: it matches by chance)."""
    flat = np.ascontiguousarray(np.asarray(values, dtype=np.float64).ravel().astype(dtype))
    if len(flat) < run:
        return []
    windows = np.lib.stride_tricks.sliding_window_view(flat, run)
    keep = ~np.all(windows == windows[:, :1], axis=1) & (np.count_nonzero(windows, axis=1) >= 2)
    windows = np.ascontiguousarray(windows[keep])
    as_bytes = windows.view(f"V{windows.itemsize * run}").ravel()
    return list(dict.fromkeys(v.tobytes() for v in as_bytes))


def activation_needles(values: np.ndarray, run: int = 4) -> list[bytes]:
    """Windows of an NCHW activation in both memory orders a runtime may use: along rows
    (NCHW) and along channels (NHWC, and the channel blocks of ONNX Runtime's NCHWc)."""
    nchw = np.asarray(values, dtype=np.float32)
    nhwc = nchw.transpose(0, 2, 3, 1) if nchw.ndim == 4 else nchw
    return list(dict.fromkeys(window_needles(nchw, run) + window_needles(nhwc, run)))


def mask_row_needles(mask: np.ndarray, width: int = 32, count: int = 48) -> list[bytes]:
    """Up to `count` distinct `width`-byte windows of a uint8 mask's rows that hold at least 12
    distinct values (its soft ramps; runs of 0 or 255 would match any memory)."""
    plane = np.ascontiguousarray(np.asarray(mask, dtype=np.uint8))
    out: list[bytes] = []
    for row in plane[::max(1, plane.shape[0] // 64)]:
        for start in range(0, row.size - width + 1, width):
            window = row[start:start + width]
            if len(np.unique(window)) >= 12:
                out.append(window.tobytes())
    return list(dict.fromkeys(out))[:count]


def crop_row_needles(crop: np.ndarray, rows: int = 16, width: int = 192) -> list[bytes]:
    """`rows` distinct `width`-float windows from rows of a (1, H, W, 3) crop, away from the
    (edge-repeated) borders: the middle `width` floats of evenly spaced inner rows."""
    c = np.array(crop, dtype=np.float32)[0]
    h = c.shape[0]
    flat_rows = c.reshape(h, -1)
    mid = flat_rows.shape[1] // 2
    lo = mid - width // 2
    chosen = np.linspace(h // 5, h - h // 5, rows).astype(int)
    out = []
    for r in chosen:
        w = np.ascontiguousarray(flat_rows[r, lo:lo + width])
        if not np.all(w == w[0]):
            out.append(w.tobytes())
    return list(dict.fromkeys(out))


def _key_offsets(words: np.ndarray) -> np.ndarray:
    """Per needle (a row of words), the index of the word to index it by: the first
    distinctive one (not 0, +-1.0 or a short float like 6.0 or 0.5, which fill memory
    everywhere), else the first not common; -1 where none."""
    common = np.isin(words, np.array(sorted(_COMMON_WORDS), dtype="<u4")) | (words & 0xFFFFFF == 0)
    score = np.where(common, 0, np.where(words & 0xFFF != 0, 2, 1))
    best = np.argmax(score, axis=1)
    return np.where(score[np.arange(len(words)), best] > 0, best, -1)


class Needles:
    """Named sets of byte needles, indexed for one pass over memory."""

    def __init__(self, sets: dict[str, list[bytes]]):
        self.sets = {k: list(v) for k, v in sets.items()}
        self.items: list[tuple[str, bytes, int]] = []  # (set name, needle, key offset in bytes)
        self.by_key: dict[int, list[int]] = defaultdict(list)
        for name, needles in self.sets.items():
            by_length: dict[int, list[bytes]] = defaultdict(list)
            for needle in needles:
                by_length[len(needle) // 4 * 4].append(needle)
            for length, group in by_length.items():
                words = np.frombuffer(b"".join(n[:length] for n in group), "<u4")
                words = words.reshape(len(group), length // 4)
                offsets = _key_offsets(words)
                keys = words[np.arange(len(group)), np.maximum(offsets, 0)]
                for needle, key, offset in zip(group, keys.tolist(), offsets.tolist()):
                    if offset < 0:
                        continue  # nothing distinctive: would match filler everywhere
                    self.by_key[key].append(len(self.items))
                    self.items.append((name, needle, offset * 4))
        self.keys = np.array(sorted(self.by_key), dtype="<u4")
        self.table = np.zeros(1 << _TABLE_BITS, dtype=bool)
        self.table[self.keys & ((1 << _TABLE_BITS) - 1)] = True
        self.max_len = max((len(n) for _, n, _ in self.items), default=0)


@dataclass
class ScanReport:
    """Occurrences per needle set and region kind, and which needles matched."""

    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    distinct: dict[str, set] = field(default_factory=lambda: defaultdict(set))
    hits: list[tuple[str, str, int]] = field(default_factory=list)  # (set, kind, address)
    bytes_scanned: Counter = field(default_factory=Counter)
    skipped: list[Region] = field(default_factory=list)

    def total(self, name: str, exclude: Iterable[str] = ()) -> int:
        return sum(n for k, n in self.counts[name].items() if k not in set(exclude))

    def table(self) -> str:
        kinds = sorted({k for c in self.counts.values() for k in c} | set(self.bytes_scanned))
        lines = [f"{'needle set':<22}" + "".join(f"{k[:14]:>15}" for k in kinds)
                 + f"{'distinct':>10}"]
        for name in self.counts:
            lines.append(f"{name:<22}" + "".join(f"{self.counts[name][k]:>15}" for k in kinds)
                         + f"{len(self.distinct[name]):>10}")
        lines.append(f"{'MB scanned':<22}" + "".join(
            f"{self.bytes_scanned[k] / 1e6:>15.1f}" for k in kinds))
        return "\n".join(lines)


def _scan_buffer(buf: bytes, base: int, kind: str, needles: Needles, report: ScanReport,
                 limit: int) -> None:
    """Count needles whose key word starts before `limit` (a chunk's own part)."""
    mask = (1 << _TABLE_BITS) - 1
    for align in range(4):
        count = (len(buf) - align) // 4
        if count <= 0:
            continue
        words = np.frombuffer(buf, "<u4", count=count, offset=align)
        candidates = np.flatnonzero(needles.table[words & mask])
        if not len(candidates):
            continue
        values = words[candidates]
        # keys is sorted: a binary search (np.isin re-hashes the keys on every call)
        at = np.minimum(np.searchsorted(needles.keys, values), len(needles.keys) - 1)
        keep = needles.keys[at] == values
        for index, value in zip(candidates[keep].tolist(), values[keep].tolist()):
            key_at = align + 4 * index
            if key_at >= limit:
                continue
            for item in needles.by_key[value]:
                name, needle, offset = needles.items[item]
                start = key_at - offset
                if start >= 0 and buf[start:start + len(needle)] == needle:
                    report.counts[name][kind] += 1
                    report.distinct[name].add(item)
                    report.hits.append((name, kind, base + start))


def scan_process(pid: int, needles: Needles | dict[str, list[bytes]],
                 arena: Iterable[tuple[int, int]] = ()) -> ScanReport:
    """Read every readable mapping of `pid` and count each needle per region kind."""
    if not isinstance(needles, Needles):
        needles = Needles(needles)
    report = ScanReport()
    for name in needles.sets:
        report.counts[name]  # every set appears in the report, found or not
    overlap = needles.max_len
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for region in read_maps(pid, arena):
            if region.kind in ("vdso/vvar", "unreadable"):
                report.skipped.append(region)
                continue
            position = region.start
            while position < region.end:
                own = min(_CHUNK, region.end - position)
                length = min(own + overlap, region.end - position)
                try:
                    mem.seek(position)
                    buf = mem.read(length)
                except OSError:
                    report.skipped.append(region)
                    break
                if not buf:
                    report.skipped.append(region)
                    break
                _scan_buffer(buf, position, region.kind, needles, report, own)
                report.bytes_scanned[region.kind] += min(own, len(buf))
                position += own
    return report


FEATURE_STRIDE = 16  # sampling of the attention mesh's feature-map windows (region crops: 4)
HIDDEN_SAMPLE = 8192  # windows kept of a hidden activation larger than this many values


def needle_sets(record: dict[str, Any]) -> dict[str, list[bytes]]:
    """The needle sets of one reference frame (see ``memscan_child.reference``)."""
    sets: dict[str, list[bytes]] = {}
    if "landmarks" in record:
        sets["landmarks f32"] = window_needles(record["landmarks"], 4, np.float32)
        sets["landmarks f64"] = window_needles(record["landmarks"], 4, np.float64)
        # x, y pairs alone (z dropped), as 2D geometry code such as the beauty engine holds them
        xy = np.asarray(record["landmarks"], dtype=np.float32)[:, :2]
        sets["landmarks xy f32"] = window_needles(xy, 4, np.float32)
    if "keypoints" in record:
        sets["keypoints f32"] = window_needles(record["keypoints"], 4, np.float32)
    if "crop" in record:
        sets["crop rows"] = crop_row_needles(record["crop"])
    if "raw" in record:
        sets["raw landmarks f32"] = window_needles(record["raw"], 4, np.float32)
    if "features" in record:  # the attention trunk's feature map: NHWC as the arena holds
        # it, and NCHW as ONNX Runtime computes it before the output's transpose. Every
        # FEATURE_STRIDE-th window: thousands of 16-byte needles are evidence enough, and all
        # 147,000 of them per frame made the 100-frame video scan take three minutes.
        features = np.asarray(record["features"])
        sets["attention features"] = window_needles(features, 4, np.float32)[::FEATURE_STRIDE]
        sets["attention features nchw"] = window_needles(
            features.transpose(0, 3, 1, 2), 4, np.float32)[::FEATURE_STRIDE]
    if "region crops" in record:
        sets["region crops"] = window_needles(record["region crops"], 4,
                                              np.float32)[::FEATURE_STRIDE // 4]
    if "skin mask" in record:  # the beauty engine's skin mask (uint8, the face's region)
        sets["skin mask rows"] = mask_row_needles(record["skin mask"])
    for network, activations in record.get("hidden", {}).items():
        # Windows the network also produces for a blank input (its response to the letterbox
        # padding, say) are no one's data, and a blank-input rerun legitimately leaves them.
        blank = {n for a in record.get("blank", {}).get(network, ())
                 for n in activation_needles(a)}
        # A large activation (the attention trunk's 48x48x32 map) is sampled as the feature
        # map is: at most about HIDDEN_SAMPLE windows per array and order.
        sets[f"hidden {network}"] = list(dict.fromkeys(
            n for a in activations
            for n in activation_needles(a)[::max(1, np.asarray(a).size // HIDDEN_SAMPLE)]
            if n not in blank))
    return sets


def verify_sets(records: list[dict[str, np.ndarray]]) -> dict[str, list[bytes]]:
    """Needles of the verification audit (see ``memscan_child.verify_reference``), per photo:
    descriptor windows (float32 and float64), normalized chip rows, 8-bit chip rows and windows
    of the five alignment points."""
    sets: dict[str, list[bytes]] = {}
    for label, record in zip("AB", records):
        sets[f"descriptor {label} f32"] = window_needles(record["descriptor"], 4, np.float32)
        sets[f"descriptor {label} f64"] = window_needles(record["descriptor"], 4, np.float64)
        sets[f"chip {label} rows"] = crop_row_needles(record["chip"])
        rows = np.ascontiguousarray(record["chip u8"]).reshape(150, -1)
        sets[f"chip {label} u8 rows"] = list(dict.fromkeys(
            rows[r, 90:360].tobytes() for r in range(30, 120, 6)))
        sets[f"points {label} f32"] = window_needles(record["points"], 4, np.float32)
    return sets


def fusion_sets(record: dict[str, np.ndarray]) -> dict[str, list[bytes]]:
    """Needles of the fusion audit (see ``memscan_child.fusion_reference``): 16 rows of the
    user's face texture (64 pixels each, 8-bit RGB), windows of the user's mesh in texture
    pixels and of both faces' meshes in image pixels (x, y pairs and x, y, z rows)."""
    texture = np.ascontiguousarray(record["texture"])
    height, width = texture.shape[:2]
    left = max(0, width // 2 - 32)
    rows = [texture[r, left:left + 64].tobytes()
            for r in np.linspace(height // 5, height - height // 5, 16).astype(int)]
    sets = {"user texture rows": list(dict.fromkeys(r for r in rows if len(set(r)) > 1)),
            "user mesh f32": window_needles(record["user mesh"], 4, np.float32)}
    for face in ("user", "template"):
        points = np.asarray(record[f"{face} landmarks"], dtype=np.float32)
        sets[f"{face} landmarks f32"] = window_needles(points, 4, np.float32)
        sets[f"{face} landmarks xy f32"] = window_needles(points[:, :2], 4, np.float32)
    return sets


def portrait_sets(record: dict[str, np.ndarray]) -> dict[str, list[bytes]]:
    """Needles of the portrait audit (see ``memscan_child.portrait_reference``): up to 16
    64-byte windows of the matte's rows that cross the person's edge (several distinct
    values each, so that no flat run of zeros or 255s matches by chance)."""
    matte = np.ascontiguousarray(record["matte"])
    height, width = matte.shape
    windows: list[bytes] = []
    for row in np.linspace(height // 5, height - 1, 48).astype(int):
        values = matte[row]
        edges = np.flatnonzero((values > 16) & (values < 240))
        if edges.size == 0:
            continue
        left = int(min(max(0, edges[0] - 32), max(0, width - 64)))
        window = values[left:left + 64].tobytes()
        if len(set(window)) > 8:
            windows.append(window)
    return {"matte rows": list(dict.fromkeys(windows))[:16]}


def centerface_sets(record: dict[str, Any]) -> dict[str, list[bytes]]:
    """Needles of the CenterFace audit (see ``memscan_child.centerface_reference``): the five
    keypoints, every FEATURE_STRIDE-th window of the four output maps (as the arena holds them,
    NCHW) that a blank input does not also produce, and the last hidden activations."""
    sets = needle_sets({k: v for k, v in record.items() if k in ("keypoints", "hidden", "blank")})
    for name, values in record["outputs"].items():
        blank = set(window_needles(record["blank outputs"][name]))
        sets[f"centerface {name}"] = [n for n in window_needles(values)
                                      if n not in blank][::FEATURE_STRIDE]
    return sets


def thread_sets(records: list[dict[str, object]]) -> dict[str, list[bytes]]:
    """Needles of the two-thread audit (see ``memscan_child.threads_reference``): each
    thread's :func:`needle_sets`, named ``"A ..."`` (the photo) and ``"B ..."`` (its mirror)."""
    return {f"{label} {name}": needles for label, record in zip("AB", records)
            for name, needles in needle_sets(record).items()}


def earlier_frame_sets(records: list[dict[str, object]]) -> dict[str, list[bytes]]:
    """Needles of every frame but the last, minus any the last frame also has (in video the
    last result is still open, so its values are legitimately in the arena)."""
    last = {name: set(n) for name, n in needle_sets(records[-1]).items()}
    merged: dict[str, dict[bytes, None]] = defaultdict(dict)
    for record in records[:-1]:
        for name, needles in needle_sets(record).items():
            merged[name].update(dict.fromkeys(n for n in needles if n not in last.get(name, ())))
    return {name: list(n) for name, n in merged.items()}


def audit_child(needles: dict[str, list[bytes]], *, mode: str = "image",
                scrub: str | None = None, python: str | None = None,
                env: dict[str, str] | None = None,
                timeout: float = 300.0) -> dict[str, ScanReport]:
    """Start ``python -m facekit.audit.memscan_child``, scan it at each checkpoint, return the
    reports by checkpoint name. `scrub` forces an ONNX Runtime scrub mode in the child; `env`
    adds environment variables (the audit's self-test sets the skip-wipe debug switch)."""
    import json
    import subprocess
    import sys
    import tempfile

    command = [python or sys.executable, "-m", "facekit.audit.memscan_child", "--mode", mode]
    if scrub is not None:
        command += ["--scrub", scrub]
    index = Needles(needles)
    reports: dict[str, ScanReport] = {}
    # The child starts outside any source tree, so it imports the installed facekit.
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             cwd=tempfile.gettempdir(),
                             env=None if env is None else {**os.environ, **env})
    try:
        pid = None
        for line in child.stdout:  # type: ignore[union-attr]  # stdout=PIPE
            message = json.loads(line)
            if message["event"] == "ready":
                pid = message["pid"]
            elif message["event"] == "checkpoint":
                arena = [tuple(r) for r in message["arena"]]
                reports[message["name"]] = scan_process(pid, index, arena)  # type: ignore[arg-type]
                child.stdin.write("continue\n")  # type: ignore[union-attr]  # stdin=PIPE
                child.stdin.flush()  # type: ignore[union-attr]
            elif message["event"] == "done":
                break
        if child.wait(timeout) != 0:
            raise RuntimeError(f"memscan child exited with {child.returncode}")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return reports
