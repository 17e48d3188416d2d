"""The command line shared by the generators of facekit/data tables (face_triangles,
mesh_regions, attention_mesh): write the table, or with ``--check`` compare it with the
committed file (CI runs the checks, so a table cannot drift from its generator)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def main(module: str, build: Callable[[], str], out: Path, argv: list[str] | None = None) -> int:
    """Run generator `module` (its ``python -m`` name): `build()` gives the table's text."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}")
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    args = parser.parse_args(argv)
    text = build()
    if args.check:
        same = out.exists() and out.read_text() == text
        print(f"{out.name} " + ("matches" if same else "DIFFERS"))
        return 0 if same else 1
    out.write_text(text)
    print(f"wrote {out}")
    return 0
