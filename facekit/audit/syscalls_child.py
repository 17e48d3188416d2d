"""The traced child of the system-call audit: ``python -m facekit.audit.syscalls_child [CLIP]``.

Processes a video with FaceLandmarker (VIDEO mode, iris on): the frames of CLIP (decoded with
PyAV, the ``test`` extra) or, without CLIP, 100 frames made from the bundled sample photo
(shifted one pixel per frame, as the memory scan's video). Run it under ``strace -f`` and check
the log with :mod:`facekit.audit.syscalls` (:func:`facekit.audit.syscalls.trace_video` does both).

Start-up (imports, loading and verifying the models, opening the clip) happens first. Then one
``write(2, "PROCESSING-START\\n", 17)`` marks the start of processing, every frame is decoded
and processed, and ``write(2, "PROCESSING-END\\n", 15)`` marks its end; the checker reads only
the system calls between the two. Each marker is a single ``os.write``, so exactly one system
call. Nothing else is printed inside the window; the counts are printed after it.
"""

from __future__ import annotations

import os
import sys
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


def main(argv: list[str]) -> int:
    if len(argv) > 2:
        print("usage: python -m facekit.audit.syscalls_child [CLIP]", file=sys.stderr)
        return 2
    import facekit

    options = facekit.FaceLandmarkerOptions(running_mode=facekit.RunningMode.VIDEO, iris=True)
    frames = faces = 0
    with facekit.FaceLandmarker(options) as landmarker:
        if len(argv) == 2:
            import av

            container = av.open(argv[1])
            source = (f.to_ndarray(format="rgb24")
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


if __name__ == "__main__":
    sys.exit(main(sys.argv))
