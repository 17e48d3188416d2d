"""The traced child of the system-call audits.

Window mode, ``python -m facekit.audit.syscalls_child [CLIP]``: processes a video with
FaceLandmarker (VIDEO mode, iris on): the frames of CLIP (decoded with PyAV, the ``test`` extra)
or, without CLIP, 100 frames made from the bundled sample photo (shifted one pixel per frame, as
the memory scan's video). Run it under ``strace -f`` and check the log with
:mod:`facekit.audit.syscalls` (:func:`facekit.audit.syscalls.trace_video` does both).

Start-up (imports, loading and verifying the models, opening the clip) happens first. Then one
``write(2, "PROCESSING-START\\n", 17)`` marks the start of processing, every frame is decoded
and processed, and ``write(2, "PROCESSING-END\\n", 15)`` marks its end; the checker reads only
the system calls between the two. Each marker is a single ``os.write``, so exactly one system
call. Nothing else is printed inside the window; the counts are printed after it.

Whole-process mode, ``python -m facekit.audit.syscalls_child --seconds S [--clip CLIP]
[--output PNG]``: the whole process is judged, from its start to its exit
(:func:`facekit.audit.syscalls.trace_whole_process`). For at least S seconds it repeats one pass:
FaceDetector, FaceLandmarker (iris on), Beautifier (studio preset), Anonymizer and FaceFuser (the
mirrored photo fused into it, swap preset) on the sample photo, then FaceLandmarker in VIDEO mode over every frame of CLIP (decoded again each pass) or
over the 100 frames made from the photo. With ``--output`` it writes the last anonymized photo
there as a PNG: the one file it may write. Finally it prints one JSON line to stdout: seconds,
passes, frames, faces and :func:`facekit.telemetry_status`.

Video-file mode, ``python -m facekit.audit.syscalls_child --video OUTPUT --clip CLIP``: the
whole process is judged while :func:`facekit.video.process_video` writes CLIP, with every
effect (the sample photo's mirror image fused in, the natural beauty preset, the mesh and
pixelation), to OUTPUT: the one file it may write, through a temporary file in OUTPUT's
folder (:func:`facekit.audit.syscalls.trace_video_file`). It prints one JSON line: frames,
frames with faces, audio packets and :func:`facekit.telemetry_status`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator

import numpy as np

START = b"PROCESSING-START\n"
END = b"PROCESSING-END\n"


def _sample_frames() -> Iterator[np.ndarray]:
    import facekit

    from .memscan_child import SAMPLE, VIDEO_FRAMES, video_frame

    image = facekit.load_image(SAMPLE)
    frames = [video_frame(image, i) for i in range(VIDEO_FRAMES)]  # made before the window
    yield from frames


def _window(clip: str | None) -> int:
    import facekit

    options = facekit.FaceLandmarkerOptions(running_mode=facekit.RunningMode.VIDEO, iris=True)
    frames = faces = 0
    with facekit.FaceLandmarker(options) as landmarker:
        if clip is not None:
            import av

            container = av.open(clip)
            source: Iterator[np.ndarray] = (f.to_ndarray(format="rgb24")
                      for f in container.decode(container.streams.video[0]))
        else:
            container = None
            source = iter(list(_sample_frames()))
        sys.stderr.flush()
        os.write(2, START)
        for index, image in enumerate(source):
            with landmarker.detect_for_video(image, 33 * index) as result:
                frames += 1
                faces += len(result.faces)
        os.write(2, END)
        if container is not None:
            container.close()
    print(f"{frames} frames processed, {faces} faces found", file=sys.stderr)
    return 0 if frames > 0 and faces > 0 else 1


def _clip_frames(clip: str) -> Iterator[np.ndarray]:
    import av

    with av.open(clip) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")


def _whole(seconds: float, clip: str | None, output: str | None) -> int:
    import facekit
    from facekit.beauty import PRESETS

    from .memscan_child import SAMPLE, fuser

    photo = facekit.load_image(SAMPLE)
    mirrored = np.ascontiguousarray(photo[:, ::-1])
    sample_video = None if clip else list(_sample_frames())
    passes = frames = faces = 0
    timestamp_ms = 0
    video = facekit.FaceLandmarkerOptions(running_mode=facekit.RunningMode.VIDEO, iris=True)
    start = time.monotonic()
    with facekit.FaceDetector() as detector, \
            facekit.FaceLandmarker(facekit.FaceLandmarkerOptions(iris=True)) as landmarker, \
            facekit.Beautifier(PRESETS["studio"]) as beautifier, \
            facekit.Anonymizer() as anonymizer, \
            facekit.FaceLandmarker(video) as tracker, \
            fuser() as fusing, fusing.user(mirrored) as user:
        while passes == 0 or time.monotonic() - start < seconds:
            with detector.detect(photo) as found:
                faces += len(found.faces)
            with landmarker.detect(photo) as marked:
                faces += len(marked.faces)
            beautifier.apply(photo)
            covered = anonymizer.apply(photo)
            user.fuse(photo)
            for frame in (_clip_frames(clip) if clip else sample_video):  # type: ignore[union-attr]
                timestamp_ms += 33
                with tracker.detect_for_video(frame, timestamp_ms) as tracked:
                    faces += len(tracked.faces)
                frames += 1
            passes += 1
    elapsed = time.monotonic() - start
    if output is not None:
        from PIL import Image

        Image.fromarray(covered).save(output, format="PNG")
    print(json.dumps({"seconds": round(elapsed, 1), "passes": passes, "frames": frames,
                      "faces": faces, "telemetry": facekit.telemetry_status()}), flush=True)
    return 0 if faces > 0 else 1


def _video(clip: str, output: str) -> int:
    import facekit
    from facekit.beauty import PRESETS
    from facekit.video import process_video

    from .memscan_child import FUSION_CONSENT, SAMPLE

    photo = np.ascontiguousarray(facekit.load_image(SAMPLE)[:, ::-1])
    report = process_video(clip, output, fuse_user=photo, consent=FUSION_CONSENT,
                           beauty=PRESETS["natural"], mesh=True, anonymize="pixelate")
    print(json.dumps({"frames": report.frames_out, "faces": report.frames_with_faces,
                      "audio_packets": report.audio_packets,
                      "telemetry": facekit.telemetry_status()}), flush=True)
    return 0 if report.frames_with_faces > 0 else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m facekit.audit.syscalls_child")
    parser.add_argument("clip", nargs="?", help="window mode: the video to process")
    parser.add_argument("--seconds", type=float,
                        help="whole-process mode: repeat the pipelines for this long")
    parser.add_argument("--clip", dest="whole_clip", help="whole-process mode: a video")
    parser.add_argument("--output", help="whole-process mode: write the anonymized photo here")
    parser.add_argument("--video", metavar="OUTPUT",
                        help="video-file mode: process --clip into this file")
    args = parser.parse_args(argv[1:])
    if args.video is not None:
        if args.whole_clip is None or args.seconds is not None or args.clip or args.output:
            parser.error("video-file mode takes --video OUTPUT --clip CLIP only")
        return _video(args.whole_clip, args.video)
    if args.seconds is None:
        if args.whole_clip or args.output:
            parser.error("--clip and --output belong to the whole-process mode (--seconds)")
        return _window(args.clip)
    if args.clip is not None:
        parser.error("whole-process mode takes its video as --clip")
    if args.seconds <= 0:
        parser.error(f"--seconds must be positive, got {args.seconds}")
    return _whole(args.seconds, args.whole_clip, args.output)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
