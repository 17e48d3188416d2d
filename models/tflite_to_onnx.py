"""Convert a float TFLite network (MediaPipe's face models) to an ONNX ModelProto.

    convert(data: bytes, name: str) -> onnx.ModelProto

Only numpy and onnx are needed: the TFLite flatbuffer is read by the small reader below, with
the field numbers of tensorflow/lite/schema/schema.fbs.

The ONNX graph keeps TFLite's input and output names, shapes (NHWC) and dtypes, but computes
in NCHW, which is what ONNX Runtime's convolution kernels expect, and takes any batch: TFLite's
batch of 1 becomes the symbolic first dimension "batch" of every graph input and output, every
Reshape target copies its first dimension from its input (0), and every Resize takes scales
(or reads the batch at run time). The input is not transposed: the first convolution reads it
as a one-channel image with C-times-wider kernel and stride. A rank-4 tensor goes back to NHWC
only where an operator (RESHAPE) or a graph output needs TFLite's element order (a Reshape does
when only size-1 axes, other than the batch, move).

Work that depends only on constants is done here: fp16 DEQUANTIZE and DENSIFY (sparse weights)
become float32 initializers, and spatial zero PADs feeding VALID convolutions become the
convolutions' own pads. Two rewrites keep ONNX Runtime in its fast blocked (NCHWc) layout,
where only Conv, pooling, Add, Concat and a few activations run; each computes the same values:
- PRELU: x + (1 - alpha) * Relu(-x), with -x and the scaling as 1x1 depthwise Convs
  (ONNX Runtime's PRelu, or a Min, leaves that layout around every layer);
- channel zero-padding PAD: a 1x1 Conv with an identity weight, fused with the residual Add
  that always follows it.

The output is deterministic (fixed opset and names, no timestamps): the same bytes give the
same serialized model.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # the IR version of opset 17; keeps the files loadable by older ONNX Runtimes
PRODUCER = "facekit models/tflite_to_onnx.py"
PRODUCER_VERSION = "1"

# BuiltinOperator codes used here (schema.fbs).
ADD, AVERAGE_POOL_2D, CONCATENATION, CONV_2D, DEPTHWISE_CONV_2D = 0, 1, 2, 3, 4
DEPTH_TO_SPACE, DEQUANTIZE, LOGISTIC, MAX_POOL_2D, MUL, RELU = 5, 6, 14, 17, 18, 19
RELU_N1_TO_1, RELU6, RESHAPE, RESIZE_BILINEAR, TANH, CUSTOM = 20, 21, 22, 23, 28, 32
PAD, PRELU, HARD_SWISH, DENSIFY = 34, 54, 117, 124
# Names for error messages: those above and other common ones.
_OP_NAMES = {
    0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
    5: "DEPTH_TO_SPACE", 6: "DEQUANTIZE", 9: "FULLY_CONNECTED", 14: "LOGISTIC",
    17: "MAX_POOL_2D", 18: "MUL", 19: "RELU", 20: "RELU_N1_TO_1", 21: "RELU6", 22: "RESHAPE",
    23: "RESIZE_BILINEAR", 25: "SOFTMAX", 28: "TANH", 34: "PAD", 39: "TRANSPOSE", 40: "MEAN",
    41: "SUB", 42: "DIV", 45: "STRIDED_SLICE", 49: "SPLIT", 54: "PRELU", 60: "PADV2",
    67: "TRANSPOSE_CONV", 97: "LEAKY_RELU", 114: "QUANTIZE", 117: "HARD_SWISH", 124: "DENSIFY",
}
# MediaPipe's transposed convolution with bias, run by TFLite's XNNPACK delegate.
TRANSPOSE_CONV_BIAS = "Convolution2DTransposeBias"

# TensorType -> numpy dtype.
_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 6: np.bool_,
           7: np.int16, 9: np.int8, 10: np.float64}

NHWC_TO_NCHW = (0, 3, 1, 2)
NCHW_TO_NHWC = (0, 2, 3, 1)

BATCH = "batch"  # dim_param of the first dimension of every graph input and output


# --------------------------------------------------------------------------- flatbuffer reader

class _Table:
    """A flatbuffer table: field i's offset is in the vtable slot 4 + 2 * i (0: absent)."""

    __slots__ = ("buf", "pos", "vtable", "vsize")

    def __init__(self, buf: bytes, pos: int):
        self.buf, self.pos = buf, pos
        self.vtable = pos - struct.unpack_from("<i", buf, pos)[0]
        self.vsize = struct.unpack_from("<H", buf, self.vtable)[0]

    def _offset(self, i: int) -> int:
        slot = 4 + 2 * i
        return struct.unpack_from("<H", self.buf, self.vtable + slot)[0] if slot < self.vsize else 0

    def scalar(self, i: int, fmt: str, default=0):
        off = self._offset(i)
        return struct.unpack_from("<" + fmt, self.buf, self.pos + off)[0] if off else default

    def _deref(self, i: int) -> int | None:
        off = self._offset(i)
        if not off:
            return None
        at = self.pos + off
        return at + struct.unpack_from("<I", self.buf, at)[0]

    def table(self, i: int) -> _Table | None:
        at = self._deref(i)
        return None if at is None else _Table(self.buf, at)

    def tables(self, i: int) -> list[_Table]:
        at = self._deref(i)
        if at is None:
            return []
        n = struct.unpack_from("<I", self.buf, at)[0]
        slots = (at + 4 + 4 * k for k in range(n))  # each holds an offset to its table
        return [_Table(self.buf, p + struct.unpack_from("<I", self.buf, p)[0]) for p in slots]

    def vector(self, i: int, dtype) -> np.ndarray:
        at = self._deref(i)
        if at is None:
            return np.zeros(0, dtype)
        n = struct.unpack_from("<I", self.buf, at)[0]
        dtype = np.dtype(dtype).newbyteorder("<")
        if at + 4 + n * dtype.itemsize > len(self.buf):
            raise ValueError("vector runs past the end of the buffer")
        return np.frombuffer(self.buf, dtype, n, at + 4)

    def string(self, i: int) -> str:
        return self.vector(i, np.uint8).tobytes().decode("utf-8")


