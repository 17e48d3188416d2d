"""Generate the type stubs of facekit's native core (facekit/_native/*.pyi) with pybind11-stubgen.

    python tools/stubs.py           # rewrite facekit/_native/ from the installed extension
    python tools/stubs.py --check   # exit 1, listing the differences, when they are out of date

Run it with the environment where facekit is installed (the stubs describe the built module).
tests/test_stubs.py runs the check and mypy's stubtest against the extension.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STUBS = REPO / "facekit" / "_native"


def generate(folder: Path) -> Path:
    """Write the stubs under `folder` and return the folder holding them."""
    subprocess.run([sys.executable, "-m", "pybind11_stubgen", "--exit-code", "facekit._native",
                    "-o", str(folder)], check=True, cwd=tempfile.gettempdir())
    return folder / "facekit" / "_native"


def differences(fresh: Path, committed: Path) -> list[str]:
    """Names of the stub files that differ between two folders (or exist in only one)."""
    names = sorted({p.name for folder in (fresh, committed) for p in folder.glob("*.pyi")})
    return [n for n in names if not ((fresh / n).exists() and (committed / n).exists()
                                     and filecmp.cmp(fresh / n, committed / n, shallow=False))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        if args.check:
            stale = differences(fresh, STUBS)
            if stale:
                print(f"stale stubs in {STUBS}: {', '.join(stale)}; run python tools/stubs.py")
            return 1 if stale else 0
        shutil.rmtree(STUBS, ignore_errors=True)
        shutil.copytree(fresh, STUBS)
    print(f"wrote {STUBS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
