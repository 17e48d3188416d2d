"""Frames of a video in which MediaPipe's own face detector still finds a face.

Runs INSIDE the MediaPipe oracle venv (tests/oracle/setup_mediapipe.sh), never in facekit's
environment: an independent judge of anonymized videos for test_video.py (facekit's detector
networks are converted from MediaPipe's, but this is MediaPipe 0.10.14's own TFLite graph
and post-processing). Reads one JSON request on stdin, {"videos": [path, ...]}, and writes one
JSON line on stdout: {path: {"frames": n, "frames_with_faces": n, "faces": n}, ...}.

The detector: the legacy solutions API's FaceDetection, full range (model_selection=1: faces
up to 5 m, small ones included), at its default score of 0.5, each frame on its own.
"""

from __future__ import annotations

import json
import os
import sys

import cv2


def main() -> None:
    request = json.load(sys.stdin)
    stdout = os.dup(1)
    os.dup2(2, 1)  # MediaPipe's native prints go to stderr, not into the JSON
    import mediapipe as mp

    counts = {}
    for path in request["videos"]:
        capture = cv2.VideoCapture(path)
        if not capture.isOpened():
            raise SystemExit(f"cannot open {path}")
        frames = with_faces = faces = 0
        with mp.solutions.face_detection.FaceDetection(model_selection=1,
                                                       min_detection_confidence=0.5) as detector:
            while True:
                ok, bgr = capture.read()
                if not ok:
                    break
                found = detector.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)).detections or ()
                frames += 1
                with_faces += bool(found)
                faces += len(found)
        capture.release()
        counts[path] = {"frames": frames, "frames_with_faces": with_faces, "faces": faces}
    os.write(stdout, (json.dumps(counts) + "\n").encode())


if __name__ == "__main__":
    main()
