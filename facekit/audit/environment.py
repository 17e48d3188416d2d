"""Where the audit ran: versions, platform, the scrub in use, and a fingerprint of the
installed package."""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from pathlib import Path
from typing import Any

__all__ = ["environment", "package_hashes"]


def package_hashes() -> dict[str, Any]:
    """sha256 of every file of the installed facekit package, and of them all together."""
    root = Path(__file__).resolve().parents[1]
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[path.relative_to(root).as_posix()] = hashlib.sha256(
                path.read_bytes()).hexdigest()
    overall = hashlib.sha256("".join(f"{h}  {p}\n" for p, h in files.items()).encode())
    return {"package_sha256": overall.hexdigest(), "files": files}


def environment() -> dict[str, Any]:
    import numpy
    import onnxruntime

    import facekit
    from facekit import _inference

    return {
        "facekit": getattr(facekit, "__version__", "unknown"),
        "location": str(Path(facekit.__file__).resolve().parent),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "libc": " ".join(platform.libc_ver()),
        "numpy": numpy.__version__,
        "onnxruntime": onnxruntime.__version__,
        "cpu": facekit.cpu_features(),
        "onnxruntime_scrub": _inference.choose_scrub(_inference.DEFAULT_SCRUB, 1),
        "onnxruntime_telemetry": ("off" if facekit.telemetry_status()["telemetry_disabled"]
                                  else "possibly on: onnxruntime imported before facekit"),
        "user_is_root": os.geteuid() == 0 if hasattr(os, "geteuid") else None,
    }
