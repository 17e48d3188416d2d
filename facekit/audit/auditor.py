"""``facekit audit``: prove the privacy promises on this machine, with the installed package.

Each check runs the real pipelines on the bundled public-domain sample photo and records its
method, its evidence (counts, flags, events; never a biometric value) and a verdict: ``pass``,
``fail`` or ``not run`` (a tool it needs is missing, such as strace). :func:`run_audit` returns
the whole report; :func:`write_reports` writes ``audit.json`` and ``audit.md``. The command
exits 1 when any check fails.

The debug switch ``--debug-skip-wipe`` runs the audited children with
``FACEKIT_DEBUG_SKIP_WIPE=1`` (no arena wipe, no ONNX Runtime scrub): the memory scans must
then fail, which shows that they can.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from .checks import FAIL, Check
from .checks.io import check_python_io, check_syscalls, check_whole_process
from .checks.memory import (
    check_memory_beauty,
    check_memory_centerface,
    check_memory_fusion,
    check_memory_image,
    check_memory_portrait,
    check_memory_threads,
    check_memory_unclosed,
    check_memory_verify,
    check_memory_video,
)
from .checks.process import check_arena_protections, check_hardening, check_models
from .checks.refusal import check_refusals
from .environment import environment, package_hashes
from .procfs import vm_flags  # noqa: F401 - importable here, as before the split
from .report import write_reports

__all__ = ["Check", "CHECKS", "run_audit", "write_reports"]


CHECKS: dict[str, Callable[[dict[str, str]], Check]] = {
    "model-integrity": check_models,
    "memory-scan-image": check_memory_image,
    "memory-scan-video": check_memory_video,
    "memory-scan-beauty": check_memory_beauty,
    "memory-scan-verify": check_memory_verify,
    "memory-scan-fusion": check_memory_fusion,
    "memory-scan-portrait": check_memory_portrait,
    "memory-scan-centerface": check_memory_centerface,
    "memory-scan-threads": check_memory_threads,
    "memory-scan-unclosed": check_memory_unclosed,
    "io-python": check_python_io,
    "io-syscalls": check_syscalls,
    "io-whole-process": check_whole_process,
    "arena-protections": check_arena_protections,
    "process-hardening": check_hardening,
    "refusal-matrix": check_refusals,
}



def run_audit(only: list[str] | None = None, debug_skip_wipe: bool = False,
              progress: Callable[[str], None] | None = None,
              strace_seconds: float | None = None) -> dict[str, Any]:
    """Run the checks (all, or those named in `only`); return the report as a dict.

    `strace_seconds` shortens (or lengthens) the whole-process trace (default 120 s)."""
    from facekit._debug import ENV_SKIP_WIPE

    names = list(CHECKS) if not only else only
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {unknown}; choose from {list(CHECKS)}")
    env = {ENV_SKIP_WIPE: "1"} if debug_skip_wipe else {}
    options = {"io-whole-process": {"seconds": strace_seconds}}
    checks = []
    for name in names:
        if progress:
            progress(name)
        start = time.perf_counter()
        try:
            check = CHECKS[name](env, **options.get(name, {}))
        except Exception as exc:  # noqa: BLE001 - a check that cannot run has failed
            check = Check(name, "", "", FAIL, detail=f"the check raised {type(exc).__name__}: "
                          f"{exc}")
        check.seconds = round(time.perf_counter() - start, 1)
        checks.append(check)
    failed = [c.name for c in checks if c.verdict == FAIL]
    return {
        "tool": "facekit audit",
        "time_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "debug_skip_wipe": debug_skip_wipe,
        "passed": not failed,
        "failed": failed,
        "environment": environment(),
        "package": package_hashes(),
        "checks": [asdict(c) for c in checks],
    }
