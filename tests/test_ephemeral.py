"""Ephemeral arrays and results refuse every standard export channel, and never print values."""

from __future__ import annotations

import copy
import io
import json
import pickle

import numpy as np
import pytest

import facekit
from facekit.errors import BiometricExportError

RECT = facekit.RotatedRect(455, 500, 400, 440, 0.0)


@pytest.fixture
def crop(arena, photo):
    with arena.frame() as frame:
        yield frame.crop_normalize(photo, RECT, 24)


@pytest.fixture
def frame(arena):
    with arena.frame() as frame:
        yield frame


EXPORTS = {
    "pickle": lambda a, tmp: pickle.dumps(a),
    "pickle-protocol-0": lambda a, tmp: pickle.dumps(a, protocol=0),
    "copy": lambda a, tmp: copy.copy(a),
    "deepcopy": lambda a, tmp: copy.deepcopy(a),
    "json.dumps": lambda a, tmp: json.dumps(a),
    "json.dump": lambda a, tmp: json.dump({"crop": a}, io.StringIO()),
    "np.save": lambda a, tmp: np.save(tmp / "x.npy", a),
    "np.savez": lambda a, tmp: np.savez(tmp / "x.npz", crop=a),
    "np.savez_compressed": lambda a, tmp: np.savez_compressed(tmp / "x.npz", a),
    "np.savetxt": lambda a, tmp: np.savetxt(tmp / "x.txt", a[0, 0]),
    "tofile": lambda a, tmp: a.tofile(tmp / "x.bin"),
    "tobytes": lambda a, tmp: a.tobytes(),
    "dump": lambda a, tmp: a.dump(tmp / "x.pkl"),
    "dumps": lambda a, tmp: a.dumps(),
}


@pytest.mark.parametrize("channel", sorted(EXPORTS))
def test_ephemeral_array_refuses_export(crop, tmp_path, channel):
    with pytest.raises(BiometricExportError, match="biometric values"):
        EXPORTS[channel](crop, tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing was written, not even a partial file


@pytest.mark.parametrize("channel", ["pickle", "copy", "deepcopy", "json.dumps"])
def test_frame_refuses_export(frame, tmp_path, channel):
    with pytest.raises(BiometricExportError, match="Frame refuses"):
        EXPORTS[channel](frame, tmp_path)


def test_derived_arrays_stay_ephemeral(crop, tmp_path):
    for derived in (crop * 2.0, crop[0, :3], crop.reshape(-1), np.clip(crop, 0, 1)):
        assert isinstance(derived, facekit.EphemeralArray)
        with pytest.raises(BiometricExportError):
            pickle.dumps(derived)
        with pytest.raises(BiometricExportError):
            np.save(tmp_path / "x.npy", derived)


def test_repr_and_str_show_shape_never_values(crop):
    value = f"{float(np.asarray(crop)[0, 0, 0, 0]):.4f}"[:5]
    for text in (repr(crop), str(crop), f"{crop}", np.array2string(crop), np.array_repr(crop),
                 np.array_str(crop), repr([crop]), repr(crop[0, 0])):
        assert "shape=" in text and "float32" in text
        assert value not in text


def test_views_are_read_only(crop):
    assert not crop.flags.writeable
    with pytest.raises(ValueError):
        np.asarray(crop)[0, 0, 0, 0] = 1.0
    with pytest.raises(ValueError):
        crop.setflags(write=True)


def test_json_of_ordinary_objects_is_unchanged():
    assert json.dumps({"a": [1, 2.5]}) == '{"a": [1, 2.5]}'
    with pytest.raises(TypeError, match="not JSON serializable") as info:
        json.dumps(object())
    assert not isinstance(info.value, BiometricExportError)


def test_explicit_copies_are_possible_and_plain(crop):
    # The app can copy values out on purpose; what it gets is an ordinary array it owns.
    kept = np.array(crop, subok=False)
    assert type(kept) is np.ndarray and kept.flags.owndata
    assert np.array_equal(kept, np.asarray(crop))


def test_export_error_is_a_type_error_with_the_reason(crop):
    with pytest.raises(TypeError) as info:
        pickle.dumps(crop)
    assert "wiped when the frame ends" in str(info.value)
