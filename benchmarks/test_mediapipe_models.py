"""The converted MediaPipe networks on ONNX Runtime vs the original TFLite files on TFLite's
interpreter with XNNPACK, one thread each, interleaved in one run. Target: ONNX Runtime within
1.2x of TFLite per network.

Run: pytest benchmarks/test_mediapipe_models.py -p no:cacheprovider
"""

from __future__ import annotations

import numpy as np
import pytest
from support import model_source

from facekit.models import open_session

litert = pytest.importorskip("ai_edge_litert.interpreter",
                             reason="ai-edge-litert (TFLite) comes with the dev extra")

MODELS = ["face_detection_short_range", "face_detection_full_range_sparse", "face_landmark",
          "iris_landmark", "selfie_segmentation"]


@pytest.mark.parametrize("name", MODELS)
def test_onnxruntime_vs_tflite(compare, name):
    source = model_source(name)
    interpreter = litert.Interpreter(model_content=source, num_threads=1)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    session = open_session(name)  # what facekit runs: 1 thread, no spinning, all optimizations
    x = np.random.default_rng(0).uniform(0, 1, detail["shape"]).astype(np.float32)
    feed = {session.get_inputs()[0].name: x}
    outputs = [d["index"] for d in interpreter.get_output_details()]

    def tflite():
        interpreter.set_tensor(detail["index"], x)
        interpreter.invoke()
        return [interpreter.get_tensor(i) for i in outputs]  # copies, as session.run returns

    def onnxruntime():
        return session.run(None, feed)

    report = compare(f"{name} {'x'.join(map(str, detail['shape']))}, 1 thread",
                     {"baseline tflite xnnpack": tflite, "onnxruntime": onnxruntime},
                     rounds=200)
    assert report["onnxruntime"]["p50_us"] > 0
