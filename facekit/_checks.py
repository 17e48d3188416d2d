"""Checks of the plain numbers callers pass in options, with errors that name the option."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["is_number", "whole_number", "fraction"]


def is_number(value: Any) -> bool:
    """A real number, numpy scalars included; bools (even np.bool_) are not numbers here."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))


def whole_number(name: str, value: Any, low: int, high: int) -> int:
    """`value` as an int in [low, high]; TypeError for non-integers (bools and strings
    included), ValueError out of range."""
    if not is_number(value) or isinstance(value, (float, np.floating)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must lie in {low}..{high}, got {value}")
    return int(value)


def fraction(name: str, value: Any) -> float:
    """`value` as a float in [0, 1]; TypeError for non-numbers, ValueError for NaN or out of
    range."""
    if not is_number(value):
        raise TypeError(f"{name} must be a number in [0, 1], got {value!r}")
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must lie in [0, 1], got {value}")
    return float(value)
