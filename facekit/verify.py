"""Same-person verification that never exposes a face descriptor.

For each image the landmarker finds the face (or the caller passes its own FaceLandmarker
result: ``faces_a=``/``faces_b=``). Native code then runs dlib's own frontal face
detector near the mesh (only the pyramid levels and windows around the face) to get the box
dlib would report, dlib's own 5-point shape predictor in that box (so the five points are
dlib's points), and cuts dlib's aligned 150x150 chip into the arena; the embedding network (dlib's ResNet, converted to ONNX) writes the 128-d descriptor
into the arena, and native code compares two descriptors. Python only ever holds the decision
and the distance. Only this module loads the embedding network, the shape predictor and the
detector.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from . import _native
from ._checks import checked_color_format, options_from, real, whole_number
from ._ephemeral import Ephemeral, EphemeralArray
from ._inference import Network
from ._pipeline import begin_frame, exclusive, frame_of, shared_faces
from ._resource import NativeResource
from .arena import Frame, SecureArena, expose, native_arena
from .detector import MAX_FACES, MAX_THREADS
from .errors import (
    AmbiguousFaceError,
    ClosedError,
    FaceTooSmallError,
    ModelIntegrityError,
    NoFaceError,
)
from .image import ColorFormat, ImageLike, as_pixels
from .landmarker import FaceLandmarker, FaceLandmarkerOptions, LandmarkedFace, LandmarkerResult
from .models import read_verified

__all__ = ["FaceVerifier", "FaceVerifierOptions", "VerifyResult", "Reference", "DEFAULT_THRESHOLD"]

DEFAULT_THRESHOLD = 0.6  # the distance dlib's network was trained to separate people at
EMBEDDING = "dlib_face_recognition_resnet_v1"
SHAPE_PREDICTOR = "dlib_shape_predictor_5"
HOG_DETECTOR = "dlib_frontal_face_detector"
MIN_FACE = 48      # pixels: the side of the face's ROI below which a comparison is refused
AMBIGUOUS = 0.85   # a second face at least this fraction of the largest one's size: ambiguous


def _chip_normalization(network: Network) -> tuple[tuple[float, float, float], float]:
    """The embedding network's input normalization, (pixel - mean) * scale: from the model's
    metadata (input_mean_rgb, input_scale), else dlib's values (the native fallback)."""
    meta = network.session.get_modelmeta().custom_metadata_map
    if "input_mean_rgb" not in meta or "input_scale" not in meta:
        return _native.verify.CHIP_MEAN_RGB, _native.verify.CHIP_SCALE
    r, g, b = (float(v) for v in meta["input_mean_rgb"].split(","))
    return (r, g, b), float(meta["input_scale"])


@dataclass(frozen=True)
class VerifyResult:
    """The decision: ``same_person`` is ``distance < threshold``."""

    same_person: bool
    distance: float
    threshold: float


def _native_model(kind, name: str):
    """A native model from its checked bytes. A file that matches its manifest but does not
    parse is a damaged install, not a bad argument: ModelIntegrityError, like a hash mismatch."""
    try:
        return kind(read_verified(name))
    except ValueError as exc:
        raise ModelIntegrityError(f"model {name} is malformed ({exc}). Reinstall facekit.") \
            from None


@dataclass(frozen=True)
class FaceVerifierOptions:
    """How a :class:`FaceVerifier` decides.

    Attributes:
        threshold: distances below it mean "same person", in (0, 2) (0.6: the one the network
            was trained with).
        face_index: which face of each image to use, by size (0 = the largest). ``None`` (the
            default) uses the largest face and refuses images whose two largest faces are of
            about the same size (:class:`~facekit.errors.AmbiguousFaceError`).
        color_format: channel order of 3/4-channel numpy images (``"bgr"`` for OpenCV).
        intra_op_threads: ONNX Runtime threads per network. 1 is fastest for the landmark
            networks; more than 1 also makes the scrub of ONNX Runtime's buffers fall back from
            "perturb" to "rerun" (a blank run after every inference, +65-80% of inference time:
            see ``facekit._inference.SCRUB_MODES``).

    Verification compares still images: it has no running mode.
    """

    threshold: float = DEFAULT_THRESHOLD
    face_index: int | None = None
    color_format: ColorFormat = "rgb"
    intra_op_threads: int = 1

    def __post_init__(self) -> None:
        store = partial(object.__setattr__, self)
        store("threshold", real("threshold", self.threshold, 0.0, 2.0, open_low=True,
                                open_high=True))
        if self.face_index is not None:
            store("face_index", whole_number("face_index", self.face_index, 0, MAX_FACES - 1))
        store("color_format", checked_color_format(self.color_format))
        store("intra_op_threads",
              whole_number("intra_op_threads", self.intra_op_threads, 1, MAX_THREADS))