# --------------------------------------------------------------------------- TFLite model

@dataclass
class _Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: type
    data: np.ndarray | None  # contents of a constant (from its buffer), else None
    sparsity: _Table | None


@dataclass
class _Op:
    index: int
    code: int | str  # BuiltinOperator code, or the custom op's name
    inputs: list[int]
    outputs: list[int]
    options: _Table | None
    custom_options: bytes

    @property
    def label(self) -> str:
        if isinstance(self.code, str):
            return f"custom {self.code}"
        return _OP_NAMES.get(self.code, f"with builtin code {self.code}")


def _read_model(data: bytes) -> tuple[list[_Tensor], list[_Op], list[int], list[int]]:
    """Tensors, operators, input and output tensor indices of the model's first subgraph."""
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ValueError("not a TFLite model (no TFL3 flatbuffer identifier)")
    try:
        model = _Table(data, struct.unpack_from("<I", data, 0)[0])
        codes = []
        for oc in model.tables(1):
            # Codes above 127 live only in builtin_code; older files fill only the deprecated byte.
            code = max(oc.scalar(0, "b"), oc.scalar(3, "i"))
            codes.append(oc.string(1) if code == CUSTOM else code)
        subgraphs = model.tables(2)
        if len(subgraphs) != 1:
            raise ValueError(f"expected one subgraph, found {len(subgraphs)}")
        buffers = model.tables(4)
        graph = subgraphs[0]
        tensors = []
        for t in graph.tables(0):
            ttype = t.scalar(1, "b")
            if ttype not in _DTYPES:
                raise ValueError(f"tensor type {ttype} is not supported")
            dtype = _DTYPES[ttype]
            shape = tuple(int(d) for d in t.vector(0, np.int32))
            buf = buffers[t.scalar(2, "I")]
            raw = buf.vector(0, np.uint8)
            if not raw.size and buf.scalar(1, "Q") > 1:  # data stored after the flatbuffer
                start, size = buf.scalar(1, "Q"), buf.scalar(2, "Q")
                raw = np.frombuffer(data, np.uint8, size, start)
            sparsity = t.table(6)
            value = None
            if raw.size:
                value = raw.view(np.dtype(dtype).newbyteorder("<")).astype(dtype)
                if sparsity is None:
                    value = value.reshape(shape)
            tensors.append(_Tensor(t.string(3), shape, dtype, value, sparsity))
        ops = []
        for k, op in enumerate(graph.tables(3)):
            ops.append(_Op(k, codes[op.scalar(0, "I")], [int(i) for i in op.vector(1, np.int32)],
                           [int(i) for i in op.vector(2, np.int32)], op.table(4),
                           op.vector(5, np.uint8).tobytes()))
        inputs = [int(i) for i in graph.vector(1, np.int32)]
        outputs = [int(i) for i in graph.vector(2, np.int32)]
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed TFLite flatbuffer: {exc}") from exc
    return tensors, ops, inputs, outputs


