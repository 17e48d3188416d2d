"""
Opt-in process hardening
"""
from __future__ import annotations
import typing
__all__: list[str] = ['harden', 'set_free_perturb', 'wipe_stack', 'wipe_thread_cache']
def harden() -> dict:
    ...
def set_free_perturb(byte: typing.SupportsInt | typing.SupportsIndex) -> bool:
    """
    glibc M_PERTURB: free() fills released chunks with `byte` (0: off). False if unsupported.
    """
def wipe_stack(bytes: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Zero this many bytes of the calling thread's stack below the caller's frame.
    """
def wipe_thread_cache() -> int:
    """
    Zero the chunks glibc's per-thread cache holds for the calling thread (small freed buffers it does not perturb); returns how many (0 where not glibc).
    """
