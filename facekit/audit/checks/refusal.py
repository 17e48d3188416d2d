"""The refusal matrix: no standard channel exports a biometric value."""

from __future__ import annotations

import tempfile
from pathlib import Path

from . import FAIL, PASS, Check


def check_refusals(env: dict[str, str]) -> Check:
    import numpy as np

    import facekit
    from facekit.errors import BiometricExportError

    from ..channels import (
        ARRAY_OBJECTS,
        ARRAY_ONLY,
        DOCUMENTED_OPEN,
        REFUSED,
        ephemeral_objects,
        marshal_refused,
        printed_forms,
        text_channels,
    )
    from ..memscan_child import SAMPLE

    check = Check(
        "refusal-matrix", "no standard channel exports a biometric value",
        "Every ephemeral object (landmarker result, face, landmarks, one landmark row, detector "
        "result, detected face, keypoints, arena frame, verifier reference, fusion user "
        "scope, portrait result with its matte and cut-out) goes through "
        "pickle (all protocols), copy, deepcopy, json (also with a numpy-aware encoder) and "
        "marshal; the arrays also through np.save/savez/savez_compressed/savetxt, tofile, "
        "tobytes, tolist, dump, dumps and the buffer protocol (bytes, bytearray, memoryview, "
        "hashlib, sqlite3, stream write, PIL); repr, str, f-strings, logging and np.testing "
        "messages are searched for printed coordinates. Pass: each is refused (and writes no "
        "file) or shows no values. Open channels, by design: " + "; ".join(DOCUMENTED_OPEN) + ".")
    image = facekit.load_image(SAMPLE)
    outcomes: dict[str, dict[str, str]] = {}
    with ephemeral_objects(image) as objects, tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        printed = printed_forms(np.array(objects["landmarks"]))  # auditor's own copy
        for name, obj in objects.items():
            row = outcomes[name] = {}
            channels = dict(REFUSED)
            if name in ARRAY_OBJECTS:
                channels.update(ARRAY_ONLY)
            for channel, export in channels.items():
                try:
                    export(obj, scratch)
                    row[channel] = "EXPORTED"
                except BiometricExportError:
                    row[channel] = "refused"
                except Exception as exc:  # noqa: BLE001 - any other outcome is a failure
                    row[channel] = f"error {type(exc).__name__}"
                if any(scratch.iterdir()):
                    row[channel] += " (WROTE A FILE)"
                    for leftover in scratch.iterdir():
                        leftover.unlink()
            row["marshal"] = "refused" if marshal_refused(obj) else "EXPORTED"
            for channel, text in text_channels(obj).items():
                row[channel] = ("SHOWS VALUES" if any(p in text for p in printed)
                                else "no values")
    bad = {f"{o}/{c}": v for o, row in outcomes.items() for c, v in row.items()
           if v not in ("refused", "no values")}
    check.evidence = {"outcomes": outcomes, "failures": bad}
    check.verdict = PASS if not bad else FAIL
    check.detail = (f"{sum(len(r) for r in outcomes.values())} object x channel cases, "
                    f"{len(bad)} failures")
    return check