def _densify(tensor: _Tensor) -> np.ndarray:
    """The dense array of a sparse constant (TFLite's DENSIFY, done once here).

    Walks the dimensions in traversal order, as TFLite's FormatConverter does: a DENSE level
    enumerates every coordinate, a SPARSE_CSR level the stored ones (segments/indices arrays).
    """
    sp = tensor.sparsity
    order = [int(d) for d in sp.vector(0, np.int32)]
    if sp.vector(1, np.int32).size:
        raise ValueError(f"{tensor.name}: block-sparse tensors are not supported")
    index_types = {1: np.int32, 2: np.uint16, 3: np.uint8}  # SparseIndexVector union members
    pos = np.zeros(1, np.int64)  # position of each partial coordinate within its level
    coords = np.zeros((1, 0), np.int64)
    for dim in sp.tables(2):
        if dim.scalar(0, "b") == 0:  # DENSE
            size = dim.scalar(1, "i")
            pos = (pos[:, None] * size + np.arange(size)).reshape(-1)
            coords = np.concatenate([np.repeat(coords, size, 0),
                                     np.tile(np.arange(size), len(coords))[:, None]], 1)
        else:  # SPARSE_CSR
            segments = dim.table(3).vector(0, index_types[dim.scalar(2, "B")]).astype(np.int64)
            indices = dim.table(5).vector(0, index_types[dim.scalar(4, "B")]).astype(np.int64)
            starts, counts = segments[pos], segments[pos + 1] - segments[pos]
            parent = np.repeat(np.arange(len(pos)), counts)
            rank_in_parent = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            pos = starts[parent] + rank_in_parent
            coords = np.concatenate([coords[parent], indices[pos][:, None]], 1)
    dense = np.zeros(tensor.shape, tensor.dtype)
    original = np.empty_like(coords)
    original[:, order] = coords  # level k holds dimension order[k]
    dense[tuple(original.T)] = tensor.data[pos]
    return dense


# --------------------------------------------------------------------------- ONNX graph builder

NATIVE, NCHW = "native", "nchw"  # layouts a tensor's value can be held in


class _Converter:
    """Builds the ONNX graph operator by operator, holding each tensor's value in the layouts
    its consumers asked for (each conversion made once)."""

    def __init__(self, tensors: list[_Tensor], ops: list[_Op], inputs: list[int],
                 outputs: list[int]):
        self.tensors, self.ops = tensors, ops
        self.graph_inputs, self.graph_outputs = inputs, outputs
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.names: set[str] = set()
        # (tensor, layout) -> ONNX value name; layouts NATIVE, NCHW and "flat" (see get_flat)
        self.values: dict[tuple[int, str], str] = {}
        self.consts: dict[int, np.ndarray] = {
            i: t.data for i, t in enumerate(tensors) if t.data is not None and t.sparsity is None}
        self.consumers: dict[int, list[_Op]] = {}
        for op in ops:
            for i in op.inputs:
                self.consumers.setdefault(i, []).append(op)
        # Zero PADs folded into the convolutions reading them (see _pad): PAD output -> its
        # NHWC paddings, and PAD output -> PAD input.
        self.folded_pads: dict[int, np.ndarray] = {}
        self.folded_source: dict[int, int] = {}

    # ---- names, constants, nodes

    def _fresh(self, name: str) -> str:
        """A value or initializer name not used before (TFLite names, suffixed if needed)."""
        candidate, n = name, 1
        while candidate in self.names:
            candidate, n = f"{name}#{n}", n + 1
        self.names.add(candidate)
        return candidate

    def const(self, array: np.ndarray, name: str) -> str:
        name = self._fresh(name)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op_type: str, inputs: list[str], output: str, **attrs) -> str:
        output = self._fresh(output)
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=output, **attrs))
        return output

    def constant_of(self, t: int, what: str) -> np.ndarray:
        if t not in self.consts:
            raise ValueError(f"{what} must be a constant ({self.tensors[t].name})")
        return self.consts[t]

    # ---- layouts

    def rank(self, t: int) -> int:
        return len(self.tensors[t].shape)

    def get(self, t: int, layout: str) -> str:
        """The value of tensor t in `layout`, converting (once, then cached) if needed."""
        if self.rank(t) != 4:
            layout = NATIVE
        if (t, layout) in self.values:
            return self.values[(t, layout)]
        if t in self.consts:
            data = self.consts[t]
            array = data.transpose(NHWC_TO_NCHW) if layout == NCHW else data
            name = self.const(array.astype(np.float32) if array.dtype == np.float16 else array,
                              self.tensors[t].name)
        else:
            other = NATIVE if layout == NCHW else NCHW
            if (t, other) not in self.values:
                raise ValueError(f"tensor {self.tensors[t].name} is used before it is computed")
            shape = self.tensors[t].shape  # NHWC
            perm = NHWC_TO_NCHW if layout == NCHW else NCHW_TO_NHWC
            name = self._permute(self.values[(t, other)], shape if layout == NCHW
                                 else tuple(shape[p] for p in NHWC_TO_NCHW), perm,
                                 self.tensors[t].name + ("/nchw" if layout == NCHW else ""))
        self.values[(t, layout)] = name
        return name

    def get_flat(self, t: int) -> str:
        """An NHWC tensor [N, H, W, C] viewed as [N, 1, H, W*C] (a free Reshape)."""
        if (t, "flat") not in self.values:
            _, h, w, ch = self.tensors[t].shape
            name = self.tensors[t].name + "/flat"
            shape = self.const(_batch_shape([1, 1, h, w * ch]), name + "/shape")
            self.values[(t, "flat")] = self.node("Reshape", [self.get(t, NATIVE), shape], name)
        return self.values[(t, "flat")]

    def _permute(self, value: str, shape: tuple[int, ...], perm: tuple[int, ...], out: str) -> str:
        # A permutation that only moves size-1 axes keeps the element order: a Reshape will do.
        # Both layout permutations keep the batch axis first (and the batch may exceed 1).
        assert perm[0] == 0
        moved = [d for d in perm if d == 0 or shape[d] != 1]
        if moved == sorted(moved):
            target = self.const(_batch_shape([shape[p] for p in perm]), out + "/shape")
            return self.node("Reshape", [value, target], out)
        return self.node("Transpose", [value], out, perm=list(perm))

    def _rename(self, old: str, new: str) -> None:
        for n in self.nodes:
            n.input[:] = [new if v == old else v for v in n.input]
            n.output[:] = [new if v == old else v for v in n.output]
            if n.name == old:
                n.name = new

    def set(self, t: int, layout: str, value: str) -> None:
        self.values[(t, layout if self.rank(t) == 4 else NATIVE)] = value

    def out_name(self, t: int, layout: str) -> str:
        """The name for an operator's result: the TFLite name, marked when held in NCHW."""
        name = self.tensors[t].name
        return name + "/nchw" if layout == NCHW and self.rank(t) == 4 else name

    def activation(self, value: str, fused: int, t: int, layout: str) -> str:
        """Apply a fused activation (ActivationFunctionType) and record the result as t."""
        name = self.out_name(t, layout)
        if fused == 0:
            pass
        elif fused == 1:
            value = self.node("Relu", [value], name)
        elif fused in (2, 3):  # RELU_N1_TO_1, RELU6
            lo, hi = (-1.0, 1.0) if fused == 2 else (0.0, 6.0)
            value = self.node("Clip", [value, self.const(np.float32(lo), name + "/min"),
                                       self.const(np.float32(hi), name + "/max")], name)
        elif fused == 4:
            value = self.node("Tanh", [value], name)
        else:
            raise ValueError(f"fused activation {fused} is not supported")
        self.set(t, layout, value)
        return value

    # ---- conversion

    def run(self, name: str) -> onnx.ModelProto:
        for t in self.graph_inputs + self.graph_outputs:
            self.names.add(self.tensors[t].name)  # graph I/O keeps TFLite's names exactly
        inputs = []
        for t in self.graph_inputs:
            tensor = self.tensors[t]
            self.values[(t, NATIVE)] = tensor.name
            inputs.append(_value_info(tensor))
        for op in self.ops:
            handler = _HANDLERS.get(op.code)
            if handler is None:
                raise ValueError(f"unsupported TFLite operator {op.label} (operator {op.index})")
            handler(self, op)
        outputs = []
        for t in self.graph_outputs:
            value, wanted = self.get(t, NATIVE), self.tensors[t].name
            if value in (self.tensors[i].name for i in self.graph_inputs):
                self.nodes.append(helper.make_node("Identity", [value], [wanted], name=wanted))
            elif value != wanted:  # reserved above, so the producer got a suffixed name
                self._rename(value, wanted)
            outputs.append(_value_info(self.tensors[t]))
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name=PRODUCER, producer_version=PRODUCER_VERSION,
                                  ir_version=IR_VERSION)
        onnx.checker.check_model(model)
        return model


