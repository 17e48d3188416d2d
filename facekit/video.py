"""Video files end to end: decode with PyAV, run effects on every frame, encode.

:func:`process_video` streams a file through the effects and writes a new one::

    from facekit.video import process_video
    report = process_video("in.mp4", "out.mp4", beauty=PRESETS["natural"], progress=True)

Decoding, processing and encoding run in three threads joined by bounded queues (the decoder
waits when processing falls behind, and processing waits for the encoder), so memory stays
flat whatever the video's length and, as PyAV and the native core release the GIL, the stages
overlap on separate cores. Every frame is landmarked once, in ``RunningMode.VIDEO`` with the
timestamp of its PTS, and that one result serves every effect, in the order of
:data:`EFFECT_ORDER`: fusion, beauty, the mesh, anonymization, and last the visible
"AI-generated" mark of a fused video (drawn last so that no effect can cover it).

The output keeps the input's frames, timestamps, time base (MP4/MOV), display rotation, colour
tags and pixel format (when the codec takes it); audio streams are copied packet for packet; a
frame no effect changed is encoded from the decoded picture itself (no round trip through RGB),
and a changed yuv420p frame from the decoded planes with only the changed rows' spans converted
back (the rest of the picture stays exactly as decoded).
It is written to a temporary file in the target folder and renamed over the target only once
complete, so an error or Ctrl-C never leaves a partial file or replaces a good one. A fused
video carries its implicit AI-content labels in the container metadata (:func:`read_video_labels`).

:class:`VideoProcessor` is the same per-frame engine for apps that bring their own frames.
PyAV is the ``video`` extra: ``pip install facekit[video]``.
"""

from __future__ import annotations

import array
import os
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ._native import draw, landmarks
from ._native import video as _convert
from ._pipeline import RunningMode
from .anonymize import Anonymizer, AnonymizerOptions, Method
from .beauty import Beautifier, BeautifierOptions, BeautyOptions
from .fusion import FaceFuser, FusionOptions
from .image import ImageLike, as_pixels, load_image
from .labels import Provenance, draw_label, parse_labels
from .landmarker import FaceLandmarker, FaceLandmarkerOptions

__all__ = [
    "DEFAULT_CODEC",
    "DEFAULT_CRF",
    "EFFECT_ORDER",
    "ProcessedFrame",
    "Progress",
    "VideoProcessor",
    "VideoReport",
    "process_frames",
    "process_video",
    "read_video_labels",
]

# The order in which the effects of one frame run; landmarks come first and serve them all.
EFFECT_ORDER = ("fusion", "beauty", "mesh", "anonymize", "label")
DEFAULT_CODEC = "libx264"
# libx264's CRF at which a frame no effect changed comes back above 45 dB PSNR against the
# decoded input (tests/test_video.py measures it on the shared clip; 47.9 dB at the least).
DEFAULT_CRF = 18
# x264/x265 speed preset: "veryfast" keeps the encoder off the critical path on two cores at
# the same quality target (CRF); on the shared clip it is 1.6x "medium"'s speed.
_PRESET = "veryfast"
# x264's rate-control lookahead, in frames (veryfast's own is 10): each frame it holds is ~7 MB
# at 1080p. 3 frames instead of 10 hold ~50 MiB less; against 5, on the shared clip at CRF 18,
# files are 2-3% smaller and PSNR 0.3 dB lower (360p 47.99 against 48.26 dB, 1080p 52.56
# against 52.88), and a 1080p anonymize run peaks 36 MiB lower (275 frames: 249 MiB).
_LOOKAHEAD = 3
# No B-frames: each one x264 holds back for reordering is another picture in memory. Measured
# on the shared clip at 1080p (275 frames, CRF 18): peak RSS of a beauty run 417 -> 362 MiB,
# encode 25 -> 20 ms a frame, the file 4.31 -> 4.30 MB.
_X264_PARAMS = "bframes=0"
# MPEG-4 Part 2 (what cv2.VideoWriter's mp4v writes) at a constant quantiser: left to its
# default bit rate it drops to 35.6 dB PSNR on the shared clip; 3 gives 46.5 dB (4: 45.0).
_MPEG4_QUANTISER = 3
# Encoders whose quality is set by a "crf" option (libvpx-vp9 needs b=0 with it).
_CRF_CODECS = {"libx264": 51, "libx265": 51, "libvpx-vp9": 63, "libsvtav1": 63}
_QUEUE_FRAMES = 8  # frames in flight between two stages: back-pressure and flat memory
# ...but no more than about this many bytes of RGB pixels per queue (1 frame at 1080p, 3 at
# 720p): each queued frame also holds its decoded picture, and at 1080p two queues of 8 cost
# ~90 MB more peak memory than queues of 3 at the same speed (benchmarks/video_memory.py),
# queues of 1 another ~12 MiB less than queues of 2, also at the same speed.
_QUEUE_BYTES = 8 << 20
_POLL_S = 0.1  # how often a waiting stage looks whether the others have stopped
_MESH_GREEN, _IRIS_RED = (40, 220, 90), (250, 60, 60)  # as `facekit demo`
# Container metadata keys of a fused video's implicit labels (mp4/mov: "mdta" keys).
_KEY_XMP, _KEY_AIGC, _KEY_SOURCE = "XMP", "AIGC", "DigitalSourceType"
# Container metadata the muxer writes itself (not copied from the input).
_MUXER_KEYS = {"encoder", "major_brand", "minor_version", "compatible_brands"}
_INSTALL_HINT = "facekit's video support needs PyAV: pip install 'facekit[video]'"


