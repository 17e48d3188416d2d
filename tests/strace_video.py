"""Process a video clip with FaceLandmarker (VIDEO mode, iris on) under `strace`.

Run as::

    strace -f -e trace=%file,%network,%process,write,writev,pwrite64 -o LOG \\
        python tests/strace_video.py CLIP
    python tests/check_strace.py LOG

Start-up (imports, loading and verifying the models, opening the clip) happens first. Then one
`write(2, "PROCESSING-START\\n", 17)` marks the start of processing, every frame of the clip is
decoded (PyAV) and processed, and `write(2, "PROCESSING-END\\n", 15)` marks its end.
`check_strace.py` reads only the system calls between the two marker writes. Each marker is a
single `os.write` so that it is exactly one system call in the log.

Nothing else is printed inside the window; the frame and face counts are printed after it.
"""

from __future__ import annotations

import os
import sys

START = b"PROCESSING-START\n"
END = b"PROCESSING-END\n"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} CLIP", file=sys.stderr)
        return 2
    import av

    import facekit

    options = facekit.FaceLandmarkerOptions(running_mode=facekit.RunningMode.VIDEO, iris=True)
    frames = faces = 0
    with facekit.FaceLandmarker(options) as landmarker, av.open(argv[1]) as container:
        stream = container.streams.video[0]
        sys.stderr.flush()
        os.write(2, START)
        for index, frame in enumerate(container.decode(stream)):
            with landmarker.detect_for_video(frame.to_ndarray(format="rgb24"), 33 * index) as r:
                frames += 1
                faces += len(r.faces)
        os.write(2, END)
    print(f"{frames} frames processed, {faces} faces found", file=sys.stderr)
    return 0 if frames > 0 and faces > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
