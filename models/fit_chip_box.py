"""Fit the mesh-to-dlib-box constants of the verification chip (``kBoxShift``, ``kBoxSide`` in
``native/include/facekit/verify.h``). Development only; needs the dev extra (dlib-bin) and the
shared test data beside the repository.

    python -m models.fit_chip_box [--shared ../shared]

dlib's 5-point shape predictor was trained on the boxes of dlib's HOG face detector, and its
points follow the box. facekit runs that detector near a box estimated from the mesh (and the
predictor in the estimate itself where the detector finds no face): centred at the mean of the two eye centres and the mouth centre plus a*u + b*v (u: left eye centre to right
eye centre, v: eye midpoint to mouth centre), with side p*|u| + q*|v|. This script pairs dlib's
boxes (``detector(image, 1)``, as face_recognition and the tests call it) with facekit's meshes
and solves a, b and p, q by least squares. The faces come from the shared video (every third
frame) and from the two photos that are not in the verification tests (alex_lacamoire_img1.jpg,
two_people.jpg), so the ten test photos stay out of the fit.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

TRAINING_PHOTOS = ("alex_lacamoire_img1.jpg", "two_people.jpg")


def frame_of(mesh: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre, u and v of a mesh (as verify.cpp computes them)."""
    eye_l, eye_r = (mesh[33] + mesh[133]) / 2, (mesh[263] + mesh[362]) / 2
    mouth = (mesh[61] + mesh[291]) / 2
    return (eye_l + eye_r + mouth) / 3, eye_r - eye_l, mouth - (eye_l + eye_r) / 2


def pairs(images, detector) -> list[tuple[np.ndarray, np.ndarray]]:
    """(dlib box as l, t, r, b; mesh) for every face both find, matched by centre."""
    import facekit

    found = []
    with facekit.FaceLandmarker(facekit.FaceLandmarkerOptions(max_faces=4)) as landmarker:
        for image in images:
            boxes = detector(image, 1)
            if not boxes:
                continue
            with landmarker.detect(image) as result:  # dev-only copies of public footage
                meshes = [np.array(f.landmarks)[:, :2].astype(np.float64) for f in result.faces]
            for box in boxes:
                b = np.array([box.left(), box.top(), box.right(), box.bottom()], float)
                centre = (b[:2] + b[2:]) / 2
                near = [m for m in meshes
                        if np.linalg.norm(m.mean(0) - centre) < 0.3 * (b[2] - b[0])]
                if near:
                    found.append((b, min(near, key=lambda m: np.linalg.norm(m.mean(0) - centre))))
    return found


def fit(found) -> tuple[np.ndarray, np.ndarray]:
    """(a, b), (p, q) by least squares."""
    shift_rows, shift_targets, side_rows, side_targets = [], [], [], []
    for box, mesh in found:
        centre, u, v = frame_of(mesh)
        target = (box[:2] + box[2:]) / 2 - centre
        shift_rows += [[u[0], v[0]], [u[1], v[1]]]
        shift_targets += list(target)
        side_rows.append([np.linalg.norm(u), np.linalg.norm(v)])
        side_targets.append(box[2] - box[0])
    shift = np.linalg.lstsq(np.array(shift_rows), np.array(shift_targets), rcond=None)[0]
    side = np.linalg.lstsq(np.array(side_rows), np.array(side_targets), rcond=None)[0]
    return shift, side


def main(argv: list[str] | None = None) -> int:
    import cv2
    import dlib

    import facekit

    parser = argparse.ArgumentParser(prog="python -m models.fit_chip_box", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared")
    args = parser.parse_args(argv)
    data = args.shared / "testdata"

    def images():
        capture = cv2.VideoCapture(str(data / "video" / "short_hamilton_clip.mp4"))
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % 3 == 0:
                yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            index += 1
        for name in TRAINING_PHOTOS:
            yield facekit.load_image(data / "faces" / name)

    found = pairs(images(), dlib.get_frontal_face_detector())
    shift, side = fit(found)
    print(f"{len(found)} faces")
    print(f"inline constexpr double kBoxShift[2] = {{{shift[0]:.8f}, {shift[1]:.8f}}};")
    print(f"inline constexpr double kBoxSide[2] = {{{side[0]:.8f}, {side[1]:.8f}}};")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