def _av() -> Any:
    """PyAV, or an ImportError that says how to install it."""
    try:
        import av
    except ImportError as exc:
        raise ImportError(f"{_INSTALL_HINT} (the import said: {exc})") from None
    return av


# ---- the per-frame engine -------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessedFrame:
    """One frame after the effects: ``image`` (uint8 RGB; the input array itself when no
    effect changed a pixel, else a new array), its ``timestamp_ms``, the number of ``faces``
    the landmarker found, and whether the image ``changed``."""

    image: np.ndarray
    timestamp_ms: int
    faces: int
    changed: bool


class VideoProcessor:
    """Runs the effects on the frames of one stream, in time order (``RunningMode.VIDEO``).

    Each frame is landmarked once (one FaceLandmarker, ``max_faces`` faces, with the iris
    points when ``mesh`` is on) and the result is shared by every effect, in the order of
    :data:`EFFECT_ORDER`; the landmarks end with the frame.

    Args:
        beauty: the :class:`~facekit.BeautyOptions` to apply (``PRESETS["natural"]``), or None.
        fuse_user: a photo (path, array or PIL image) of the user whose face is fused into
            every frame, or None. Needs ``consent`` (or ``fusion.consent``).
        fusion: the :class:`~facekit.FusionOptions` (``FusionOptions.swap()``); its
            ``running_mode`` is set to VIDEO. Default: ``FusionOptions()``.
        consent: the attestation that every person whose face is used agreed (overrides
            ``fusion.consent``).
        anonymize: ``"pixelate"``, ``"blur"``, ``"solid"`` or :class:`~facekit.AnonymizerOptions`
            (``"mask"`` needs its ``mask_image``). A face lost for up to ``hold_frames``
            frames (default 5) stays covered where it was last found.
        mesh: draw the 468 mesh points (green) and the iris points (red), natively.
        max_faces: how many faces the landmarker tracks (1..1000; fusion raises it to its own
            ``max_faces`` when larger).

    Use as a context manager (or call :meth:`close`). One thread at a time, like every
    pipeline: create and use it in the thread that processes the frames.
    """

    def __init__(self, *, beauty: BeautyOptions | None = None,
                 fuse_user: str | os.PathLike[str] | ImageLike | None = None,
                 fusion: FusionOptions | None = None, consent: str | None = None,
                 anonymize: Method | AnonymizerOptions | None = None, mesh: bool = False,
                 max_faces: int = 4) -> None:
        if beauty is not None and not isinstance(beauty, BeautyOptions):
            raise TypeError(f"beauty must be BeautyOptions (e.g. PRESETS['natural']), got "
                            f"{type(beauty).__name__}")
        if fusion is not None and not isinstance(fusion, FusionOptions):
            raise TypeError(f"fusion must be FusionOptions, got {type(fusion).__name__}")
        if fusion is not None and fuse_user is None:
            raise ValueError("fusion= needs fuse_user= (the photo of the user's face)")
        if not isinstance(mesh, bool):
            raise TypeError("mesh must be True or False")
        self.stage_seconds: dict[str, float] = {"landmarks": 0.0}
        self._closed = False
        self._beautifier: Beautifier | None = None
        self._anonymizer: Anonymizer | None = None
        self._fuser: FaceFuser | None = None
        self._user: Any = None
        self._mesh = mesh
        self._label: Any = None
        self.provenance: Provenance | None = None
        """The provenance of a fused video (None without fusion): what its labels record."""
        try:
            fused = self._start_fusion(fuse_user, fusion, consent)
            if beauty is not None and not beauty.is_identity:
                self._beautifier = Beautifier(BeautifierOptions(
                    effects=beauty, running_mode=RunningMode.VIDEO, max_faces=max_faces))
                self.stage_seconds["beauty"] = 0.0
            if mesh:
                self.stage_seconds["mesh"] = 0.0
            if anonymize is not None:
                self._anonymizer = Anonymizer(anonymize)
                self.stage_seconds["anonymize"] = 0.0
            faces = max(max_faces, fused.max_faces) if fused is not None else max_faces
            self._landmarker = FaceLandmarker(FaceLandmarkerOptions(
                running_mode=RunningMode.VIDEO, max_faces=faces, iris=mesh))
        except BaseException:
            self.close()
            raise

    def _start_fusion(self, photo: Any, options: FusionOptions | None,
                      consent: str | None) -> FusionOptions | None:
        if photo is None:
            if consent is not None:
                raise ValueError("consent= is for fusion: pass fuse_user= too")
            return None
        options = options or FusionOptions()
        changes: dict[str, Any] = {"running_mode": RunningMode.VIDEO, "label": False}
        if consent is not None:
            changes["consent"] = consent
        # The fuser draws no mark: the mark is drawn after every effect, so none can cover it.
        fuser_options = options.replace(**changes)
        if isinstance(photo, (str, os.PathLike)):
            photo = load_image(photo)
        self._fuser = FaceFuser.create_from_options(fuser_options)
        self._user = self._fuser.user(photo)
        self._label = options.label_options if options.label else None
        self.provenance = Provenance(
            consent=str(fuser_options.consent), visible_label=options.label,
            label_text=options.label_options.text if options.label else None)
        self.stage_seconds["fusion"] = 0.0
        if options.label:
            self.stage_seconds["label"] = 0.0
        return fuser_options

    def process_frame(self, image: ImageLike, timestamp_ms: int) -> ProcessedFrame:
        """Run the effects on one RGB frame (uint8 HxWx3); ``timestamp_ms`` must increase.
        The input array is never written."""
        if self._closed:
            from .errors import ClosedError

            raise ClosedError("this VideoProcessor is closed")
        pixels, pixel_format = as_pixels(image)
        if pixel_format != "rgb":
            raise ValueError(f"frames must be RGB uint8 HxWx3, got {pixel_format} "
                             f"(shape {pixels.shape})")
        stages = self.stage_seconds
        clock = time.perf_counter
        start = clock()
        out = pixels
        changed = False
        with self._landmarker.detect_for_video(pixels, timestamp_ms) as faces:
            count = len(faces.faces)
            stages["landmarks"] += (now := clock()) - start
            if self._user is not None:
                out = self._user.fuse_for_video(out, timestamp_ms, faces=faces).image
                changed = True  # with a face or not, a fused video's frame is a new one
                stages["fusion"] += (start := clock()) - now
                now = start
            if self._beautifier is not None and count:
                out = self._beautifier.apply(out, faces=faces)
                changed = True
                stages["beauty"] += (start := clock()) - now
                now = start
            if self._mesh and count:
                out = out if changed else pixels.copy()
                radius = max(1, round(max(out.shape[:2]) / 600))
                for face in faces.faces:  # drawn natively: no coordinate enters Python
                    points = face.landmarks
                    draw.points(out, points[:landmarks.MESH_POINTS], _MESH_GREEN, radius)
                    draw.points(out, points[landmarks.MESH_POINTS:], _IRIS_RED, radius + 1)
                changed = True
                stages["mesh"] += (start := clock()) - now
                now = start
            if self._anonymizer is not None:
                # A face lost for a frame or two stays covered (AnonymizerOptions.hold_frames).
                covered = self._anonymizer.apply_for_video(out, faces=faces)
                # Its check rounds may cover a face the landmarker missed.
                if changed or count or not np.array_equal(covered, out):
                    out, changed = covered, True
                stages["anonymize"] += (start := clock()) - now
                now = start
        if self._user is not None and self._label is not None:
            draw_label(out, self._label)
            stages["label"] += clock() - now
        return ProcessedFrame(out, timestamp_ms, count, changed)

    def close(self) -> None:
        """Wipe the user's prepared face and release every pipeline. Safe to call twice."""
        self._closed = True
        for resource in (self._user, self._fuser, self._beautifier, self._anonymizer,
                         getattr(self, "_landmarker", None)):
            if resource is not None:
                resource.close()

    def __enter__(self) -> VideoProcessor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def process_frames(frames: Iterable[tuple[int, ImageLike]], **effects: Any
                   ) -> Iterator[ProcessedFrame]:
    """Process ``(timestamp_ms, rgb_frame)`` pairs from an app's own source with a
    :class:`VideoProcessor` built from ``effects`` (its keyword arguments), yielding each
    :class:`ProcessedFrame` as it is done; the processor is closed when the iteration ends."""
    with VideoProcessor(**effects) as processor:
        for timestamp_ms, image in frames:  # one frame in memory at a time
            yield processor.process_frame(image, timestamp_ms)


