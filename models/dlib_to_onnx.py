"""dlib's face-recognition ResNet (dlib_face_recognition_resnet_model_v1.dat) -> ONNX.

The .dat file is dlib's own serialization of the network type defined in dlib's
dnn_face_recognition_ex.cpp. It stores layer hyperparameters and weights but not the wiring of
the tag/skip/add_prev layers (tag ids are C++ template arguments), so this converter carries
that definition (`ARCHITECTURE`, written like the C++ aliases), checks every layer of the file
against it, and reads the hyperparameters and weights from the file.

ONNX graph:
    chip        float32 [1, 150, 150, 3]  NHWC, RGB, (pixel - mean) / 256 with the mean stored in
                                          the file (R 122.782, G 117.001, B 104.298)
    descriptor  float32 [1, 128]          the network's output, unnormalized, as dlib returns it

dlib's serialization, as this reader understands it:
  * integers: one byte with the byte count in the low nibble and the sign in bit 7, then the
    magnitude's bytes, little-endian;
  * floats (scalars): integer mantissa then integer exponent, value = mantissa * 2**exponent;
  * strings: integer length then the bytes; bools: the character '0' or '1';
  * tensors (version 2): four integer dimensions (n, k, rows, cols), then raw little-endian
    float32; alias_tensor (version 1): four dimensions, its values living in the layer's params;
  * the network: each wrapper writes its version and then its subnetwork, so the versions come
    outermost first (loss 1, add_layer 2, tag/skip 1, the bottom add_layer 3), then the input
    layer, then each layer's details innermost first, each followed by three bools and three
    (empty) gradient/output tensors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # what opset 17 needs; pinned so the bytes do not follow the onnx package version
PRODUCER = "facekit models/dlib_to_onnx.py"
INPUT, OUTPUT = "chip", "descriptor"


# ---------------------------------------------------------------------------------------------
# The network definition (dlib's dnn_face_recognition_ex.cpp), innermost layer first.

@dataclass(frozen=True)
class Spec:
    kind: str                    # "input", "con", "affine", "relu", "max_pool", "avg_pool",
                                 # "avg_pool_everything", "fc_no_bias", "loss_metric",
                                 # "tag", "skip", "add_prev"
    args: tuple[int, ...] = ()   # con: filters, size, stride; pools: size, stride; tag/skip/add: id


def _block(filters: int, stride: int) -> list[Spec]:
    # block = BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>> with BN = affine
    return [Spec("con", (filters, 3, stride)), Spec("affine"), Spec("relu"),
            Spec("con", (filters, 3, 1)), Spec("affine")]


def _ares(filters: int) -> list[Spec]:
    # relu<add_prev1<block<N,affine,1,tag1<SUBNET>>>>
    return [Spec("tag", (1,)), *_block(filters, 1), Spec("add_prev", (1,)), Spec("relu")]


def _ares_down(filters: int) -> list[Spec]:
    # relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,affine,2,tag1<SUBNET>>>>>>>
    return [Spec("tag", (1,)), *_block(filters, 2), Spec("tag", (2,)), Spec("skip", (1,)),
            Spec("avg_pool", (2, 2)), Spec("add_prev", (2,)), Spec("relu")]


ARCHITECTURE: tuple[Spec, ...] = (
    Spec("input"),                                                   # input_rgb_image_sized<150>
    Spec("con", (32, 7, 2)), Spec("affine"), Spec("relu"), Spec("max_pool", (3, 2)),
    *_ares(32), *_ares(32), *_ares(32),                              # alevel4
    *_ares_down(64), *_ares(64), *_ares(64), *_ares(64),             # alevel3
    *_ares_down(128), *_ares(128), *_ares(128),                      # alevel2
    *_ares_down(256), *_ares(256), *_ares(256),                      # alevel1
    *_ares_down(256),                                                # alevel0
    Spec("avg_pool_everything"), Spec("fc_no_bias", (128,)), Spec("loss_metric"),
)



# ---------------------------------------------------------------------------------------------
# Reading dlib's serialization.

class _Reader:
    def __init__(self, data: bytes):
        self.data = memoryview(data)
        self.pos = 0

    def take(self, count: int) -> memoryview:
        if count < 0 or self.pos + count > len(self.data):
            raise ValueError(f"truncated dlib network: {count} bytes needed at offset {self.pos}, "
                             f"the file has {len(self.data)}")
        chunk = self.data[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def integer(self) -> int:
        head = self.take(1)[0]
        size = head & 0x0F
        if head & 0x70 or size > 8:
            raise ValueError(f"not a dlib integer at offset {self.pos - 1} (header 0x{head:02x})")
        value = int.from_bytes(self.take(size), "little")
        return -value if head & 0x80 else value

    def version(self, expected: int, what: str) -> None:
        at = self.pos
        found = self.integer()
        if found != expected:
            raise ValueError(f"{what}: version {found} at offset {at}, expected {expected}")

    def scalar(self) -> float:
        mantissa, exponent = self.integer(), self.integer()
        # dlib's float_details marks non-finite values with these exponents.
        special = {32000: math.inf, 32001: -math.inf, 32002: math.nan}
        if exponent in special:
            return special[exponent]
        try:
            return math.ldexp(mantissa, exponent)
        except OverflowError:
            raise ValueError(f"dlib float out of range before offset {self.pos}") from None

    def string(self) -> str:
        length = self.integer()
        return bytes(self.take(length)).decode("latin-1")

    def expect(self, name: str) -> None:
        at = self.pos
        found = self.string()
        if found != name:
            raise ValueError(f"expected dlib layer {name!r} at offset {at}, found {found!r}")

    def boolean(self) -> bool:
        char = bytes(self.take(1))
        if char not in (b"0", b"1"):
            raise ValueError(f"not a dlib bool at offset {self.pos - 1}: {char!r}")
        return char == b"1"

    def dims(self) -> tuple[int, int, int, int]:
        dims = tuple(self.integer() for _ in range(4))
        if min(dims) < 0:
            raise ValueError(f"negative tensor dimension {dims} before offset {self.pos}")
        return dims

    def tensor(self) -> np.ndarray:
        self.version(2, "tensor")
        dims = self.dims()
        count = math.prod(dims)
        return np.frombuffer(self.take(4 * count), "<f4").astype(np.float32).reshape(dims)

    def alias(self) -> tuple[int, int, int, int]:
        self.version(1, "alias_tensor")
        return self.dims()


def _view(params: np.ndarray, offset: int, shape: tuple[int, ...]) -> np.ndarray:
    """An alias_tensor's values: `shape` taken from the flat params at `offset`."""
    flat = params.reshape(-1)
    count = math.prod(shape)
    if offset + count > flat.size:
        raise ValueError(f"alias_tensor {shape} at {offset} overruns params of {flat.size}")
    return flat[offset:offset + count].reshape(shape)


