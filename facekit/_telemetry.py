"""ONNX Runtime's telemetry, switched off before onnxruntime loads (internal).

Official onnxruntime wheels carry Microsoft's 1DS telemetry client. Measured with onnxruntime
1.32: importing it writes a device id and an event database (model names, run counts, the
process path) under ``~/.cache/Microsoft/DeveloperTools/.onnxruntime``, and while frames are
processed its threads look up the collector's address (DNS queries for
``mobile.events.data.microsoft.com`` every 5 to 10 s).
``onnxruntime.disable_telemetry_events()`` stops neither. ``ORT_DISABLE_TELEMETRY=1`` in the
environment when onnxruntime is first imported stops both: no file, no socket. facekit promises no file and no socket, so it sets the variable
to 1 when it is imported, whatever value the app gave it; onnxruntime reads it only once, so an
onnxruntime imported earlier without it cannot be fixed, only reported
(:class:`facekit.errors.TelemetryWarning`, :func:`telemetry_status`).
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

from .errors import TelemetryWarning

SWITCH = "ORT_DISABLE_TELEMETRY"
# onnxruntime also stays silent when it believes it runs in a CI build: any of these variables
# set to a non-empty value (measured with 1.32). A user's machine has none of them, so the
# audit's children run without them; otherwise a check run in CI could not see telemetry at all.
CI_MARKERS = ("CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "TRAVIS", "JENKINS_URL",
              "CODEBUILD_BUILD_ID", "BUILDKITE", "TEAMCITY_VERSION", "APPVEYOR",
              "BITBUCKET_BUILD_NUMBER", "ORT_RUNNING_UNIT_TESTS")
_status: dict[str, Any] = {}


def switch_off() -> None:
    """Set the switch for the onnxruntime facekit will import; warn if one was imported before
    facekit without it (run once, first thing when facekit is imported)."""
    imported_first = "onnxruntime" in sys.modules
    value = os.environ.get(SWITCH)
    _status.update({
        "switch": SWITCH,
        "value_before_facekit": value,
        "onnxruntime_imported_before_facekit": imported_first,
        "telemetry_disabled": not imported_first or value == "1",
    })
    os.environ[SWITCH] = "1"
    if not _status["telemetry_disabled"]:
        warnings.warn(
            f"onnxruntime was imported before facekit with {SWITCH}={value or '(unset)'}: its "
            "telemetry (an event database under ~/.cache/Microsoft, DNS lookups of Microsoft's "
            f"event collector) may be on in this process, and facekit cannot turn it off now. "
            f"Set {SWITCH}=1 in the environment before importing onnxruntime, or import facekit "
            "first.", TelemetryWarning, stacklevel=3)


def telemetry_status() -> dict[str, Any]:
    """Whether ONNX Runtime's telemetry is off in this process, as facekit found it on import.

    Keys: ``switch`` (the variable's name, ``ORT_DISABLE_TELEMETRY``), ``value_before_facekit``
    (its value when facekit was imported, None if unset; facekit then set it to ``"1"``),
    ``onnxruntime_imported_before_facekit`` and ``telemetry_disabled`` (True unless onnxruntime
    was imported before facekit without the switch at 1; then a TelemetryWarning was issued).
    """
    return dict(_status)


def user_environment(environ: dict[str, str]) -> dict[str, str]:
    """`environ` as on a user's machine for onnxruntime: without the switch and without the CI
    markers that silence its telemetry (for audit children that must see what facekit alone
    does)."""
    return {k: v for k, v in environ.items() if k != SWITCH and k not in CI_MARKERS}