# ---- files ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """Where :func:`process_video` stands: ``frames`` done of about ``total`` (None when the
    container does not say), after ``seconds``."""

    frames: int
    total: int | None
    seconds: float

    @property
    def fps(self) -> float:
        """Frames per second so far."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the pace so far (None when the total is unknown)."""
        if self.total is None or not self.frames:
            return None
        return max(0.0, (self.total - self.frames) / self.fps)


@dataclass(frozen=True)
class VideoReport:
    """What :func:`process_video` did.

    Attributes:
        output: the file written.
        frames_in: video frames decoded; ``frames_out``: frames encoded (always equal on
            success).
        faces_per_frame: how many faces the landmarker found in each frame (counts only).
        stage_seconds: time spent in each stage: ``decode`` (demux and decode; its own
            thread), ``landmarks`` and each effect of :data:`EFFECT_ORDER` that ran,
            ``convert`` (each decoded picture to RGB and changed pixels back to the encoder's
            pixel format, in the processing thread) and ``encode`` (encoding and writing; its
            own thread).
        seconds: wall time from the first frame decoded to the output's rename.
        audio_packets: audio packets copied.
    """

    output: Path
    frames_in: int
    frames_out: int
    faces_per_frame: tuple[int, ...]
    stage_seconds: dict[str, float]
    seconds: float
    audio_packets: int = 0

    @property
    def fps(self) -> float:
        """Frames written per second of wall time."""
        return self.frames_out / self.seconds if self.seconds > 0 else 0.0

    @property
    def frames_with_faces(self) -> int:
        """Frames in which at least one face was found."""
        return sum(1 for n in self.faces_per_frame if n)

    def summary(self) -> str:
        """One line: frames, faces, fps and the slowest stages."""
        stages = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in
                           sorted(self.stage_seconds.items(), key=lambda kv: -kv[1]))
        return (f"{self.frames_out} frames ({self.frames_in} in), faces in "
                f"{self.frames_with_faces}, {self.fps:.1f} fps over {self.seconds:.1f} s "
                f"({stages})")


