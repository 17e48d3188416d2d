"""The audited child of the memory scan: ``python -m facekit.audit.memscan_child [options]``.

Line protocol (stdout from the child, stdin to it): the child prints one JSON object per line.
First ``{"event": "ready", "pid": ..., "arena": [[start, size], ...]}``; then, at each
checkpoint, ``{"event": "checkpoint", "name": ..., "arena": [...]}`` and it blocks until the
parent writes ``continue``. Finally ``{"event": "done"}``.

``--mode image``: checkpoints ``inside`` (within ``with landmarker.detect(photo) as result:``),
``after-scope`` and ``after-close``. ``--mode beauty``: the Beautifier (studio preset) on the
photo, with checkpoints ``inside`` (within the frame, after the effects ran), ``after-apply``
and ``after-close``. ``--mode video``: 100 frames of the photo, frame i shifted
right by i pixels, then ``after-video`` (the last frame's result is still open, as an
application that does not use ``with`` would leave it) and ``after-close``.
``--mode dropped``: a result taken without ``with`` (checkpoint ``held``), then dropped and
collected, never closed (``after-drop``), then ``after-close``. ``--mode exception``: detect()
fails inside the pipeline, right after the iris network ran (checkpoint ``inside``, just before
the failure), and the exception is kept, traceback and all (``after-exception``); then
``after-close``. Both use the "image" configuration.
``--scrub NAME`` sets ``facekit._inference.DEFAULT_SCRUB`` first (for the negative test).

The child never copies a value out of the arena; the parent computes the same values itself
with :func:`reference` (same photo, same networks, same thread count, bitwise identical).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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


def _regions(owner) -> list[list[int]]:
    """Arena regions of a pipeline (its ``_arena``), an arena, or a list of either."""
    owners = owner if isinstance(owner, list) else [owner]
    arenas = [getattr(o, "_arena", o) for o in owners]
    return [[int(r["start"]), int(r["size"])] for a in arenas if not a.closed
            for r in a.regions()]


def _checkpoint(name: str, landmarker) -> None:
    print(json.dumps({"event": "checkpoint", "name": name, "arena": _regions(landmarker)}),
          flush=True)
    line = sys.stdin.readline()
    if line.strip() != "continue":
        raise SystemExit(f"memscan child: expected 'continue', got {line!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m facekit.audit.memscan_child")
    parser.add_argument("--mode", choices=("image", "video", "beauty", "verify", "threads",
                                           "dropped", "exception"),
                        default="image")
    parser.add_argument("--scrub", default=None)
    parser.add_argument("--frames", type=int, default=None,
                        help=f"video: {VIDEO_FRAMES}; threads: {THREAD_FRAMES} per thread")
    args = parser.parse_args(argv)

    import facekit
    from facekit import _inference
    if args.scrub is not None:
        _inference.DEFAULT_SCRUB = args.scrub
    from facekit import FaceLandmarker

    image = facekit.load_image(SAMPLE)
    import os
    if args.mode == "verify":
        return _verify_child(image)
    if args.mode == "threads":
        return _threads_child(image, args.frames or THREAD_FRAMES)
    if args.mode in ("dropped", "exception"):
        return _unclosed_child(image, args.mode)
    if args.mode == "beauty":
        with beautifier() as effects:
            landmarker = effects._landmarker
            print(json.dumps({"event": "ready", "pid": os.getpid(),
                              "arena": _regions(landmarker)}), flush=True)
            out = np.array(image, copy=True)
            effects._apply(image, out, None, trace=False,
                           inspect=lambda traces: _checkpoint("inside", landmarker))
            if np.array_equal(out, image):
                raise SystemExit("memscan child: the effects changed nothing")
            _checkpoint("after-apply", landmarker)
        _checkpoint("after-close", landmarker)
        print(json.dumps({"event": "done"}), flush=True)
        return 0
    landmarker = FaceLandmarker(landmarker_options(args.mode))
    print(json.dumps({"event": "ready", "pid": os.getpid(), "arena": _regions(landmarker)}),
          flush=True)
    if args.mode == "image":
        with landmarker.detect(image) as result:
            if len(result.faces) != 1:
                raise SystemExit("memscan child: expected one face in the sample photo")
            _checkpoint("inside", landmarker)
        _checkpoint("after-scope", landmarker)
    else:
        result = None
        for i in range(args.frames or VIDEO_FRAMES):
            result = landmarker.detect_for_video(video_frame(image, i), 33 * i)
        assert result is not None and len(result.faces) == 1
        _checkpoint("after-video", landmarker)
    landmarker.close()
    _checkpoint("after-close", landmarker)
    print(json.dumps({"event": "done"}), flush=True)
    return 0


THREAD_FRAMES = 60


def thread_images(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The images of the two-thread audit, one per thread: the photo and its mirror image
    (different landmarks, crops and activations, all of them known to the auditor)."""
    return image, np.ascontiguousarray(image[:, ::-1])


