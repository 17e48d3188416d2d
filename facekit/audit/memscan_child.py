"""The audited child of the memory scan: ``python -m facekit.audit.memscan_child [options]``.

Line protocol (stdout from the child, stdin to it): the child prints one JSON object per line.
First ``{"event": "ready", "pid": ..., "arena": [[start, size], ...]}``; then, at each
checkpoint, ``{"event": "checkpoint", "name": ..., "arena": [...]}`` and it blocks until the
parent writes ``continue``. Finally ``{"event": "done"}``.

``--mode image``: checkpoints ``inside`` (within ``with landmarker.detect(photo) as result:``),
``after-scope`` and ``after-close``; ``--mode image-iris`` the same with the older 478-point
path (``refine="iris"``: mesh network, then iris network) instead of the attention mesh. ``--mode beauty``: the Beautifier (studio preset) on the
photo, with checkpoints ``inside`` (within the frame, after the effects ran), ``after-apply``
and ``after-close``. ``--mode video``: 100 frames of the photo, frame i shifted
right by i pixels, then ``after-video`` (the last frame's result is still open, as an
application that does not use ``with`` would leave it) and ``after-close``.
``--mode dropped``: a result taken without ``with`` (checkpoint ``held``), then dropped and
collected, never closed (``after-drop``), then ``after-close``. ``--mode exception``: detect()
fails inside the pipeline, right after its last network ran (the attention mesh's regions) (checkpoint ``inside``, just before
the failure), and the exception is kept, traceback and all (``after-exception``); then
``after-close``. Both use the "image" configuration.
``--mode fusion``: a FaceFuser (swap preset) prepares the mirrored sample (twice its size) as
the user's face
and fuses it into the sample, the template's landmarks shared from an open result
(checkpoint ``inside``: the user scope and the template's result open), then ``after-scope``
(both ended) and ``after-close``.
``--mode portrait``: a Portrait (background blur) on the sample (checkpoint ``inside``: the
result, with its matte, open), then ``after-scope`` and ``after-close``.
``--mode centerface``: a CenterFace FaceDetector on the sample (checkpoint ``inside``: the
result open), then ``after-scope`` and ``after-close``.
``--scrub NAME`` sets ``facekit._inference.DEFAULT_SCRUB`` first (for the negative test).

The child never copies a value out of the arena; the parent computes the same values itself
with :func:`reference` (same photo, same networks, same thread count, bitwise identical).
Neither patches the library: both watch it through :mod:`facekit._observe` (every arena
created, each network run; a listener there pauses the child at a checkpoint or makes a run
fail), and the scan reads the memory from outside.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample.jpg"
VIDEO_FRAMES = 100


def video_frame(image: np.ndarray, index: int) -> np.ndarray:
    """Frame `index` of the audit video: the photo shifted right by `index` pixels."""
    if index == 0:
        return image
    out = np.zeros_like(image)
    out[:, index:] = image[:, :-index]
    return out


_ARENAS: list = []  # every SecureArena this child created (the "arena" event)


def _regions() -> list[list[int]]:
    """Address ranges of every open arena's regions."""
    return [[int(r["start"]), int(r["size"])] for a in _ARENAS if not a.closed
            for r in a.regions()]


def _ready() -> None:
    import os

    print(json.dumps({"event": "ready", "pid": os.getpid(), "arena": _regions()}), flush=True)


def _checkpoint(name: str) -> None:
    print(json.dumps({"event": "checkpoint", "name": name, "arena": _regions()}), flush=True)
    line = sys.stdin.readline()
    if line.strip() != "continue":
        raise SystemExit(f"memscan child: expected 'continue', got {line!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m facekit.audit.memscan_child")
    parser.add_argument("--mode", choices=("image", "image-iris", "video", "beauty", "verify",
                                           "threads", "dropped", "exception", "fusion",
                                           "portrait", "centerface"),
                        default="image")
    parser.add_argument("--scrub", default=None)
    parser.add_argument("--frames", type=int, default=None,
                        help=f"video: {VIDEO_FRAMES}; threads: {THREAD_FRAMES} per thread")
    args = parser.parse_args(argv)

    import facekit
    from facekit import _inference, _observe
    if args.scrub is not None:
        _inference.DEFAULT_SCRUB = args.scrub  # a setting read when a network is created

    image = facekit.load_image(SAMPLE)
    with _observe.listening("arena", _ARENAS.append):
        return _run(args, image)