@dataclass
class _Shared:
    """What the three threads of one run share."""

    stop: threading.Event = field(default_factory=threading.Event)
    errors: list[BaseException] = field(default_factory=list)


class _Done:
    """The end of a queue's items."""


_DONE = _Done()


def _put(q: queue.Queue, item: object, shared: _Shared) -> bool:
    """Put, waiting while the queue is full; False once the run is stopping."""
    while not shared.stop.is_set():
        try:
            q.put(item, timeout=_POLL_S)
            return True
        except queue.Full:
            continue
    return False


def _get(q: queue.Queue, shared: _Shared) -> Any:
    """Get, waiting while the queue is empty; _DONE once the run is stopping."""
    while not shared.stop.is_set():
        try:
            return q.get(timeout=_POLL_S)
        except queue.Empty:
            continue
    return _DONE


def _check_input(av: Any, source: Path) -> Any:
    """The opened input container, or a clear error."""
    if not source.exists():
        raise FileNotFoundError(f"no such video file: {str(source)!r}")
    if not source.is_file():
        raise IsADirectoryError(f"{str(source)!r} is not a file")
    try:
        container = av.open(str(source), "r")
    except av.error.PermissionError:
        raise PermissionError(f"cannot read {str(source)!r}: permission denied") from None
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise ValueError(f"{str(source)!r} is not a video facekit can read ({_why(exc)})"
                         ) from None
    if not container.streams.video:
        container.close()
        raise ValueError(f"{str(source)!r} has no video stream")
    if container.format.name == "image2" or container.format.name.endswith("_pipe"):
        container.close()  # ffmpeg reads a photo as a one-frame video; it is not one
        raise ValueError(f"{str(source)!r} is a still image ({container.format.name}), not a "
                         "video")
    return container