def _threads_child(image: np.ndarray, frames: int) -> int:
    """Two pipelines in two threads, the documented way to use facekit from threads."""
    import os
    import threading

    from facekit import FaceLandmarker

    landmarkers = [FaceLandmarker(landmarker_options("image")) for _ in range(2)]
    print(json.dumps({"event": "ready", "pid": os.getpid(), "arena": _regions(landmarkers)}),
          flush=True)
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
    _checkpoint("inside", landmarkers)
    scanned.set()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"memscan child: a thread failed: {failures[0]!r}")
    _checkpoint("after-scope", landmarkers)
    for landmarker in landmarkers:
        landmarker.close()
    _checkpoint("after-close", landmarkers)
    print(json.dumps({"event": "done"}), flush=True)
    return 0


class StageFailed(RuntimeError):
    """The failure the "exception" mode injects into the pipeline."""


def _unclosed_child(image: np.ndarray, mode: str) -> int:
    """Results that are never closed: dropped ("dropped"), or never returned because detect()
    raised ("exception"). The "image" configuration, so the parent's needles are the same."""
    import gc
    import os

    from facekit import FaceLandmarker

    landmarker = FaceLandmarker(landmarker_options("image"))
    print(json.dumps({"event": "ready", "pid": os.getpid(), "arena": _regions(landmarker)}),
          flush=True)
    if mode == "dropped":
        result = landmarker.detect(image)
        if len(result.faces) != 1:
            raise SystemExit("memscan child: expected one face in the sample photo")
        _checkpoint("held", landmarker)
        del result  # no `with`, no close()
        gc.collect()
        _checkpoint("after-drop", landmarker)
    else:
        run = landmarker._iris.run

        def failing(frame, tensor):
            run(frame, tensor)
            _checkpoint("inside", landmarker)
            raise StageFailed("injected failure after the iris network")

        landmarker._iris.run = failing
        try:
            landmarker.detect(image)
        except StageFailed as error:
            kept = error  # an application that keeps the exception keeps its frames' locals
        else:
            raise SystemExit("memscan child: the injected failure did not happen")
        _checkpoint("after-exception", landmarker)
        del kept
    landmarker.close()
    _checkpoint("after-close", landmarker)
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
    import os

    from facekit import verify as verify_module

    arenas: list = []

    class Recorded(verify_module.SecureArena):  # every arena the verifier opens is audited
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            arenas.append(self)

    verify_module.SecureArena = Recorded
    first, second = verify_pair(image)
    verifier = verify_module.FaceVerifier()
    every = lambda: [verifier._landmarker._arena, *arenas]  # noqa: E731
    print(json.dumps({"event": "ready", "pid": os.getpid(), "arena": _regions(every())}),
          flush=True)
    run = verifier._network.run
    runs = [0]

    def spied(frame, tensor):
        outputs = run(frame, tensor)
        runs[0] += 1
        _checkpoint(f"inside-{runs[0]}", every())
        return outputs

    verifier._network.run = spied
    if not verifier.verify(first, second).same_person:
        raise SystemExit("memscan child: the mirrored sample should match the sample")
    _checkpoint("after-verify", every())
    with verifier.reference(first) as ref:
        ref.matches(second)
    _checkpoint("after-reference", every())
    verifier.close()
    _checkpoint("after-close", every())
    print(json.dumps({"event": "done"}), flush=True)
    return 0


def verify_reference() -> list[dict[str, np.ndarray]]:
    """The auditor's copies for the verification audit, per photo (A, then B): ``points`` the
    five alignment points, ``chip`` the normalized (1, 150, 150, 3) network input, ``chip u8``
    the 8-bit chip and ``descriptor`` the 128 values."""
    import facekit
    from facekit import _native
    from facekit.verify import FaceVerifier

    first, second = verify_pair(facekit.load_image(SAMPLE))
    mean = np.array(_native.verify.CHIP_MEAN_RGB, np.float32)
    records: list[dict[str, np.ndarray]] = []
    points: list[np.ndarray] = []
    chip_points = _native.verify.chip_points

    def spied_points(*args, **kwargs):
        found = chip_points(*args, **kwargs)
        points.append(np.array(found[0], dtype=np.float32))
        return found

    with FaceVerifier() as verifier:
        run = verifier._network.run

        def spied(frame, tensor):
            outputs = run(frame, tensor)
            chip = np.array(tensor, dtype=np.float32)
            records.append({
                "points": points[-1],
                "chip": chip,
                "chip u8": np.rint(chip[0] / np.float32(_native.verify.CHIP_SCALE) + mean
                                   ).astype(np.uint8),
                "descriptor": np.array(outputs["descriptor"], dtype=np.float32),
            })
            return outputs

        verifier._network.run = spied
        _native.verify.chip_points = spied_points
        try:
            verifier.verify(first, second)
        finally:
            _native.verify.chip_points = chip_points
    return records


