"""The standard channels through which Python code could export a value, as one table.

Used by ``facekit audit`` (the refusal-matrix check) and by ``tests/test_refusal_matrix.py``:
every ephemeral object must refuse each serializing channel with ``BiometricExportError``, and
its text channels (repr, str, f-strings, logging) must show no values.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import marshal
import pickle
from pathlib import Path
from typing import Any, Callable

import numpy as np

__all__ = ["REFUSED", "ARRAY_ONLY", "text_channels", "marshal_refused"]

Channel = Callable[[Any, Path], object]

# Channels every ephemeral object (results, faces, views, frames) must refuse.
REFUSED: dict[str, Channel] = {
    **{f"pickle-{p}": (lambda o, tmp, p=p: pickle.dumps(o, protocol=p))
       for p in range(pickle.HIGHEST_PROTOCOL + 1)},
    "copy": lambda o, tmp: copy.copy(o),
    "deepcopy": lambda o, tmp: copy.deepcopy(o),
    "json": lambda o, tmp: json.dumps(o),
    "json-nested": lambda o, tmp: json.dumps({"faces": [o]}),
}

# Channels that only arrays have; each would write a file into `tmp` if it were not refused.
ARRAY_ONLY: dict[str, Channel] = {
    "np.save": lambda a, tmp: np.save(tmp / "x.npy", a),
    "np.savez": lambda a, tmp: np.savez(tmp / "x.npz", a=a),
    "np.savez_compressed": lambda a, tmp: np.savez_compressed(tmp / "x.npz", a=a),
    "np.savetxt": lambda a, tmp: np.savetxt(tmp / "x.txt", a.reshape(-1, a.shape[-1])),
    "tofile": lambda a, tmp: a.tofile(tmp / "x.bin"),
    "tobytes": lambda a, tmp: a.tobytes(),
    "dump": lambda a, tmp: a.dump(tmp / "x.pkl"),
    "dumps": lambda a, tmp: a.dumps(),
}


def marshal_refused(obj: Any) -> bool:
    """marshal takes arrays through the buffer protocol, which a numpy subclass cannot refuse;
    facekit hands out row-padded (non-contiguous) views, whose flat buffer marshal cannot get."""
    try:
        marshal.dumps(obj)
    except ValueError:
        return True
    return False


def text_channels(obj: Any) -> dict[str, str]:
    """What repr, str, an f-string and a logging call make of `obj`."""
    stream = io.StringIO()
    logger = logging.getLogger("facekit.audit.channels")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        logger.warning("result: %s %r", obj, obj)
    finally:
        logger.removeHandler(handler)
    return {"repr": repr(obj), "str": str(obj), "f-string": f"{obj} {obj!r}",
            "logging": stream.getvalue()}


def printed_forms(values: np.ndarray) -> set[str]:
    """How the first coordinates of `values` would look printed by Python or numpy."""
    flat = np.asarray(values, dtype=np.float64)[:20, :2].ravel()
    return {f"{v:.1f}" for v in flat} | {f"{v:.4g}" for v in flat}
