"""Ephemeral arrays and results refuse every standard export channel and never print values;
what numpy computes from a view is a plain array, what still shares the arena an ephemeral view."""

from __future__ import annotations

import copy
import hashlib
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
    "tolist": lambda a, tmp: a.tolist(),
    "json with a numpy-aware default": lambda a, tmp: json.dumps(a, default=lambda o: o.tolist()),
    "bytes": lambda a, tmp: bytes(a),
    "memoryview": lambda a, tmp: memoryview(a),
    ".data": lambda a, tmp: a.data,
    "np.frombuffer": lambda a, tmp: np.frombuffer(a, np.uint8),
    "hashlib": lambda a, tmp: hashlib.sha256(a),
    "BytesIO.write": lambda a, tmp: io.BytesIO().write(a),
}


@pytest.mark.parametrize("channel", sorted(EXPORTS))
@pytest.mark.parametrize("part", ["whole", "row", "element"])
def test_ephemeral_array_refuses_export(crop, tmp_path, channel, part):
    array = {"whole": crop, "row": crop[0, 0, 0], "element": crop[0, 0, 0, 0]}[part]
    if channel == "np.savetxt" and part != "whole":
        array = np.atleast_2d(array)  # savetxt wants rows
    with pytest.raises(BiometricExportError, match="biometric values"):
        EXPORTS[channel](array, tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing was written, not even a partial file


@pytest.mark.parametrize("channel", ["pickle", "copy", "deepcopy", "json.dumps"])
def test_frame_refuses_export(frame, tmp_path, channel):
    with pytest.raises(BiometricExportError, match="Frame refuses"):
        EXPORTS[channel](frame, tmp_path)


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
    for kept in (np.array(crop, subok=False), crop.copy(), crop.astype(np.float64)):
        assert type(kept) is np.ndarray and kept.flags.owndata and kept.flags.writeable
        assert np.array_equal(kept, np.asarray(crop))


def test_export_error_is_a_type_error_with_the_reason(crop):
    with pytest.raises(TypeError) as info:
        pickle.dumps(crop)
    assert "wiped when the frame ends" in str(info.value)


# --- What numpy makes of a view: new memory is a plain array, shared memory stays ephemeral. ---

@pytest.fixture
def points(frame):
    """A (478, 3) landmark-shaped view, laid out as faces hand landmarks out (padded rows)."""
    values = np.linspace(1.5, 900.5, 478 * 3, dtype=np.float32).reshape(478, 3)
    return facekit.arena.expose(frame, values)


ONES = np.ones(3, np.float32)

SHARED = {  # results that are views of the arena
    "row slice": lambda v: v[1:5],
    "column slice": lambda v: v[:, :2],
    "row": lambda v: v[0],
    "element": lambda v: v[0, 0],
    "reversed": lambda v: v[::-1],
    "ellipsis": lambda v: v[..., 0],
    "newaxis": lambda v: v[None],
    "iteration": lambda v: next(iter(v)),
    "element of a row": lambda v: list(v[0])[1],
    "reshape splitting rows": lambda v: v.reshape(2, 239, 3),
    ".T": lambda v: v.T,
    ".transpose()": lambda v: v.transpose(),
    ".swapaxes": lambda v: v.swapaxes(0, 1),
    ".view()": lambda v: v.view(),
    ".real": lambda v: v.real,
    ".conj() of reals": lambda v: v.conj(),
    ".diagonal()": lambda v: v.diagonal(),
    ".squeeze()": lambda v: v[None].squeeze(),
    "np.transpose": lambda v: np.transpose(v),
    "np.expand_dims": lambda v: np.expand_dims(v, 0),
    "np.atleast_3d": lambda v: np.atleast_3d(v),
    "np.broadcast_to": lambda v: np.broadcast_to(v, (2, *v.shape)),
    "np.split": lambda v: np.split(v, 2),
    "np.flip": lambda v: np.flip(v, 0),
    "np.moveaxis": lambda v: np.moveaxis(v, 0, 1),
    "np.asanyarray": lambda v: np.asanyarray(v),
    "np.squeeze": lambda v: np.squeeze(v[None]),
}

NEW = {  # results in memory numpy allocated
    "v + 0": lambda v: v + 0,
    "0 + v": lambda v: 0 + v,
    "v * k": lambda v: v * 2.5,
    "slice * k": lambda v: v[:, :2] * 3,
    "v - v": lambda v: v - v,
    "v / 2": lambda v: v / 2,
    "v // 1": lambda v: v // 1,
    "v % 7": lambda v: v % 7,
    "v ** 2": lambda v: v ** 2,
    "-v": lambda v: -v,
    "abs(v)": lambda v: abs(v),
    "v @ ones": lambda v: v @ ONES,
    "v > 100": lambda v: v > 100,
    "divmod": lambda v: divmod(v, 7),
    "element * 2": lambda v: v[0, 0] * 2,
    "round(element)": lambda v: round(v[0, 0]),
    "round(element, 1)": lambda v: round(v[0, 0], 1),
    "np.sqrt": lambda v: np.sqrt(v),
    "np.maximum": lambda v: np.maximum(v, 10),
    "np.add.reduce": lambda v: np.add.reduce(v),
    "np.add.accumulate": lambda v: np.add.accumulate(v),
    "np.multiply.outer": lambda v: np.multiply.outer(v[0], v[1]),
    ".mean(0)": lambda v: v.mean(0),
    ".mean()": lambda v: v.mean(),
    ".sum(0)": lambda v: v.sum(0),
    ".max(0)": lambda v: v.max(0),
    ".min(axis=1)": lambda v: v.min(axis=1),
    ".std(0)": lambda v: v.std(0),
    ".var(0)": lambda v: v.var(0),
    ".prod(1)": lambda v: v.prod(1),
    ".cumsum(0)": lambda v: v.cumsum(0),
    ".cumprod(1)": lambda v: v.cumprod(1),
    ".argmax(0)": lambda v: v.argmax(0),
    ".argsort(0)": lambda v: v.argsort(0),
    ".trace()": lambda v: v.trace(),
    ".copy()": lambda v: v.copy(),
    ".astype(float64)": lambda v: v.astype(np.float64),
    ".astype(float32)": lambda v: v.astype(np.float32),
    ".round()": lambda v: v.round(),
    ".round(2)": lambda v: v.round(2),
    ".clip": lambda v: v.clip(0, 100),
    ".flatten()": lambda v: v.flatten(),
    ".ravel() of padded rows": lambda v: v.ravel(),
    ".reshape(-1) of padded rows": lambda v: v.reshape(-1),
    ".take": lambda v: v.take([0, 1], 0),
    ".repeat": lambda v: v.repeat(2, 0),
    ".compress": lambda v: v.compress([True, False, True], 1),
    ".dot": lambda v: v.dot(ONES),
    ".byteswap()": lambda v: v.byteswap(),
    ".imag": lambda v: v.imag,
    ".flat[list]": lambda v: v.flat[[0, 1]],
    ".nonzero()": lambda v: v.nonzero(),
    "fancy rows": lambda v: v[[0, 1]],
    "fancy array": lambda v: v[np.array([2, 0])],
    "fancy pairs": lambda v: v[[0, 1], [1, 2]],
    "boolean mask": lambda v: v[v[:, 0] > 100],
    "np.concatenate": lambda v: np.concatenate([v, v]),
    "np.stack": lambda v: np.stack([v, v]),
    "np.vstack": lambda v: np.vstack([v, v]),
    "np.hstack": lambda v: np.hstack([v, v]),
    "np.clip": lambda v: np.clip(v, 0, 1),
    "np.where": lambda v: np.where(v > 100, v, 0),
    "np.copy": lambda v: np.copy(v),
    "np.array": lambda v: np.array(v),
    "np.ascontiguousarray": lambda v: np.ascontiguousarray(v),
    "np.ravel": lambda v: np.ravel(v),
    "np.sort": lambda v: np.sort(v, 0),
    "np.unique": lambda v: np.unique(v),
    "np.round": lambda v: np.round(v, 1),
    "np.median": lambda v: np.median(v, 0),
    "np.percentile": lambda v: np.percentile(v, 50, 0),
    "np.pad": lambda v: np.pad(v, 1),
    "np.tile": lambda v: np.tile(v, 2),
    "np.linalg.norm": lambda v: np.linalg.norm(v, axis=1),
    "np.array_split": lambda v: np.array_split(np.ravel(v), 3),
}


def _arrays(result):
    return [r for part in (result if isinstance(result, (list, tuple)) else [result])
            for r in ([part] if not isinstance(part, (list, tuple)) else part)]


@pytest.mark.parametrize("operation", sorted(SHARED))
def test_views_of_the_arena_stay_ephemeral_and_read_only(points, operation):
    for result in _arrays(SHARED[operation](points)):
        assert np.shares_memory(result, points), operation
        assert type(result) is facekit.EphemeralArray, operation
        assert not result.flags.writeable


@pytest.mark.parametrize("operation", sorted(NEW))
def test_new_memory_is_a_plain_array(points, operation):
    for result in _arrays(NEW[operation](points)):
        assert not isinstance(result, facekit.EphemeralArray), (operation, type(result))
        if isinstance(result, np.ndarray):
            assert type(result) is np.ndarray, operation
            assert not np.shares_memory(result, points), operation


def test_element_is_a_zero_d_view_that_reads_as_a_number(points):
    values = np.array(points)
    element = points[2, 1]
    assert type(element) is facekit.EphemeralArray and np.shares_memory(element, points)
    assert element.shape == () and float(element) == values[2, 1] == element.item()
    assert str(values[2, 1])[:5] not in f"{element} {element!r} {[element]}"


def test_in_place_ops_on_a_plain_array_take_ephemeral_operands(points):
    total = np.zeros(points.shape, np.float32)
    total += points
    total *= points[0]
    np.add(total, points, out=total)
    assert type(total) is np.ndarray
    values = np.array(points)
    assert np.allclose(total, values * values[0] + values)
    with pytest.raises(ValueError, match="read-only"):
        np.add(points, 1, out=points)


def test_asarray_is_a_plain_read_only_view_that_expires(frame, points):
    plain = np.asarray(points)
    kept = points * 1  # the application's own copy
    assert type(plain) is np.ndarray and np.shares_memory(plain, points)
    assert not plain.flags.writeable
    with pytest.raises(ValueError):
        plain.setflags(write=True)
    frame.close()
    assert not plain.any() and not points.any()  # the arena was wiped under both views
    assert kept.all()  # the copy is the application's; facekit cannot and does not wipe it


@pytest.mark.parametrize("make", [
    lambda v: np.asanyarray(v, dtype=np.float64),
    lambda v: np.array(v, subok=True),
    lambda v: np.asanyarray(v, order="C"),
    lambda v: np.require(v, requirements="C"),
    lambda v: np.zeros(3).view(facekit.EphemeralArray),
    lambda v: np.array(v).view(facekit.EphemeralArray),
], ids=["asanyarray-dtype", "array-subok", "asanyarray-order", "require-C", "zeros-view",
       "copy-view"])
def test_heap_memory_can_never_pass_for_an_ephemeral_array(points, make):
    with pytest.raises(BiometricExportError, match="heap copy"):
        make(points)


def test_np_testing_messages_show_no_element_values(points):
    values = np.array(points)
    with pytest.raises(AssertionError) as failure:
        np.testing.assert_array_equal(points, values + 1)
    message = str(failure.value)
    assert "Mismatched elements" in message and "EphemeralArray(shape=()" in message
    assert not any(f"{v:.4g}" in message for v in values[:5].ravel())
