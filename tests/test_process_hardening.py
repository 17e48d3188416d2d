"""facekit.harden_process(): no core dumps, not dumpable (checked in a child process, since
both settings are one-way)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

CHILD = """
import ctypes, json, resource
import facekit
before = {"core": resource.getrlimit(resource.RLIMIT_CORE),
          "dumpable": ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)}  # PR_GET_DUMPABLE
report = facekit.harden_process()
after = {"core": resource.getrlimit(resource.RLIMIT_CORE),
         "dumpable": ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)}
print(json.dumps({"report": report, "before": before, "after": after}))
"""


def test_harden_process_turns_off_core_dumps_and_dumpability():
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                            timeout=120, cwd=tempfile.gettempdir())
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert state["before"]["dumpable"] == 1  # the check can see the change
    assert state["report"] == {"core_dumps_off": True, "not_dumpable": True}
    assert state["after"]["core"] == [0, 0]
    assert state["after"]["dumpable"] == 0
