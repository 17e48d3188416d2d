"""
Secure frame arena
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['Arena', 'refuse_buffer_protocol']
class Arena:
    """
    Page-locked, guard-paged memory wiped per frame.
    """
    @staticmethod
    def page_size() -> int:
        ...
    def __init__(self, region_bytes: typing.SupportsInt | typing.SupportsIndex = 1048576, lock: bool = True, verify_wipe: bool = False, debug_skip_wipe: bool = False) -> None:
        ...
    def __reduce_ex__(self, arg0: typing.Any) -> typing.Any:
        ...
    def allocate(self, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> numpy.typing.NDArray[numpy.float32]:
        """
        Zeroed float32 block for native writers (ONNX Runtime's bound outputs), as a read-only view.
        """
    def expose(self, source: numpy.ndarray) -> numpy.typing.NDArray[numpy.float32]:
        """
        A row-padded, read-only copy of an arena array, as handed to applications.
        """
    def regions(self) -> list:
        """
        Address range, use and kernel protections of each region (live ones first, then the retired ones that views of ended frames still hold).
        """
    def wipe(self) -> None:
        """
        Zero every byte handed out in this frame and start over.
        """
    @property
    def capacity(self) -> int:
        ...
    @property
    def debug_skip_wipe(self) -> bool:
        ...
    @property
    def used(self) -> int:
        ...
    @property
    def verify_wipe(self) -> bool:
        ...
def refuse_buffer_protocol(cls: type, refusal: collections.abc.Callable) -> None:
    """
    Make the buffer protocol (bytes(), memoryview, marshal, hashlib, file writes) of a Python-defined class call `refusal`, which raises, instead of exporting its memory. Python 3.12's __buffer__ does this for Python classes; this covers 3.10 and 3.11.
    """
