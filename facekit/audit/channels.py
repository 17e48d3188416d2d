"""The standard channels through which Python code could export a value, as one table.

Used by ``facekit audit`` (the refusal-matrix check) and by ``tests/test_refusal_matrix.py``:
every ephemeral object must refuse each serializing channel with ``BiometricExportError``, and
its text channels (repr, str, f-strings, logging, numpy's test messages) must show no values.
The channels that stay open, and why, are listed in ``DOCUMENTED_OPEN``.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import logging
import marshal
import pickle
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["REFUSED", "ARRAY_ONLY", "ARRAY_OBJECTS", "DOCUMENTED_OPEN", "ephemeral_objects",
           "text_channels", "marshal_refused", "printed_forms"]

Channel = Callable[[Any, Path], object]


class NumpyAwareEncoder(json.JSONEncoder):
    """The JSON encoder applications commonly write for numpy values."""

    def default(self, o: Any) -> Any:
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, np.generic):
            return o.item()
        return super().default(o)


def _pillow(a: Any, tmp: Path) -> object:
    from PIL import Image  # a facekit dependency, imported only when this channel runs

    return Image.fromarray(a).tobytes()


# Channels every ephemeral object (results, faces, views, frames, references) must refuse.
REFUSED: dict[str, Channel] = {
    **{f"pickle-{p}": (lambda o, tmp, p=p: pickle.dumps(o, protocol=p))  # type: ignore[misc]
       for p in range(pickle.HIGHEST_PROTOCOL + 1)},
    "copy": lambda o, tmp: copy.copy(o),
    "deepcopy": lambda o, tmp: copy.deepcopy(o),
    "json": lambda o, tmp: json.dumps(o),
    "json-nested": lambda o, tmp: json.dumps({"faces": [o]}),
    "json-numpy-encoder": lambda o, tmp: json.dumps({"faces": [o]}, cls=NumpyAwareEncoder),
}

# Channels that only arrays have; the file ones would write into `tmp` if they were not refused.
ARRAY_ONLY: dict[str, Channel] = {
    "np.save": lambda a, tmp: np.save(tmp / "x.npy", a),
    "np.savez": lambda a, tmp: np.savez(tmp / "x.npz", a=a),
    "np.savez_compressed": lambda a, tmp: np.savez_compressed(tmp / "x.npz", a=a),
    "np.savetxt": lambda a, tmp: np.savetxt(tmp / "x.txt", np.atleast_2d(a)),
    "tofile": lambda a, tmp: a.tofile(tmp / "x.bin"),
    "tobytes": lambda a, tmp: a.tobytes(),
    "tolist": lambda a, tmp: a.tolist(),
    "dump": lambda a, tmp: a.dump(tmp / "x.pkl"),
    "dumps": lambda a, tmp: a.dumps(),
    # The buffer protocol: how C code reads an object's bytes.
    "bytes": lambda a, tmp: bytes(a),
    "bytearray": lambda a, tmp: bytearray(a),
    "memoryview": lambda a, tmp: memoryview(a).tobytes(),
    "hashlib": lambda a, tmp: hashlib.sha256(a).hexdigest(),
    "sqlite3": lambda a, tmp: sqlite3.connect(":memory:").execute("SELECT ?", (a,)).fetchone(),
    "stream-write": lambda a, tmp: io.BytesIO().write(a),  # as file.write and socket.send
    "PIL": _pillow,
}

# The objects of ephemeral_objects() that are arrays (the others get REFUSED only).
ARRAY_OBJECTS = ("landmarks", "landmark_row", "keypoints", "matte", "cutout")

# Channels that stay open, and why; tests/test_refusal_matrix.py checks each statement.
DOCUMENTED_OPEN = {
    "np.save of a list": "numpy turns a list holding views into a new array in C before any "
                         "hook of the views runs; np.save writes that plain copy",
    "pandas": "pd.DataFrame(view) copies the values into its own plain array with numpy's C "
              "API (np.array(..., copy=True)); to_csv/to_pickle then write that copy",
    "np.testing difference": "a failed np.testing assertion prints neither array nor element "
                             "values, but states the largest absolute and relative difference, "
                             "which against zeros is the largest value",
    "explicit copies": "np.array(view), view.copy(), view.astype(...), float(view[i, j]) and "
                       "any arithmetic give plain numbers or arrays the application owns",
}


@contextlib.contextmanager
def ephemeral_objects(image: np.ndarray) -> Iterator[dict[str, Any]]:
    """A live instance of every kind of ephemeral object facekit hands out, for `image` (a
    photo with a face), by name; everything is ended and closed on exit."""
    import facekit
    from facekit.verify import FaceVerifier

    from .memscan_child import fuser

    with facekit.FaceLandmarker(facekit.FaceLandmarkerOptions(iris=True)) as landmarker, \
            facekit.FaceDetector() as detector, facekit.SecureArena() as arena, \
            FaceVerifier() as verifier, fuser() as fusing, \
            facekit.Portrait(facekit.PortraitOptions(cutout=True)) as portrait:
        with landmarker.detect(image) as result, detector.detect(image) as detection, \
                arena.frame() as frame, verifier.reference(image) as reference, \
                fusing.user(image) as user_face, portrait.segment(image) as cut:
            yield {"result": result, "face": result.faces[0],
                   "landmarks": result.faces[0].landmarks,
                   "landmark_row": result.faces[0].landmarks[0],  # contiguous: one flat row
                   "detection": detection, "detected_face": detection.faces[0],
                   "keypoints": detection.faces[0].keypoints, "frame": frame,
                   "reference": reference, "user_face": user_face,
                   "portrait_result": cut, "matte": cut.matte, "cutout": cut.image}


def marshal_refused(obj: Any) -> bool:
    """marshal takes arrays through the buffer protocol, which ephemeral arrays refuse (marshal
    reports that as "unmarshallable object"), and no other facekit object either."""
    try:
        marshal.dumps(obj)
    except ValueError:
        return True
    return False


def text_channels(obj: Any) -> dict[str, str]:
    """What repr, str, an f-string, a logging call and (for arrays) a failed np.testing
    assertion make of `obj`."""
    stream = io.StringIO()
    logger = logging.getLogger("facekit.audit.channels")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        logger.warning("result: %s %r", obj, obj)
    finally:
        logger.removeHandler(handler)
    texts = {"repr": repr(obj), "str": str(obj), "f-string": f"{obj} {obj!r}",
             "logging": stream.getvalue()}
    if isinstance(obj, np.ndarray):
        try:  # fails everywhere: its message lists the first mismatching elements
            np.testing.assert_array_less(obj, obj)
        except AssertionError as failure:
            texts["np.testing"] = str(failure)
    return texts


def printed_forms(values: np.ndarray) -> set[str]:
    """How the first coordinates of `values` would look printed by Python or numpy."""
    flat = np.asarray(values, dtype=np.float64)[:20, :2].ravel()
    return {f"{v:.1f}" for v in flat} | {f"{v:.4g}" for v in flat}