def _value_info(tensor: _Tensor) -> onnx.ValueInfoProto:
    """A graph input or output: TFLite's shape with the batch of 1 made symbolic."""
    if not tensor.shape or tensor.shape[0] != 1:
        raise ValueError(f"graph input or output {tensor.name} has no leading batch of 1 "
                         f"(shape {list(tensor.shape)})")
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(tensor.dtype))
    return helper.make_tensor_value_info(tensor.name, elem, [BATCH, *tensor.shape[1:]])


def _batch_shape(shape) -> np.ndarray:
    """A Reshape target whose first dimension is copied from its input's (0), the batch."""
    if shape[0] != 1:
        raise ValueError(f"reshape to {list(shape)} does not keep a leading batch of 1")
    return np.array([0, *shape[1:]], np.int64)


def _same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow SAME padding of one spatial axis: (before, after), the extra one after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _spatial_pads(c: _Converter, op: _Op, padding: int, kernel: tuple[int, int],
                  stride: tuple[int, int], dilation: tuple[int, int] = (1, 1)) -> list[int]:
    """ONNX pads [top, left, bottom, right] for a TFLite Padding (0 SAME, 1 VALID)."""
    _, h, w, _ = c.tensors[op.inputs[0]].shape
    if padding == 0:
        (top, bottom), (left, right) = (_same_pads(h, kernel[0], stride[0], dilation[0]),
                                        _same_pads(w, kernel[1], stride[1], dilation[1]))
    else:
        top = bottom = left = right = 0
    return [top, left, bottom, right]


def _conv_input(c: _Converter, op: _Op, pads: list[int]) -> tuple[int, list[int]]:
    """The tensor a convolution or pool reads, and its pads: a folded zero PAD is skipped and
    its padding added to the operator's."""
    t = op.inputs[0]
    if t in c.folded_pads:
        p = c.folded_pads[t]  # NHWC [[before, after], ...] of the PAD that made t
        pads = [pads[0] + p[1, 0], pads[1] + p[2, 0], pads[2] + p[1, 1], pads[3] + p[2, 1]]
        t = c.folded_source[t]
    return t, [int(v) for v in pads]