class FaceVerifier(NativeResource):
    """Decides whether two photos show the same person.

    Build it from :class:`FaceVerifierOptions` (``FaceVerifier.create_from_options(options)``),
    or with the shorthand ``FaceVerifier(threshold, face_index=...)``: the threshold and any
    :class:`FaceVerifierOptions` field as a keyword.

    Raises :class:`~facekit.errors.NoFaceError` for an image without a face and
    :class:`~facekit.errors.FaceTooSmallError` for a face under 48 pixels. One thread at a time:
    a call while another thread's call is under way raises
    :class:`~facekit.errors.ConcurrentUseError` (create one FaceVerifier per thread).
    """

    def __init__(self, options: FaceVerifierOptions | float | None = None,
                 **fields: Any) -> None:
        self.options = options_from(FaceVerifierOptions, options, "threshold", fields)
        face_index, threads = self.options.face_index, self.options.intra_op_threads
        self._landmarker = FaceLandmarker(FaceLandmarkerOptions(
            max_faces=8 if face_index is None else max(8, face_index + 1),
            color_format=self.options.color_format, intra_op_threads=threads))
        self._network = Network(EMBEDDING, threads)
        self._chip_mean, self._chip_scale = _chip_normalization(self._network)
        self._predictor = _native_model(_native.verify.ShapePredictor, SHAPE_PREDICTOR)
        self._detector = _native_model(_native.verify.HogFaceDetector, HOG_DETECTOR)
        self._hold = SecureArena()  # image A's descriptor while image B is processed
        self._closed = False

    @classmethod
    def create_from_options(cls, options: FaceVerifierOptions) -> FaceVerifier:
        """MediaPipe Tasks-style constructor."""
        return cls(options_from(FaceVerifierOptions, options, None, {}))

    def verify(self, image_a: ImageLike, image_b: ImageLike, *,
               faces_a: LandmarkerResult | None = None,
               faces_b: LandmarkerResult | None = None) -> VerifyResult:
        """Compare the chosen face of each image.

        ``faces_a`` / ``faces_b``: an open result of :meth:`FaceLandmarker.detect` on that
        same image, so that landmarks found once serve every effect; the verifier then runs no
        landmark network for that image (only dlib's alignment and the embedding network). The
        face is chosen among the result's faces as among its own (``face_index``; with
        ``face_index=None``, a result of ``max_faces=1`` cannot show a second face, so no
        AmbiguousFaceError). Refused: a result that has ended (ExpiredFrameError), one of
        another image size (ValueError) or one opened by another thread (ConcurrentUseError).
        """
        self._check_open()
        with exclusive(self._landmarker), self._hold.frame() as hold:
            first = self._describe(image_a, hold, faces_a)
            second = self._describe(image_b, hold, faces_b)
            distance = float(_native.verify.distance(first, second))
        threshold = self.options.threshold
        return VerifyResult(distance < threshold, distance, threshold)

    def reference(self, avatar: ImageLike, *,
                  faces: LandmarkerResult | None = None) -> Reference:
        """A reference scope for checking a stream against one photo::

            with verifier.reference(avatar) as ref:
                for frame in frames:
                    if ref.matches(frame).same_person: ...

        The avatar's descriptor lives in the arena until the ``with`` block ends, then is wiped.
        ``faces``: the avatar's landmarks, as in :meth:`verify`.
        """
        self._check_open()
        return Reference(self, avatar, faces)

    def _describe(self, image: ImageLike, hold: Frame,
                  faces: LandmarkerResult | None = None) -> EphemeralArray:
        """The descriptor of the chosen face, copied into `hold` (an arena frame)."""
        pixels, pixel_format = as_pixels(image, self.options.color_format)
        # One call at a time (re-entrant within verify()): the landmarker's frame, arena and
        # the embedding network are shared by every call of this verifier.
        with exclusive(self._landmarker):
            if faces is None:
                result = self._landmarker.detect(pixels)
                found, frame = result.faces, frame_of(result)
            else:
                found = shared_faces(faces, (LandmarkerResult,), pixels.shape, "faces")
                frame = begin_frame(self._landmarker)  # for the chip and the descriptor
            with frame:
                face = self._choose(found)
                scratch = native_arena(frame)
                points, _ = _native.verify.chip_points(pixels, pixel_format, face.landmarks,
                                                       self._detector, self._predictor, scratch)
                chip = _native.verify.chip(pixels, pixel_format, points, scratch,
                                           mean=self._chip_mean, scale=self._chip_scale)
                descriptor = self._network.run(frame, chip.view(EphemeralArray))["descriptor"]
                return expose(hold, descriptor)

    def _choose(self, found: list[LandmarkedFace]) -> LandmarkedFace:
        """The face to compare: by face_index, the largest first; refuses no face, an
        ambiguous choice and a face too small."""
        faces = sorted(found, key=lambda f: -f.roi.width)
        if not faces:
            raise NoFaceError("no face found in the image")
        chosen = self.options.face_index
        index = chosen or 0
        if index >= len(faces):
            raise NoFaceError(f"face_index {index} asked for, but the image shows "
                              f"{len(faces)} face(s)")
        if (chosen is None and len(faces) > 1
                and faces[1].roi.width >= AMBIGUOUS * faces[0].roi.width):
            raise AmbiguousFaceError(
                f"the image shows {len(faces)} faces and the two largest are about the same "
                f"size; pass face_index to choose one")
        face = faces[index]
        if face.roi.width < MIN_FACE:
            raise FaceTooSmallError(f"the face is {face.roi.width:.0f} pixels wide; at "
                                    f"least {MIN_FACE} are needed to compare it")
        return face

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError("this FaceVerifier is closed")

    def close(self) -> None:
        """Wipe and release everything. Safe to call twice."""
        if not self._closed:
            self._closed = True
            self._landmarker.close()
            self._hold.close()

    def __enter__(self) -> FaceVerifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FaceVerifier(threshold={self.options.threshold})"


