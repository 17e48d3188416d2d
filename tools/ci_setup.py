"""What .ci/run reads from the project's own files, so that CI cannot drift from them.

    python tools/ci_setup.py readme-commands    # README's set-up commands, one per line
    python tools/ci_setup.py dev-requirements   # the dev extra's requirements, facekit's own
                                                # extras expanded and facekit itself left out

The first runs the commands exactly as a reader would; the second installs the oracles and
tools next to an installed facekit without building facekit again.
"""

from __future__ import annotations

import re
import sys
import tomllib  # Python 3.11+: CI's interpreter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_commands(text: str) -> list[str]:
    """The lines of the first ```bash block under "## Set up and run", comments dropped."""
    _, found, section = text.partition("## Set up and run")
    if not found or "```bash" not in section:
        raise ValueError("README.md has no ```bash block under '## Set up and run'")
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    commands = [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()]
    return [c for c in commands if c]


def dev_requirements(pyproject: dict) -> list[str]:
    """The dev extra's requirements with `facekit[a,b]` replaced by those extras' requirements."""
    extras = pyproject["project"]["optional-dependencies"]
    name = pyproject["project"]["name"]

    def expand(extra: str) -> list[str]:
        out = []
        for requirement in extras[extra]:
            own = re.fullmatch(rf"{re.escape(name)}\[([^\]]+)\]", requirement.replace(" ", ""))
            out += ([r for e in own.group(1).split(",") for r in expand(e)] if own
                    else [requirement])
        return out

    return list(dict.fromkeys(expand("dev")))


def main(argv: list[str]) -> int:
    if argv == ["readme-commands"]:
        lines = readme_commands((REPO / "README.md").read_text(encoding="utf-8"))
    elif argv == ["dev-requirements"]:
        lines = dev_requirements(tomllib.loads((REPO / "pyproject.toml").read_text("utf-8")))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
