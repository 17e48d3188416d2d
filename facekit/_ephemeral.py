"""Ephemeral data: arena-backed arrays and results that refuse every standard export channel.

An :class:`EphemeralArray` is always a read-only view of arena memory. Whatever numpy computes
from one into new memory (arithmetic, reductions, ``copy()``, ``astype()``, fancy indexing,
``np.concatenate``...) is a plain ``np.ndarray``: the application's own copy, which it owns and
which facekit never makes. Slicing, reshaping and transposing still share the arena and stay
ephemeral views.

The refusals make accidental persistence fail loudly. They are not a sandbox: an application
can still read the numbers and copy them on purpose (``np.array(view)``, ``float(view[0, 0])``);
facekit itself never does.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from . import _native
from .errors import BiometricExportError, ExpiredFrameError

__all__ = ["EphemeralArray", "Ephemeral"]


def _refuse(what: str, name: str) -> NoReturn:
    raise BiometricExportError(
        f"{what} refuses {name}: it holds biometric values that live only in the frame arena "
        "and are wiped when the frame ends. Copy numbers out explicitly if your application "
        "must keep them."
    )


# numpy functions that would write or serialize the values.
_EXPORT_FUNCTIONS = {np.save, np.savez, np.savez_compressed, np.savetxt}
# numpy functions that would print the values; they get the shape-only summary instead.
_PRINT_FUNCTIONS = {np.array_repr, np.array_str, np.array2string}


def _is_arena_view(array: np.ndarray) -> bool:
    """True if `array` is a read-only view of memory numpy did not allocate (the arena's).

    numpy-allocated memory shows as an array that owns its data at the end of the base chain;
    arena arrays end in the native arena object instead.
    """
    if array.flags.writeable:
        return False
    base: Any = array
    while isinstance(base, np.ndarray):
        if base.flags.owndata:
            return False
        base = base.base
    return base is not None


def _plain(value: Any) -> Any:
    """`value` with every EphemeralArray in it (also inside lists and tuples) as a plain view."""
    if isinstance(value, EphemeralArray):
        return value.view(np.ndarray)
    if type(value) in (list, tuple):
        return type(value)(_plain(v) for v in value)
    return value


def _handed_out(value: Any) -> Any:
    """numpy's answer as facekit hands it out: arena memory as an EphemeralArray view, memory
    numpy allocated as the plain array it is (also inside lists and tuples)."""
    if type(value) in (np.ndarray, EphemeralArray):
        if _is_arena_view(value):
            return value if type(value) is EphemeralArray else value.view(EphemeralArray)
        return value
    if type(value) in (list, tuple):
        return type(value)(_handed_out(v) for v in value)
    return value


class EphemeralArray(np.ndarray):
    """A read-only numpy view into a frame arena.

    It reads zeros once its frame has ended. ``repr``/``str`` show shape and dtype, never
    values, and so does an element (``view[i, j]`` is a 0-d view, not a number; ``float()`` or
    ``.item()`` read it). pickle, copy, deepcopy, json, ``tolist``, the buffer protocol
    (``bytes``, ``memoryview``, marshal, hashlib, file writes) and numpy's
    save/tofile/tobytes/dump paths raise :class:`~facekit.errors.BiometricExportError`.

    Slices, reshapes and transposes that share the arena stay ephemeral. Everything numpy
    computes into new memory is a plain ``np.ndarray`` that the application owns: arithmetic,
    reductions, fancy indexing, ``np.concatenate``, and the explicit copies ``view.copy()``,
    ``view.astype(...)`` and ``np.array(view)``. ``copy.copy`` and ``copy.deepcopy`` stay
    refused: they are the generic cloning protocol that frameworks call without asking.
    ``np.asarray(view)`` is a plain read-only view of the arena (it reads zeros after the frame).
    """

    def __array_finalize__(self, obj: Any) -> None:
        # The one place every new EphemeralArray passes: numpy may not allocate one, so a heap
        # copy can never pass for an ephemeral view.
        if not _is_arena_view(self):
            raise BiometricExportError(
                "an EphemeralArray is a read-only view of arena memory; numpy was about to make "
                "a heap copy that would pass for one. Ask for a plain copy explicitly "
                "(np.array(view), view.copy(), view.astype(...)) or use np.asarray(view).")

    # ufuncs and numpy functions run on plain views; what they return is handed out by where it
    # lives (new memory plain, arena memory as a view).
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        plain_kwargs = {key: _plain(value) for key, value in kwargs.items()}
        return _handed_out(getattr(ufunc, method)(*_plain(inputs), **plain_kwargs))

    def __array_function__(self, func: Callable, types: Any, args: Any, kwargs: Any) -> Any:
        if func in _EXPORT_FUNCTIONS:
            _refuse("EphemeralArray", f"np.{func.__name__}")
        if func in _PRINT_FUNCTIONS:
            return repr(self)
        plain_kwargs = {key: _plain(value) for key, value in kwargs.items()}
        return _handed_out(func(*_plain(args), **plain_kwargs))

    def __getitem__(self, key: Any) -> Any:
        plain = self.view(np.ndarray)
        result = plain[key]
        if not isinstance(result, np.ndarray):
            # One element: keep it in the arena as a 0-d view rather than a printable scalar.
            result = plain[(*key, ...) if isinstance(key, tuple) else (key, ...)]
        return _handed_out(result)

    def __round__(self, ndigits: int | None = None) -> Any:
        """round() of an element, as numpy's scalars do it (the answer is a plain number)."""
        return round(self.view(np.ndarray)[()], ndigits)  # type: ignore[call-overload]

    @property
    def flat(self) -> np.flatiter:
        """numpy's flat iterator over a plain view: what it reads out are plain copies."""
        return self.view(np.ndarray).flat

    @property  # type: ignore[misc]  # numpy's imag is settable; here it is read-only
    def imag(self) -> Any:
        """The imaginary part (for real arrays numpy allocates zeros: a plain array)."""
        return _handed_out(self.view(np.ndarray).imag)

    def __repr__(self) -> str:
        return f"EphemeralArray(shape={self.shape}, dtype={self.dtype})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> NoReturn:
        _refuse("EphemeralArray", "pickle")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        _refuse("EphemeralArray", "pickle")

    def __copy__(self) -> NoReturn:
        _refuse("EphemeralArray", "copy.copy")

    def __deepcopy__(self, memo: Any) -> NoReturn:
        _refuse("EphemeralArray", "copy.deepcopy")

    def __setstate__(self, state: Any) -> NoReturn:
        # ndarray's would swap the arena memory for a heap buffer under the same object.
        raise TypeError("an EphemeralArray cannot be restored from a pickled state")

    def __buffer__(self, flags: int) -> NoReturn:
        _refuse("EphemeralArray", "the buffer protocol")

    def tofile(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("EphemeralArray", "tofile")

    def tobytes(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("EphemeralArray", "tobytes")

    def tolist(self, *args: Any, **kwargs: Any) -> NoReturn:
        # The step numpy-aware JSON encoders and many serializers take.
        _refuse("EphemeralArray", "tolist")

    def dump(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("EphemeralArray", "dump")

    def dumps(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("EphemeralArray", "dumps")

    def setflags(self, write: Any = None, align: Any = None, uic: Any = None) -> None:
        if write:
            raise ValueError("EphemeralArray views are read-only")
        super().setflags(write=write, align=align, uic=uic)


def _on_plain_view(name: str) -> Callable[..., Any]:
    """ndarray method `name`, run on a plain view of the arena and its answer handed out."""
    method = getattr(np.ndarray, name)

    def run(self: EphemeralArray, *args: Any, **kwargs: Any) -> Any:
        return _handed_out(method(self.view(np.ndarray), *args, **kwargs))

    run.__name__ = run.__qualname__ = name
    run.__doc__ = method.__doc__
    return run


# ndarray methods that numpy implements in C by allocating an array of the caller's type (the
# guard in __array_finalize__ would refuse them); on a plain view they give plain arrays.
_ALLOCATING_METHODS = ("argmax", "argmin", "argpartition", "argsort", "astype", "byteswap",
                       "compress", "copy", "cumprod", "cumsum", "dot", "flatten", "ravel",
                       "repeat", "reshape", "take")
for _name in _ALLOCATING_METHODS:
    setattr(EphemeralArray, _name, _on_plain_view(_name))


def _refuse_buffer() -> NoReturn:
    _refuse("EphemeralArray", "the buffer protocol")


# bytes(), memoryview, marshal, hashlib, sqlite3, PIL and file writes read arrays through the
# buffer protocol, which a Python subclass can only refuse by itself from Python 3.12 on.
_native.arena.refuse_buffer_protocol(EphemeralArray, _refuse_buffer)


class Ephemeral(abc.ABC):
    """Base of objects that hold one frame's results.

    Subclasses say when they expire and call :meth:`_check_alive` in every accessor, so that
    using a result after its frame ended raises :class:`~facekit.errors.ExpiredFrameError`
    rather than quietly returning zeros.
    """

    __slots__ = ()

    @property
    @abc.abstractmethod
    def expired(self) -> bool:
        """True once the frame this object belongs to has ended."""

    def _check_alive(self) -> None:
        if self.expired:
            raise ExpiredFrameError(
                f"this {type(self).__name__} has expired: its frame ended and the arena holding "
                "its values was wiped. Use results inside their `with` block."
            )

    def __reduce__(self) -> NoReturn:
        _refuse(type(self).__name__, "pickle")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        _refuse(type(self).__name__, "pickle")

    def __copy__(self) -> NoReturn:
        _refuse(type(self).__name__, "copy.copy")

    def __deepcopy__(self, memo: Any) -> NoReturn:
        _refuse(type(self).__name__, "copy.deepcopy")


# json has no per-type hook: it calls JSONEncoder.default for every object it cannot encode,
# and the stock default raises TypeError. Ephemeral objects get BiometricExportError (itself a
# TypeError) with the reason instead; every other object behaves exactly as before.
_stock_default = json.JSONEncoder.default


def _default(self: json.JSONEncoder, o: Any) -> Any:
    if isinstance(o, (EphemeralArray, Ephemeral)):
        _refuse(type(o).__name__, "json")
    return _stock_default(self, o)


if getattr(json.JSONEncoder.default, "__module__", None) != __name__:
    json.JSONEncoder.default = _default  # type: ignore[method-assign]