def _why(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(": '")[0]


def _check_output(source: Path, target: Path, force: bool) -> None:
    if target.resolve() == source.resolve():
        raise ValueError("the output must be another file than the input")
    if target.is_dir():
        raise IsADirectoryError(f"cannot write to {str(target)!r}: it is a folder")
    if target.exists() and not force:
        raise FileExistsError(f"{str(target)!r} exists; pass force=True (--force) to replace "
                              f"it")
    folder = target.parent
    if not folder.exists():
        raise FileNotFoundError(f"cannot write {target.name!r}: folder {str(folder)!r} does "
                                "not exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"cannot write {target.name!r}: {str(folder)!r} is not a "
                                 "folder")


def _encoder_options(av: Any, codec: str, crf: int | None) -> dict[str, str]:
    try:
        found = av.Codec(codec, "w")
    except (av.error.FFmpegError, ValueError, av.codec.codec.UnknownCodecError):
        raise ValueError(f"unsupported codec {codec!r}: this PyAV has no such encoder") from None
    if found.type != "video":
        raise ValueError(f"unsupported codec {codec!r}: it is not a video encoder")
    if codec not in _CRF_CODECS:
        if crf is not None:
            raise ValueError(f"crf applies to {', '.join(sorted(_CRF_CODECS))}; {codec!r} "
                             "takes none")
        if codec == "mpeg4":
            return {"qmin": str(_MPEG4_QUANTISER), "qmax": str(_MPEG4_QUANTISER)}
        return {}
    crf = DEFAULT_CRF if crf is None else crf
    if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= _CRF_CODECS[codec]:
        raise ValueError(f"crf must be an int from 0 to {_CRF_CODECS[codec]} for {codec}, got "
                         f"{crf!r}")
    options = {"crf": str(crf)}
    if codec in ("libx264", "libx265"):
        options["preset"] = _PRESET
    if codec == "libx264":
        options["rc-lookahead"] = str(_LOOKAHEAD)
        options["x264-params"] = _X264_PARAMS
    if codec == "libx265":
        options["x265-params"] = "log-level=error"  # x265 prints its settings to stderr
    if codec == "libvpx-vp9":
        options["b"] = "0"
    return options


def _temp_path(target: Path) -> Path:
    """A fresh name in the target's folder that keeps the target's suffix (the container
    format is chosen by it)."""
    return target.parent / f".{target.stem}.{uuid.uuid4().hex[:12]}.partial{target.suffix}"


def _milliseconds(pts: int, time_base: Fraction) -> int:
    return int(round(pts * time_base * 1000))


def process_video(source: str | os.PathLike[str], output: str | os.PathLike[str], *,
                  beauty: BeautyOptions | None = None,
                  fuse_user: str | os.PathLike[str] | ImageLike | None = None,
                  fusion: FusionOptions | None = None, consent: str | None = None,
                  anonymize: Method | AnonymizerOptions | None = None, mesh: bool = False,
                  max_faces: int = 4, codec: str = DEFAULT_CODEC, crf: int | None = None,
                  force: bool = False,
                  progress: bool | Callable[[Progress], None] = False) -> VideoReport:
    """Decode `source`, run the effects on every frame and write `output`.

    The effects are those of :class:`VideoProcessor` (``beauty``, ``fuse_user`` with
    ``fusion`` and ``consent``, ``anonymize``, ``mesh``, ``max_faces``), run in the order of
    :data:`EFFECT_ORDER`. ``codec``: the video encoder (default libx264); ``crf``: its quality
    (default :data:`DEFAULT_CRF` for libx264). ``"mpeg4"`` (MPEG-4 Part 2, the format of
    OpenCV's mp4v writer; faster, larger files) encodes at a constant quantiser of 3. The container format follows `output`'s
    suffix (.mp4, .mov, .mkv...). ``progress``: True draws a bar (frames, fps, ETA) on a
    terminal's stderr; a callable receives a :class:`Progress` after each frame.

    The output has the input's frame count and timestamps (variable frame rate kept), its
    time base in MP4/MOV, its display rotation, colour range, colour tags and pixel format
    (when the encoder takes it), and a copy of every audio stream, packet for packet. A fused
    video carries the visible AI-generated mark on every frame and its implicit labels in the
    container metadata (:func:`read_video_labels`).

    Nothing is written to `output` until the whole video is done: the file is encoded under a
    temporary name in the same folder and renamed; on any error or KeyboardInterrupt the
    temporary file is removed and an existing `output` is left as it was. Raises
    FileNotFoundError (no such input or output folder), FileExistsError (`output` exists and
    ``force`` is False), PermissionError (the folder cannot take the file), ValueError (not a
    video, no video stream, no frames, a video cut off before its indexed end, an unsupported
    codec or container), ImportError (PyAV missing: ``pip install facekit[video]``).
    """
    av = _av()
    source, target = Path(source), Path(output)
    _check_output(source, target, force)
    options = _encoder_options(av, codec, crf)
    container = _check_input(av, source)
    try:
        with VideoProcessor(beauty=beauty, fuse_user=fuse_user, fusion=fusion,
                            consent=consent, anonymize=anonymize, mesh=mesh,
                            max_faces=max_faces) as processor:
            return _Run(av, container, target, codec, options, processor,
                        _progress(progress)).run()
    finally:
        container.close()


def _progress(progress: bool | Callable[[Progress], None]) -> Callable[[Progress], None] | None:
    if callable(progress):
        return progress
    if not isinstance(progress, bool):
        raise TypeError("progress must be True, False or a callable taking a Progress")
    return _ProgressBar() if progress and sys.stderr.isatty() else None


class _ProgressBar:
    """A one-line bar on stderr, redrawn at most 10 times a second."""

    def __init__(self) -> None:
        self._drawn = 0.0

    def __call__(self, state: Progress) -> None:
        now = time.monotonic()
        if now - self._drawn < 0.1 and state.frames != state.total:
            return
        self._drawn = now
        eta = state.eta_seconds
        total = state.total or 0
        width = 30
        filled = min(width, width * state.frames // total) if total else 0
        bar = "#" * filled + "-" * (width - filled)
        left = f"ETA {int(eta) // 60}:{int(eta) % 60:02d}" if eta is not None else ""
        sys.stderr.write(f"\r[{bar}] {state.frames}/{total or '?'} frames  "
                         f"{state.fps:5.1f} fps  {left}   ")
        if state.total is not None and state.frames >= state.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


class _Run:
    """One process_video run: the decode and encode threads around the processing loop."""

    def __init__(self, av: Any, container: Any, target: Path, codec: str,
                 options: dict[str, str], processor: VideoProcessor,
                 progress: Callable[[Progress], None] | None) -> None:
        self.av, self.input, self.target, self.codec = av, container, target, codec
        self.options, self.processor, self.progress = options, processor, progress
        self.video = container.streams.video[0]
        self.audio = list(container.streams.audio)
        self.shared = _Shared()
        context = self.video.codec_context
        frame_bytes = max(1, (context.width or 0) * (context.height or 0) * 3)
        depth = max(1, min(_QUEUE_FRAMES, _QUEUE_BYTES // frame_bytes))
        self.decoded: queue.Queue = queue.Queue(depth)
        self.processed: queue.Queue = queue.Queue(depth)
        self.decode_seconds = self.encode_seconds = 0.0
        self.frames_out = self.audio_packets = 0
        self.faces = array.array("H")
        self.from_rgb = av.video.reformatter.VideoReformatter()  # the processing thread's
        self.to_rgb = _ToRgb(av)  # the processing thread's too
        self.convert_seconds = 0.0
        self.target_format: tuple[str, int, int] | None = None  # set from the first frame

    # -- the processing loop (the calling thread) ----------------------------------------------

    def run(self) -> VideoReport:
        temp = _temp_path(self.target)
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except PermissionError as exc:
            raise PermissionError(f"cannot write {self.target.name!r}: folder "
                                  f"{str(self.target.parent)!r} is not writable "
                                  f"({exc.strerror})") from None
        os.close(fd)
        threads = [threading.Thread(target=self._guard, args=(self._decode,), daemon=True,
                                    name="facekit-video-decode"),
                   threading.Thread(target=self._guard, args=(self._encode, temp), daemon=True,
                                    name="facekit-video-encode")]
        start = time.perf_counter()
        try:
            for thread in threads:
                thread.start()
            self._process(start)
            threads[1].join()
            self._raise_errors()
            if self.frames_out != len(self.faces):
                raise RuntimeError(f"{len(self.faces)} frames processed but "
                                   f"{self.frames_out} encoded")
            os.replace(temp, self.target)
        except BaseException:
            self.shared.stop.set()
            for thread in threads:
                if thread.is_alive():
                    thread.join()
            temp.unlink(missing_ok=True)
            raise
        stages = {"decode": self.decode_seconds, **self.processor.stage_seconds,
                  "convert": self.convert_seconds, "encode": self.encode_seconds}
        return VideoReport(self.target, len(self.faces), self.frames_out,
                           tuple(self.faces), stages, time.perf_counter() - start,
                           self.audio_packets)

    def _process(self, start: float) -> None:
        total = self.video.frames or None
        last_ms: int | None = None
        while True:
            item = _get(self.decoded, self.shared)
            if item is _DONE:
                break
            if isinstance(item, self.av.VideoFrame):
                frame = item
                converting = time.perf_counter()
                # Converted here rather than in the decode thread: a queued frame then holds
                # its decoded picture only, not its RGB pixels too (~6 MB at 1080p).
                pixels = self.to_rgb(frame)
                self.convert_seconds += time.perf_counter() - converting
                timestamp_ms = _milliseconds(frame.pts, frame.time_base)
                if last_ms is not None and timestamp_ms <= last_ms:
                    timestamp_ms = last_ms + 1  # frames closer than 1 ms keep their order
                last_ms = timestamp_ms
                done = self.processor.process_frame(pixels, timestamp_ms)
                self.faces.append(min(done.faces, 0xFFFF))
                # Converted here, not in the encode thread, so that the two RGB arrays are
                # freed before the frame waits in the queue (~12 MB a frame at 1080p).
                converting = time.perf_counter()
                item = (frame, self._frame(frame, (done.image, pixels) if done.changed
                                           else None))
                del pixels, done
                self.convert_seconds += time.perf_counter() - converting
                if self.progress is not None:
                    self.progress(Progress(len(self.faces), total,
                                           time.perf_counter() - start))
            if not _put(self.processed, item, self.shared):
                break
        self._raise_errors()
        if not self.faces:
            raise ValueError(f"{str(self.input.name)!r} has no video frames")
        _put(self.processed, _DONE, self.shared)

    def _raise_errors(self) -> None:
        if self.shared.errors:
            raise self.shared.errors[0]

    def _guard(self, work: Callable[..., None], *args: Any) -> None:
        """Run a stage; an error stops the run and is raised in the processing thread."""
        try:
            work(*args)
        except BaseException as exc:  # noqa: BLE001  handed to the processing thread
            self.shared.errors.append(exc)
            self.shared.stop.set()

    # -- decoding (its own thread) -------------------------------------------------------------

    def _decode(self) -> None:
        av, clock = self.av, time.perf_counter
        # The decoder's own frame threads each hold a picture (~14 MiB at 1080p): give it the
        # cores the processing and encode threads leave, one at least (one on two cores).
        self.video.thread_type = "AUTO"
        self.video.codec_context.thread_count = max(1, (os.cpu_count() or 2) - 2)
        time_base = self.video.time_base or Fraction(1, 90000)
        rate = self.video.average_rate or self.video.guessed_rate or Fraction(25)
        tick, last = max(1, round(1 / (rate * time_base))), None
        count = 0
        started = clock()
        try:
            for packet in self.input.demux(self.video, *self.audio):
                if packet.stream.type == "audio":
                    if packet.dts is not None and packet.size:
                        self.decode_seconds += clock() - started
                        if not _put(self.decoded, packet, self.shared):
                            return
                        started = clock()
                    continue
                for frame in packet.decode():
                    if frame.pts is None:  # a raw stream (.h264): one frame after the last
                        frame.pts = 0 if last is None else last + tick
                        frame.time_base = time_base
                    last = frame.pts
                    count += 1
                    self.decode_seconds += clock() - started
                    if not _put(self.decoded, frame, self.shared):
                        return
                    started = clock()
        except av.error.FFmpegError as exc:
            indexed = self.video.frames
            if indexed and count < indexed:
                raise ValueError(f"{str(self.input.name)!r} is cut off or damaged: its index "
                                 f"lists {indexed} frames but decoding failed after {count} "
                                 f"({_why(exc)})") from None
            raise ValueError(f"{str(self.input.name)!r} cannot be decoded after {count} "
                             f"frames ({_why(exc)})") from None
        self.decode_seconds += clock() - started
        indexed = self.video.frames
        if count == 0:
            raise ValueError(f"{str(self.input.name)!r} has no video frames (none of its "
                             f"{indexed} indexed packets decodes to a picture)")
        if indexed and count < indexed:
            raise ValueError(f"{str(self.input.name)!r} is cut off: its index lists {indexed} "
                             f"frames but only {count} could be decoded")
        _put(self.decoded, _DONE, self.shared)

    # -- encoding (its own thread) -------------------------------------------------------------

    def _encode(self, temp: Path) -> None:
        av, clock = self.av, time.perf_counter
        output: Any = None
        stream: Any = None
        waiting: list[Any] = []  # audio packets that come before the first frame
        try:
            while True:
                item = _get(self.processed, self.shared)
                if item is _DONE:
                    break
                started = clock()
                if not isinstance(item, tuple):  # an audio packet
                    if output is None:
                        waiting.append(item)
                    else:
                        self._copy(output, item)
                    self.encode_seconds += clock() - started
                    continue
                decoded, frame = item
                if output is None:
                    output, stream = self._open_output(temp, decoded)
                    for packet in waiting:
                        self._copy(output, packet)
                    waiting.clear()
                output.mux(stream.encode(frame))
                self.frames_out += 1
                self.encode_seconds += clock() - started
            if self.shared.stop.is_set() or output is None:
                return
            started = clock()
            output.mux(stream.encode(None))
            output.close()
            output = None
            self.encode_seconds += clock() - started
        except av.error.FFmpegError as exc:
            raise ValueError(f"cannot encode {self.target.name!r} with {self.codec} "
                             f"({_why(exc)})") from None
        finally:
            if output is not None:
                try:
                    output.close()
                except av.error.FFmpegError:
                    pass  # the run already failed; its temporary file is removed

    def _open_output(self, temp: Path, first: Any) -> tuple[Any, Any]:
        """The output container with its video stream (shaped like `first`, the first decoded
        frame) and a copy of every audio stream."""
        av, source = self.av, self.video
        fused = self.processor.provenance
        mp4 = temp.suffix.lower() in (".mp4", ".mov", ".m4v")
        container_options = {}
        time_base = source.time_base
        if mp4:
            container_options["movflags"] = "use_metadata_tags"  # arbitrary keys: the labels
            if time_base is not None and time_base.numerator == 1:
                container_options["video_track_timescale"] = str(time_base.denominator)
        try:
            output = av.open(str(temp), "w", container_options=container_options)
        except ValueError as exc:
            raise ValueError(f"cannot write {self.target.name!r}: no container format for the "
                             f"suffix {self.target.suffix!r} ({exc})") from None
        try:
            metadata = {k: v for k, v in self.input.metadata.items() if k not in _MUXER_KEYS}
            if fused is not None:
                metadata.update(_label_metadata(fused))
            output.metadata.update(metadata)
            rate = source.average_rate or source.guessed_rate or Fraction(30)
            stream = output.add_stream(self.codec, rate=rate, options=self.options)
            context = stream.codec_context
            stream.width, stream.height = first.width, first.height
            assert self.target_format is not None  # set before the first frame was queued
            stream.pix_fmt = self.target_format[0]
            if time_base is not None:
                stream.time_base = time_base
                context.time_base = time_base
            for name in ("color_range", "colorspace", "color_primaries", "color_trc"):
                setattr(context, name, getattr(first, name))
            if source.sample_aspect_ratio:
                stream.sample_aspect_ratio = source.sample_aspect_ratio
            if first.rotation:
                stream.set_display_rotation(first.rotation)
            stream.metadata.update({k: v for k, v in source.metadata.items()
                                    if k in ("language", "handler_name", "title")})
            self.audio_out = {a.index: output.add_stream_from_template(a) for a in self.audio}
            for a in self.audio:
                self.audio_out[a.index].metadata.update(a.metadata)
            output.start_encoding()
        except BaseException:
            output.close()
            raise
        return output, stream

    def _pixel_format(self, decoded: str) -> str:
        """The decoded pixel format when the encoder takes it, else yuv420p."""
        formats = {f.name for f in (self.av.Codec(self.codec, "w").video_formats or ())}
        return decoded if decoded in formats else "yuv420p"

    def _frame(self, decoded: Any, changed: tuple[np.ndarray, np.ndarray] | None) -> Any:
        """The frame to encode: the decoded picture itself when no effect changed it, else
        the processed pixels converted back with the input's colour space and range (`changed`:
        the processed and the decoded RGB pixels)."""
        av = self.av
        if self.target_format is None:  # the encoder's format follows the first frame
            self.target_format = (self._pixel_format(decoded.format.name), decoded.colorspace,
                                  decoded.color_range)
        pix_fmt, colorspace, color_range = self.target_format
        if changed is None:
            frame = decoded
            if frame.format.name != pix_fmt:
                frame = self.from_rgb.reformat(frame, format=pix_fmt, threads=1)
        else:
            pixels, before = changed
            native = _native_format(pix_fmt, colorspace, color_range, decoded.width,
                                    decoded.height)
            if native is not None:
                frame = av.VideoFrame(decoded.width, decoded.height, pix_fmt)
                planes = _yuv_planes(frame)
                if (decoded.format.name, decoded.colorspace, decoded.color_range) == \
                        (pix_fmt, colorspace, color_range):
                    # The decoded planes, rewritten only where the effects changed pixels:
                    # the rest of the picture stays exactly as decoded.
                    for plane, source in zip(planes, _yuv_planes(decoded)):
                        plane[:] = source
                    _convert.rgb_changes_to_yuv420(before, np.ascontiguousarray(pixels),
                                                   *planes, *native)
                else:
                    _convert.rgb_to_yuv420(np.ascontiguousarray(pixels), *planes, *native)
            else:
                # A view of the processed array, not a copy (from_ndarray copies: 9 ms a
                # 1080p frame); the array is this frame's alone and outlives the conversion.
                rgb = av.VideoFrame.from_numpy_buffer(np.ascontiguousarray(pixels),
                                                      format="rgb24")
                frame = self.from_rgb.reformat(
                    rgb, format=pix_fmt, dst_colorspace=_sws_colorspace(colorspace),
                    dst_color_range=color_range or None, threads=1,
                    interpolation=_exact(av))
            frame.colorspace, frame.color_range = colorspace, color_range
        frame.pts, frame.time_base = decoded.pts, decoded.time_base
        frame.pict_type = av.video.frame.PictureType.NONE  # the encoder picks frame types
        return frame

    def _copy(self, output: Any, packet: Any) -> None:
        packet.stream = self.audio_out[packet.stream.index]
        output.mux(packet)
        self.audio_packets += 1


def _exact(av: Any) -> Any:
    """swscale flags for the RGB round trip: accurate rounding and full chroma interpolation,
    so that pixels no effect touched come back as close to the decoded ones as 8 bits allow."""
    flags = av.video.reformatter.Interpolation
    return flags.BILINEAR | flags.ACCURATE_RND | flags.FULL_CHR_H_INT


# yuv420p frames of even sizes from 8 up and these colour spaces (AVColorSpace: 1 BT.709,
# 5 BT.470BG, 6 SMPTE 170M, 2 unspecified, which swscale reads as BT.601) convert in the native
# core, to and from RGB, within 1 per channel of swscale's accurate conversion and 2-7x faster.
# Others go through PyAV: swscale scales odd-sized chroma by other than 2 (19 samples to 37
# pixels) and shortens its filters on pictures under 8 pixels a side.
_MATRICES = {1: "bt709", 2: "bt601", 5: "bt601", 6: "bt601"}


def _native_format(pix_fmt: str, colorspace: int, color_range: int, width: int,
                   height: int) -> tuple[str, bool] | None:
    """(matrix, full range) of the native conversion for frames of this format, or None."""
    matrix = _MATRICES.get(colorspace)
    if (pix_fmt != "yuv420p" or matrix is None or color_range not in (0, 1, 2)
            or width % 2 or height % 2 or min(width, height) < 8):
        return None
    return matrix, color_range == 2  # AVCOL_RANGE_JPEG; unspecified is limited, as in swscale


def _yuv_planes(frame: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views (no copies) of a yuv420p frame's Y, U and V planes, cropped to the picture."""
    w, h = frame.width, frame.height
    sizes = ((w, h), ((w + 1) // 2, (h + 1) // 2), ((w + 1) // 2, (h + 1) // 2))
    y, u, v = (np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:ph, :pw]
               for p, (pw, ph) in zip(frame.planes, sizes))
    return y, u, v


class _ToRgb:
    """The processing thread's conversion of decoded frames to RGB: the native one for
    yuv420p frames of the colour spaces of :data:`_MATRICES`, else PyAV's accurate swscale
    conversion.

    swscale places chroma where the decoder says (H.264's default is on even columns, "left";
    unmarked frames between them, "centre"), which PyAV does not expose. So frames go through
    PyAV, and are compared with both native sitings, until one frame rules one out (a first
    frame with any colour detail does): the other, if within 1 of PyAV, converts the rest. A
    stream neither matches keeps PyAV's conversion."""

    def __init__(self, av: Any) -> None:
        # One converter for the whole run, single-threaded: a new one per frame would start
        # (and end) a pool of threads for every frame, and the three stages fill the cores.
        self.reformatter = av.video.reformatter.VideoReformatter()
        self.exact = _exact(av)
        self.sitings = ["left", "centre"]  # those still within 1 of PyAV on every frame seen

    def __call__(self, frame: Any) -> np.ndarray:
        native = _native_format(frame.format.name, frame.colorspace, frame.color_range,
                                frame.width, frame.height)
        if native is None or not self.sitings:
            return self._pyav(frame)
        planes = _yuv_planes(frame)
        if len(self.sitings) == 1:
            return _convert.yuv420_to_rgb(*planes, *native, self.sitings[0])
        reference = self._pyav(frame)
        wide = reference.astype(np.int16)
        self.sitings = [s for s in self.sitings if np.abs(
            _convert.yuv420_to_rgb(*planes, *native, s).astype(np.int16) - wide).max() <= 1]
        return reference

    def _pyav(self, frame: Any) -> np.ndarray:
        return self.reformatter.reformat(frame, format="rgb24", threads=1,
                                         interpolation=self.exact).to_ndarray()


def _sws_colorspace(colorspace: int) -> int | None:
    """swscale's name for a frame's AVColorSpace (None: swscale's default, BT.601)."""
    # AVCOL_SPC_BT709 = 1, FCC = 4, BT470BG = 5, SMPTE170M = 6, SMPTE240M = 7, BT2020 = 9, 10.
    return {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9}.get(colorspace)


def _label_metadata(provenance: Provenance) -> dict[str, str]:
    """The implicit labels of a fused video, as container metadata: the XMP packet (IPTC
    digital source type, the TC260 AIGC JSON, the provenance), the AIGC JSON and the source
    type, as :func:`facekit.save_image` writes them into images."""
    return {_KEY_XMP: provenance.to_xmp(), _KEY_AIGC: provenance.to_aigc_json(),
            _KEY_SOURCE: provenance.digital_source_type}


def read_video_labels(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The implicit labels :func:`process_video` wrote into a fused video's container
    metadata, as :func:`facekit.read_labels` returns them for images: ``{}`` for a video
    without them, else ``"digital_source_type"``, ``"aigc"`` (the GB 45438 fields),
    ``"xmp"`` and ``"provenance"`` (a :class:`~facekit.Provenance` or None). Opens the file
    for reading only; ValueError for a file that is not a video."""
    av = _av()
    with _check_input(av, Path(path)) as container:
        metadata = dict(container.metadata)
    labels = parse_labels(metadata.get(_KEY_XMP), metadata.get(_KEY_AIGC))
    if labels and not labels["digital_source_type"]:
        labels["digital_source_type"] = metadata.get(_KEY_SOURCE)
    return labels

