"""Turning what callers pass (numpy arrays, PIL images) into pixels the native core can read."""

from __future__ import annotations

import os
from typing import Any, Literal, Protocol

import numpy as np

from ._native import warp as _warp

__all__ = ["ImageLike", "ColorFormat", "PILImageLike", "as_pixels", "load_image"]


class PILImageLike(Protocol):
    """What facekit reads from a PIL image (``PIL.Image.Image`` matches): its ``mode`` and
    ``convert``, and its pixels through the array interface. A protocol rather than PIL's class,
    so that ``ImageLike`` resolves at run time (``typing.get_type_hints``) without importing PIL
    when facekit is imported."""

    @property
    def mode(self) -> str: ...

    def convert(self, mode: str) -> Any: ...


ColorFormat = Literal["rgb", "bgr"]
ImageLike = np.ndarray | PILImageLike

_PIL_MODES = {"RGB": "rgb", "RGBA": "rgba", "L": "gray"}
_CONVERT_HINT = ("facekit reads 8-bit images: scale the values to 0..255 and convert to uint8 "
                 "first (for example np.clip(x / 257, 0, 255).astype(np.uint8) for 16-bit)")


def _refuse_wide_mode(mode: str) -> None:
    """PIL's integer and float modes ("I", "I;16", "F", ...) would be clipped to 0..255 by
    ``convert("RGB")``: a 16-bit photo would come out white. Refuse them instead."""
    if mode in ("I", "F") or mode.startswith(("I;", "F;")):
        raise ValueError(f"image mode {mode!r} holds 16/32-bit pixels; {_CONVERT_HINT}")


def as_pixels(image: Any, color_format: ColorFormat = "rgb") -> tuple[np.ndarray, str]:
    """Return ``(array, pixel_format)`` for a uint8 image, without copying when possible.

    Accepts numpy uint8 arrays shaped HxW (gray), HxWx1, HxWx3 or HxWx4, with any row stride,
    and PIL images. ``color_format`` says whether 3/4-channel numpy arrays are RGB(A) or
    BGR(A) (OpenCV's order). Arrays whose pixels are not packed within a row (for example
    ``image[:, ::2]``) are copied once; row padding and negative row strides are read in place.
    Raises ``ValueError`` naming the problem.
    """
    if color_format not in ("rgb", "bgr"):
        raise ValueError(f"color_format must be 'rgb' or 'bgr', got {color_format!r}")
    if not isinstance(image, np.ndarray):
        mode = getattr(image, "mode", None)
        if mode is None or not hasattr(image, "convert"):
            raise TypeError(
                f"image must be a numpy uint8 array or a PIL image, got {type(image).__name__}"
            )
        _refuse_wide_mode(mode)
        if mode not in _PIL_MODES:
            image = image.convert("RGB")
            mode = "RGB"
        return np.asarray(image), _PIL_MODES[mode]
    if image.dtype != np.uint8:
        raise ValueError(f"image dtype must be uint8, got {image.dtype}; {_CONVERT_HINT}")
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        pixel_format = "gray"
    elif image.ndim == 3 and image.shape[2] in (3, 4):
        pixel_format = color_format + ("a" if image.shape[2] == 4 else "")
    else:
        raise ValueError(
            f"image shape {image.shape} is not HxW, HxWx1, HxWx3 or HxWx4"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image is empty (shape {image.shape})")
    if max(image.shape[:2]) > _warp.MAX_IMAGE_SIDE:
        raise ValueError(
            f"image of {image.shape[1]}x{image.shape[0]} exceeds the "
            f"{_warp.MAX_IMAGE_SIDE}-pixel side limit"
        )
    channels = 1 if image.ndim == 2 else image.shape[2]
    packed = (image.shape[1] == 1 or image.strides[1] == channels) and (
        image.ndim == 2 or channels == 1 or image.strides[2] == 1
    )
    if not packed:
        image = np.ascontiguousarray(image)
    return image, pixel_format


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as an RGB uint8 array, upright as its EXIF orientation says.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for one that is not a
    readable 8-bit image (corrupt, truncated, of an unknown format, or with 16/32-bit pixels);
    :class:`~facekit.errors.ImageTooLargeError` (a ``ValueError``) when it holds more than
    twice ``PIL.Image.MAX_IMAGE_PIXELS`` pixels (PIL's decompression-bomb limit).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    from .errors import ImageTooLargeError

    name = os.fspath(path)
    try:
        with Image.open(path) as opened:
            _refuse_wide_mode(opened.mode)
            upright = ImageOps.exif_transpose(opened)
            rgb = upright.convert("RGB")
    except FileNotFoundError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(
            f"{name} is too large to decode: {exc} (PIL.Image.MAX_IMAGE_PIXELS is "
            f"{Image.MAX_IMAGE_PIXELS})") from None
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError) as exc:
        raise ValueError(f"{name} is not a readable image: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    return np.asarray(rgb)
