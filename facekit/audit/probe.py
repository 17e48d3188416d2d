"""Test-only copies of the shipped networks that also output their last hidden activations.

The memory scan's strictest needles are windows of each network's last hidden activation (the
input of the layers that compute its outputs, listed as ``last_hidden`` in the manifest): values
that only ONNX Runtime's own buffers could still hold. The auditor gets them by running a copy of
the verified model whose graph lists those tensors as extra outputs. The copy is made in memory by
appending ``ValueInfoProto`` entries to the serialized graph (a few protobuf fields, so an
installed facekit needs no ``onnx`` package) and is never written anywhere.
"""

from __future__ import annotations

__all__ = ["with_extra_outputs", "HiddenProbe"]

_GRAPH = 7          # ModelProto.graph
_GRAPH_OUTPUT = 12  # GraphProto.output
_NAME = 1           # ValueInfoProto.name


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def with_extra_outputs(model: bytes, names: list[str]) -> bytes:
    """The serialized ONNX model `model` with tensors `names` added to its graph's outputs."""
    extra = b"".join(_field(_GRAPH_OUTPUT, _field(_NAME, n.encode())) for n in names)
    out = bytearray()
    pos = 0
    found = False
    while pos < len(model):
        start = pos
        key, pos = _read_varint(model, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = _read_varint(model, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, body = _read_varint(model, pos)
            pos = body + length
            if number == _GRAPH:
                out += _field(_GRAPH, model[body:pos] + extra)
                found = True
                continue
        else:
            raise ValueError(f"unexpected protobuf wire type {wire} in the model")
        out += model[start:pos]
    if not found:
        raise ValueError("the model has no graph")
    return bytes(out)


class HiddenProbe:
    """Runs a verified copy of network `name` that also outputs its last hidden activations."""

    def __init__(self, name: str) -> None:
        import onnxruntime as ort

        from ..models import _verified_bytes, model_info

        info = model_info(name)
        self.names = list(info.last_hidden)
        self.input_name = info.inputs[0]["name"]
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            with_extra_outputs(_verified_bytes(info), self.names), sess_options=options,
            providers=["CPUExecutionProvider"])

    def __call__(self, tensor) -> dict:
        """The last hidden activations (name -> NCHW float32 array) for input `tensor`."""
        import numpy as np

        values = self.session.run(self.names, {self.input_name: np.asarray(tensor, np.float32)})
        return dict(zip(self.names, values))
