"""Which CPU features exist and which SIMD path facekit's kernels use."""

from __future__ import annotations

from typing import Any

from . import _native
from .errors import SimdUnavailableError

__all__ = ["cpu_features"]


def cpu_features() -> dict[str, Any]:
    """Describe the CPU and the SIMD path in use.

    Returns a dict with ``arch``; ``features`` (``sse41``, ``avx2``, ``fma``, ``neon``);
    ``compiled`` (paths in this build); ``available`` (compiled and supported here);
    ``active`` (the path kernels run, chosen once per process: the fastest available, or the
    one named by the ``FACEKIT_SIMD`` environment variable); ``forced_by`` (``"FACEKIT_SIMD"``
    or ``None``); and ``kernel_calls`` (kernel invocations per path so far).
    """
    features = dict(_native.cpu.features())
    arch = features.pop("arch")
    return {
        "arch": arch,
        "features": features,
        "compiled": list(_native.cpu.compiled()),
        "available": list(_native.cpu.available()),
        "active": active_simd(),
        "forced_by": "FACEKIT_SIMD" if _native.cpu.forced_by_environment() else None,
        "kernel_calls": dict(_native.cpu.kernel_calls()),
    }


def active_simd() -> str:
    """The SIMD path in use; raises SimdUnavailableError if FACEKIT_SIMD names a bad one."""
    try:
        return str(_native.cpu.active())
    except ValueError as exc:
        raise SimdUnavailableError(str(exc)) from None
