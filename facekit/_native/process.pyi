"""
Opt-in process hardening
"""
from __future__ import annotations
import typing
__all__: list[str] = ['harden', 'set_free_perturb', 'set_mmap_threshold', 'wipe_stack']
def harden() -> dict:
    ...
def set_free_perturb(byte: typing.SupportsInt | typing.SupportsIndex) -> bool:
    """
    glibc M_PERTURB: free() fills released chunks with `byte` (0: off). False if unsupported.
    """
def set_mmap_threshold(bytes: typing.SupportsInt | typing.SupportsIndex) -> bool:
    """
    glibc M_MMAP_THRESHOLD: blocks of at least `bytes` are mapped alone and unmapped when freed (a fixed threshold). False if unsupported.
    """
def wipe_stack(bytes: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Zero this many bytes of the calling thread's stack below the caller's frame.
    """
