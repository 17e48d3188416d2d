"""Executed-instruction counts of the pixel kernels, per SIMD path, on x86_64 and aarch64.

Wall time under qemu says nothing about ARM speed, so this counts instructions instead: the
native build under callgrind (x86_64: scalar, sse41, avx2) and the cross build under qemu-user
(aarch64: scalar, neon). Each kernel runs on a fixed, deterministic workload modelled on a
face region of a 1080p frame (see native/bench/kernel_runner.cpp):

    cmake --preset native-tests && cmake --build --preset native-tests -j2
    cmake --preset aarch64-tests && cmake --build --preset aarch64-tests -j2
    python benchmarks/instruction_counts.py --json counts.json

How one call is isolated: the whole process is counted with REPEATS=1 and REPEATS=3; everything
but the kernel calls (start-up, input preparation, the checksum) is the same in both, so
(count(3) - count(1)) / 2 is one call in steady state (first-call costs drop out too).

x86_64: ``valgrind --tool=callgrind``, its Ir total (instructions executed, user space).
aarch64: qemu-user logs every translation block (TB) it translates (``-d in_asm``: the guest
instructions in it) and every TB it executes (``-d exec,nochain``: with chaining off each
execution goes through the main loop and is logged). Instructions = sum over executed TBs of
their length. ``--verify-qemu`` checks that against a second, independent count on a small
workload: one instruction per TB (``-one-insn-per-tb``, ``-singlestep`` on qemu < 8.1), where
each logged execution is one instruction.
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNNER = "facekit_kernel_runner"
KERNELS = ("box_sum", "guided_coefficients", "guided_output", "blend", "remap_bilinear",
           "apply_table", "lut3d", "crop_normalize", "pyr_down_rows", "pyr_up_rows", "masked_add",
           "pyr_down_cols", "pyr_up_cols", "rgb_difference", "rgb_add_round", "yuv_to_rgb_row",
           "rgb_to_y_row", "rgb_to_uv_row", "transform_bilinear", "mask_product",
           "skin_likelihood", "matte_output")
X86_ISAS = ("scalar", "sse41", "avx2")
ARM_ISAS = ("scalar", "neon")
# The beauty, fusion and video kernels have no SSE4.1 variant (that path runs the scalar code): crop
# only.
SSE41_KERNELS = ("crop_normalize",)
# Dispatcher calls in one kernel call of the runner: the attention mesh samples three crops.
DISPATCHES = {"transform_bilinear": 3}
DEFAULT_ELEMENTS = 420000  # a 600x700 face region; the crop is 192x192 from a 1920x1080 frame
VERIFY_ELEMENTS = 4096
QEMU = "qemu-aarch64"


class CountError(RuntimeError):
    pass


class Unavailable(CountError):
    """The runner exits 3 when this build or CPU lacks the requested path."""


def _check_exit(rc: int, argv: list[str], how: str, stderr: str) -> None:
    if rc == 3:  # the runner's own message, not valgrind's "==pid==" lines
        own = [line for line in stderr.splitlines() if line.strip() and not line.startswith("==")]
        raise Unavailable(own[-1] if own else "path unavailable")
    if rc != 0:
        raise CountError(f"{' '.join(argv)} under {how} exited {rc}: {stderr.strip()[-300:]}")


# ---- running one count -------------------------------------------------------------------------

def _runner_line(stdout: str, argv: list[str]) -> dict:
    """The runner's result line (key=value pairs) as a dict."""
    for line in stdout.splitlines():
        if line.startswith("kernel="):
            return dict(item.split("=", 1) for item in line.split())
    raise CountError(f"no result line from {' '.join(argv)}: {stdout!r}")


