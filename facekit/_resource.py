"""What every object holding native resources shares: it refuses pickle and copy."""

from __future__ import annotations

from typing import NoReturn

from .errors import NotPicklableError

__all__ = ["NativeResource"]


class NativeResource:
    """Mixin for pipelines, verifiers and arenas.

    Pickle (every protocol), ``copy.copy`` and ``copy.deepcopy`` all go through
    ``__reduce_ex__``; refusing there gives one clear error instead of a failure deep inside a
    native member (which, at protocols 0 and 1, used to abort the interpreter).
    """

    __slots__ = ()

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise NotPicklableError(
            f"{type(self).__name__} holds native resources (a secure arena, loaded models) and "
            f"cannot be pickled or copied; create a new one where it is needed")
