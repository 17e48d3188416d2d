"""MediaPipe 0.10.14 reference ("oracle") for facekit's face detection and face mesh.

Runs INSIDE the venv made by tests/oracle/setup_mediapipe.sh, never in facekit's environment:

    .venv-mediapipe/bin/python tests/oracle/mediapipe_oracle.py < request.json > response.json

It reads one JSON request on stdin and writes one JSON response on stdout; everything MediaPipe,
TFLite and absl log goes to stderr (fd 1 is pointed at stderr while MediaPipe runs, so native
prints cannot corrupt the JSON). On failure it writes {"error": "..."} on stdout, a traceback on
stderr, and exits 1. Tests call it through tests/support_oracle.py.

It uses MediaPipe's *legacy solutions* (mediapipe.solutions.face_detection / face_mesh), whose
graphs and models ship inside the mediapipe wheel.

Input conventions (facekit must do the same to compare):
  * Images are read with ``cv2.imread(path, cv2.IMREAD_COLOR)`` and converted BGR->RGB. That
    call APPLIES the EXIF orientation tag (OpenCV's default; MediaPipe itself never sees EXIF as
    it only takes pixel arrays), drops any alpha channel and expands grey to 3 channels. None of
    the shared test photos is rotated by EXIF (the few with a tag have orientation 1).
  * Video is decoded with ``cv2.VideoCapture`` (FFmpeg bundled in opencv-contrib-python
    4.10.0.84), frames converted BGR->RGB. Each frame's ``sha256`` (of its RGB bytes, HxWx3 uint8,
    C order) is returned so the caller can check that its own decoder produced identical frames;
    ``"dump_frames": dir`` also writes them as lossless PNGs (frame_000000.png, ..., as BGR, so
    cv2.imread gives them back) for a caller that wants to feed exactly the same pixels.
  * Each returned coordinate is MediaPipe's relative value (float32) times the image size:
    x*W, y*H, and for mesh landmarks z*W (MediaPipe scales z like x). No rounding.

Requests and responses (every response also has "task" and "mediapipe": "0.10.14"):

  {"task": "detect", "images": [paths], "model_selection": 0|1 (default 0),
   "min_detection_confidence": 0.5}
    -> {"images": [{"path", "width", "height",
                    "faces": [{"score", "box": [x, y, w, h], "keypoints": [[x, y] x 6]}]}]}
       Keypoint order is MediaPipe's: right eye, left eye, nose tip, mouth centre, right ear
       tragion, left ear tragion (right/left of the person). One FaceDetection graph serves all
       images; faces are in MediaPipe's output order.

  {"task": "mesh", "images": [paths], "refine_landmarks": false, "max_num_faces": 1,
   "static_image_mode": true, "min_detection_confidence": 0.5, "min_tracking_confidence": 0.5}
    -> {"images": [{"path", "width", "height", "faces": [{"landmarks": [[x, y, z] x 468|478]}]}]}
       (478 with refine_landmarks: the 10 iris points follow the 468.) One FaceMesh graph serves
       all images in order, so static_image_mode=false tracks across them. Defaults (shown)
       are MediaPipe's own, max_num_faces=1 included: ask for 2 to get both on two_people.jpg.

  {"task": "mesh_video", "video": path, "refine_landmarks": false, "max_frames": N (default all),
   "start_frame": 0,
   "max_num_faces": 1, "min_detection_confidence": 0.5, "min_tracking_confidence": 0.5,
   "dump_frames": dir (optional)}
    -> {"video", "width", "height", "fps",
        "frames": [{"index", "ms", "sha256", "faces": [{"landmarks": [...]}]}]}
       static_image_mode=false (tracking), frames fed in order; MediaPipe stamps them itself at
       33333 us apart. "ms" is the wall time of that frame's FaceMesh.process call (the first
       frame includes the graph's lazy initialisation: TFLite/XNNPACK set-up). "index" counts
       from the file's first frame; with start_frame=S the first S frames are decoded and
       dropped, and tracking starts cold at frame S. short_hamilton_clip.mp4 (640x360, 275
       frames) has only small (~40 px) or profile faces before frame ~83, which FaceMesh's
       short-range detector does not find: its first 30 frames give no face at all.

  {"task": "mesh_crop", "images": [paths of 192x192 face crops], "refine_landmarks": true}
    -> {"images": [{"path", "landmarks": [[x, y, z] x 468|478]}]}
       MediaPipe's FaceLandmarkCpu subgraph alone, its ROI the whole crop: the landmark network
       (with refine_landmarks, the attention network with its custom operators) sees exactly
       the crop's pixels, scaled to [0, 1]. Coordinates in crop pixels (relative value x 192).

  {"task": "bench", "images": [paths] | "video": path, "max_frames": N, "start_frame": 0,
   "refine_landmarks": false, "static_image_mode": true, "max_num_faces": 1, "repeats": 3,
   "warmup": 1}
    -> {"frames", "repeats", "timed_calls", "p50_ms", "p95_ms", "mean_ms", "min_ms", "max_ms",
        "cpu_ms_per_call", "peak_rss_mb", "rss_before_graph_mb", "threads", "faces_found"}
       Times FaceMesh.process only (decoding is done beforehand, all frames held in memory).
       One graph for the whole run: `warmup` untimed calls on the first frame, then `repeats`
       passes over the frames in order (in video mode the tracker sees a cut between passes).
       p50/p95 are numpy.percentile (linear) over every timed call. cpu_ms_per_call is process
       CPU time (user+sys) over the timed calls divided by their number; above the wall time it
       means several threads worked. peak_rss_mb is getrusage(RUSAGE_SELF).ru_maxrss of the
       oracle process (python + mediapipe + decoded frames); rss_before_graph_mb is the same
       figure just before the graph was built. On desktop Linux MediaPipe runs TFLite with the
       XNNPACK delegate on 1 thread (GetXnnpackDefaultNumThreads returns 1 off Android/iOS);
       the graph scheduler has its own thread pool, which "threads" (the process's thread count
       after the run) reflects.

  {"task": "selfie_blur", "images": [paths], "sigma": S, "repeats": 20, "warmup": 2}
    -> {"images": [{"path", "width", "height", "p50_ms", "p95_ms", "mean_ms", "timed_calls",
                    "person_fraction"}]}
       Background blur as a MediaPipe user writes it, timed per call: SelfieSegmentation
       (model_selection=0, the general model) on the RGB image, cv2.GaussianBlur of the image
       (sigma S, OpenCV's kernel size for it), then cv2.blendLinear of image and blur with the
       mask and 1 - mask as weights. One graph per image; `warmup` untimed calls, then `repeats`
       timed ones; OpenCV on one thread (cv2.setNumThreads(1)). person_fraction: share of mask values above 0.5 (a sanity figure).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
import time
import traceback
from pathlib import Path

MEDIAPIPE_VERSION = "0.10.14"


def _load_rgb(path: str):
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cannot read image {path!r}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _video_frames(path: str, max_frames: int | None, start_frame: int = 0):
    """Yields (index, RGB frame HxWx3 uint8) from frame `start_frame` on (the frames before it are
    decoded and dropped, never seeked over); raises if the file does not open."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"cannot open video {path!r}")
    try:
        index = count = 0
        while max_frames is None or count < max_frames:
            ok, bgr = cap.read()
            if not ok:
                break
            index += 1
            if index <= start_frame:
                continue
            count += 1
            yield index - 1, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


