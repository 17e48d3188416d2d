"""Exceptions raised by facekit.

Every facekit-specific error derives from :class:`FacekitError`. Errors that are also a
standard kind of mistake derive from the matching builtin too, so ``except ValueError`` and
``except TypeError`` keep working in code that does not know facekit.
"""

from __future__ import annotations

__all__ = [
    "FacekitError",
    "ExpiredFrameError",
    "BiometricExportError",
    "FrameInUseError",
    "ClosedError",
    "ConcurrentUseError",
    "SimdUnavailableError",
    "ModelIntegrityError",
    "NoFaceError",
    "AmbiguousFaceError",
    "FaceTooSmallError",
    "AnonymizationError",
    "TelemetryWarning",
    "NotPicklableError",
    "ImageTooLargeError",
    "ConsentRequiredError",
    "NotSamePersonError",
]


class FacekitError(Exception):
    """Base class of every facekit error."""


class ExpiredFrameError(FacekitError, RuntimeError):
    """A frame's results were used after its scope ended and its arena was wiped."""


class BiometricExportError(FacekitError, TypeError):
    """An attempt to serialize, copy or persist ephemeral biometric data.

    facekit never writes landmarks, keypoints, embeddings or face crops anywhere. Its ephemeral
    arrays and results refuse pickle, copy, deepcopy, json, ``np.save``/``savez``/``savetxt``,
    ``tofile``, ``tobytes``, ``dump`` and ``dumps``. An application that must keep numbers can
    copy them out explicitly (for example ``np.array(view)``), and then owns that decision.
    """


class FrameInUseError(FacekitError, RuntimeError):
    """A second frame was opened on an arena whose frame is still open."""


class ClosedError(FacekitError, RuntimeError):
    """An object was used after ``close()``."""


class ConcurrentUseError(FacekitError, RuntimeError):
    """A pipeline was called from a thread while another thread's call was in progress or
    another thread's result of it was still open.

    A pipeline serves one thread at a time: its arena holds one frame, which belongs to the
    thread that opened it. Use one pipeline per thread, or end a result (``with`` or
    ``close()``) before another thread calls the pipeline.
    """


class SimdUnavailableError(FacekitError, ValueError):
    """``FACEKIT_SIMD`` (or a forced path) names a SIMD path this build or CPU cannot run."""


class ModelIntegrityError(FacekitError):
    """A shipped model file is missing, truncated or altered: its sha256 is not the manifest's.

    facekit refuses to run a network whose bytes it cannot vouch for; reinstall the package.
    """


class NoFaceError(FacekitError, ValueError):
    """An image given for verification shows no face the detector can find."""


class AmbiguousFaceError(FacekitError, ValueError):
    """An image shows several faces of about the same size and no face index was given."""


class FaceTooSmallError(FacekitError, ValueError):
    """The face is too small to compare reliably."""


class AnonymizationError(FacekitError, RuntimeError):
    """A face was still found after anonymization's last cover round, and the
    :class:`~facekit.Anonymizer` was told to raise (``on_failure="raise"``) rather than cover the
    whole image. No image is returned."""


class TelemetryWarning(RuntimeWarning):
    """ONNX Runtime's telemetry may be on in this process, and facekit cannot turn it off.

    Official onnxruntime wheels carry Microsoft's telemetry client, which writes an event database
    under ``~/.cache/Microsoft`` and looks up Microsoft's event collector on the network. facekit
    sets ``ORT_DISABLE_TELEMETRY=1`` when it is imported, but ONNX Runtime reads that variable
    only once, when onnxruntime is first imported. This warning means onnxruntime was imported
    before facekit without the variable set to 1: set ``ORT_DISABLE_TELEMETRY=1`` in the
    environment (or ``os.environ``) before importing onnxruntime, or import facekit first.
    """


class NotPicklableError(FacekitError, TypeError):
    """An attempt to pickle or copy a pipeline, verifier or arena.

    These objects hold native resources (a secure arena, loaded networks and models) that have
    no byte form; create a new one instead (in another process, build it there).
    """


class ImageTooLargeError(FacekitError, ValueError):
    """An image file holds more pixels than the decoder's limit (PIL's decompression-bomb
    guard, ``PIL.Image.MAX_IMAGE_PIXELS``)."""


class ConsentRequiredError(FacekitError, ValueError):
    """Face fusion was asked for without an attestation of consent.

    The Deep Synthesis Provisions (Art. 14) require the separate consent of every person whose
    face is edited: a :class:`~facekit.FaceFuser` is only created from
    ``FusionOptions(consent="...")``, the application's attestation that they agreed (recorded
    in every result's provenance).
    """


class NotSamePersonError(FacekitError, ValueError):
    """The photo given for fusion does not show the person in the selfie given with it
    (``fuser.user(photo, same_person_as=selfie)``): a face may only be fused by its owner."""
