"""False faces and recall of FaceLandmarker with ``reject_false_faces`` off (today's, and
MediaPipe's, behaviour) and on, and what the check costs.

    python benchmarks/false_faces.py [--repeats 30]

Recall: the shared photos and every frame of the shared clip (IMAGE mode: the detector, and
so the check, runs on every frame), then the clip in VIDEO mode. False faces: the drawn
face-free set of tests/false_faces_set.py and background crops of the shared photos, at the
default detection threshold and at 0.3. Cost: p50 over `repeats` alternated runs per image.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import facekit
from facekit import FaceLandmarker, FaceLandmarkerOptions, RunningMode

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "testdata"
sys.path.insert(0, str(REPO / "tests"))
from false_faces_set import background_crops, drawn  # noqa: E402


def rois(landmarker: FaceLandmarker, image: np.ndarray) -> list[tuple[float, float, float]]:
    with landmarker.detect(image) as result:
        return [(f.roi.center_x, f.roi.center_y, f.roi.width) for f in result.faces]


def pair(**options) -> tuple[FaceLandmarker, FaceLandmarker]:
    return (FaceLandmarker(FaceLandmarkerOptions(reject_false_faces=False, **options)),
            FaceLandmarker(FaceLandmarkerOptions(reject_false_faces=True, **options)))


def clip_frames() -> list[np.ndarray]:
    import av

    with av.open(str(SHARED / "video" / "short_hamilton_clip.mp4")) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def p50_ratio(off: FaceLandmarker, on: FaceLandmarker, image: np.ndarray,
              repeats: int) -> tuple[float, float]:
    """p50 ms of one detect() with the check off and on, in alternated rounds."""
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(repeats):
        for checked, landmarker in ((False, off), (True, on)):
            start = time.perf_counter()
            rois(landmarker, image)
            times[checked].append(time.perf_counter() - start)
    return 1000 * statistics.median(times[False]), 1000 * statistics.median(times[True])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    photos = {p.name: facekit.load_image(p) for p in sorted((SHARED / "faces").iterdir())}
    frames = clip_frames()

    print("## Recall (faces found; IMAGE mode)")
    off, on = pair(max_faces=4)
    lost = 0
    for name, photo in photos.items():
        before, after = rois(off, photo), rois(on, photo)
        lost += len(before) - len(after)
        print(f"{name:28s} before {len(before)}  after {len(after)}")
    clip_before = [len(rois(off, f)) for f in frames]
    clip_after = [len(rois(on, f)) for f in frames]
    print(f"clip, {len(frames)} frames: faces before {sum(clip_before)}, after {sum(clip_after)}"
          f"; frames with a face before {sum(map(bool, clip_before))}, after "
          f"{sum(map(bool, clip_after))}")

    print("\n## Recall (clip, VIDEO mode: frames with a face, detector runs)")
    for reject in (False, True):
        with FaceLandmarker(FaceLandmarkerOptions(running_mode=RunningMode.VIDEO,
                                                  reject_false_faces=reject)) as video:
            with_face = runs = 0
            for index, frame in enumerate(frames):
                with video.detect_for_video(frame, 33 * index) as result:
                    with_face += bool(result.faces)
                    runs += result.detector_ran
        print(f"reject_false_faces={reject}: {with_face} frames with a face, detector on {runs}")

    print("\n## False faces on face-free images (faces per image)")
    images = drawn()
    crops = [c for name, photo in photos.items() for c in background_crops(photo, rois(off, photo))]
    for threshold in (None, 0.3):
        off, on = pair(max_faces=4, min_detection_confidence=threshold)
        for label, group in (("drawn", list(images.values())), ("background crops", crops)):
            before = [len(rois(off, i)) for i in group]
            after = [len(rois(on, i)) for i in group]
            print(f"threshold {threshold or 'default'}, {label} ({len(group)} images): "
                  f"before {sum(before)} ({sum(before) / len(group):.4f}/image), after "
                  f"{sum(after)} ({sum(after) / len(group):.4f}/image)")
        names = [n for n, i in images.items() if rois(off, i)]
        print("  drawn images with a false face before:", ", ".join(names))
        print("  ... and after:", ", ".join(n for n in names if rois(on, images[n])))

    print(f"\n## Cost (p50 of {args.repeats} runs per image, ms; ratio on/off)")
    off, on = pair(max_faces=4)
    cases = {name: photos[name][..., :3].copy() for name in
             ("obama.jpg", "two_people.jpg", "obama-720p.jpg", "obama-1080p.jpg")}
    cases["no face (texture0.1)"] = images["texture0.1"]
    cases["emblem2 (checked, rejected)"] = images["emblem2"]
    cases["schematic1 (checked, kept)"] = images["schematic1"]
    for name, image in cases.items():
        t_off, t_on = p50_ratio(off, on, image, args.repeats)
        print(f"{name:28s} off {t_off:6.2f}  on {t_on:6.2f}  ratio {t_on / t_off:.2f}")
    for reject in (False, True):
        per_frame = []
        for _ in range(3):
            with FaceLandmarker(FaceLandmarkerOptions(running_mode=RunningMode.VIDEO,
                                                      reject_false_faces=reject)) as video:
                for index, frame in enumerate(frames):
                    start = time.perf_counter()
                    with video.detect_for_video(frame, 33 * index):
                        pass
                    per_frame.append(time.perf_counter() - start)
        print(f"clip VIDEO mode, reject_false_faces={reject}: per frame p50 "
              f"{1000 * statistics.median(per_frame):.2f} ms, mean "
              f"{1000 * statistics.fmean(per_frame):.2f} ms")


if __name__ == "__main__":
    main()