def _video_info(path: str) -> dict:
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        return {"fps": float(cap.get(cv2.CAP_PROP_FPS))}
    finally:
        cap.release()


def _mesh_faces(result, width: int, height: int) -> list[dict]:
    faces = []
    for face in result.multi_face_landmarks or []:
        faces.append({"landmarks": [[lm.x * width, lm.y * height, lm.z * width]
                                    for lm in face.landmark]})
    return faces


def _face_mesh(req: dict, static_image_mode: bool):
    import mediapipe as mp

    return mp.solutions.face_mesh.FaceMesh(
        static_image_mode=static_image_mode,
        max_num_faces=int(req.get("max_num_faces", 1)),  # MediaPipe's default
        refine_landmarks=bool(req.get("refine_landmarks", False)),
        min_detection_confidence=float(req.get("min_detection_confidence", 0.5)),
        min_tracking_confidence=float(req.get("min_tracking_confidence", 0.5)))


def task_detect(req: dict) -> dict:
    import mediapipe as mp

    out = []
    with mp.solutions.face_detection.FaceDetection(
            model_selection=int(req.get("model_selection", 0)),
            min_detection_confidence=float(req.get("min_detection_confidence", 0.5))) as det:
        for path in req["images"]:
            rgb = _load_rgb(path)
            h, w = rgb.shape[:2]
            result = det.process(rgb)
            faces = []
            for d in result.detections or []:
                loc = d.location_data
                box = loc.relative_bounding_box
                faces.append({
                    "score": float(d.score[0]),
                    "box": [box.xmin * w, box.ymin * h, box.width * w, box.height * h],
                    "keypoints": [[k.x * w, k.y * h] for k in loc.relative_keypoints],
                })
            out.append({"path": str(path), "width": w, "height": h, "faces": faces})
    return {"images": out}