def landmarker_options(mode: str):
    """The configuration audited: the default landmarker with the iris network on, so that
    all three networks (detector, mesh, iris) run; in "beauty" mode, the Beautifier's own."""
    from facekit import FaceLandmarkerOptions, RunningMode

    if mode == "beauty":
        from facekit.beauty import Beautifier

        return Beautifier.landmarker_options()
    return FaceLandmarkerOptions(
        running_mode=RunningMode.VIDEO if mode == "video" else RunningMode.IMAGE, iris=True)


def beautifier():
    """The Beautifier audited in "beauty" mode: the studio preset (skin, shape and makeup)."""
    from facekit.beauty import PRESETS, Beautifier

    return Beautifier(PRESETS["studio"])


def reference(mode: str = "image", frames: int = VIDEO_FRAMES,
              image: np.ndarray | None = None) -> list[dict[str, object]]:
    """The auditor's own copies, per processed frame, of what the child computes.

    Runs the same pipeline in this (the parent's) process and copies values out of the arena
    while each frame is open: ``landmarks`` (N, 3) image pixels, ``keypoints`` (6, 2) of the
    detected face (only on frames where the detector ran), ``crop`` the (1, 192, 192, 3) face
    crop fed to the landmark network, ``raw`` its 1404 raw outputs and ``hidden`` (network name
    -> list of NCHW arrays) each network's last hidden activations, from a probe copy of the
    network run on the same input (:class:`facekit.audit.probe.HiddenProbe`), with ``blank``
    the same for an all-zeros input. Only for
    auditing: the sample is the bundled public-domain photo (or `image`, made from it).
    """
    import facekit
    from facekit import FaceLandmarker

    from .probe import HiddenProbe

    if image is None:
        image = facekit.load_image(SAMPLE)
    video = mode == "video"
    records: list[dict[str, object]] = []
    probes: dict[str, HiddenProbe] = {}
    if mode == "beauty":
        mode = "image"  # the same landmarks, from the Beautifier's landmarker configuration
        options = landmarker_options("beauty")
    else:
        options = landmarker_options(mode)
    with FaceLandmarker(options) as landmarker:
        current: dict[str, object] = {}

        def spy(network, extra=None):
            run = network.run

            def spied(frame, tensor):
                outputs = run(frame, tensor)
                if network.name not in probes:
                    probes[network.name] = HiddenProbe(network.name)
                probe = probes[network.name]
                hidden = probe(np.array(tensor, dtype=np.float32))
                blank = probe(np.zeros(tensor.shape, np.float32))
                current.setdefault("hidden", {}).setdefault(network.name, []).extend(
                    hidden.values())
                current.setdefault("blank", {}).setdefault(network.name, []).extend(
                    blank.values())
                if extra:
                    extra(tensor, outputs)
                return outputs

            network.run = spied

        def mesh_values(tensor, outputs):
            current["crop"] = np.array(tensor, dtype=np.float32)
            current["raw"] = np.array(outputs[landmarker._mesh_points], dtype=np.float32)

        spy(landmarker._mesh, mesh_values)
        if landmarker._iris is not None:
            spy(landmarker._iris)
        spy(landmarker._detector.network)
        detect = landmarker._detector.detect

        def spy_detect(*a, **k):
            faces, keypoints = detect(*a, **k)
            if len(faces):
                current["keypoints"] = np.array(keypoints[0], dtype=np.float32)
            return faces, keypoints

        landmarker._detector.detect = spy_detect
        for i in range(frames if video else 1):
            current = {}
            result = (landmarker.detect_for_video(video_frame(image, i), 33 * i) if video
                      else landmarker.detect(image))
            with result:
                current["landmarks"] = np.array(result.faces[0].landmarks, dtype=np.float32)
            records.append(current)
    return records


if __name__ == "__main__":
    sys.exit(main())
