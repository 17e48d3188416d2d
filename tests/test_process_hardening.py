"""facekit.harden_process(): no core dumps, not dumpable (checked in a child process, since
both settings are one-way)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

import pytest

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


THREAD_CACHE_CHILD = r"""
import ctypes, json, sys
from facekit import _native
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
wipe = sys.argv[1] == "wipe"
_native.process.set_free_perturb(0xA5)  # as during a perturbed network run
chunk = libc.malloc(512)
ctypes.memset(chunk, 0x5C, 512)
libc.free(chunk)  # kept by the thread cache, not perturbed
wiped = _native.process.wipe_thread_cache() if wipe else 0
_native.process.set_free_perturb(0)
body = ctypes.string_at(chunk + 16, 496)  # the freed chunk, past the cache's own two words
print(json.dumps({"pattern": body.count(0x5C), "zero": body.count(0), "wiped": wiped}))
"""


def _thread_cache(mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", THREAD_CACHE_CHILD, mode], capture_output=True,
                          text=True, timeout=60, cwd=tempfile.gettempdir())
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_thread_cache_wipe_clears_what_free_perturbation_misses():
    """glibc's per-thread cache keeps small freed chunks unperturbed (control: the pattern is
    still there); wipe_thread_cache() leaves them zero."""
    kept, wiped = _thread_cache("keep"), _thread_cache("wipe")
    assert kept["pattern"] == 496
    assert wiped["pattern"] == 0 and wiped["zero"] == 496
    assert wiped["wiped"] >= 64  # at least one chunk of each of the 64 cached sizes
