"""x86_64 against aarch64: the same photos through both builds, the answers compared.

    python tests/arch_compare.py compare OTHER_PYTHON   # this interpreter's facekit vs OTHER's

`tools/arm64_env.py ci` runs it with the host's Python against the emulated aarch64 one. Each
side runs `dump` in its own process on the shared photos and the committed portrait: faces
found (short- and full-range detectors), their boxes, the 478 points, and the verifier's
distance on a same-person and a different-person pair; the JSON crosses a pipe to this process
(public test photos only, as with the MediaPipe oracle) and is compared here. ONNX Runtime's ARM
kernels differ from its x86 ones, so the networks' outputs are held to tolerances, not equality:
the same faces everywhere, box IoU >= 0.95, landmarks within 0.5% of the inter-ocular distance
(mean) and iris centres within 1% (half the MediaPipe parity tolerances), the same verify
decisions with distances within 0.01. (facekit's own kernels are bit-identical across ISAs:
the native tests check their checksums on both.)
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_FACES = REPO.parent / "shared" / "testdata" / "faces"
PAIRS = {"same": ("obama.jpg", "obama2.jpg"), "different": ("obama.jpg", "biden.jpg")}
TOLERANCE = {"box_iou": 0.95, "landmarks": 0.005, "iris": 0.01, "distance": 0.01}


def photos() -> list[Path]:
    shared = sorted(p for p in SHARED_FACES.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return [REPO / "tests" / "data" / "obama.jpg", *shared]


def dump() -> dict:
    import numpy as np

    import facekit
    from facekit import (
        FaceDetector,
        FaceDetectorOptions,
        FaceLandmarker,
        FaceLandmarkerOptions,
        FaceVerifier,
    )

    out: dict = {"arch": platform.machine(), "photos": {}, "verify": {}}
    detectors = {m: FaceDetector(FaceDetectorOptions(model=m, max_faces=10))
                 for m in ("short_range", "full_range")}
    with FaceLandmarker(FaceLandmarkerOptions(max_faces=2, iris=True)) as landmarker:
        for path in photos():
            image, entry = facekit.load_image(path), {}
            for model, detector in detectors.items():
                with detector.detect(image) as result:
                    entry[model] = [[f.box.x, f.box.y, f.box.width, f.box.height]
                                    for f in result.faces]
            with landmarker.detect(image) as result:
                entry["landmarks"] = [np.array(f.landmarks, np.float64).tolist()
                                      for f in result.faces]
            out["photos"][f"{path.parent.name}/{path.name}"] = entry
    for detector in detectors.values():
        detector.close()
    with FaceVerifier() as verifier:
        for name, (a, b) in PAIRS.items():
            result = verifier.verify(facekit.load_image(SHARED_FACES / a),
                                     facekit.load_image(SHARED_FACES / b))
            out["verify"][name] = {"same_person": bool(result.same_person),
                                   "distance": float(result.distance)}
    return out


def iou(a, b) -> float:
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def compare(mine: dict, other: dict) -> tuple[list[str], dict[str, float]]:
    """(problems, worst figures) of two dumps; no problem when they agree within TOLERANCE."""
    import numpy as np

    problems: list[str] = []
    worst = {"box_iou": 1.0, "landmarks": 0.0, "iris": 0.0, "distance": 0.0}
    if mine["photos"].keys() != other["photos"].keys():
        return ["the two sides saw different photos"], worst
    for photo, a in mine["photos"].items():
        b = other["photos"][photo]
        for model in ("short_range", "full_range"):
            if len(a[model]) != len(b[model]):
                problems.append(f"{photo} {model}: {len(a[model])} faces vs {len(b[model])}")
                continue
            for box in a[model]:
                best = max(iou(box, theirs) for theirs in b[model])
                worst["box_iou"] = min(worst["box_iou"], best)
                if best < TOLERANCE["box_iou"]:
                    problems.append(f"{photo} {model}: box IoU {best:.3f}")
        if len(a["landmarks"]) != len(b["landmarks"]):
            problems.append(f"{photo}: {len(a['landmarks'])} meshes vs {len(b['landmarks'])}")
            continue
        for ours in map(np.asarray, a["landmarks"]):
            # The other side's face whose nose tip (point 1) is nearest.
            ref = min(map(np.asarray, b["landmarks"]), key=lambda t: np.abs(t[1] - ours[1]).sum())
            inter_ocular = np.linalg.norm(ref[33, :2] - ref[263, :2])
            mesh = np.linalg.norm(ours[:468, :2] - ref[:468, :2], axis=1).mean() / inter_ocular
            iris = max(np.linalg.norm(ours[c, :2] - ref[c, :2]) for c in (468, 473)) / inter_ocular
            worst["landmarks"] = max(worst["landmarks"], float(mesh))
            worst["iris"] = max(worst["iris"], float(iris))
            if mesh > TOLERANCE["landmarks"] or iris > TOLERANCE["iris"]:
                problems.append(f"{photo}: mesh {100 * mesh:.2f}%, iris {100 * iris:.2f}% of "
                                "the inter-ocular distance")
    for pair, a in mine["verify"].items():
        b = other["verify"][pair]
        gap = abs(a["distance"] - b["distance"])
        worst["distance"] = max(worst["distance"], gap)
        if a["same_person"] != b["same_person"] or gap > TOLERANCE["distance"]:
            problems.append(f"verify {pair}: decisions {a['same_person']} / {b['same_person']}, "
                            f"distances differ by {gap:.4f}")
    return problems, worst


def _run_dump(command: list[str]) -> dict:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"{command[0]} dump failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def main() -> None:
    if sys.argv[1:] == ["dump"]:
        json.dump(dump(), sys.stdout)
        return
    if len(sys.argv) != 3 or sys.argv[1] != "compare":
        sys.exit(__doc__.split("\n\n")[1])
    # -P: the checkout's facekit/ (no native core) stays off sys.path on both sides.
    command = ["-P", str(Path(__file__).resolve()), "dump"]
    mine, other = (_run_dump([python, *command]) for python in (sys.executable, sys.argv[2]))
    problems, worst = compare(mine, other)
    faces = sum(len(p["landmarks"]) for p in mine["photos"].values())
    print(f"{mine['arch']} vs {other['arch']}: {len(mine['photos'])} photos, {faces} meshes; "
          f"worst box IoU {worst['box_iou']:.6f}, mean mesh gap {100 * worst['landmarks']:.2e}% "
          f"and iris gap {100 * worst['iris']:.2e}% of the inter-ocular distance, verify "
          f"distances within {worst['distance']:.2e}")
    if problems:
        sys.exit("the two architectures disagree:\n  " + "\n  ".join(problems))


if __name__ == "__main__":
    main()