def _conv(c: _Converter, op: _Op) -> None:
    o = op.options
    depthwise = op.code == DEPTHWISE_CONV_2D
    weights = c.constant_of(op.inputs[1], "convolution weights").astype(np.float32)
    # Options: padding, stride_w, stride_h, [depth_multiplier,] activation, dilation_w, _h.
    padding, sw, sh = o.scalar(0, "b"), o.scalar(1, "i"), o.scalar(2, "i")
    k = 4 if depthwise else 3
    act, dw, dh = o.scalar(k, "b"), o.scalar(k + 1, "i", 1), o.scalar(k + 2, "i", 1)
    if depthwise:  # [1, kh, kw, C*M] -> [C*M, 1, kh, kw], one group per input channel
        w = weights.transpose(3, 0, 1, 2)
        group = c.tensors[op.inputs[0]].shape[3]
    else:  # OHWI -> OIHW
        w = weights.transpose(0, 3, 1, 2)
        group = 1
    kernel = (w.shape[2], w.shape[3])
    t, pads = _conv_input(c, op, _spatial_pads(c, op, padding, kernel, (sh, sw), (dh, dw)))
    if t in c.graph_inputs and group == 1 and (dh, dw) == (1, 1):
        # The NHWC input [N, H, W, C] read as a one-channel [N, 1, H, W*C] image: a (kh, kw*C)
        # kernel with stride (sh, sw*C) covers the same pixels, so the input is never transposed.
        ch = c.tensors[t].shape[3]
        x = c.get_flat(t)
        w = w.transpose(0, 2, 3, 1).reshape(w.shape[0], 1, kernel[0], kernel[1] * ch)
        kernel, sw = (kernel[0], kernel[1] * ch), sw * ch
        pads = [pads[0], pads[1] * ch, pads[2], pads[3] * ch]
    else:
        x = c.get(t, NCHW)
    out = c.out_name(op.outputs[0], NCHW)
    inputs = [x, c.const(w, c.tensors[op.inputs[1]].name)]
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        inputs.append(c.const(c.constant_of(op.inputs[2], "bias").astype(np.float32),
                              c.tensors[op.inputs[2]].name))
    y = c.node("Conv", inputs, out + ("/conv" if act else ""), kernel_shape=list(kernel),
               strides=[sh, sw], dilations=[dh, dw], pads=pads, group=group)
    c.activation(y, act, op.outputs[0], NCHW)


