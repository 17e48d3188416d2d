"""tools/package.py's content checks: what may not ship in a wheel or an sdist is found.

A small wheel is built here from the checkout's real manifest and model files, then spoiled one
way at a time; each spoiling must be named, and the unspoiled wheel must pass. (CI runs the
checks on the real sdist and on the x86_64 and aarch64 wheels.)
"""

from __future__ import annotations

import importlib.util
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from support import REPO

MODELS = REPO / "models"


def _package_tool():
    spec = importlib.util.spec_from_file_location("package_tool", REPO / "tools" / "package.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wheel_files() -> dict[str, bytes]:
    manifest = json.loads((MODELS / "manifest.json").read_text())
    files = {"facekit/__init__.py": b"", "facekit/_native.cpython-311-x86_64-linux-gnu.so": b"\0",
             "facekit/data/sample.jpg": b"\xff\xd8",
             "facekit/data/models/manifest.json": (MODELS / "manifest.json").read_bytes()}
    for entry in manifest["models"]:
        files[f"facekit/data/models/{entry['file']}"] = (MODELS / entry["file"]).read_bytes()
    return files


def _write_wheel(tmp_path: Path, files: dict[str, bytes]) -> Path:
    path = tmp_path / "facekit-0.1.0-cp311-cp311-manylinux_2_35_x86_64.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def test_a_complete_wheel_passes(tmp_path):
    assert _package_tool().check(_write_wheel(tmp_path, _wheel_files())) == []


def _spoil_model(files):
    name = next(n for n in files if n.endswith(".onnx"))
    files[name] = files[name][:-1] + bytes([files[name][-1] ^ 1])


def _drop_model(files):
    del files[next(n for n in files if n.endswith(".onnx"))]


@pytest.mark.parametrize(("spoil", "named"), [
    (_spoil_model, "sha256 or size differs"),
    (_drop_model, "missing"),
    (lambda f: f.update({"facekit/data/models/shape_predictor_68_face_landmarks.dat": b"x"}),
     "68-point"),
    (lambda f: f.update({"facekit/data/models/extra.onnx": b"x"}), "does not list"),
    (lambda f: f.update({"facekit/tests/data/face.jpg": b"x"}), "test data"),
    (lambda f: f.update({"facekit/data/someone.png": b"x"}), "other than the demo's sample"),
    (lambda f: f.pop("facekit/_native.cpython-311-x86_64-linux-gnu.so"), "no native core"),
], ids=["tampered-model", "missing-model", "68-point-predictor", "unlisted-model", "test-data",
        "other-photo", "no-native-core"])
def test_each_forbidden_content_is_named(tmp_path, spoil, named):
    files = _wheel_files()
    spoil(files)
    problems = _package_tool().check(_write_wheel(tmp_path, files))
    assert any(named in problem for problem in problems), problems


def test_a_native_core_for_another_architecture_does_not_count(tmp_path):
    files = _wheel_files()
    files["facekit/_native.cpython-311-aarch64-linux-gnu.so"] = files.pop(
        "facekit/_native.cpython-311-x86_64-linux-gnu.so")
    assert any("no native core for x86_64" in p
               for p in _package_tool().check(_write_wheel(tmp_path, files)))


def test_an_sdist_is_checked_under_its_own_layout(tmp_path):
    path = tmp_path / "facekit-0.1.0.tar.gz"
    wheel = _wheel_files()
    files = {"pyproject.toml": b"", "CMakeLists.txt": b"", "README.md": b"",
             "facekit/__init__.py": b"", "tests/data/face.jpg": b"x"}
    files.update({n.replace("facekit/data/models/", "models/"): d for n, d in wheel.items()
                  if n.startswith("facekit/data/models/")})
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"facekit-0.1.0/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    problems = _package_tool().check(path)
    assert [p for p in problems if "tests/data/face.jpg" in p] and len(problems) == 2, problems