@dataclass
class Layer:
    spec: Spec
    values: dict = field(default_factory=dict)


def _read_details(r: _Reader, spec: Spec) -> dict:
    """One layer's serialized details (the part after its subnetwork)."""
    kind = spec.kind
    if kind == "con":
        r.expect("con_4")
        params = r.tensor()
        filters, rows, cols = r.integer(), r.integer(), r.integer()
        stride = (r.integer(), r.integer())
        padding = (r.integer(), r.integer())
        w_shape, b_shape = r.alias(), r.alias()
        for _ in range(4):  # learning-rate and weight-decay multipliers: training only
            r.scalar()
        want = spec.args
        if (filters, rows, cols, stride) != (want[0], want[1], want[1], (want[2], want[2])):
            raise ValueError(f"con_ {filters} {rows}x{cols}/{stride}, expected {want}")
        w = _view(params, 0, w_shape)  # (filters, in channels, rows, cols): ONNX's OIHW
        b = _view(params, w.size, b_shape).reshape(-1)
        if w.shape[0] != filters or b.size != filters or params.size != w.size + b.size:
            raise ValueError(f"con_ params {params.shape} do not hold weights {w_shape} + "
                             f"biases {b_shape}")
        return {"w": w, "b": b, "stride": stride, "padding": padding}
    if kind == "affine":
        r.expect("affine_")
        params = r.tensor()
        g_shape, b_shape = r.alias(), r.alias()
        mode = r.integer()
        gamma = _view(params, 0, g_shape).reshape(-1)
        beta = _view(params, gamma.size, b_shape).reshape(-1)
        # layer_mode 0 is CONV_MODE: one scale and shift per channel.
        if mode != 0 or gamma.size != beta.size or params.size != 2 * gamma.size:
            raise ValueError(f"affine_ mode {mode} with gamma {g_shape}, beta {b_shape}")
        return {"gamma": gamma, "beta": beta}
    if kind == "relu":
        r.expect("relu_")
        return {}
    if kind in ("max_pool", "avg_pool", "avg_pool_everything"):
        r.expect("max_pool_2" if kind == "max_pool" else "avg_pool_2")
        size = (r.integer(), r.integer())
        stride = (r.integer(), r.integer())
        padding = (r.integer(), r.integer())
        # avg_pool_everything is avg_pool_<0,0,1,1>: a window of 0 means the whole input.
        want = ((0, 0), (1, 1)) if kind == "avg_pool_everything" else (
            (spec.args[0],) * 2, (spec.args[1],) * 2)
        if (size, stride) != want:
            raise ValueError(f"{kind} window {size} stride {stride}, expected {want}")
        if kind != "max_pool" and padding != (0, 0):
            raise ValueError(f"{kind} with padding {padding} is not supported")
        return {"size": size, "stride": stride, "padding": padding}
    if kind == "add_prev":
        r.expect("add_prev_")
        return {}
    if kind == "fc_no_bias":
        r.expect("fc_2")
        outputs, inputs = r.integer(), r.integer()
        params = r.tensor()
        w_shape, b_shape = r.alias(), r.alias()
        bias_mode = r.integer()
        for _ in range(4):
            r.scalar()
        # fc_bias_mode 1 is FC_NO_BIAS; the weights are (inputs, outputs): y = x @ w.
        if (bias_mode != 1 or outputs != spec.args[0] or params.size != inputs * outputs
                or math.prod(w_shape) != params.size):
            raise ValueError(f"fc_ {inputs}->{outputs} bias mode {bias_mode}, params "
                             f"{params.shape}, expected fc_no_bias<{spec.args[0]}>")
        return {"w": params.reshape(inputs, outputs)}
    raise AssertionError(kind)


