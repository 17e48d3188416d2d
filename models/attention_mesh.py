"""The constants facekit's native code needs to run MediaPipe's attention mesh between its two
converted segments (see notes/attention_mesh.md), read from the model file itself:

- each region's Landmarks2TransformMatrix options (subset indices, the two rotation landmarks,
  target rotation, scale, crop size), in the order of the regions network's stacked input;
- the fp16 multipliers around the custom operators: the mesh's (192-pixel units to feature-map
  units) and each matrix's (back to 192-pixel units for TransformLandmarks);
- which head each region's crop feeds.

Written to ``facekit/data/attention_mesh.json``; no face's values are involved.

    python -m models.attention_mesh            # rewrite facekit/data/attention_mesh.json
    python -m models.attention_mesh --check    # compare with the committed file
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import generated, sources

OUT = Path(__file__).resolve().parents[1] / "facekit" / "data" / "attention_mesh.json"
MEMBER = sources.ATTENTION_MESH
_OPTIONS = ("subset_idxs", "left_rotation_idx", "right_rotation_idx", "target_rotation_radians",
            "scale_x", "scale_y", "output_width", "output_height")


def regions(data: bytes) -> list[dict]:
    """One entry per region, in the order of the regions segment's crops."""
    import numpy as np
    from flatbuffers import flexbuffers

    from . import tflite_to_onnx

    tensors, ops, _, _ = tflite_to_onnx._read_model(data)
    names = [t.name for t in tensors]
    producer = {out: op for op in ops for out in op.outputs}

    def constant(op) -> list[float]:  # the one constant input of a MUL, dequantized
        for i in op.inputs:
            source = producer.get(i)
            if source is not None and source.code == tflite_to_onnx.DEQUANTIZE:
                return tensors[source.inputs[0]].data.astype(np.float32).ravel().tolist()
        raise ValueError(f"MUL {names[op.outputs[0]]} has no dequantized constant")

    def made_by(tensor: int, code) -> object:
        op = producer.get(tensor)
        if op is None or op.code != code:
            raise ValueError(f"{names[tensor]} is not made by {code}")
        return op

    crops = [op for op in ops if op.code == "TransformTensorBilinear"]
    heads = [op for op in ops if op.code == "TransformLandmarks"]
    segment = next(m.segment for m in sources.MODELS if m.name == "attention_mesh_regions")
    if [names[op.outputs[0]] for op in crops] != list(segment.inputs):  # type: ignore[union-attr]
        raise ValueError("the crops are not in the regions segment's input order")
    out = []
    for crop in crops:
        matrix = crop.inputs[1]
        transform = made_by(matrix, "Landmarks2TransformMatrix")
        options = flexbuffers.Loads(transform.custom_options)
        mesh_mul = made_by(transform.inputs[0], tflite_to_onnx.MUL)
        mine = []  # (head name, matrix multiplier) of the heads mapped back by this matrix
        for head in heads:
            mul = made_by(head.inputs[1], tflite_to_onnx.MUL)
            if matrix in mul.inputs:
                conv = made_by(head.inputs[0], tflite_to_onnx.RESHAPE).inputs[0]
                mine.append((names[conv], constant(mul)))
        if not mine or any(scale != mine[0][1] for _, scale in mine):
            raise ValueError(f"the heads of {names[matrix]} disagree on its multiplier")
        scale = constant(mesh_mul)
        if len(set(scale)) != 1:
            raise ValueError("the mesh multiplier is not one scalar")
        out.append({
            "name": mine[0][0].removeprefix("conv_"),
            "heads": [name for name, _ in mine],
            **{key: options[key] for key in _OPTIONS},
            "mesh_scale": scale[0],
            "matrix_scale": mine[0][1],
        })
    return out


def build(cache: Path = sources.DEFAULT_CACHE) -> str:
    """The JSON text of the attention mesh's constants, from the pinned wheel."""
    package = sources.MEDIAPIPE
    data = sources.read_member(sources.fetch(package, cache), MEMBER)
    document = {
        "source": {"package": package.name, "version": package.version, "path": MEMBER,
                   "licence": package.licence},
        "note": "custom-operator options and multipliers of the attention mesh, regions in the "
                "order of attention_mesh_regions' stacked input; see models/attention_mesh.py",
        "regions": regions(data),
    }
    return json.dumps(document, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    return generated.main("models.attention_mesh", build, OUT, argv)


if __name__ == "__main__":
    sys.exit(main())
