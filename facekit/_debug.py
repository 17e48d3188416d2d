"""The one debug switch: FACEKIT_DEBUG_SKIP_WIPE=1 turns off every wipe (audit self-test only).

``facekit audit --debug-skip-wipe`` sets it in the audited child to prove that the memory scan
catches a missing wipe. With it set, each arena's frames end without zeroing and ONNX Runtime's
buffers are not scrubbed; facekit warns when an arena is created and ``SecureArena.status()``
reports ``wipe_disabled=True``. Never set it in an application.
"""

from __future__ import annotations

import os

ENV_SKIP_WIPE = "FACEKIT_DEBUG_SKIP_WIPE"


def skip_wipe() -> bool:
    """True when the debug switch is set in this process's environment."""
    return os.environ.get(ENV_SKIP_WIPE) == "1"