def count_callgrind(runner: str, kernel: str, isa: str, repeats: int, elements: int) -> dict:
    """Instructions executed by the whole process under callgrind (its Ir total)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        argv = [runner, kernel, isa, str(repeats), str(elements)]
        valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        proc = subprocess.run(valgrind + argv, capture_output=True, text=True)
        _check_exit(proc.returncode, argv, "callgrind", proc.stderr)
        total = None
        with open(out) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    total = int(line.split()[1])
        if total is None:
            raise CountError(f"no totals in callgrind output of {' '.join(argv)}")
    return {"instructions": total, "result": _runner_line(proc.stdout, argv)}


def parse_qemu_log(stream, one_insn_per_tb: bool = False) -> dict:
    """Instructions executed, from a qemu ``-d in_asm,exec,nochain`` log (bytes lines).

    Each translation is logged ("----------------", "IN: symbol", one "0x<pc>:  ..." line per
    guest instruction, blank line) just before the first execution of that TB, and every
    execution is logged as "Trace <cpu>: <host code ptr> [...]". A TB is known by its host code
    pointer; a later translation at the same pointer (after a code-buffer flush) replaces it.
    "Stopped execution of TB chain before <ptr>" marks a logged TB that did not run after all.
    With ``one_insn_per_tb`` (a log of ``-d exec,nochain`` only, one instruction per TB) each
    execution counts one instruction and translations are not needed.
    """
    size: dict[bytes, int] = {}
    pending = 0
    instructions = executions = stopped = 0
    for line in stream:
        head = line[:1]
        if head == b"T":  # "Trace 0: 0x7f... [...] symbol"
            if not line.startswith(b"Trace "):
                continue
            executions += 1
            if one_insn_per_tb:
                instructions += 1
                continue
            start = line.index(b" ", 6) + 1
            ptr = line[start:line.index(b" ", start)]
            if pending:
                size[ptr] = pending
                pending = 0
            try:
                instructions += size[ptr]
            except KeyError:
                raise CountError(f"executed TB {ptr.decode()} was never translated in the log") from None
        elif head == b"0" and line.startswith(b"0x"):  # one guest instruction of a translation
            pending += 1
        elif head == b"-" and line.startswith(b"----"):  # a new translation starts
            pending = 0
        elif head == b"S" and line.startswith(b"Stopped execution of TB chain before "):
            ptr = line.split()[6]
            stopped += 1
            executions -= 1
            instructions -= 1 if one_insn_per_tb else size.get(ptr, 0)
    return {"instructions": instructions, "tb_executions": executions, "tbs_stopped": stopped}


@functools.cache
def qemu_single_insn_flag() -> str:
    """-one-insn-per-tb on qemu >= 8.1, -singlestep before."""
    helptext = subprocess.run([QEMU, "-h"], capture_output=True, text=True).stdout
    return "-one-insn-per-tb" if "-one-insn-per-tb" in helptext else "-singlestep"


def count_qemu(runner: str, kernel: str, isa: str, repeats: int, elements: int, cpu: str,
               one_insn_per_tb: bool = False) -> dict:
    """Instructions executed by the whole process under qemu-user, from its log (read through
    a pipe: the log of a run is hundreds of MB)."""
    argv = [runner, kernel, isa, str(repeats), str(elements)]
    read_fd, write_fd = os.pipe()
    if one_insn_per_tb:
        qemu = [QEMU, "-cpu", cpu, qemu_single_insn_flag(), "-d", "exec,nochain"]
    else:
        qemu = [QEMU, "-cpu", cpu, "-d", "in_asm,exec,nochain"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(qemu + ["-D", f"/dev/fd/{write_fd}"] + argv, pass_fds=(write_fd,),
                                stdout=out, stderr=err)
        os.close(write_fd)
        with os.fdopen(read_fd, "rb", buffering=1 << 20) as log:
            counts = parse_qemu_log(log, one_insn_per_tb)
        rc = proc.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    _check_exit(rc, argv, "qemu", stderr)
    return dict(counts, result=_runner_line(stdout, argv))


def _task(task: tuple) -> tuple:
    """One count (a worker process's unit of work). Returns (task, result or error string)."""
    arch, kernel, isa, repeats, elements, runner, cpu, one_insn = task
    started = time.monotonic()
    try:
        if arch == "x86_64":
            result = count_callgrind(runner, kernel, isa, repeats, elements)
        else:
            result = count_qemu(runner, kernel, isa, repeats, elements, cpu, one_insn)
    except Unavailable as e:
        return task, {"unavailable": str(e)}
    except (CountError, OSError, ValueError) as e:
        return task, str(e)
    result["seconds"] = round(time.monotonic() - started, 2)
    expected = repeats * DISPATCHES.get(kernel, 1)
    if int(result["result"]["calls"]) != expected:
        return task, f"the {isa} kernel ran {result['result']['calls']} times, not {expected}"
    return task, result


def run_tasks(tasks: list[tuple], jobs: int) -> dict:
    if jobs <= 1:
        return dict(map(_task, tasks))
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        return dict(pool.imap_unordered(_task, tasks))


# ---- tools and builds --------------------------------------------------------------------------

def tool_version(argv: list[str]) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True).stdout.strip()
    except OSError:
        return None
    return out.splitlines()[0] if out else None


