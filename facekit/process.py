"""Opt-in, process-wide hardening for apps that handle faces."""

from __future__ import annotations

from . import _native

__all__ = ["harden_process"]


def harden_process() -> dict[str, bool]:
    """Turn off core dumps and make the process non-dumpable; report what took.

    Sets ``RLIMIT_CORE`` to 0 (soft and hard: it cannot be raised again) and calls
    ``prctl(PR_SET_DUMPABLE, 0)``, which also stops other processes of the same user from
    attaching a debugger or reading ``/proc/<pid>/mem``. The arena is excluded from core dumps
    anyway (``MADV_DONTDUMP``); this covers everything else in the process, such as the input
    images. Call it once at start-up; facekit never calls it on its own.

    Returns ``{"core_dumps_off": bool, "not_dumpable": bool}``.
    """
    return dict(_native.process.harden())
