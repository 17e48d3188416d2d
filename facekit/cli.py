"""The ``facekit`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

__all__ = ["main"]


def _info(args: argparse.Namespace) -> int:
    from . import SecureArena, __version__, cpu_features

    with SecureArena() as arena:
        status = arena.status()
    report = {
        "facekit": __version__,
        "cpu": cpu_features(),
        "arena": {
            "locked": status.locked,
            "dontdump": status.dontdump,
            "wipeonfork": status.wipeonfork,
            "region_bytes": status.capacity,
        },
    }
    print(json.dumps(report, indent=2))
    return 0


def _models(args: argparse.Namespace) -> int:
    from .models import list_models, verify_models

    status = verify_models()
    for info in list_models():
        print(f"{info.name:<34} {info.bytes / 1e6:7.2f} MB  {info.licence:<10} "
              f"{info.source['package']} {info.source['version']}  {status[info.name]}")
    return 0 if all(v == "ok" for v in status.values()) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``facekit`` console script."""
    parser = argparse.ArgumentParser(prog="facekit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    info = commands.add_parser(
        "info", help="print the CPU features, the SIMD path in use and the arena's protections"
    )
    info.set_defaults(run=_info)
    listing = commands.add_parser(
        "models", help="list the shipped networks and check each file against its sha256"
    )
    listing.set_defaults(run=_models)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (ValueError, OSError) as exc:
        print(f"facekit {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