def _run(args: argparse.Namespace, image: np.ndarray) -> int:
    from facekit import FaceLandmarker

    if args.mode == "verify":
        return _verify_child(image)
    if args.mode == "fusion":
        return _fusion_child(image)
    if args.mode == "portrait":
        return _portrait_child(image)
    if args.mode == "centerface":
        return _centerface_child(image)
    if args.mode == "threads":
        return _threads_child(image, args.frames or THREAD_FRAMES)
    if args.mode in ("dropped", "exception"):
        return _unclosed_child(image, args.mode)
    if args.mode == "beauty":
        with beautifier() as effects:
            _ready()
            out = np.array(image, copy=True)
            effects._apply(image, out, None, trace=False,
                           inspect=lambda traces: _checkpoint("inside"))
            if np.array_equal(out, image):
                raise SystemExit("memscan child: the effects changed nothing")
            _checkpoint("after-apply")
        _checkpoint("after-close")
        print(json.dumps({"event": "done"}), flush=True)
        return 0
    landmarker = FaceLandmarker(landmarker_options(args.mode))
    _ready()
    if args.mode in ("image", "image-iris"):
        with landmarker.detect(image) as result:
            if len(result.faces) != 1:
                raise SystemExit("memscan child: expected one face in the sample photo")
            _checkpoint("inside")
        _checkpoint("after-scope")
    else:
        result = None
        for i in range(args.frames or VIDEO_FRAMES):
            result = landmarker.detect_for_video(video_frame(image, i), 33 * i)
        assert result is not None and len(result.faces) == 1
        _checkpoint("after-video")
    landmarker.close()
    _checkpoint("after-close")
    print(json.dumps({"event": "done"}), flush=True)
    return 0


THREAD_FRAMES = 60


