"""The checks of ``facekit audit``, grouped by kind: memory scans (:mod:`.memory`), I/O
(:mod:`.io`), process and arena protections and model integrity (:mod:`.process`), and the
refusal matrix (:mod:`.refusal`). Each check is a function of the audited children's extra
environment that returns a :class:`Check`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Check", "PASS", "FAIL", "NOT_RUN"]

PASS, FAIL, NOT_RUN = "pass", "fail", "not run"


@dataclass
class Check:
    """One check's outcome."""

    name: str
    promise: str
    method: str
    verdict: str = NOT_RUN
    evidence: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    seconds: float = 0.0
