"""Larger test videos made from the shared clip, cached outside the repository (PyAV only).

- :func:`excerpt`: a run of the clip's frames (all by default), scaled to 1920x1080 or kept
  at their size, encoded once with libx264 (CRF 18, veryfast), video only.
- :func:`looped`: a file of at least the given duration made by repeating the packets of a clip
  with shifted timestamps (a remux: no decoding, nothing held in memory). Each copy starts on the
  clip's first frame, a keyframe, so the result decodes like one long video.

Files go to ``$FACEKIT_BENCH_CACHE`` or ``<tmp>/facekit-bench-cache`` and are reused while the
source is unchanged (the name carries its size and mtime). Used by test_video.py and
video_memory.py.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path


def cache_dir() -> Path:
    folder = Path(os.environ.get("FACEKIT_BENCH_CACHE")
                  or Path(tempfile.gettempdir()) / "facekit-bench-cache")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _key(source: Path) -> str:
    stat = source.stat()
    return f"{source.stem}-{stat.st_size}-{int(stat.st_mtime)}"


def excerpt(source: Path, height: int | None = None, start: int = 0,
            frames: int | None = None) -> Path:
    """Frames start..start+frames-1 of `source` (all by default), scaled to `height` lines at
    16:9 (1080: 1920x1080) or kept at their size, re-encoded once and cached."""
    import av

    name = f"{_key(source)}-{height or 'same'}p-{start}-{frames or 'all'}.mp4"
    target = cache_dir() / name
    if target.exists():
        return target
    partial = target.with_suffix(f".{os.getpid()}.partial.mp4")
    with av.open(str(source)) as inp, av.open(str(partial), "w") as out:
        video = inp.streams.video[0]
        video.thread_type = "AUTO"
        stream = out.add_stream("libx264", rate=video.average_rate,
                                options={"crf": "18", "preset": "veryfast"})
        width, lines = (height * 16 // 9, height) if height else (video.width, video.height)
        stream.width, stream.height, stream.pix_fmt = width, lines, "yuv420p"
        stream.time_base = video.time_base
        first = None
        for index, frame in enumerate(inp.decode(video)):
            if index < start:
                continue
            if frames is not None and index >= start + frames:
                break
            first = frame.pts if first is None else first
            scaled = frame.reformat(width=width, height=lines, format="yuv420p",
                                    interpolation="BICUBIC")
            scaled.pts, scaled.time_base = frame.pts - first, frame.time_base
            out.mux(stream.encode(scaled))
        out.mux(stream.encode(None))
    partial.replace(target)
    return target


def looped(source: Path, seconds: float) -> tuple[Path, int]:
    """`source`'s video packets repeated until the file lasts at least `seconds`; the path
    and its frame count, cached."""
    import av

    with av.open(str(source)) as inp:
        video = inp.streams.video[0]
        frames = video.frames
        step = round(1 / (video.average_rate * video.time_base))  # ticks per frame
    length = frames * step  # one copy's duration in time-base ticks
    copies = math.ceil(seconds / float(length * video.time_base))
    target = cache_dir() / f"{source.stem}-x{copies}.mp4"
    if target.exists():
        return target, copies * frames
    partial = target.with_suffix(f".{os.getpid()}.partial.mp4")
    with av.open(str(partial), "w") as out:
        for copy in range(copies):
            with av.open(str(source)) as inp:  # re-read: one packet in memory at a time
                video = inp.streams.video[0]
                if copy == 0:
                    stream = out.add_stream_from_template(video)
                for packet in inp.demux(video):
                    if packet.size == 0:  # the demuxer's end marker
                        continue
                    packet.pts += copy * length
                    packet.dts += copy * length
                    packet.stream = stream
                    out.mux(packet)
    partial.replace(target)
    return target, copies * frames
