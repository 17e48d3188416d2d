"""Checks of the plain numbers callers pass in options, with errors that name the option."""

from __future__ import annotations

import math
from typing import Any, TypeVar

import numpy as np

__all__ = ["is_number", "whole_number", "fraction", "choice", "flag", "real", "rgb",
           "options_from", "checked_color_format", "checked_running_mode"]

T = TypeVar("T")


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


def choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """`value` as a plain str among `choices`; TypeError for a non-string, ValueError for any
    other string (numpy strings accepted)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {choices}, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return str(value)


def flag(name: str, value: Any) -> bool:
    """`value` as a bool (numpy bools accepted); TypeError for anything else."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def real(name: str, value: Any, low: float, high: float, *, open_low: bool = False,
         open_high: bool = False) -> float:
    """`value` as a float in [low, high] (either end open when asked); TypeError for
    non-numbers, ValueError for NaN or out of range."""
    if not is_number(value):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    above = low < value if open_low else low <= value
    below = value < high if open_high else value <= high
    if not (math.isfinite(value) and above and below):
        bounds = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
        raise ValueError(f"{name} must lie in {bounds}, got {value}")
    return float(value)


def rgb(name: str, value: Any) -> tuple[int, int, int]:
    """`value` as an (r, g, b) tuple of ints in 0..255 (any iterable of three integers, numpy
    ints included); TypeError for non-integers, ValueError for a wrong count or range."""
    problem = f"{name} must be three ints in 0..255 (r, g, b), got {value!r}"
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(problem)
    channels = tuple(value)
    if not all(is_number(c) and not isinstance(c, (float, np.floating)) for c in channels):
        raise TypeError(problem)
    if len(channels) != 3 or not all(0 <= c <= 255 for c in channels):
        raise ValueError(problem)
    return (int(channels[0]), int(channels[1]), int(channels[2]))


def options_from(cls: type[T], options: Any, first_field: str | None,
                 fields: dict[str, Any]) -> T:
    """The options object a task constructor was given: `options` itself when it is a `cls`
    (then no keyword may come with it), else ``cls(first_field=options, **fields)`` (the
    shorthand ``Anonymizer("blur", padding=0.3)``), so both forms take one validated path."""
    if isinstance(options, cls):
        if fields:
            raise TypeError(f"pass either {cls.__name__} or keyword options, not both "
                            f"(got {', '.join(sorted(fields))})")
        return options
    if options is not None:
        if first_field is None:
            raise TypeError(f"options must be a {cls.__name__}, got {type(options).__name__}")
        fields = {first_field: options, **fields}
    return cls(**fields)


def checked_color_format(value: Any) -> str:
    """The ``color_format`` option: "rgb" or "bgr"."""
    return choice("color_format", value, ("rgb", "bgr"))


def checked_running_mode(value: Any, allowed: tuple[Any, ...] | None = None) -> Any:
    """The ``running_mode`` option: a RunningMode (among `allowed` when given)."""
    from ._pipeline import RunningMode

    if not isinstance(value, RunningMode):
        raise ValueError(f"running_mode must be a RunningMode (IMAGE or VIDEO), got {value!r}")
    if allowed is not None and value not in allowed:
        names = " or ".join(f"RunningMode.{m.name}" for m in allowed)
        raise ValueError(f"running_mode must be {names}, got {value}")
    return value