def task_mesh(req: dict) -> dict:
    out = []
    with _face_mesh(req, bool(req.get("static_image_mode", True))) as mesh:
        for path in req["images"]:
            rgb = _load_rgb(path)
            h, w = rgb.shape[:2]
            out.append({"path": str(path), "width": w, "height": h,
                        "faces": _mesh_faces(mesh.process(rgb), w, h)})
    return {"images": out}


def task_mesh_video(req: dict) -> dict:
    import cv2

    max_frames = req.get("max_frames")
    dump = req.get("dump_frames")
    if dump:
        Path(dump).mkdir(parents=True, exist_ok=True)
    frames = []
    width = height = None
    with _face_mesh(req, False) as mesh:
        for index, rgb in _video_frames(req["video"], max_frames,
                                        int(req.get("start_frame", 0))):
            height, width = rgb.shape[:2]
            if dump:
                cv2.imwrite(str(Path(dump) / f"frame_{index:06d}.png"),
                            cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            t0 = time.perf_counter()
            result = mesh.process(rgb)
            ms = (time.perf_counter() - t0) * 1e3
            frames.append({"index": index, "ms": ms,
                           "sha256": hashlib.sha256(rgb.tobytes()).hexdigest(),
                           "faces": _mesh_faces(result, width, height)})
    if not frames:
        raise ValueError(f"no frame decoded from {req['video']!r}")
    return {"video": str(req["video"]), "width": width, "height": height,
            **_video_info(req["video"]), "frames": frames}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def task_bench(req: dict) -> dict:
    import numpy as np

    if "video" in req:
        frames = [rgb for _, rgb in _video_frames(req["video"], req.get("max_frames"),
                                                  int(req.get("start_frame", 0)))]
        default_static = False
    else:
        frames = [_load_rgb(p) for p in req["images"]]
        default_static = True
    if not frames:
        raise ValueError("nothing to benchmark: no image or video frame")
    static = bool(req.get("static_image_mode", default_static))
    repeats = int(req.get("repeats", 3))
    warmup = int(req.get("warmup", 1))
    rss_before = _rss_mb()
    times = []
    faces_found = 0
    with _face_mesh(req, static) as mesh:
        for _ in range(warmup):
            mesh.process(frames[0])
        cpu0 = time.process_time()
        for _ in range(repeats):
            for rgb in frames:
                t0 = time.perf_counter()
                result = mesh.process(rgb)
                times.append((time.perf_counter() - t0) * 1e3)
                faces_found += len(result.multi_face_landmarks or [])
        cpu = (time.process_time() - cpu0) * 1e3
        threads = _thread_count()
    t = np.asarray(times)
    return {"frames": len(frames), "repeats": repeats, "static_image_mode": static,
            "refine_landmarks": bool(req.get("refine_landmarks", False)),
            "timed_calls": len(times),
            "p50_ms": float(np.percentile(t, 50)), "p95_ms": float(np.percentile(t, 95)),
            "mean_ms": float(t.mean()), "min_ms": float(t.min()), "max_ms": float(t.max()),
            "cpu_ms_per_call": cpu / len(times),
            "peak_rss_mb": _rss_mb(), "rss_before_graph_mb": rss_before,
            "threads": threads, "faces_found": faces_found}


def task_selfie_blur(req: dict) -> dict:
    import cv2
    import mediapipe as mp
    import numpy as np

    cv2.setNumThreads(1)  # one thread, as facekit's side runs
    sigma = float(req["sigma"])
    repeats, warmup = int(req.get("repeats", 20)), int(req.get("warmup", 2))
    out = []
    for path in req["images"]:
        rgb = _load_rgb(path)
        h, w = rgb.shape[:2]
        times = []
        with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
            def once(rgb=rgb, seg=seg):
                mask = seg.process(rgb).segmentation_mask  # float32 HxW in [0, 1]
                blurred = cv2.GaussianBlur(rgb, (0, 0), sigma)
                return mask, cv2.blendLinear(rgb, blurred, mask, 1.0 - mask)
            for _ in range(warmup):
                mask, _ = once()
            for _ in range(repeats):
                t0 = time.perf_counter()
                once()
                times.append((time.perf_counter() - t0) * 1e3)
        t = np.asarray(times)
        out.append({"path": str(path), "width": w, "height": h, "timed_calls": len(times),
                    "p50_ms": float(np.percentile(t, 50)), "p95_ms": float(np.percentile(t, 95)),
                    "mean_ms": float(t.mean()), "person_fraction": float((mask > 0.5).mean())})
    return {"images": out}


def _thread_count() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def task_mesh_crop(req: dict) -> dict:
    from google.protobuf import text_format
    from mediapipe.framework import calculator_pb2
    from mediapipe.framework.formats import rect_pb2
    from mediapipe.python.solution_base import SolutionBase

    graph = text_format.Parse("""
        input_stream: "image"
        input_stream: "roi"
        output_stream: "landmarks"
        node { calculator: "FaceLandmarkCpu" input_stream: "IMAGE:image"
               input_stream: "ROI:roi" input_side_packet: "WITH_ATTENTION:with_attention"
               output_stream: "LANDMARKS:landmarks" }""", calculator_pb2.CalculatorGraphConfig())
    whole = rect_pb2.NormalizedRect(x_center=0.5, y_center=0.5, width=1.0, height=1.0)
    out = []
    with SolutionBase(graph_config=graph, outputs=["landmarks"],
                      side_inputs={"with_attention": bool(req.get("refine_landmarks", True))}
                      ) as landmarker:
        for path in req["images"]:
            rgb = _load_rgb(path)
            h, w = rgb.shape[:2]
            if (h, w) != (192, 192):
                raise ValueError(f"{path}: a 192x192 crop expected, got {w}x{h}")
            points = landmarker.process({"image": rgb, "roi": whole}).landmarks.landmark
            out.append({"path": str(path),
                        "landmarks": [[p.x * w, p.y * h, p.z * w] for p in points]})
    return {"images": out}


TASKS = {"detect": task_detect, "mesh": task_mesh, "mesh_video": task_mesh_video,
         "bench": task_bench, "mesh_crop": task_mesh_crop, "selfie_blur": task_selfie_blur}


def main() -> int:
    # Keep the real stdout for the JSON answer; anything else printed to fd 1 (by Python or by
    # native code) goes to stderr instead.
    sys.stdout.flush()
    answer = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        req = json.load(sys.stdin)
        task = req.get("task")
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; expected one of {sorted(TASKS)}")
        import mediapipe as mp

        if mp.__version__ != MEDIAPIPE_VERSION:
            raise RuntimeError(f"mediapipe {mp.__version__} found, {MEDIAPIPE_VERSION} expected")
        response = {"task": task, "mediapipe": mp.__version__, **TASKS[task](req)}
        code = 0
    except Exception as exc:  # reported to the caller as JSON and on stderr
        traceback.print_exc()
        response = {"error": f"{type(exc).__name__}: {exc}"}
        code = 1
    json.dump(response, answer)
    answer.write("\n")
    answer.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
