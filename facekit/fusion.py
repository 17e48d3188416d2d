"""Face fusion and face swap: a user's face fused into the faces of a template image or video.

The user's photo is prepared once, in the arena of a ``with fuser.user(photo)`` scope: native
code cuts the user's face texture, its mesh in texture pixels and its skin colour statistics
out of the photo, and they stay there until the scope ends. Each template image (or video
frame) is landmarked in the fuser's frame arena; native code aligns the user's mesh to the
template face, warps both faces to the target geometry (``shape``), transfers the skin colour,
and blends the user's appearance in (``features``) on the face's region only. No mesh,
texture, mask or warp value reaches Python. Every fused image carries a visible
"AI-generated" mark unless ``label=False`` is asked for, and a :class:`~facekit.Provenance`
that :func:`facekit.save_image` writes into the file's metadata.

Using a person's face needs that person's separate consent (Deep Synthesis Provisions, Art.
14): a fuser is only created from options that carry the application's attestation
(``consent=``).
"""

from __future__ import annotations

import dataclasses
import json
import weakref
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _native
from ._checks import (
    checked_color_format,
    checked_running_mode,
    choice,
    flag,
    fraction,
    options_from,
    whole_number,
)
from ._ephemeral import Ephemeral, EphemeralArray
from ._pipeline import (
    RunningMode,
    begin_frame,
    check_timestamp,
    exclusive,
    frame_of,
    shared_faces,
    video_timestamp,
)
from ._resource import NativeResource
from .arena import SecureArena, allocate, native_arena
from .beauty import mesh_regions
from .detector import MAX_THREADS
from .errors import (
    AmbiguousFaceError,
    ClosedError,
    ConsentRequiredError,
    NoFaceError,
    NotSamePersonError,
)
from .image import ColorFormat, ImageLike, as_pixels
from .labels import LabelOptions, Provenance, draw_label
from .landmarker import FaceLandmarker, FaceLandmarkerOptions, LandmarkedFace, LandmarkerResult

if TYPE_CHECKING:
    from .verify import FaceVerifier

__all__ = ["FusionOptions", "FaceFuser", "UserFace", "FusionResult", "MAX_TEMPLATE_FACES",
           "CONSENT_RULE"]

MAX_TEMPLATE_FACES = 6  # as the commercial fusion services: up to 6 faces per template
CONSENT_RULE = ("Deep Synthesis Provisions, Art. 14: editing a person's face needs that "
                "person's separate consent")
AMBIGUOUS = 0.85  # a second face at least this fraction of the largest one's size: ambiguous


@lru_cache(maxsize=1)
def triangles() -> np.ndarray:
    """The 852 triangles of the 468-point mesh (facekit/data/face_triangles.json), int32 (T, 3),
    read-only (one array shared by every fuser)."""
    path = Path(__file__).resolve().parent / "data" / "face_triangles.json"
    table = np.array(json.loads(path.read_text())["triangles"], dtype=np.int32)
    table.setflags(write=False)
    return table