def thread_images(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The images of the two-thread audit, one per thread: the photo and its mirror image
    (different landmarks, crops and activations, all of them known to the auditor)."""
    return image, np.ascontiguousarray(image[:, ::-1])


def _threads_child(image: np.ndarray, frames: int) -> int:
    """Two pipelines in two threads, the documented way to use facekit from threads."""
    import threading

    from facekit import FaceLandmarker

    landmarkers = [FaceLandmarker(landmarker_options("image")) for _ in range(2)]
    _ready()
    all_open = threading.Barrier(3)  # both threads hold a result open: the main thread scans
    scanned = threading.Event()
    failures: list[BaseException] = []

    def work(landmarker, picture) -> None:
        try:
            for _ in range(frames - 1):
                with landmarker.detect(picture) as result:
                    if len(result.faces) != 1:
                        raise RuntimeError("expected one face")
            with landmarker.detect(picture) as result:
                all_open.wait()
                scanned.wait()
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
            all_open.abort()

    threads = [threading.Thread(target=work, args=(landmarker, picture))
               for landmarker, picture in zip(landmarkers, thread_images(image))]
    for thread in threads:
        thread.start()
    try:
        all_open.wait()
    except threading.BrokenBarrierError:
        pass
    if failures:
        raise SystemExit(f"memscan child: a thread failed: {failures[0]!r}")
    _checkpoint("inside")
    scanned.set()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"memscan child: a thread failed: {failures[0]!r}")
    _checkpoint("after-scope")
    for landmarker in landmarkers:
        landmarker.close()
    _checkpoint("after-close")
    print(json.dumps({"event": "done"}), flush=True)
    return 0


class StageFailed(RuntimeError):
    """The failure the "exception" mode injects into the pipeline."""


def _unclosed_child(image: np.ndarray, mode: str) -> int:
    """Results that are never closed: dropped ("dropped"), or never returned because detect()
    raised ("exception"). The "image" configuration, so the parent's needles are the same."""
    import gc

    from facekit import FaceLandmarker, _observe
    from facekit._attention import REGIONS

    landmarker = FaceLandmarker(landmarker_options("image"))
    _ready()
    if mode == "dropped":
        result = landmarker.detect(image)
        if len(result.faces) != 1:
            raise SystemExit("memscan child: expected one face in the sample photo")
        _checkpoint("held")
        del result  # no `with`, no close()
        gc.collect()
        _checkpoint("after-drop")
    else:
        def failing(name: str, where: dict) -> None:
            if name == REGIONS:
                _checkpoint("inside")
                raise StageFailed("injected failure after the regions network")

        try:
            with _observe.listening("network-run", failing):
                landmarker.detect(image)
        except StageFailed as error:
            kept = error  # an application that keeps the exception keeps its frames' locals
        else:
            raise SystemExit("memscan child: the injected failure did not happen")
        _checkpoint("after-exception")
        del kept
    landmarker.close()
    _checkpoint("after-close")
    print(json.dumps({"event": "done"}), flush=True)
    return 0


def threads_reference() -> list[dict[str, object]]:
    """The auditor's copies for the two-thread audit: one :func:`reference` record per thread's
    image (the photo, then its mirror image)."""
    import facekit

    return [reference("image", image=picture)[0]
            for picture in thread_images(facekit.load_image(SAMPLE))]


def verify_pair(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two photos of the verification audit: the sample and its mirror image."""
    return image, np.ascontiguousarray(image[:, ::-1])


def _verify_child(image: np.ndarray) -> int:
    """FaceVerifier: checkpoints right after each embedding-network run (``inside-1`` ..
    ``inside-4``: photo A, photo B, the reference, a match), ``after-verify``,
    ``after-reference`` and ``after-close``."""
    from facekit import _observe
    from facekit.verify import EMBEDDING, FaceVerifier

    first, second = verify_pair(image)
    verifier = FaceVerifier()
    _ready()
    runs = 0

    def embedded(name: str, where: dict) -> None:
        nonlocal runs
        if name == EMBEDDING:
            runs += 1
            _checkpoint(f"inside-{runs}")

    with _observe.listening("network-run", embedded):
        if not verifier.verify(first, second).same_person:
            raise SystemExit("memscan child: the mirrored sample should match the sample")
        _checkpoint("after-verify")
        with verifier.reference(first) as ref:
            ref.matches(second)
    _checkpoint("after-reference")
    verifier.close()
    _checkpoint("after-close")
    print(json.dumps({"event": "done"}), flush=True)
    return 0


def verify_reference() -> list[dict[str, np.ndarray]]:
    """The auditor's copies for the verification audit, per photo (A, then B): ``points`` the
    five alignment points, ``chip`` the normalized (1, 150, 150, 3) network input, ``chip u8``
    the 8-bit chip and ``descriptor`` the 128 values."""
    import facekit
    from facekit import _native, _observe
    from facekit.image import as_pixels
    from facekit.verify import EMBEDDING, FaceVerifier

    photos = verify_pair(facekit.load_image(SAMPLE))
    mean = np.array(_native.verify.CHIP_MEAN_RGB, np.float32)
    records: list[dict[str, np.ndarray]] = []

    def embedded(name: str, where: dict) -> None:
        if name == EMBEDDING:
            chip = _copy(*where["input"])
            records.append({
                "chip": chip,
                "chip u8": np.rint(chip[0] / np.float32(_native.verify.CHIP_SCALE) + mean
                                   ).astype(np.uint8),
                "descriptor": _copy(*where["descriptor"]),
            })

    with FaceVerifier() as verifier:
        with _observe.listening("network-run", embedded):
            verifier.verify(*photos)
        # The alignment points come from the verifier's own native steps, run again here on
        # the same landmarks (no event carries them).
        for record, photo in zip(records, photos):
            pixels, pixel_format = as_pixels(photo, verifier.options.color_format)
            with verifier._landmarker.detect(pixels) as result:
                face = max(result.faces, key=lambda f: f.roi.width)
                points, _ = _native.verify.chip_points(
                    pixels, pixel_format, face.landmarks, verifier._detector,
                    verifier._predictor, verifier._landmarker._arena._native)
                record["points"] = np.array(points, dtype=np.float32)
    return records


FUSION_CONSENT = "facekit audit: the bundled public-domain sample photo"


def fuser():
    """The FaceFuser audited in "fusion" mode: the swap preset, no visible label."""
    from facekit import FaceFuser, FusionOptions

    return FaceFuser.create_from_options(
        FusionOptions.swap(consent=FUSION_CONSENT, label=False))


def fusion_pair(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (user photo, template) of the fusion audit: the sample's mirror image at twice its
    size (so that the prepared texture is resampled: its rows are then values of the
    texture's own, not rows of the photo the application holds anyway), and the sample."""
    photo = np.repeat(np.repeat(image[:, ::-1], 2, axis=0), 2, axis=1)
    return np.ascontiguousarray(photo), image


def _fusion_child(image: np.ndarray) -> int:
    from facekit import FaceLandmarker

    photo, template = fusion_pair(image)
    with fuser() as fusing, FaceLandmarker(fusing.options.landmarker_options()) as landmarker:
        _ready()
        with fusing.user(photo) as user, landmarker.detect(template) as faces:
            out = user.fuse(template, faces=faces).image
            if np.array_equal(out, template):
                raise SystemExit("memscan child: the fusion changed nothing")
            _checkpoint("inside")
        _checkpoint("after-scope")
    _checkpoint("after-close")
    print(json.dumps({"event": "done"}), flush=True)
    return 0


def fusion_reference() -> dict[str, np.ndarray]:
    """The auditor's copies for the fusion audit: ``texture`` the user's prepared face texture
    (uint8 RGB), ``user mesh`` its 468 points in texture pixels, ``user landmarks`` and
    ``template landmarks`` the two faces' meshes in image pixels."""
    import facekit
    from facekit import FaceLandmarker

    photo, template = fusion_pair(facekit.load_image(SAMPLE))
    record: dict[str, np.ndarray] = {}
    with fuser() as fusing, FaceLandmarker(fusing.options.landmarker_options()) as landmarker:
        for name, picture in (("user landmarks", photo), ("template landmarks", template)):
            with landmarker.detect(picture) as result:
                record[name] = np.array(result.faces[0].landmarks, dtype=np.float32)
        with fusing.user(photo) as user:
            record["texture"] = np.array(user._prepared["texture"], dtype=np.uint8)
            record["user mesh"] = np.array(user._prepared["mesh"], dtype=np.float32)
    return record


def portrait():
    """The Portrait audited in "portrait" mode: background blur."""
    from facekit import Portrait, PortraitOptions

    return Portrait.create_from_options(PortraitOptions(blur=0.8))


def _portrait_child(image: np.ndarray) -> int:
    with portrait() as task:
        _ready()
        with task.segment(image) as result:
            if np.array_equal(result.image, image):
                raise SystemExit("memscan child: the blur changed nothing")
            _checkpoint("inside")
        _checkpoint("after-scope")
    _checkpoint("after-close")
    print(json.dumps({"event": "done"}), flush=True)
    return 0


def portrait_reference() -> dict[str, np.ndarray]:
    """The auditor's copy for the portrait audit: ``matte``, the sample's matte (uint8 HxW)."""
    import facekit

    with portrait() as task, task.segment(facekit.load_image(SAMPLE)) as result:
        return {"matte": np.array(result.matte, dtype=np.uint8)}


CENTERFACE_OUTPUTS = ("heatmap", "scale", "offset", "landmarks")


def centerface_detector():
    """The detector audited in "centerface" mode: CenterFace at its default threshold."""
    from facekit import FaceDetector, FaceDetectorOptions

    return FaceDetector(FaceDetectorOptions(model="centerface"))


def _centerface_child(image: np.ndarray) -> int:
    with centerface_detector() as detector:
        _ready()
        with detector.detect(image) as result:
            if not result.faces:
                raise SystemExit("memscan child: CenterFace found no face")
            _checkpoint("inside")
        _checkpoint("after-scope")
    _checkpoint("after-close")
    print(json.dumps({"event": "done"}), flush=True)
    return 0


def centerface_reference() -> dict[str, Any]:
    """The auditor's copy for the CenterFace audit, on the sample: ``keypoints`` (5, 2),
    ``outputs`` (the four output maps, copied from the arena right after the run) and
    ``blank outputs`` (the same maps for an all-zeros input), ``hidden`` and ``blank`` (the
    network's last hidden activations for the input and for zeros, as :func:`reference`)."""
    import facekit
    from facekit import _observe

    from .probe import HiddenProbe

    record: dict[str, Any] = {}

    def ran(name: str, where: dict) -> None:
        probe = HiddenProbe(name)
        tensor = _copy(*where["input"])
        zeros = np.zeros(tensor.shape, np.float32)
        record["hidden"] = {name: list(probe(tensor).values())}
        record["blank"] = {name: list(probe(zeros).values())}
        record["outputs"] = {o: _copy(*where[o]) for o in CENTERFACE_OUTPUTS}
        blank = probe.session.run(list(CENTERFACE_OUTPUTS), {probe.input_name: zeros})
        record["blank outputs"] = dict(zip(CENTERFACE_OUTPUTS, blank))

    with centerface_detector() as detector:
        with _observe.listening("network-run", ran), \
                detector.detect(facekit.load_image(SAMPLE)) as result:
            record["keypoints"] = np.array(result.faces[0].keypoints, dtype=np.float32)
    return record


def _copy(address: int, shape: tuple[int, ...]) -> np.ndarray:
    """The auditor's own copy of the float32 arena memory at `address` (from a
    ``"network-run"`` event of its reference run on the public sample)."""
    import ctypes
    import math

    memory = (ctypes.c_float * math.prod(shape)).from_address(address)
    return np.ctypeslib.as_array(memory).reshape(shape).copy()


def landmarker_options(mode: str):
    """The configuration audited: the default landmarker with 478 points, so that every
    network of the default path runs (detector, the attention mesh's trunk and regions); in
    "image-iris" mode the older 478-point path (detector, mesh, iris); in "beauty" mode, the
    Beautifier's own."""
    from facekit import FaceLandmarkerOptions, RunningMode

    if mode == "beauty":
        from facekit.beauty import Beautifier

        return Beautifier.landmarker_options()
    return FaceLandmarkerOptions(
        running_mode=RunningMode.VIDEO if mode == "video" else RunningMode.IMAGE, iris=True,
        refine="iris" if mode == "image-iris" else "attention")


def beautifier():
    """The Beautifier audited in "beauty" mode: the studio preset (skin, shape and makeup)."""
    from facekit.beauty import PRESETS, Beautifier

    return Beautifier(PRESETS["studio"])


def reference(mode: str = "image", frames: int = VIDEO_FRAMES,
              image: np.ndarray | None = None) -> list[dict[str, object]]:
    """The auditor's own copies, per processed frame, of what the child computes.

    Runs the same pipeline in this (the parent's) process and copies values out of the arena
    right after each network run (the ``"network-run"`` event of :mod:`facekit._observe`) and
    while each frame is open: ``landmarks`` (N, 3) image pixels, ``keypoints`` (6, 2) of the
    detected face (only on frames where the detector ran), ``crop`` the (1, 192, 192, 3) face
    crop fed to the landmark network, ``raw`` its 1404 raw outputs, with the attention mesh
    ``features`` (the trunk's 48x48x32 feature map) and ``region crops`` (the regions network's
    3x16x16x32 input), and ``hidden`` (network name
    -> list of NCHW arrays) each network's last hidden activations, from a probe copy of the
    network run on the same input (:class:`facekit.audit.probe.HiddenProbe`), with ``blank``
    the same for an all-zeros input. Only for
    auditing: the sample is the bundled public-domain photo (or `image`, made from it).
    """
    import facekit
    from facekit import FaceDetector, FaceDetectorOptions, FaceLandmarker, _observe
    from facekit._attention import REGIONS, TRUNK

    from .probe import HiddenProbe

    if image is None:
        image = facekit.load_image(SAMPLE)
    video = mode == "video"
    records: list[dict[str, object]] = []
    probes: dict[str, HiddenProbe] = {}
    options = landmarker_options("beauty" if mode == "beauty" else mode)
    # The keypoints: a detector of the landmarker's configuration, run on each frame where the
    # landmarker's own detector ran (same network, same crop, same decoder: the same values).
    detector_options = FaceDetectorOptions(
        model=options.detector_model, max_faces=options.max_faces,
        min_detection_confidence=options.min_detection_confidence)
    with FaceLandmarker(options) as landmarker, FaceDetector(detector_options) as detector:
        current: dict[str, Any] = {}

        def ran(name: str, where: dict) -> None:
            if name not in probes:
                probes[name] = HiddenProbe(name)
            tensor = _copy(*where["input"])
            current.setdefault("hidden", {}).setdefault(name, []).extend(
                probes[name](tensor).values())
            current.setdefault("blank", {}).setdefault(name, []).extend(
                probes[name](np.zeros(tensor.shape, np.float32)).values())
            if name == landmarker._mesh.name:
                current["crop"] = tensor
                current["raw"] = _copy(*where[landmarker._mesh_points])
                if name == TRUNK:
                    current["features"] = _copy(*where["p_re_lu_3"])
            elif name == REGIONS:
                current["region crops"] = tensor
            elif name == landmarker._detector.network.name:
                current["detector ran"] = True

        for i in range(frames if video else 1):
            current = {}
            picture = video_frame(image, i) if video else image
            with _observe.listening("network-run", ran):
                result = (landmarker.detect_for_video(picture, 33 * i) if video
                          else landmarker.detect(picture))
            with result:
                current["landmarks"] = np.array(result.faces[0].landmarks, dtype=np.float32)
            if current.pop("detector ran", False):
                with detector.detect(picture) as found:
                    if found.faces:
                        current["keypoints"] = np.array(found.faces[0].keypoints,
                                                        dtype=np.float32)
            records.append(current)
    if mode == "beauty":
        records[0]["skin mask"] = _skin_mask(image)
    return records


def _skin_mask(image: np.ndarray) -> np.ndarray:
    """The skin mask the audited Beautifier computes on `image` (its trace), copied out of the
    arena: the auditor's reference for the beauty mode's "skin mask rows" needles."""
    kept: dict[str, np.ndarray] = {}
    with beautifier() as effects:
        effects._apply(image, np.array(image, copy=True), None, trace=True,
                       inspect=lambda traces: kept.update(skin=np.array(traces[0]["skin"])))
    return kept["skin"]


if __name__ == "__main__":
    sys.exit(main())
