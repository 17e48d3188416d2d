"""The audit's reports: ``audit.json`` (everything) and ``audit.md`` (the same, readable)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["write_reports"]


def _markdown(report: dict[str, Any]) -> str:
    env = report["environment"]
    lines = ["# facekit privacy audit", "",
             f"**Result: {'PASSED' if report['passed'] else 'FAILED'}** "
             f"({report['time_utc']})" + (" — run with the skip-wipe debug switch"
                                           if report["debug_skip_wipe"] else ""), "",
             "## Environment", "", "| | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in env.items()]
    lines += [f"| package sha256 | `{report['package']['package_sha256']}` "
              f"({len(report['package']['files'])} files; each in audit.json) |", "",
              "## Checks", "", "| check | verdict | detail | seconds |",
              "| --- | --- | --- | ---: |"]
    lines += [f"| {c['name']} | **{c['verdict']}** | {c['detail']} | {c['seconds']} |"
              for c in report["checks"]]
    for c in report["checks"]:
        lines += ["", f"### {c['name']}: {c['verdict']}", "", f"Promise: {c['promise']}.", "",
                  f"Method: {c['method']}", "", "Evidence:", "", "```json",
                  json.dumps(c["evidence"], indent=1, sort_keys=True)[:20000], "```"]
    return "\n".join(lines) + "\n"


def write_reports(report: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """Write ``audit.json`` and ``audit.md`` into `folder`; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    as_json, as_markdown = folder / "audit.json", folder / "audit.md"
    as_json.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    as_markdown.write_text(_markdown(report))
    return as_json, as_markdown