@dataclass(frozen=True)
class FusionOptions:
    """How a :class:`FaceFuser` fuses.

    Attributes:
        shape: 0..1, how much of the user's face shape the result takes (0: the template's
            face shape, pose and expression; 1: the user's shape, aligned to the template
            face's pose).
        features: 0..1, how much of the user's appearance (skin, eyes, brows, nose, lips) the
            result shows (0: the template's).
        consent: the application's attestation that every person whose face is used agreed,
            recorded in each result's provenance. Required: :meth:`FaceFuser.create_from_options`
            raises :class:`~facekit.errors.ConsentRequiredError` without it (see
            :data:`CONSENT_RULE`).
        running_mode: ``RunningMode.IMAGE`` or ``RunningMode.VIDEO`` (frames of one stream:
            landmarks are tracked and the template's colour statistics smoothed over time).
        template_faces: which faces of the template receive the user's face, by size (0 = the
            largest): ``"largest"``, a list of indices, or ``"all"`` (at most
            :data:`MAX_TEMPLATE_FACES`).
        keep_mouth, keep_eyes: keep the template's mouth interior and eye openings (so an open
            mouth keeps its teeth).
        blend: ``"multiband"`` (a Laplacian-pyramid blend) or ``"poisson"`` (still images).
        smoothing: 0..1, in VIDEO mode the weight of the past in the running average of the
            template face's skin colour (more: steadier colour, slower to follow the light).
        label: draw the visible "AI-generated" mark (``label=False`` is recorded in the
            result's provenance).
        label_options: text, corner, font and size of that mark.
        max_faces: how many faces the template's landmarker looks for (1..6).
        color_format: channel order of 3/4-channel numpy images (``"bgr"`` for OpenCV).
        intra_op_threads: ONNX Runtime threads per network (1 is fastest for these networks).
    """

    shape: float = 0.5
    features: float = 0.5
    consent: str | None = None
    running_mode: RunningMode = RunningMode.IMAGE
    template_faces: str | tuple[int, ...] = "largest"
    keep_mouth: bool = True
    keep_eyes: bool = True
    blend: str = "multiband"
    smoothing: float = 0.8
    label: bool = True
    label_options: LabelOptions = LabelOptions()
    max_faces: int = MAX_TEMPLATE_FACES
    color_format: ColorFormat = "rgb"
    intra_op_threads: int = 1

    def __post_init__(self) -> None:
        store = partial(object.__setattr__, self)
        store("shape", fraction("shape", self.shape))
        store("features", fraction("features", self.features))
        if self.consent is not None and not isinstance(self.consent, str):
            raise TypeError(f"consent must be the attestation text (a str), got "
                            f"{type(self.consent).__name__}")
        checked_running_mode(self.running_mode)
        store("template_faces", _template_faces(self.template_faces))
        store("keep_mouth", flag("keep_mouth", self.keep_mouth))
        store("keep_eyes", flag("keep_eyes", self.keep_eyes))
        store("blend", choice("blend", self.blend, ("multiband", "poisson")))
        if self.blend == "poisson" and self.running_mode is RunningMode.VIDEO:
            raise ValueError("blend='poisson' is for still images: VIDEO mode blends "
                             "'multiband' (steady from frame to frame)")
        store("smoothing", fraction("smoothing", self.smoothing))
        store("label", flag("label", self.label))
        if not isinstance(self.label_options, LabelOptions):
            raise TypeError(f"label_options must be LabelOptions, got "
                            f"{type(self.label_options).__name__}")
        store("max_faces", whole_number("max_faces", self.max_faces, 1, MAX_TEMPLATE_FACES))
        store("color_format", checked_color_format(self.color_format))
        store("intra_op_threads",
              whole_number("intra_op_threads", self.intra_op_threads, 1, MAX_THREADS))

    @classmethod
    def swap(cls, **changes: Any) -> FusionOptions:
        """The face-swap preset: the user's face shape, features and eyes in full
        (``shape=features=1``, ``keep_eyes=False``); the template keeps its pose, expression,
        mouth interior, light and background. Calibrated on the shared test pairs
        (tests/test_fusion.py): of the keep_eyes / keep_mouth settings at shape = features = 1,
        the user's eyes move the verifier closest to the user and farthest from the template,
        while keeping the template's mouth interior avoids the doubled teeth of a closed mouth
        pasted over an open one. Other fields as keywords: ``FusionOptions.swap(consent=...)``."""
        return cls(**{"shape": 1.0, "features": 1.0, "keep_eyes": False, **changes})

    def replace(self, **changes: Any) -> FusionOptions:
        """A copy with some fields changed (validated like the constructor)."""
        return dataclasses.replace(self, **changes)

    def landmarker_options(self) -> FaceLandmarkerOptions:
        """The template landmarker these options run (468 points, no iris)."""
        return FaceLandmarkerOptions(running_mode=self.running_mode, max_faces=self.max_faces,
                                     color_format=self.color_format,
                                     intra_op_threads=self.intra_op_threads)

    def _params(self) -> dict[str, Any]:
        """The native fuse parameters."""
        return {"shape": self.shape, "features": self.features, "keep_mouth": self.keep_mouth,
                "keep_eyes": self.keep_eyes, "blend": self.blend, "smoothing": self.smoothing}


def _template_faces(value: Any) -> str | tuple[int, ...]:
    """"largest", "all" or a tuple of distinct face indices in 0..MAX_TEMPLATE_FACES-1."""
    if isinstance(value, str):
        return choice("template_faces", value, ("largest", "all"))
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"template_faces must be 'largest', 'all' or a list of face indices, "
                        f"got {type(value).__name__}")
    indices = tuple(whole_number("template_faces", i, 0, MAX_TEMPLATE_FACES - 1)
                    for i in value)
    if not indices or len(set(indices)) != len(indices):
        raise ValueError(f"template_faces must list distinct face indices, got {list(value)}")
    return indices


