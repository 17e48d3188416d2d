"""Named events the pipelines fire so that ``facekit audit`` can watch them without patching.

Internal: only :mod:`facekit.audit` listens. A listener learns *that* something happened and
where, never a value: it gets names, shapes and arena addresses. The memory scan reads the
memory itself, from outside (a parent reading the child's ``/proc/PID/mem``), or, for the
auditor's own reference copies of the public sample photo, at the address it was given.

Events, with the arguments each listener is called with:

``"network-run"`` ``(name, where)``
    A network has just run (:meth:`facekit._inference.Network.run`): its input and outputs
    are in the frame arena and the pipeline has not used them yet. ``where`` maps ``"input"``
    and each output name to ``(address, shape)`` of float32 arena memory. A listener that
    raises makes this run fail as an error of the network would (the audit's failure
    injection), and a listener that blocks holds the pipeline at this point (a checkpoint).
``"arena"`` ``(arena)``
    A :class:`facekit.SecureArena` was created (the audit lists every arena's regions).

Cost when nothing listens: one function call and one lookup in an empty dict per event, no
allocation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = ["listening", "fire", "network_ran"]

Listener = Callable[..., None]
_listeners: dict[str, list[Listener]] = {}  # event -> listeners; no key while none listens


@contextlib.contextmanager
def listening(event: str, listener: Listener) -> Iterator[None]:
    """Call `listener` on every `event` inside the ``with`` block (several may listen)."""
    _listeners.setdefault(event, []).append(listener)
    try:
        yield
    finally:
        listeners = _listeners[event]
        listeners.remove(listener)
        if not listeners:
            del _listeners[event]


def fire(event: str, *args: Any) -> None:
    """Call the listeners of `event` with `args` (names and handles, never a value)."""
    listeners = _listeners.get(event)
    if listeners:
        for listener in tuple(listeners):
            listener(*args)


def network_ran(name: str, tensor: np.ndarray, outputs: Mapping[str, np.ndarray]) -> None:
    """Fire ``"network-run"`` for network `name`: addresses and shapes of `tensor` and
    `outputs` (arena views), built only when someone listens."""
    if "network-run" in _listeners:
        where = {label: (int(view.ctypes.data), tuple(view.shape))
                 for label, view in (("input", tensor), *outputs.items())}
        fire("network-run", name, where)
