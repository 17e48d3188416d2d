"""The converted MediaPipe networks on ONNX Runtime vs the original TFLite files on TFLite's
interpreter with XNNPACK, one thread each, interleaved in one run. Target: ONNX Runtime within
1.2x of TFLite per network.

Run: pytest benchmarks/test_mediapipe_models.py -p no:cacheprovider
"""

from __future__ import annotations

import numpy as np
import pytest
from support import model_source, onnx_model

ort = pytest.importorskip("onnxruntime")
litert = pytest.importorskip("ai_edge_litert.interpreter",
                             reason="ai-edge-litert (TFLite) comes with the dev extra")

MODELS = ["face_detection_short_range", "face_detection_full_range_sparse", "face_landmark",
          "iris_landmark", "selfie_segmentation"]


def onnx_session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name", MODELS)
def test_onnxruntime_vs_tflite(compare, name):
    source = model_source(name)
    path = onnx_model(name)
    if not path.exists():
        pytest.skip(f"{path} is not built; run `python -m models.build`")
    interpreter = litert.Interpreter(model_content=source, num_threads=1)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    session = onnx_session(path)
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