def find_runner(build: Path, what: str) -> str | None:
    path = build / RUNNER
    if path.is_file() and os.access(path, os.X_OK):
        return str(path)
    print(f"{what}: {path} not found: build it with the preset (see --help); skipping",
          file=sys.stderr)
    return None


# ---- report ------------------------------------------------------------------------------------

COLUMNS = [("x86_64", "scalar"), ("x86_64", "sse41"), ("x86_64", "avx2"),
           ("aarch64", "scalar"), ("aarch64", "neon")]
RATIOS = [("x86_64", "scalar", "avx2"), ("aarch64", "scalar", "neon")]


def fmt_count(v: float | None, per_element: bool) -> str:
    if v is None:
        return "—"
    return f"{v:.2f}" if per_element else f"{v:,.0f}"


def table(results: dict, per_element: bool) -> str:
    head = ["kernel", "output elements"] + [f"{a} {i}" for a, i in COLUMNS] + \
        [f"{a} {s}/{v}" for a, s, v in RATIOS]
    lines = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    for kernel, entry in results.items():
        elements = entry.get("output_elements")
        cells = [kernel, f"{elements:,}" if elements else "—"]
        for arch, isa in COLUMNS:
            per_call = entry.get(arch, {}).get(isa, {}).get("per_call")
            if per_call is not None and per_element:
                per_call /= elements
            cells.append(fmt_count(per_call, per_element))
        for arch, slow, fast in RATIOS:
            a = entry.get(arch, {}).get(slow, {}).get("per_call")
            b = entry.get(arch, {}).get(fast, {}).get("per_call")
            cells.append(f"{a / b:.2f}x" if a and b else "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--x86-build", type=Path, default=ROOT / "build" / "native-tests",
                        help="build folder of the native-tests preset (default: %(default)s)")
    parser.add_argument("--aarch64-build", type=Path, default=ROOT / "build" / "aarch64-tests",
                        help="build folder of the aarch64-tests preset (default: %(default)s)")
    parser.add_argument("--json", type=Path, help="write every count to this JSON file")
    parser.add_argument("--kernels", default=",".join(KERNELS),
                        help="comma-separated subset of: " + ", ".join(KERNELS))
    parser.add_argument("--elements", type=int, default=DEFAULT_ELEMENTS,
                        help="pixels of the face region (default: %(default)s = 600x700; the "
                             "crop's side scales with it, 192 at the default)")
    parser.add_argument("--qemu-cpu", default="cortex-a53",
                        help="qemu -cpu model (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="counts run in parallel (default: %(default)s)")
    parser.add_argument("--verify-qemu", action="store_true",
                        help=f"also count every aarch64 kernel and path at {VERIFY_ELEMENTS} "
                             "elements with one instruction per TB and require the same totals")
    args = parser.parse_args(argv)
    kernels = [k for k in args.kernels.split(",") if k]
    unknown = set(kernels) - set(KERNELS)
    if unknown:
        parser.error(f"unknown kernels: {', '.join(sorted(unknown))}")

    started = time.monotonic()
    tools = {"host": platform.machine()}
    tasks: list[tuple] = []
    x86_runner = arm_runner = None
    if shutil.which("valgrind") is None:
        print("valgrind is missing (Debian: apt-get install valgrind): skipping the x86_64 columns",
              file=sys.stderr)
    elif platform.machine() not in ("x86_64", "AMD64"):
        print(f"this host is {platform.machine()}, not x86_64: skipping the x86_64 columns",
              file=sys.stderr)
    else:
        x86_runner = find_runner(args.x86_build, "x86_64")
        tools["valgrind"] = tool_version(["valgrind", "--version"])
    if shutil.which(QEMU) is None:
        print(f"{QEMU} is missing (Debian: apt-get install qemu-user): skipping the aarch64 "
              "columns", file=sys.stderr)
    else:
        arm_runner = find_runner(args.aarch64_build, "aarch64")
        tools["qemu"] = tool_version([QEMU, "--version"])
        tools["qemu_cpu"] = args.qemu_cpu
    if x86_runner is None and arm_runner is None:
        print("nothing to count", file=sys.stderr)
        return 1

    for kernel in kernels:
        for repeats in (1, 3):
            if x86_runner:
                for isa in X86_ISAS:
                    if isa != "sse41" or kernel in SSE41_KERNELS:
                        tasks.append(("x86_64", kernel, isa, repeats, args.elements, x86_runner,
                                      None, False))
            if arm_runner:
                for isa in ARM_ISAS:
                    tasks.append(("aarch64", kernel, isa, repeats, args.elements, arm_runner,
                                  args.qemu_cpu, False))
        if arm_runner and args.verify_qemu:
            for isa in ARM_ISAS:
                for one_insn in (False, True):
                    tasks.append(("aarch64", kernel, isa, 1, VERIFY_ELEMENTS, arm_runner,
                                  args.qemu_cpu, one_insn))
    # Longest first (qemu, scalar), so the parallel workers finish together.
    tasks.sort(key=lambda t: (t[0] != "aarch64", t[2] != "scalar", -t[3]))
    print(f"{len(tasks)} counts on {args.jobs} worker(s)...", file=sys.stderr)
    done = run_tasks(tasks, args.jobs)

    failures = []
    results: dict[str, dict] = {}
    for kernel in kernels:
        entry: dict = {}
        checksums = set()
        for arch, isa in COLUMNS:
            runs = {t[3]: r for t, r in done.items()
                    if t[:3] == (arch, kernel, isa) and t[4] == args.elements}
            if not runs:
                continue
            errors = [r for r in runs.values() if isinstance(r, str)]
            if errors:
                failures.append(f"{kernel} {arch} {isa}: {errors[0]}")
                continue
            one, three = runs[1], runs[3]
            if "unavailable" in one or "unavailable" in three:
                print(f"{kernel} {arch} {isa}: {one.get('unavailable') or three['unavailable']}",
                      file=sys.stderr)
                continue
            diff = three["instructions"] - one["instructions"]
            entry.setdefault(arch, {})[isa] = {
                "per_call": diff / 2,
                "process_total": {"repeats_1": one["instructions"],
                                  "repeats_3": three["instructions"]},
                "seconds": one["seconds"] + three["seconds"],
                **({"tb_executions": {"repeats_1": one["tb_executions"],
                                      "repeats_3": three["tb_executions"]}}
                   if "tb_executions" in one else {}),
            }
            entry["elements"] = int(one["result"]["elements"])
            entry["output_elements"] = int(one["result"]["output_elements"])
            checksums.update((one["result"]["checksum"], three["result"]["checksum"]))
        entry["checksums_agree"] = len(checksums) <= 1
        if len(checksums) > 1:
            failures.append(f"{kernel}: outputs differ between paths/architectures: "
                            f"{sorted(checksums)}")
        if args.verify_qemu and arm_runner:
            for isa in ARM_ISAS:
                key = ("aarch64", kernel, isa, 1, VERIFY_ELEMENTS, arm_runner, args.qemu_cpu)
                by_tb, by_insn = done[key + (False,)], done[key + (True,)]
                if isinstance(by_tb, str) or isinstance(by_insn, str):
                    error = by_tb if isinstance(by_tb, str) else by_insn
                    failures.append(f"verify {kernel} {isa}: {error}")
                    continue
                if "unavailable" in by_tb or "unavailable" in by_insn:
                    continue
                same = by_tb["instructions"] == by_insn["instructions"]
                entry.setdefault("qemu_verification", {})[isa] = {
                    "elements": VERIFY_ELEMENTS, "by_tb": by_tb["instructions"],
                    "one_insn_per_tb": by_insn["instructions"], "equal": same}
                if not same:
                    failures.append(f"verify {kernel} {isa}: TB count {by_tb['instructions']} != "
                                    f"one-insn-per-TB count {by_insn['instructions']}")
        results[kernel] = entry

    seconds = time.monotonic() - started
    print(f"\nInstructions per kernel call ((count at REPEATS=3 - at REPEATS=1) / 2; x86_64: "
          f"callgrind, aarch64: qemu-user -cpu {args.qemu_cpu}):\n")
    print(table(results, per_element=False))
    print("\nInstructions per output element:\n")
    print(table(results, per_element=True))
    if args.verify_qemu and arm_runner:
        checks = [v for e in results.values() for v in e.get("qemu_verification", {}).values()]
        print(f"\nqemu TB counting vs one instruction per TB ({qemu_single_insn_flag()}), "
              f"about {VERIFY_ELEMENTS} elements: {sum(v['equal'] for v in checks)} of "
              f"{len(kernels) * len(ARM_ISAS)} agree exactly")
    print(f"\n{len(tasks)} counts in {seconds:.0f} s", file=sys.stderr)
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)

    if args.json:
        report = {
            "method": "per_call = (instructions of the whole process at REPEATS=3"
                      " - at REPEATS=1) / 2",
            "elements": args.elements,
            "tools": tools,
            "seconds": round(seconds, 1),
            "kernels": results,
            "failures": failures,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
