"""The video loop an app engineer writes today, for test_video.py to time against facekit.video.

Runs INSIDE the MediaPipe oracle venv (tests/oracle/setup_mediapipe.sh: mediapipe 0.10.14 and
opencv-contrib-python 4.10), never in facekit's environment. Reads one JSON request on stdin:

    {"video": path, "output": path, "effect": "beauty"|"anonymize"|"mesh"|"none",
     "max_faces": 4, "regions": {name: [mesh indices]} (beauty)}

and writes one JSON line on stdout: {"frames", "seconds", "fps", "faces", "stage_seconds"}.

The loop, one thread of Python as written in the tutorials: ``cv2.VideoCapture`` reads a frame
(BGR), ``cv2.cvtColor`` to RGB, MediaPipe's FaceMesh (legacy solutions API, tracking:
static_image_mode=False; refine_landmarks only for the mesh, which draws the iris as facekit
does) finds the landmarks, the effect of opencv_effects runs on each face, and
``cv2.VideoWriter`` (mp4v, the encoder every OpenCV build has) writes the frame back in BGR.
"seconds" is the wall time from opening the capture to releasing the writer, FaceMesh's graph
set-up included (facekit's side also includes its pipelines' set-up).
"""

from __future__ import annotations

import json
import os
import sys
import time

import cv2
import numpy as np
import opencv_effects


def main() -> None:
    request = json.load(sys.stdin)
    effect = request["effect"]
    regions = request.get("regions") or {}
    stdout = os.dup(1)
    os.dup2(2, 1)  # MediaPipe's native prints go to stderr, not into the JSON
    import mediapipe as mp

    clock = time.perf_counter
    stages = {"decode": 0.0, "landmarks": 0.0, "effect": 0.0, "encode": 0.0}
    frames = faces = 0
    start = clock()
    capture = cv2.VideoCapture(request["video"])
    if not capture.isOpened():
        raise SystemExit(f"cannot open {request['video']}")
    fps = capture.get(cv2.CAP_PROP_FPS)
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    writer = cv2.VideoWriter(request["output"], cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise SystemExit(f"cannot write {request['output']}")
    radius = max(1, round(max(size) / 600))
    with mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False, max_num_faces=request.get("max_faces", 4),
            refine_landmarks=effect == "mesh") as mesh:
        while True:
            t0 = clock()
            ok, bgr = capture.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            t1 = clock()
            result = mesh.process(rgb)
            found = [np.array([(p.x * size[0], p.y * size[1], p.z * size[0])
                               for p in face.landmark], np.float32)
                     for face in result.multi_face_landmarks or ()]
            t2 = clock()
            for points in found:
                if effect == "beauty":
                    rgb = opencv_effects.beauty_natural(rgb, points, regions)
                elif effect == "anonymize":
                    opencv_effects.pixelate(rgb, points)
                elif effect == "mesh":
                    opencv_effects.draw_mesh(rgb, points, radius)
            t3 = clock()
            writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            t4 = clock()
            frames += 1
            faces += len(found)
            stages["decode"] += t1 - t0
            stages["landmarks"] += t2 - t1
            stages["effect"] += t3 - t2
            stages["encode"] += t4 - t3
    capture.release()
    writer.release()
    seconds = clock() - start
    os.write(stdout, (json.dumps({"frames": frames, "seconds": seconds, "fps": frames / seconds,
                                  "faces": faces, "stage_seconds": stages}) + "\n").encode())


if __name__ == "__main__":
    main()
