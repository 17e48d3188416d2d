"""Landmarks found once for every effect: beautify and anonymize one 1080p frame either with
one shared FaceLandmarker run (``faces=result``), or separately, each effect finding the faces
itself (the Beautifier's landmarker; the Anonymizer's two search detectors). 1 thread, timed
interleaved; the ratio is separate p50 / shared p50."""

from __future__ import annotations

from facekit import Anonymizer, Beautifier, FaceLandmarker
from facekit.beauty import PRESETS


def test_shared_landmarks_1080p(compare, frame_1080p):
    beautifier = Beautifier(PRESETS["natural"])
    anonymizer = Anonymizer("pixelate")
    landmarker = FaceLandmarker(Beautifier.landmarker_options())

    def separate():
        beautifier.apply(frame_1080p)
        anonymizer.apply(frame_1080p)

    def shared():
        with landmarker.detect(frame_1080p) as faces:
            beautifier.apply(frame_1080p, faces=faces)
            anonymizer.apply(frame_1080p, faces=faces)

    report = compare("beautify + anonymize 1080p",
                     {"baseline separate": separate, "shared landmarks": shared}, rounds=30)
    ratio = report["shared landmarks"]["speedup"]["baseline separate"]
    print(f"\nbeautify + anonymize 1080p: separate / shared p50 = {ratio:.2f}")
    assert ratio > 0
    for pipeline in (beautifier, anonymizer, landmarker):
        pipeline.close()
