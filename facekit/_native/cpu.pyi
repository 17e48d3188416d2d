"""
CPU features and SIMD dispatch
"""
from __future__ import annotations
__all__: list[str] = ['active', 'available', 'compiled', 'features', 'force', 'forced_by_environment', 'kernel_calls']
def active() -> str:
    """
    The SIMD path in use; settles it on first call (ValueError if FACEKIT_SIMD is bad).
    """
def available() -> list[str]:
    ...
def compiled() -> list[str]:
    ...
def features() -> dict:
    ...
def force(arg0: str) -> None:
    """
    Override the path for this process (tests and benchmarks).
    """
def forced_by_environment() -> bool:
    ...
def kernel_calls() -> dict:
    ...
