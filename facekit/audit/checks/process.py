"""The arena's kernel protections, process hardening and model integrity."""

from __future__ import annotations

import json
import os
import sys
import tempfile

from ..procfs import vm_flags
from . import FAIL, PASS, Check


def check_arena_protections(env: dict[str, str]) -> Check:
    import numpy as np

    import facekit
    from facekit.geometry import RotatedRect

    from ..memscan_child import SAMPLE

    check = Check(
        "arena-protections", "the arena stays out of swap, core dumps and forked children",
        "Open an arena frame holding a face crop of the sample photo; read the region's "
        "/proc/self/smaps VmFlags (lo: locked, dd: no dump, wf: wipe on fork); fork, and count "
        "non-zero bytes of the crop in the child. Pass: dd and wf set, lo set exactly when "
        "mlock succeeded, and the child reads only zeros while the parent still reads the crop.")
    image = facekit.load_image(SAMPLE)
    height, width = image.shape[:2]
    with facekit.SecureArena() as arena, arena.frame() as frame:
        crop = frame.crop_normalize(image, RotatedRect(width / 2, height / 2, width / 2,
                                                       height / 2, 0.0), 64)
        region = arena.regions()[0]
        flags = vm_flags(int(region["start"]))
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: MADV_WIPEONFORK gave it zeroed pages
            os.write(write, str(int(np.count_nonzero(np.asarray(crop)))).encode())
            os._exit(0)
        os.close(write)
        child_nonzero = int(os.read(read, 64) or b"-1")
        os.close(read)
        os.waitpid(pid, 0)
        parent_nonzero = int(np.count_nonzero(np.asarray(crop)))
    locked = bool(region["locked"])
    check.evidence = {"vm_flags": flags, "mlock_took": locked,
                      "child_nonzero_bytes": child_nonzero, "parent_nonzero_values":
                      parent_nonzero}
    ok = ("dd" in flags and "wf" in flags and ("lo" in flags) == locked and child_nonzero == 0
          and parent_nonzero > 0)
    check.verdict = PASS if ok else FAIL
    check.detail = (f"VmFlags {' '.join(flags)}; forked child read {child_nonzero} non-zero "
                    f"values, the parent {parent_nonzero}"
                    + ("" if locked else "; mlock refused (RLIMIT_MEMLOCK): pages may be swapped"))
    return check


_HARDEN_CHILD = """
import ctypes, json, resource
import facekit
dumpable = lambda: ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)  # PR_GET_DUMPABLE
before = {"core": resource.getrlimit(resource.RLIMIT_CORE), "dumpable": dumpable()}
report = facekit.harden_process()
after = {"core": resource.getrlimit(resource.RLIMIT_CORE), "dumpable": dumpable()}
print(json.dumps({"report": report, "before": before, "after": after}))
"""


def check_hardening(env: dict[str, str]) -> Check:
    import subprocess

    check = Check(
        "process-hardening", "an app can turn off core dumps and debugger access",
        "A child calls facekit.harden_process(); it reads RLIMIT_CORE and PR_GET_DUMPABLE "
        "before and after. Pass: core limit (0, 0) and not dumpable afterwards.")
    done = subprocess.run([sys.executable, "-c", _HARDEN_CHILD], capture_output=True,
                          text=True, timeout=120, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        check.verdict, check.detail = FAIL, done.stderr.strip()[-300:]
        return check
    state = json.loads(done.stdout)
    check.evidence = state
    ok = state["after"]["core"] == [0, 0] and state["after"]["dumpable"] == 0
    check.verdict = PASS if ok else FAIL
    check.detail = (f"RLIMIT_CORE {state['before']['core']} -> {state['after']['core']}, "
                    f"dumpable {state['before']['dumpable']} -> {state['after']['dumpable']}")
    return check


def check_models(env: dict[str, str]) -> Check:
    from facekit.models import list_models, verify_models

    check = Check(
        "model-integrity", "only vetted networks run",
        "Re-hash every installed model file and compare with the sha256 in the shipped "
        "manifest (the loader does the same before every session). Pass: all match.")
    report = verify_models()
    check.evidence = {"models": {m.name: {"sha256": m.sha256, "bytes": m.bytes,
                                          "result": report[m.name]} for m in list_models()}}
    failed = [name for name, result in report.items() if result != "ok"]
    check.verdict = PASS if not failed else FAIL
    check.detail = f"{len(report)} models, {len(failed)} mismatched" + (
        f": {', '.join(failed)}" if failed else "")
    return check