def parse(data: bytes) -> tuple[list[Layer], tuple[float, float, float], tuple[int, int]]:
    """The layers of `ARCHITECTURE` between the input and the loss with their values, the
    input mean (R, G, B) and the chip size (rows, cols).

    Raises ValueError unless `data` is exactly one such network, every byte consumed.
    """
    r = _Reader(data)
    # Wrapper versions, outermost first: add_loss_layer 1 (followed right away by the loss
    # layer's details), add_layer 2, add_tag_layer and add_skip_layer 1, and 3 for the bottom
    # add_layer, which holds the input layer and writes it before the first layer's details.
    r.version(1, "add_loss_layer")
    r.expect("loss_metric_2")
    for _ in range(2):  # margin and distance threshold: training only
        r.scalar()
    inner = ARCHITECTURE[1:-1]
    for depth, spec in reversed(list(enumerate(inner))):
        wrapper = 3 if depth == 0 else 1 if spec.kind in ("tag", "skip") else 2
        r.version(wrapper, f"wrapper of layer {depth + 1} ({spec.kind})")

    r.expect("input_rgb_image_sized")
    mean = (r.scalar(), r.scalar(), r.scalar())
    size = (r.integer(), r.integer())

    layers = []
    for spec in inner:  # innermost first
        if spec.kind in ("tag", "skip"):  # these serialize nothing after their subnetwork
            layers.append(Layer(spec))
            continue
        values = _read_details(r, spec)
        for _ in range(3):  # this_layer_setup_called, gradient_input_is_stale, ...disabled
            r.boolean()
        for _ in range(3):  # x_grad, cached_output, params_grad: not part of the model
            r.tensor()
        if not layers:
            # The bottom add_layer (version 3) also stores how many tensor samples the input
            # layer makes per input object.
            expansion = r.integer()
            if expansion != 1:
                raise ValueError(f"sample expansion factor {expansion}, expected 1")
        layers.append(Layer(spec, values))
    if r.pos != len(data):
        raise ValueError(f"{len(data) - r.pos} unexpected trailing bytes after the dlib network "
                         f"(it ends at offset {r.pos})")
    return layers, mean, size


# ---------------------------------------------------------------------------------------------
# Emitting ONNX.

class _Graph:
    def __init__(self):
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, onnx.TensorProto] = {}
        self.counts: dict[str, int] = {}

    def name(self, op: str) -> str:
        index = self.counts.get(op, 0)
        self.counts[op] = index + 1
        return f"{op.lower()}{index}"

    def const(self, name: str, value: np.ndarray) -> str:
        if name not in self.initializers:
            self.initializers[name] = numpy_helper.from_array(value, name)
        return name

    def node(self, op: str, inputs: list[str], output: str | None = None, **attrs) -> str:
        name = self.name(op)
        output = output or name
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output


def _pad_to(g: _Graph, x: str, shape: tuple[int, ...], target: tuple[int, ...]) -> str:
    """`x` zero-padded after its end in every (C, H, W) dimension up to `target`."""
    if shape == target:
        return x
    ends = [0] + [t - s for s, t in zip(shape, target)]
    pads = np.array([0, 0, 0, 0] + ends, np.int64)  # N, C, H, W begins then ends
    return g.node("Pad", [x, g.const("pads_" + "_".join(map(str, ends[1:])), pads)])


