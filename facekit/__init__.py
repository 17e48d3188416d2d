"""facekit: on-device face processing that keeps biometric data in wiped, locked memory.

Public API: :class:`FaceDetector` and :class:`FaceLandmarker` (MediaPipe Tasks-style pipelines
whose results live in a secure arena for one frame), :class:`Beautifier` with
:class:`BeautifierOptions` and :class:`BeautyOptions` (beauty effects), :class:`FaceFuser`
with :class:`FusionOptions` (face fusion and swap, labelled as AI-generated), :func:`anonymize` /
:class:`Anonymizer` with :class:`AnonymizerOptions` (covering faces), :class:`FaceVerifier`
with :class:`FaceVerifierOptions` (same-person checks), :func:`load_image`, the low-level
:class:`SecureArena` / :class:`Frame` / :class:`EphemeralArray`, :class:`RotatedRect`,
:func:`cpu_features`, :func:`telemetry_status`, AI-content labels (:func:`save_image`,
:func:`read_labels`, :class:`Provenance`, :class:`LabelOptions`; see :mod:`facekit.labels`),
:mod:`facekit.models` and the exceptions in :mod:`facekit.errors`.
"""

# First of all: switch ONNX Runtime's telemetry off before anything can import onnxruntime,
# which reads the switch only once (see facekit/_telemetry.py).
from . import _telemetry

_telemetry.switch_off()

from importlib import metadata as _metadata

try:
    from . import _native  # noqa: F401  (fail early, with advice, when the core is not built)
except ImportError as exc:  # a source checkout without a build
    raise ImportError(
        "facekit's native core (facekit._native) is not built; install the package with "
        f"`pip install .` (or `pip install -e .` for development); the import said: {exc}"
    ) from exc

from . import errors, models
from ._ephemeral import Ephemeral, EphemeralArray
from ._pipeline import RunningMode
from ._telemetry import telemetry_status
from .anonymize import Anonymizer, AnonymizerOptions, anonymize
from .arena import ArenaStatus, Frame, SecureArena
from .beauty import EFFECTS, PRESETS, Beautifier, BeautifierOptions, BeautyOptions
from .cpu import active_simd as _active_simd
from .cpu import cpu_features
from .detector import BoundingBox, DetectedFace, DetectionResult, FaceDetector, FaceDetectorOptions
from .fusion import FaceFuser, FusionOptions, FusionResult, UserFace
from .geometry import RotatedRect
from .image import ColorFormat, ImageLike, load_image
from .labels import LabelOptions, Provenance, read_labels, save_image
from .landmarker import FaceLandmarker, FaceLandmarkerOptions, LandmarkedFace, LandmarkerResult
from .portrait import Portrait, PortraitOptions, PortraitResult
from .process import harden_process
from .verify import FaceVerifier, FaceVerifierOptions, Reference, VerifyResult

# The installed distribution's version, so that pyproject.toml is its one source.
__version__ = _metadata.version("facekit")

__all__ = [
    "EFFECTS",
    "PRESETS",
    "Anonymizer",
    "AnonymizerOptions",
    "ArenaStatus",
    "Beautifier",
    "BeautifierOptions",
    "BeautyOptions",
    "BoundingBox",
    "ColorFormat",
    "DetectedFace",
    "DetectionResult",
    "Ephemeral",
    "EphemeralArray",
    "FaceDetector",
    "FaceDetectorOptions",
    "FaceFuser",
    "FaceLandmarker",
    "FaceLandmarkerOptions",
    "FaceVerifier",
    "Frame",
    "FusionOptions",
    "FusionResult",
    "ImageLike",
    "FaceVerifierOptions",
    "LabelOptions",
    "LandmarkedFace",
    "LandmarkerResult",
    "Portrait",
    "PortraitOptions",
    "PortraitResult",
    "Provenance",
    "Reference",
    "RotatedRect",
    "RunningMode",
    "SecureArena",
    "UserFace",
    "VerifyResult",
    "anonymize",
    "cpu_features",
    "errors",
    "harden_process",
    "load_image",
    "models",
    "read_labels",
    "save_image",
    "telemetry_status",
]

# Settle the SIMD path now, so that a bad FACEKIT_SIMD fails at import with a clear message
# rather than in the middle of the first frame.
_active_simd()