@dataclass(frozen=True)
class FusionResult:
    """A fused image (a new uint8 array, the template's shape and channel order) and its
    :class:`~facekit.Provenance` (pass the result to :func:`facekit.save_image`)."""

    image: np.ndarray
    provenance: Provenance


class FaceFuser(NativeResource):
    """Fuses a user's face into the faces of template images or video frames.

    Build it with ``FaceFuser.create_from_options(FusionOptions(consent=..., ...))``. Prepare
    the user's face once with :meth:`user` and fuse it into templates with
    :meth:`UserFace.fuse` (or :meth:`UserFace.fuse_for_video`); :meth:`fuse_many` fuses several
    users into one multi-face template.

    Use as a context manager or call :meth:`close` (it also ends every open user scope). One
    thread at a time: a call while another thread's call is under way raises
    :class:`~facekit.errors.ConcurrentUseError` (create one FaceFuser per thread).
    """

    def __init__(self, options: FusionOptions | None = None, **fields: Any) -> None:
        self.options = options_from(FusionOptions, options, None, fields)
        consent = self.options.consent
        if consent is None or not consent.strip():
            raise ConsentRequiredError(
                f"FusionOptions(consent=...) must attest that every person whose face is used "
                f"agreed to it ({CONSENT_RULE}); pass the attestation text")
        self._triangles = triangles()  # read now: a fuse call opens no file
        self._landmarker = FaceLandmarker(self.options.landmarker_options())
        video = self.options.running_mode is RunningMode.VIDEO
        # The user's photo is a still image: in VIDEO mode it gets a landmarker of its own,
        # so that it does not disturb the stream's tracking.
        self._photos = (FaceLandmarker(self.options.replace(
            running_mode=RunningMode.IMAGE).landmarker_options()) if video else self._landmarker)
        self._verifier: FaceVerifier | None = None  # loaded only for same_person_as=
        self._users: weakref.WeakSet[UserFace] = weakref.WeakSet()
        self._closed = False

    @classmethod
    def create_from_options(cls, options: FusionOptions) -> FaceFuser:
        """MediaPipe Tasks-style constructor (ConsentRequiredError without ``consent``)."""
        return cls(options_from(FusionOptions, options, None, {}))

    def user(self, photo: ImageLike, *, same_person_as: ImageLike | None = None,
             faces: LandmarkerResult | None = None) -> UserFace:
        """A scope holding the user's prepared face (the largest face of `photo`)::

            with fuser.user(photo) as user:
                result = user.fuse(template)

        ``same_person_as``: a selfie; the photo is first checked to show the same person
        (:class:`~facekit.FaceVerifier`, loaded on first use) and refused with
        :class:`~facekit.errors.NotSamePersonError` if not. ``faces``: an open result of
        :meth:`FaceLandmarker.detect` on `photo`. Raises NoFaceError, AmbiguousFaceError (two
        faces of about the same size) and ValueError for a face too small to fuse.
        """
        self._check_open()
        if same_person_as is not None:
            self._check_same_person(photo, same_person_as, faces)
        user = UserFace(self, photo, faces)
        self._users.add(user)
        return user

    def fuse_many(self, template: ImageLike, users: dict[int, UserFace], *,
                  faces: LandmarkerResult | None = None) -> FusionResult:
        """Fuse several users into one template (IMAGE mode): ``{face index: user}``, the
        template's faces by size (0 = the largest). ``faces`` as in :meth:`UserFace.fuse`."""
        self._check_open()
        if self.options.running_mode is not RunningMode.IMAGE:
            raise ValueError("fuse_many() is for RunningMode.IMAGE")
        if not isinstance(users, dict) or not users:
            raise TypeError("users must be a non-empty dict {template face index: UserFace}")
        if len(users) > MAX_TEMPLATE_FACES:
            raise ValueError(f"at most {MAX_TEMPLATE_FACES} faces per template, got "
                             f"{len(users)}")
        pairs = []
        for index, user in users.items():
            whole_number("face index", index, 0, MAX_TEMPLATE_FACES - 1)
            if not isinstance(user, UserFace) or user._fuser is not self:
                raise TypeError("each user must be a UserFace of this FaceFuser")
            user._check_open()
            pairs.append((int(index), user))
        return self._fuse(template, pairs, faces=faces)

    # ---- internals ----------------------------------------------------------------------------

    def _check_same_person(self, photo: ImageLike, selfie: ImageLike,
                           faces: LandmarkerResult | None) -> None:
        if self._verifier is None:
            from .verify import FaceVerifier, FaceVerifierOptions

            self._verifier = FaceVerifier(FaceVerifierOptions(
                color_format=self.options.color_format,
                intra_op_threads=self.options.intra_op_threads))
        if not self._verifier.verify(photo, selfie, faces_a=faces).same_person:
            raise NotSamePersonError(
                "the photo does not show the person in the selfie (same_person_as=): only a "
                "person's own face may be fused with their consent")

    def _pixels(self, image: ImageLike, what: str) -> tuple[np.ndarray, str]:
        pixels, pixel_format = as_pixels(image, self.options.color_format)
        if pixel_format == "gray":
            raise ValueError(f"face fusion needs a colour {what} (HxWx3 or HxWx4), got gray")
        return pixels, pixel_format

    def _prepare(self, user: UserFace, photo: ImageLike,
                 faces: LandmarkerResult | None) -> dict[str, EphemeralArray]:
        """The user's texture, mesh and skin statistics, written into the user's frame."""
        pixels, pixel_format = self._pixels(photo, "photo")
        with exclusive(self._photos):
            if faces is None:
                result = self._photos.detect(pixels)
                found, frame = result.faces, frame_of(result)
            else:
                found = shared_faces(faces, (LandmarkerResult,), pixels.shape)
                frame = begin_frame(self._photos)
            with frame:
                face = _user_face(found)
                prepared = _native.fusion.prepare_user(
                    pixels, pixel_format, face.landmarks, mesh_regions(),
                    native_arena(user._frame))
        return {name: view.view(EphemeralArray) for name, view in prepared.items()}

    def _fuse(self, template: ImageLike, users: UserFace | list[tuple[int, UserFace]], *,
              video: bool = False, timestamp_ms: int | None = None,
              faces: LandmarkerResult | None = None) -> FusionResult:
        """Fuse `users` into the template: one user into the faces ``template_faces`` names,
        or explicit (template face index, user) pairs. In VIDEO mode a frame that lacks a
        face asked for passes through unchanged (the stream goes on); an image raises
        NoFaceError. `timestamp_ms`: the fuser's own landmarker runs in VIDEO mode."""
        pixels, pixel_format = self._pixels(template, "template")
        out = np.array(pixels, copy=True)
        params = self.options._params()
        with exclusive(self._landmarker):
            if faces is not None:
                found = shared_faces(faces, (LandmarkerResult,), pixels.shape)
                frame = begin_frame(self._landmarker)  # for the fusion's masks and pyramids
            else:
                result = (self._landmarker.detect(pixels) if timestamp_ms is None
                          else self._landmarker.detect_for_video(pixels, timestamp_ms))
                found, frame = result.faces, frame_of(result)
            with frame:
                by_size = sorted(found, key=lambda f: -f.roi.width)
                pairs = (users if isinstance(users, list)
                         else [(i, users) for i in self._template_indices(len(by_size))])
                missing = [i for i, _ in pairs if i >= len(by_size)]
                if missing and not video:
                    raise NoFaceError(f"template face {missing[0]} asked for, but the template "
                                      f"shows {len(by_size)} face(s)")
                scratch = native_arena(frame)
                for index, user in pairs:
                    if index >= len(by_size):
                        continue
                    _native.fusion.fuse(
                        pixels, out, pixel_format, by_size[index].landmarks,
                        user._prepared["texture"], user._prepared["mesh"],
                        user._prepared["skin"], self._triangles, mesh_regions(), params,
                        scratch, user._video_state(index) if video else None,
                        track=by_size[index].track_id if video else 0)
        return self._finish(out, pixel_format)

    def _finish(self, out: np.ndarray, pixel_format: str) -> FusionResult:
        """The labelled result and its provenance."""
        options = self.options
        if options.label:
            draw_label(out, options.label_options, color_format=pixel_format)
        provenance = Provenance(
            consent=str(options.consent), visible_label=options.label,
            label_text=options.label_options.text if options.label else None)
        return FusionResult(out, provenance)

    def _template_indices(self, found: int) -> list[int]:
        """The template faces (by size) ``template_faces`` names, of `found` faces."""
        chosen = self.options.template_faces
        if chosen == "largest":
            return [0]
        if chosen == "all":
            return list(range(max(found, 1)))  # none found: face 0 is reported missing
        return [int(i) for i in chosen]

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError("this FaceFuser is closed")

    def close(self) -> None:
        """End every open user scope (wiping it) and release the landmarkers and arenas.
        Safe to call twice."""
        if not self._closed:
            self._closed = True
            for user in list(self._users):
                user.close()
            self._landmarker.close()
            self._photos.close()
            if self._verifier is not None:
                self._verifier.close()

    def __enter__(self) -> FaceFuser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        o = self.options
        return (f"FaceFuser(shape={o.shape:g}, features={o.features:g}, "
                f"mode={o.running_mode.value}{', closed' if self._closed else ''})")


