"""Ephemeral data: arena-backed arrays and results that refuse every standard export channel.

The refusals make accidental persistence fail loudly. They are not a sandbox: an application
can still read the numbers and copy them on purpose (``np.array(view)``, ``float(view[0])``);
facekit itself never does.
"""

from __future__ import annotations

import abc
import json
from typing import Any, Callable, NoReturn

import numpy as np

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


class EphemeralArray(np.ndarray):
    """A read-only numpy view into a frame arena.

    It reads zeros once its frame has ended. ``repr``/``str`` show shape and dtype, never
    values; pickle, copy, deepcopy, json and numpy's save/tofile/tobytes/dump paths raise
    :class:`~facekit.errors.BiometricExportError`. Arrays computed from it stay ephemeral
    arrays, so they refuse export too.
    """

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

    def tofile(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("EphemeralArray", "tofile")

    def tobytes(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("EphemeralArray", "tobytes")

    def dump(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("EphemeralArray", "dump")

    def dumps(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("EphemeralArray", "dumps")

    def setflags(self, write: Any = None, align: Any = None, uic: Any = None) -> None:
        if write:
            raise ValueError("EphemeralArray views are read-only")
        super().setflags(write=write, align=align, uic=uic)

    def __array_function__(self, func: Callable, types: Any, args: Any, kwargs: Any) -> Any:
        if func in _EXPORT_FUNCTIONS:
            _refuse("EphemeralArray", f"np.{func.__name__}")
        if func in _PRINT_FUNCTIONS:
            return repr(self)
        return super().__array_function__(func, types, args, kwargs)


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