def convert(data: bytes, name: str) -> onnx.ModelProto:
    """The ONNX model of dlib's face-recognition ResNet serialized in `data`."""
    layers, mean, (rows, cols) = parse(data)
    g = _Graph()
    x = g.node("Transpose", [INPUT], perm=[0, 3, 1, 2])  # NHWC chip -> NCHW
    shape = (3, rows, cols)  # (C, H, W) of x, tracked to size the residual zero-padding
    tags: dict[int, tuple[str, tuple[int, ...]]] = {}
    convs = 0
    i = 0
    while i < len(layers):
        layer, kind, v = layers[i], layers[i].spec.kind, layers[i].values
        i += 1
        if kind == "con":
            w = v["w"].astype(np.float64)
            b = v["b"].astype(np.float64)
            if i < len(layers) and layers[i].spec.kind == "affine":
                # affine computes gamma * conv(x) + beta per channel: fold it into the conv,
                # in float64 so the only rounding is the final one to float32.
                gamma, beta = (layers[i].values[k].astype(np.float64) for k in ("gamma", "beta"))
                w = w * gamma[:, None, None, None]
                b = b * gamma + beta
                i += 1
            if w.shape[1] != shape[0]:
                raise ValueError(f"con_ expects {w.shape[1]} channels, gets {shape[0]}")
            (sy, sx), (py, px) = v["stride"], v["padding"]
            x = g.node("Conv", [x, g.const(f"conv{convs}.weight", w.astype(np.float32)),
                                g.const(f"conv{convs}.bias", b.astype(np.float32))],
                       kernel_shape=list(w.shape[2:]), strides=[sy, sx], pads=[py, px, py, px])
            convs += 1
            shape = (w.shape[0], (shape[1] + 2 * py - w.shape[2]) // sy + 1,
                     (shape[2] + 2 * px - w.shape[3]) // sx + 1)
        elif kind == "relu":
            x = g.node("Relu", [x])
        elif kind in ("max_pool", "avg_pool"):
            (ky, kx), (sy, sx), (py, px) = v["size"], v["stride"], v["padding"]
            # Unpadded in this network; dlib, like ONNX, drops a last partial window.
            x = g.node("MaxPool" if kind == "max_pool" else "AveragePool", [x],
                       kernel_shape=[ky, kx], strides=[sy, sx], pads=[py, px, py, px])
            shape = (shape[0], (shape[1] + 2 * py - ky) // sy + 1,
                     (shape[2] + 2 * px - kx) // sx + 1)
        elif kind == "tag":
            tags[layer.spec.args[0]] = (x, shape)
        elif kind == "skip":
            x, shape = tags[layer.spec.args[0]]
        elif kind == "add_prev":
            # dlib adds tensors of different shapes by zero-padding both to the larger one
            # (more channels on the shortcut, and 3x3 + 4x4 / 1x1 + 2x2 at the 256 stage).
            other, other_shape = tags[layer.spec.args[0]]
            target = tuple(max(a, b) for a, b in zip(shape, other_shape))
            x = g.node("Add", [_pad_to(g, x, shape, target),
                               _pad_to(g, other, other_shape, target)])
            shape = target
        elif kind == "avg_pool_everything":
            x = g.node("GlobalAveragePool", [x])
            x = g.node("Flatten", [x])
            shape = (shape[0],)
        elif kind == "fc_no_bias":
            w = v["w"]
            if w.shape[0] != math.prod(shape):
                raise ValueError(f"fc_ expects {w.shape[0]} inputs, gets {shape}")
            x = g.node("MatMul", [x, g.const("fc.weight", w)], output=OUTPUT)
            shape = (w.shape[1],)
        else:
            raise AssertionError(kind)
    if x != OUTPUT:
        raise AssertionError("the network must end with its fc layer")

    graph = helper.make_graph(
        g.nodes, name,
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [1, rows, cols, 3])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [1, shape[0]])],
        initializer=list(g.initializers.values()),
    )
    model = helper.make_model(graph, producer_name=PRODUCER,
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    model.doc_string = (
        f"dlib face recognition ResNet v1 (Davis King, CC0). Input {INPUT}: float32 NHWC "
        f"1x{rows}x{cols}x3 aligned RGB chip (dlib.get_face_chip, padding 0.25), "
        f"(pixel - mean) / 256. Output {OUTPUT}: float32 1x{shape[0]} face descriptor, "
        "compared by Euclidean distance (dlib's threshold 0.6)."
    )
    helper.set_model_props(model, {
        "input_mean_rgb": ",".join(str(np.float32(m)) for m in mean),
        "input_scale": str(1 / 256),
    })
    onnx.checker.check_model(model, full_check=True)
    return model