def _user_face(found: list[LandmarkedFace]) -> LandmarkedFace:
    """The largest face of the user's photo; refuses none and an ambiguous choice."""
    faces = sorted(found, key=lambda f: -f.roi.width)
    if not faces:
        raise NoFaceError("no face found in the user's photo")
    if len(faces) > 1 and faces[1].roi.width >= AMBIGUOUS * faces[0].roi.width:
        raise AmbiguousFaceError(f"the user's photo shows {len(faces)} faces of about the "
                                 f"same size; pass a photo of the user alone")
    return faces[0]


class UserFace(Ephemeral):
    """One user's prepared face (texture, mesh, skin colour statistics), held in its own arena
    for the length of a ``with`` block; then wiped, and :meth:`fuse` raises ClosedError.

    Like every ephemeral object it refuses pickle, copy, deepcopy and json
    (:class:`~facekit.errors.BiometricExportError`) and its ``repr`` shows no values.
    """

    def __init__(self, fuser: FaceFuser, photo: ImageLike,
                 faces: LandmarkerResult | None = None) -> None:
        self._fuser = fuser
        self._store = SecureArena()
        self._frame = self._store.frame()
        self._last_ms: int | None = None
        try:
            self._prepared = fuser._prepare(self, photo, faces)
            self._state = (allocate(self._frame, (MAX_TEMPLATE_FACES, _native.fusion.STATE_SIZE))
                           if fuser.options.running_mode is RunningMode.VIDEO else None)
        except BaseException:
            self.close()
            raise

    def _video_state(self, index: int) -> EphemeralArray:
        """The smoothed colour statistics of template face `index` (VIDEO mode)."""
        assert self._state is not None
        return self._state[index]

    @property
    def expired(self) -> bool:
        """True once the scope has ended and the prepared face was wiped."""
        return self._frame.expired

    def fuse(self, template: ImageLike, *, faces: LandmarkerResult | None = None
             ) -> FusionResult:
        """The template with this user's face fused into its chosen faces
        (``template_faces``), labelled (IMAGE mode).

        ``faces``: an open result of :meth:`FaceLandmarker.detect` on this same template, so
        that landmarks found once serve every effect; the fuser then runs no network. Refused:
        a result that has ended (ExpiredFrameError), one of another image size (ValueError) or
        one opened by another thread (ConcurrentUseError). NoFaceError when the template
        shows no face (or fewer than the indices asked for).
        """
        self._check_open()
        fuser = self._fuser
        if fuser.options.running_mode is not RunningMode.IMAGE:
            raise ValueError("fuse() is for RunningMode.IMAGE; use fuse_for_video()")
        return fuser._fuse(template, self, faces=faces)

    def fuse_for_video(self, frame: ImageLike, timestamp_ms: int, *,
                       faces: LandmarkerResult | None = None) -> FusionResult:
        """One video frame with this user's face fused in (VIDEO mode; timestamps must
        increase). The template face's colour statistics are smoothed over the frames
        (``smoothing``), so a still clip gives identical frames from the second on.
        ``faces``: an open result of :meth:`FaceLandmarker.detect_for_video` on this frame
        (then the fuser's landmarker does not run and `timestamp_ms` only orders the frames).
        """
        self._check_open()
        fuser = self._fuser
        if fuser.options.running_mode is not RunningMode.VIDEO:
            raise ValueError("fuse_for_video() is for RunningMode.VIDEO; use fuse()")
        timestamp_ms = video_timestamp(timestamp_ms)
        self._last_ms = check_timestamp(self._last_ms, timestamp_ms)
        return fuser._fuse(frame, self, video=True,
                           timestamp_ms=timestamp_ms if faces is None else None, faces=faces)

    def _check_open(self) -> None:
        if self.expired:
            raise ClosedError("this user scope has ended: its prepared face was wiped")
        self._fuser._check_open()

    def close(self) -> None:
        """Wipe the prepared face now."""
        self._frame.close()
        self._store.close()

    def __enter__(self) -> UserFace:
        self._check_alive()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"UserFace({'ended' if self.expired else 'open'})"
