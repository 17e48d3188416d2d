"""Purpose limitation: only a verifier may load the face-embedding network and the detector and
shape predictor that align faces for it. Detection, landmarks, beauty and anonymization must never
open their files (checked in a fresh process,
with an audit hook that records every file opened)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)
import facekit
from facekit.audit.memscan_child import SAMPLE
from facekit.beauty import PRESETS, Beautifier
image = facekit.load_image(SAMPLE)
with facekit.FaceDetector(facekit.FaceDetectorOptions(model="auto")) as d, d.detect(image):
    pass
with facekit.FaceLandmarker(facekit.FaceLandmarkerOptions(iris=True)) as m, m.detect(image):
    pass
options = facekit.FaceLandmarkerOptions(iris=True, refine="iris")
with facekit.FaceLandmarker(options) as m, m.detect(image):
    pass
with Beautifier(PRESETS["studio"]) as b:
    b.apply(image)
facekit.anonymize(image)
models = [p for p in opened if p.endswith((".onnx", ".bin"))]
seen = len(opened)
facekit.FaceVerifier().close()
verifier = [p for p in opened[seen:] if p.endswith((".onnx", ".bin"))]
print(json.dumps({"models": models, "verifier": verifier}))
"""


def test_only_the_verifier_may_open_the_embedding_network():
    from facekit.models import model_info

    embedding = model_info("dlib_face_recognition_resnet_v1").file
    predictor = model_info("dlib_shape_predictor_5").file
    detector = model_info("dlib_frontal_face_detector").file
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          timeout=300, cwd=tempfile.gettempdir())
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    names = {p.rsplit("/", 1)[-1] for p in report["models"]}
    # The verifier opens both (the hook sees those files) ...
    assert {embedding, predictor, detector} <= {p.rsplit("/", 1)[-1] for p in report["verifier"]}
    # ... the other features open their own networks ...
    assert {"face_detection_short_range.onnx", "face_detection_full_range_sparse.onnx",
            "face_landmark.onnx", "iris_landmark.onnx", "attention_mesh_trunk.onnx",
            "attention_mesh_regions.onnx"} <= names
    # ... and never the verifier's three files.
    assert not {embedding, predictor, detector} & names


PORTRAIT_CHILD = r"""
import json, sys
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)
import facekit
from facekit.audit.memscan_child import SAMPLE
image = facekit.load_image(SAMPLE)
with facekit.Portrait(blur=0.5) as p, p.segment(image):
    pass
with facekit.Portrait(running_mode=facekit.RunningMode.VIDEO, cutout=True) as p:
    p.segment_for_video(image, 0).close()
print(json.dumps([p for p in opened if p.endswith((".onnx", ".bin"))]))
"""


def test_portrait_loads_only_the_selfie_segmenter():
    """Background effects need the person, not the face: Portrait opens the selfie
    segmentation network and no detector, landmark or embedding network."""
    done = subprocess.run([sys.executable, "-c", PORTRAIT_CHILD], capture_output=True,
                          text=True, timeout=300, cwd=tempfile.gettempdir())
    assert done.returncode == 0, done.stderr
    opened = json.loads(done.stdout.strip().splitlines()[-1])
    assert {p.rsplit("/", 1)[-1] for p in opened} == {"selfie_segmentation.onnx"}


ANONYMIZE_CHILD = r"""
import json, sys
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)
import facekit
from facekit.audit.memscan_child import SAMPLE
facekit.anonymize(facekit.load_image(SAMPLE))
print(json.dumps([p for p in opened if p.endswith((".onnx", ".bin"))]))
"""


def test_anonymize_opens_only_the_three_detectors():
    """Anonymization finds faces and covers them: it opens both BlazeFace networks and
    CenterFace, and no landmark, embedding or other network."""
    done = subprocess.run([sys.executable, "-c", ANONYMIZE_CHILD], capture_output=True,
                          text=True, timeout=300, cwd=tempfile.gettempdir())
    assert done.returncode == 0, done.stderr
    names = {p.rsplit("/", 1)[-1] for p in json.loads(done.stdout.strip().splitlines()[-1])}
    assert names == {"face_detection_short_range.onnx", "face_detection_full_range_sparse.onnx",
                     "centerface.onnx"}