def _transpose_conv_bias(c: _Converter, op: _Op) -> None:
    # MediaPipe's op: custom options are a TfLiteTransposeConvParams struct (padding enum with
    # 1 = SAME, 2 = VALID; stride_w; stride_h); inputs are x, OHWI weights and bias.
    padding, sw, sh = struct.unpack_from("<3i", op.custom_options)
    weights = c.constant_of(op.inputs[1], "transposed convolution weights").astype(np.float32)
    _, kh, kw, _ = weights.shape
    _, h, w, _ = c.tensors[op.inputs[0]].shape
    # The op's own output size: stride * (in - 1) + kernel - total padding, padding split with
    # the smaller half first, as in mediapipe/util/tflite/operations/transpose_conv_bias.cc.
    th = max(0, kh - (h - 1) % sh - 1) if padding == 1 else 0
    tw = max(0, kw - (w - 1) % sw - 1) if padding == 1 else 0
    inputs = [c.get(op.inputs[0], NCHW), c.const(weights.transpose(3, 0, 1, 2),
                                                  c.tensors[op.inputs[1]].name),
              c.const(c.constant_of(op.inputs[2], "bias").astype(np.float32),
                      c.tensors[op.inputs[2]].name)]
    y = c.node("ConvTranspose", inputs, c.out_name(op.outputs[0], NCHW), kernel_shape=[kh, kw],
               strides=[sh, sw], pads=[th // 2, tw // 2, th - th // 2, tw - tw // 2])
    c.set(op.outputs[0], NCHW, y)


def _pool(c: _Converter, op: _Op) -> None:
    o = op.options
    padding, sw, sh, fw, fh, act = (o.scalar(0, "b"), o.scalar(1, "i"), o.scalar(2, "i"),
                                    o.scalar(3, "i"), o.scalar(4, "i"), o.scalar(5, "b"))
    _, h, w, _ = c.tensors[op.inputs[0]].shape
    out = c.out_name(op.outputs[0], NCHW)
    t, pads = _conv_input(c, op, _spatial_pads(c, op, padding, (fh, fw), (sh, sw)))
    x = c.get(t, NCHW)
    if op.code == AVERAGE_POOL_2D and (fh, fw) == (h, w) and not any(pads):
        y = c.node("GlobalAveragePool", [x], out + ("/pool" if act else ""))
    else:
        # TFLite leaves padding out of both the max and the average (count_include_pad=0).
        kind = "MaxPool" if op.code == MAX_POOL_2D else "AveragePool"
        y = c.node(kind, [x], out + ("/pool" if act else ""), kernel_shape=[fh, fw],
                   strides=[sh, sw], pads=pads)
    c.activation(y, act, op.outputs[0], NCHW)


def _operand(c: _Converter, t: int, out_rank: int, layout: str) -> str:
    """Input t of an elementwise op whose output has rank out_rank, in the output's layout.
    A lower-rank constant is lifted to the output rank first (numpy broadcasting rules)."""
    if t in c.consts and c.rank(t) < out_rank:
        lifted = (1,) * (out_rank - c.rank(t)) + c.tensors[t].shape
        data = c.consts[t].astype(np.float32).reshape(lifted)
        if layout == NCHW:
            data = data.transpose(NHWC_TO_NCHW)
        return c.const(data, c.tensors[t].name)
    if c.rank(t) != out_rank:
        raise ValueError(f"broadcasting {c.tensors[t].name} to rank {out_rank} is not supported")
    return c.get(t, layout)


def _binary(c: _Converter, op: _Op) -> None:
    out_t = op.outputs[0]
    layout = NCHW if c.rank(out_t) == 4 else NATIVE
    a, b = (_operand(c, t, c.rank(out_t), layout) for t in op.inputs[:2])
    act = op.options.scalar(0, "b") if op.options is not None else 0
    kind = {ADD: "Add", MUL: "Mul"}[op.code]
    y = c.node(kind, [a, b], c.out_name(out_t, layout) + ("/" + kind.lower() if act else ""))
    c.activation(y, act, out_t, layout)


def _unary(c: _Converter, op: _Op) -> None:
    # Elementwise: computed in whichever layout the input already has.
    t = op.inputs[0]
    layout = NCHW if (t, NCHW) in c.values else NATIVE
    x = c.get(t, layout)
    out = c.out_name(op.outputs[0], layout)
    if op.code in (RELU, RELU_N1_TO_1, RELU6):  # as fused activations 1, 2, 3
        c.activation(x, op.code - RELU + 1, op.outputs[0], layout)
        return
    kind = {LOGISTIC: "Sigmoid", TANH: "Tanh", HARD_SWISH: "HardSwish"}[op.code]
    c.set(op.outputs[0], layout, c.node(kind, [x], out))


def _prelu(c: _Converter, op: _Op) -> None:
    # prelu(x) = x + (1 - alpha) * relu(-x), with the negation and the per-channel scale as 1x1
    # depthwise Convs. ONNX Runtime runs each as one pass in its blocked NCHWc layout (the first
    # with the Relu fused, the second with the Add fused), whereas its PRelu kernel, or Min,
    # Mul and Sub, are plain NCHW ops that force reorders around every layer.
    t, out_t = op.inputs[0], op.outputs[0]
    alpha = c.constant_of(op.inputs[1], "PRELU alpha").astype(np.float32)
    layout = NCHW if c.rank(t) == 4 else NATIVE
    x = c.get(t, layout)
    base = c.out_name(out_t, layout)
    channels = c.tensors[t].shape[-1]
    if layout == NCHW and alpha.size == channels:  # one alpha per channel
        def scale(value: str, factors: np.ndarray, name: str) -> str:
            weight = c.const(factors.reshape(channels, 1, 1, 1).astype(np.float32), name + "/w")
            return c.node("Conv", [value, weight], name, kernel_shape=[1, 1], group=channels)

        negative = c.node("Relu", [scale(x, -np.ones(channels), base + "/neg")],
                          base + "/neg_relu")
        y = c.node("Add", [x, scale(negative, 1 - alpha.reshape(-1), base + "/scaled")], base)
    else:  # alphas varying over H or W: relu(x) + alpha * min(x, 0)
        zero = c.const(np.zeros((), np.float32), base + "/zero")
        negative = c.node("Min", [x, zero], base + "/min")
        scaled = c.node("Mul", [negative, _operand(c, op.inputs[1], c.rank(out_t), layout)],
                        base + "/scaled")
        y = c.node("Add", [c.node("Relu", [x], base + "/relu"), scaled], base)
    c.set(out_t, layout, y)


def _pad(c: _Converter, op: _Op) -> None:
    t, out_t = op.inputs[0], op.outputs[0]
    paddings = c.constant_of(op.inputs[1], "PAD paddings").astype(np.int64).reshape(-1, 2)
    users = c.consumers.get(out_t, [])
    # Zero padding of H and W read only by VALID convolutions becomes the convolutions' own
    # pads (they pad with zeros too), so the padded copy is never written.
    if (c.rank(t) == 4 and not paddings[[0, 3]].any() and users
            and out_t not in c.graph_outputs
            and all(u.code in (CONV_2D, DEPTHWISE_CONV_2D) and u.inputs[0] == out_t
                    and u.options.scalar(0, "b") == 1 for u in users)):
        c.folded_pads[out_t] = paddings
        c.folded_source[out_t] = t
        return
    layout = NCHW if c.rank(t) == 4 else NATIVE
    if layout == NCHW and not paddings[:3].any():
        # Zero channels (BlazeFace's residual blocks widen the skip path so) as a 1x1 Conv with
        # an identity weight: exact, and unlike Pad, ONNX Runtime fuses it with the Add that
        # follows and keeps it in its blocked layout.
        before = int(paddings[3, 0])
        cin, cout = c.tensors[t].shape[3], c.tensors[out_t].shape[3]
        weight = np.eye(cout, cin, -before, np.float32).reshape(cout, cin, 1, 1)
        y = c.node("Conv", [c.get(t, NCHW), c.const(weight, c.tensors[op.inputs[1]].name)],
                   c.out_name(out_t, NCHW), kernel_shape=[1, 1])
        c.set(out_t, NCHW, y)
        return
    if layout == NCHW:
        paddings = paddings[list(NHWC_TO_NCHW)]
    pads = c.const(np.concatenate([paddings[:, 0], paddings[:, 1]]), c.tensors[op.inputs[1]].name)
    c.set(out_t, layout, c.node("Pad", [c.get(t, layout), pads], c.out_name(out_t, layout)))


def _reshape(c: _Converter, op: _Op) -> None:
    # Element order is TFLite's (NHWC), so the input is taken in its native layout. The batch
    # must stay the first axis, alone, on both sides: then the target copies it from the input.
    t, out_t = op.inputs[0], op.outputs[0]
    if not c.tensors[t].shape or c.tensors[t].shape[0] != 1:
        raise ValueError(f"RESHAPE of {c.tensors[t].name} (shape {list(c.tensors[t].shape)}) "
                         "does not keep a leading batch of 1")
    shape = c.const(_batch_shape(c.tensors[out_t].shape), c.tensors[out_t].name + "/shape")
    c.set(out_t, NATIVE, c.node("Reshape", [c.get(t, NATIVE), shape], c.out_name(out_t, NATIVE)))


def _concat(c: _Converter, op: _Op) -> None:
    out_t = op.outputs[0]
    rank = c.rank(out_t)
    axis = op.options.scalar(0, "i") % rank
    layout = NCHW if rank == 4 else NATIVE
    if layout == NCHW:
        axis = NHWC_TO_NCHW.index(axis)
    y = c.node("Concat", [c.get(t, layout) for t in op.inputs], c.out_name(out_t, layout)
               + ("/concat" if op.options.scalar(1, "b") else ""), axis=axis)
    c.activation(y, op.options.scalar(1, "b"), out_t, layout)


def _resize_bilinear(c: _Converter, op: _Op) -> None:
    o = op.options
    align = o is not None and bool(o.scalar(2, "B"))
    half = o is not None and bool(o.scalar(3, "B"))
    out_t = op.outputs[0]
    _, h, w, ch = c.tensors[out_t].shape
    _, ih, iw, _ = c.tensors[op.inputs[0]].shape
    mode = "align_corners" if align else "half_pixel" if half else "asymmetric"
    x = c.get(op.inputs[0], NCHW)
    name = c.tensors[out_t].name
    # Scales rather than sizes where they give the same result, so that the batch is free:
    # ONNX Runtime derives the scale out / in (float32) from sizes, and the output size
    # floor(in * scale) from scales, which agree when in * (out / in) is exactly out.
    scales = np.array([1, 1, np.float32(h) / np.float32(ih), np.float32(w) / np.float32(iw)],
                      np.float32)
    if np.float32(ih) * scales[2] == h and np.float32(iw) * scales[3] == w:
        resize_inputs = [x, "", c.const(scales, name + "/scales")]
    else:  # sizes [N, C, H, W], N read from the input at run time
        batch = c.node("Shape", [x], name + "/batch", start=0, end=1)
        sizes = c.node("Concat", [batch, c.const(np.array([ch, h, w], np.int64), name + "/chw")],
                       name + "/sizes", axis=0)
        resize_inputs = [x, "", "", sizes]
    y = c.node("Resize", resize_inputs, c.out_name(out_t, NCHW), mode="linear",
               coordinate_transformation_mode=mode)
    c.set(out_t, NCHW, y)


def _depth_to_space(c: _Converter, op: _Op) -> None:
    # TFLite's depth layout (block row, block column, channel) is ONNX's DCR mode.
    out_t = op.outputs[0]
    y = c.node("DepthToSpace", [c.get(op.inputs[0], NCHW)], c.out_name(out_t, NCHW),
               blocksize=op.options.scalar(0, "i"), mode="DCR")
    c.set(out_t, NCHW, y)


def _dequantize(c: _Converter, op: _Op) -> None:
    src = op.inputs[0]
    if src not in c.consts or c.tensors[src].dtype != np.float16:
        raise ValueError("DEQUANTIZE is supported only for float16 constants "
                         f"({c.tensors[src].name})")
    c.consts[op.outputs[0]] = c.consts[src].astype(np.float32)


def _densify_op(c: _Converter, op: _Op) -> None:
    src = c.tensors[op.inputs[0]]
    if src.data is None or src.sparsity is None:
        raise ValueError(f"DENSIFY input {src.name} is not a sparse constant")
    c.consts[op.outputs[0]] = _densify(src)


_HANDLERS = {
    ADD: _binary, MUL: _binary, AVERAGE_POOL_2D: _pool, MAX_POOL_2D: _pool,
    CONCATENATION: _concat, CONV_2D: _conv, DEPTHWISE_CONV_2D: _conv,
    DEPTH_TO_SPACE: _depth_to_space, DEQUANTIZE: _dequantize, DENSIFY: _densify_op,
    LOGISTIC: _unary, TANH: _unary, HARD_SWISH: _unary, RELU: _unary, RELU_N1_TO_1: _unary,
    RELU6: _unary,
    RESHAPE: _reshape, RESIZE_BILINEAR: _resize_bilinear, PAD: _pad, PRELU: _prelu,
    TRANSPOSE_CONV_BIAS: _transpose_conv_bias,
}


def convert(data: bytes, name: str) -> onnx.ModelProto:
    """The ONNX model (opset 17) computing the same outputs as the TFLite model `data`.

    Raises ValueError if `data` is not a TFLite flatbuffer or uses an operator, tensor type or
    option this converter does not handle.
    """
    tensors, ops, inputs, outputs = _read_model(bytes(data))
    for t in inputs:
        if tensors[t].dtype != np.float32 or len(tensors[t].shape) != 4:
            raise ValueError(f"input {tensors[t].name} is not a float32 NHWC image tensor")
    return _Converter(tensors, ops, inputs, outputs).run(name)


def convert_segment(data: bytes, name: str, inputs: list[str],
                    outputs: list[str]) -> onnx.ModelProto:
    """The ONNX model of the part of the TFLite model `data` that computes the tensors named
    `outputs` from the tensors named `inputs` (and constants).

    For graphs with operators ONNX has no equivalent of (MediaPipe's attention mesh and its
    custom transform operators): the graph is cut at those operators' tensors and each plain
    segment is converted as a model of its own, keeping the tensor names. Raises ValueError if
    a named tensor is missing, or an output depends on a tensor outside `inputs` that is not a
    constant or is made by an operator the converter does not handle.
    """
    tensors, ops, _, _ = _read_model(bytes(data))
    index = {t.name: i for i, t in enumerate(tensors)}
    missing = [n for n in [*inputs, *outputs] if n not in index]
    if missing:
        raise ValueError(f"no tensor named {', '.join(missing)} in the model")
    ins, outs = [index[n] for n in inputs], [index[n] for n in outputs]
    for t in ins:
        if tensors[t].dtype != np.float32 or len(tensors[t].shape) != 4:
            raise ValueError(f"segment input {tensors[t].name} is not a float32 NHWC tensor")
    producer = {t: op for op in ops for t in op.outputs}
    needed: set[int] = set()  # indices of the operators the outputs depend on
    pending = list(outs)
    while pending:
        t = pending.pop()
        if t in ins or t < 0:
            continue
        op = producer.get(t)
        if op is None:
            if tensors[t].data is None:
                raise ValueError(f"segment output depends on {tensors[t].name}, which is "
                                 "neither a segment input nor a constant")
            continue
        if op.code not in _HANDLERS:
            raise ValueError(f"segment output depends on {tensors[t].name}, made by "
                             f"unsupported operator {op.label}; make it a segment input")
        if op.index not in needed:
            needed.add(op.index)
            pending.extend(op.inputs)
    chosen = [op for op in ops if op.index in needed]  # TFLite's order is a topological order
    return _Converter(tensors, chosen, ins, outs).run(name)


def stack_inputs(model: onnx.ModelProto, name: str) -> onnx.ModelProto:
    """`model` with its graph inputs (all of one shape, batch 1) fed as one tensor `name`
    stacked along the batch axis, split back inside the graph; its outputs get a fixed batch
    of 1. One input lets a caller bind a single buffer holding every part (the attention
    mesh's three region crops, written by one native call)."""
    graph = model.graph
    inputs = list(graph.input)
    shapes = {tuple(d.dim_value for d in v.type.tensor_type.shape.dim[1:]) for v in inputs}
    if len(inputs) < 2 or len(shapes) != 1:
        raise ValueError("stack_inputs needs two or more graph inputs of one shape")
    elem = inputs[0].type.tensor_type.elem_type
    stacked = helper.make_tensor_value_info(name, elem, [len(inputs), *next(iter(shapes))])
    split = helper.make_node("Split", [name, _split_sizes(graph, name, len(inputs))],
                             [v.name for v in inputs], name=name + "/split", axis=0)
    del graph.input[:]
    graph.input.append(stacked)
    graph.node.insert(0, split)
    for output in graph.output:
        output.type.tensor_type.shape.dim[0].dim_value = 1
    onnx.checker.check_model(model)
    return model


def _split_sizes(graph: onnx.GraphProto, name: str, parts: int) -> str:
    sizes = numpy_helper.from_array(np.ones(parts, np.int64), name + "/sizes")
    graph.initializer.append(sizes)
    return sizes.name
