"""The OpenCV baselines of the effects: what an app engineer writes today with OpenCV and numpy,
given a face's landmarks in pixels (478 or 468 x [x, y, z], MediaPipe's topology).

Needs only cv2 and numpy, so that both facekit's benchmarks (test_beauty.py) and the MediaPipe
loop of test_video.py (video_baseline.py, run in the MediaPipe venv) use the same code.
Images are RGB uint8 HxWx3.
"""

from __future__ import annotations

import cv2
import numpy as np


def beauty_natural(image: np.ndarray, landmarks: np.ndarray,
                   regions: dict[str, list[int]]) -> np.ndarray:
    """The natural preset on one face: ``cv2.fillPoly`` masks feathered with
    ``cv2.GaussianBlur``, ``cv2.bilateralFilter`` on the face ROI, ``cv2.LUT`` whitening, numpy
    float blends, a lipstick blend, and a numpy displacement field for the slimming and eye
    warps sampled with ``cv2.remap``. `regions`: the mesh indices of facekit's beauty regions
    (facekit.beauty._REGION_ORDER / _regions). Returns a new image."""
    pts = landmarks[:, :2].astype(np.float32)
    out = image.copy()
    x0, y0 = np.floor(pts.min(0) - 40).astype(int).clip(0)
    x1, y1 = np.ceil(pts.max(0) + 40).astype(int)
    roi = out[y0:y1, x0:x1]
    if roi.shape[0] < 2 or roi.shape[1] < 2:  # the face is outside the frame
        return out
    local = pts - (x0, y0)
    face_w = float(np.ptp(local[regions["face_oval"], 0]))
    mask = np.zeros(roi.shape[:2], np.uint8)
    cv2.fillPoly(mask, [local[regions["face_oval"]].astype(np.int32)], 255)
    for name in ("left_eye", "right_eye", "left_brow", "right_brow", "lips_outer", "nostrils"):
        cv2.fillPoly(mask, [local[regions[name]].astype(np.int32)], 0)
    k = int(face_w * 0.05) | 1
    skin = cv2.GaussianBlur(mask, (k, k), 0).astype(np.float32)[..., None] / 255.0
    smooth = cv2.bilateralFilter(roi, 9, 40, 7)
    blended = roi * (1 - 0.5 * 0.85 * skin) + smooth * (0.5 * 0.85 * skin)
    table = np.clip(np.arange(256) + 0.6 * np.arange(256) * (255 - np.arange(256)) / 255,
                    0, 255).astype(np.uint8)
    white = cv2.LUT(blended.astype(np.uint8), table).astype(np.float32)
    blended = blended * (1 - 0.25 * skin) + white * (0.25 * skin)
    lips = np.zeros(roi.shape[:2], np.uint8)
    cv2.fillPoly(lips, [local[regions["lips_outer"]].astype(np.int32)], 255)
    cv2.fillPoly(lips, [local[regions["lips_inner"]].astype(np.int32)], 0)
    lips = cv2.GaussianBlur(lips, (5, 5), 0).astype(np.float32)[..., None] / 255.0
    colour = np.array([176, 38, 62], np.float32)
    luma = blended @ np.array([0.299, 0.587, 0.114], np.float32)
    tint = np.clip(colour + (luma[..., None] - colour @ [0.299, 0.587, 0.114]), 0, 255)
    blended = blended * (1 - 0.3 * lips) + tint * (0.3 * lips)
    # Warp: slim the jaw and enlarge the eyes with smooth local displacements.
    ys, xs = np.mgrid[0:roi.shape[0], 0:roi.shape[1]].astype(np.float32)
    map_x, map_y = xs.copy(), ys.copy()
    nose = local[4]
    for index in (132, 58, 172, 136, 361, 288, 397, 365):
        c = local[index]
        shift = (nose - c) / np.linalg.norm(nose - c) * 0.035 * face_w * 0.3
        u = ((xs - c[0]) ** 2 + (ys - c[1]) ** 2) / (0.28 * face_w) ** 2
        fall = np.where(u < 1, (1 - u) ** 2, 0)
        map_x -= shift[0] * fall
        map_y -= shift[1] * fall
    for eye in ("left_eye", "right_eye"):
        c = local[regions[eye]].mean(0)
        radius = 1.5 * np.ptp(local[regions[eye], 0])
        u = ((xs - c[0]) ** 2 + (ys - c[1]) ** 2) / radius ** 2
        fall = np.where(u < 1, (1 - u) ** 2, 0) * 0.22 * 0.25
        map_x -= (xs - c[0]) * fall
        map_y -= (ys - c[1]) * fall
    roi[:] = cv2.remap(blended.astype(np.uint8), map_x, map_y, cv2.INTER_LINEAR)
    return out


def pixelate(image: np.ndarray, landmarks: np.ndarray, padding: float = 0.25) -> None:
    """Pixelate one face in place, as facekit's "pixelate" does: the landmarks' box grown by
    `padding` of its size on each side, in cells of about a tenth of the face (a downscale with
    ``cv2.INTER_AREA`` and an upscale with ``cv2.INTER_NEAREST``)."""
    pts = landmarks[:, :2]
    (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
    pad_x, pad_y = (x1 - x0) * padding, (y1 - y0) * padding
    height, width = image.shape[:2]
    left, top = max(0, int(x0 - pad_x)), max(0, int(y0 - pad_y))
    right, bottom = min(width, int(np.ceil(x1 + pad_x))), min(height, int(np.ceil(y1 + pad_y)))
    if right - left < 2 or bottom - top < 2:
        return
    roi = image[top:bottom, left:right]
    cell = max(1, round(max(x1 - x0, y1 - y0) / 10))
    small = cv2.resize(roi, (max(1, roi.shape[1] // cell), max(1, roi.shape[0] // cell)),
                       interpolation=cv2.INTER_AREA)
    roi[:] = cv2.resize(small, (roi.shape[1], roi.shape[0]), interpolation=cv2.INTER_NEAREST)


def draw_mesh(image: np.ndarray, landmarks: np.ndarray, radius: int) -> None:
    """The mesh points in green and the iris points (after the first 468) in red, in place,
    with ``cv2.circle`` (facekit draws the same natively)."""
    for index, (x, y) in enumerate(landmarks[:, :2].astype(np.int32)):
        iris = index >= 468
        cv2.circle(image, (int(x), int(y)), radius + iris, (250, 60, 60) if iris else
                   (40, 220, 90), -1)
