"""3D colour lookup tables: ``.cube`` files (Adobe/Resolve format) and the presets made here.

A LUT is a uint8 array of shape (N, N, N, 3) indexed ``[blue, green, red]`` (a ``.cube`` file
lists red fastest), applied with trilinear interpolation by the native engine. The presets
(``warm``, ``cool``, ``film``) are computed by :func:`preset_table` and shipped as ``.cube``
files in ``facekit/data/luts``; ``python -m facekit.lut`` rewrites them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

__all__ = ["load_lut", "read_cube", "write_cube", "presets", "preset_table"]

_DIR = Path(__file__).resolve().parent / "data" / "luts"
PRESET_SIZE = 17
MAX_SIZE = 256


def presets() -> list[str]:
    """Names of the shipped LUT presets."""
    return ["cool", "film", "warm"]


def preset_table(name: str, size: int = PRESET_SIZE) -> np.ndarray:
    """The (size, size, size, 3) uint8 table of a preset, computed from its formula."""
    axis = np.linspace(0.0, 1.0, size)
    b, g, r = np.meshgrid(axis, axis, axis, indexing="ij")
    if name == "warm":
        out = np.stack([r ** 0.9, g ** 0.97, b ** 1.12], axis=-1)
    elif name == "cool":
        out = np.stack([r ** 1.1, g ** 1.0, b ** 0.9], axis=-1)
    elif name == "film":
        # A soft S-curve on luminance with lifted blacks and slightly muted colour.
        luma = 0.299 * r + 0.587 * g + 0.114 * b
        curve = 0.04 + 0.92 * (3 * luma ** 2 - 2 * luma ** 3)
        out = np.stack([curve + 0.8 * (c - luma) for c in (r, g, b)], axis=-1)
    else:
        raise ValueError(f"unknown LUT preset {name!r}; presets: {presets()}")
    return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)


def read_cube(path: str | Path) -> np.ndarray:
    """Parse a 3D ``.cube`` file into a uint8 (N, N, N, 3) table (ValueError if malformed)."""
    path = Path(path)
    size = None
    low, high = np.zeros(3), np.ones(3)
    values: list[list[float]] = []
    try:
        # utf-8-sig: editors on Windows start text files with a byte-order mark.
        lines = path.read_text(encoding="utf-8-sig", errors="strict").splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not a text .cube file") from None
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        head = line.split()[0].upper()
        try:
            if head == "LUT_3D_SIZE":
                size = int(line.split()[1])
            elif head == "LUT_1D_SIZE":
                raise ValueError(f"{path.name}: 1D LUTs are not supported, only 3D")
            elif head == "DOMAIN_MIN":
                low = np.array([float(v) for v in line.split()[1:4]])
            elif head == "DOMAIN_MAX":
                high = np.array([float(v) for v in line.split()[1:4]])
            elif head in ("TITLE", "LUT_3D_INPUT_RANGE"):
                continue
            else:
                row = [float(v) for v in line.split()]
                if len(row) != 3:
                    raise ValueError("expected three numbers")
                values.append(row)
        except (IndexError, ValueError) as exc:
            raise ValueError(f"{path.name} line {number}: {exc}") from None
    if size is None or not 2 <= size <= MAX_SIZE:
        raise ValueError(f"{path.name}: missing or bad LUT_3D_SIZE (2..{MAX_SIZE})")
    if len(values) != size ** 3:
        raise ValueError(f"{path.name}: expected {size ** 3} entries, found {len(values)}")
    table = (np.array(values) - low) / np.maximum(high - low, 1e-12)
    if not np.all(np.isfinite(table)):
        raise ValueError(f"{path.name}: non-finite entries")
    table = np.clip(np.rint(table * 255.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(table.reshape(size, size, size, 3))


def write_cube(table: np.ndarray, path: str | Path, title: str = "facekit") -> None:
    """Write a (N, N, N, 3) uint8 table as a ``.cube`` file (red fastest)."""
    size = table.shape[0]
    rows = table.reshape(-1, 3) / 255.0
    text = [f'TITLE "{title}"', f"LUT_3D_SIZE {size}"]
    text += [f"{r:.6f} {g:.6f} {b:.6f}" for r, g, b in rows]
    Path(path).write_text("\n".join(text) + "\n")


def load_lut(lut: str | Path | np.ndarray) -> np.ndarray:
    """A LUT from a preset name, a ``.cube`` path or an array (validated, C-contiguous)."""
    if isinstance(lut, np.ndarray):
        if lut.dtype != np.uint8 or lut.ndim != 4 or lut.shape[3] != 3 or not (
                lut.shape[0] == lut.shape[1] == lut.shape[2]) or not 2 <= lut.shape[0] <= MAX_SIZE:
            raise ValueError(f"a LUT array must be uint8 of shape (N, N, N, 3) with N in "
                             f"2..{MAX_SIZE}, got {lut.dtype} {lut.shape}")
        return np.ascontiguousarray(lut)
    if isinstance(lut, str) and lut in presets():
        return read_cube(_DIR / f"{lut}.cube")
    path = Path(lut)
    if not path.is_file():
        raise ValueError(f"LUT {str(lut)!r} is neither a preset ({', '.join(presets())}) "
                         f"nor a .cube file")
    return read_cube(path)


def main() -> int:
    _DIR.mkdir(parents=True, exist_ok=True)
    for name in presets():
        write_cube(preset_table(name), _DIR / f"{name}.cube", title=f"facekit {name}")
        print(f"wrote {_DIR / (name + '.cube')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