class Reference(Ephemeral):
    """One photo's descriptor, held in its own arena for the length of a ``with`` block.

    Like every ephemeral object it refuses pickle, copy, deepcopy and json
    (:class:`~facekit.errors.BiometricExportError`) and its ``repr`` shows no values.
    """

    def __init__(self, verifier: FaceVerifier, avatar: ImageLike,
                 faces: LandmarkerResult | None = None) -> None:
        self._verifier = verifier
        self._store = SecureArena()
        self._frame = self._store.frame()
        try:
            self._descriptor = verifier._describe(avatar, self._frame, faces)
        except BaseException:
            self.close()
            raise

    @property
    def expired(self) -> bool:
        """True once the scope has ended and the descriptor was wiped."""
        return self._frame.expired

    def matches(self, image: ImageLike, *,
                faces: LandmarkerResult | None = None) -> VerifyResult:
        """Compare the chosen face of `image` with the reference (``faces``: the image's
        landmarks, as in :meth:`FaceVerifier.verify`)."""
        if self.expired:
            raise ClosedError("this reference scope has ended")
        verifier = self._verifier
        with exclusive(verifier._landmarker), verifier._hold.frame() as hold:
            other = verifier._describe(image, hold, faces)
            distance = float(_native.verify.distance(self._descriptor, other))
        threshold = verifier.options.threshold
        return VerifyResult(distance < threshold, distance, threshold)

    def close(self) -> None:
        """Wipe the reference descriptor now."""
        self._frame.close()
        self._store.close()

    def __enter__(self) -> Reference:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Reference({'ended' if self.expired else 'open'})"
