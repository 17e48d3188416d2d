"""One task API for all seven pipelines: frozen, validated Options dataclasses, a
create_from_options constructor, running_mode in the options, and the detector's VIDEO mode."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import facekit
from facekit import (
    Anonymizer,
    AnonymizerOptions,
    Beautifier,
    BeautifierOptions,
    BeautyOptions,
    FaceDetector,
    FaceDetectorOptions,
    FaceFuser,
    FaceLandmarker,
    FaceLandmarkerOptions,
    FaceVerifier,
    FaceVerifierOptions,
    FusionOptions,
    Portrait,
    PortraitOptions,
    RunningMode,
)

TASKS = {
    "detector": (FaceDetector, FaceDetectorOptions),
    "landmarker": (FaceLandmarker, FaceLandmarkerOptions),
    "beautifier": (Beautifier, BeautifierOptions),
    "verifier": (FaceVerifier, FaceVerifierOptions),
    "anonymizer": (Anonymizer, AnonymizerOptions),
    "fuser": (FaceFuser, FusionOptions),
    "portrait": (Portrait, PortraitOptions),
}
# Fields a task cannot be created without (a fuser needs the consent attestation).
REQUIRED = {FusionOptions: {"consent": "test suite"}}

# One bad value per field of every options class: (class, field, value, error). A field added
# without a case here fails test_every_field_has_a_validation_case.
BAD = [
    (FaceDetectorOptions, "running_mode", "video", ValueError),
    (FaceDetectorOptions, "model", "tiny", ValueError),
    (FaceDetectorOptions, "min_detection_confidence", 5, ValueError),
    (FaceDetectorOptions, "max_faces", 0, ValueError),
    (FaceDetectorOptions, "color_format", "yuv", ValueError),
    (FaceDetectorOptions, "intra_op_threads", 1.5, TypeError),
    (FaceLandmarkerOptions, "running_mode", 1, ValueError),
    (FaceLandmarkerOptions, "max_faces", "2", TypeError),
    (FaceLandmarkerOptions, "detector_model", "tiny", ValueError),
    (FaceLandmarkerOptions, "min_detection_confidence", math.nan, ValueError),
    (FaceLandmarkerOptions, "min_presence_confidence", -0.1, ValueError),
    (FaceLandmarkerOptions, "iris", 1, TypeError),
    (FaceLandmarkerOptions, "refine", "attn", ValueError),
    (FaceLandmarkerOptions, "reject_false_faces", "yes", TypeError),
    (FaceLandmarkerOptions, "redetect_every", 0, ValueError),
    (FaceLandmarkerOptions, "search_every", 2.0, TypeError),
    (FaceLandmarkerOptions, "color_format", 3, TypeError),
    (FaceLandmarkerOptions, "intra_op_threads", 0, ValueError),
    (BeautifierOptions, "effects", {"smoothing": 0.5}, TypeError),
    (BeautifierOptions, "running_mode", "image", ValueError),
    (BeautifierOptions, "max_faces", True, TypeError),
    (BeautifierOptions, "color_format", "yuv", ValueError),
    (BeautifierOptions, "intra_op_threads", 10 ** 6, ValueError),
    (FaceVerifierOptions, "threshold", 2.0, ValueError),
    (FaceVerifierOptions, "face_index", -1, ValueError),
    (FaceVerifierOptions, "color_format", "yuv", ValueError),
    (FaceVerifierOptions, "intra_op_threads", "1", TypeError),
    (AnonymizerOptions, "method", "smear", ValueError),
    (AnonymizerOptions, "padding", "x", TypeError),
    (AnonymizerOptions, "color", (0, 0, 256), ValueError),
    (AnonymizerOptions, "color_format", "yuv", ValueError),
    (AnonymizerOptions, "on_failure", None, TypeError),
    (AnonymizerOptions, "intra_op_threads", 0, ValueError),
    (AnonymizerOptions, "mask_image", np.zeros((4, 4, 3), np.uint8), ValueError),  # not "mask"
    (AnonymizerOptions, "hold_frames", 31, ValueError),
    (AnonymizerOptions, "full_resolution", 1, TypeError),
    (AnonymizerOptions, "centerface_every", 0, ValueError),
    (FusionOptions, "shape", 1.5, ValueError),
    (FusionOptions, "features", "1", TypeError),
    (FusionOptions, "consent", True, TypeError),
    (FusionOptions, "running_mode", "video", ValueError),
    (FusionOptions, "template_faces", [7], ValueError),
    (FusionOptions, "keep_mouth", 1, TypeError),
    (FusionOptions, "keep_eyes", None, TypeError),
    (FusionOptions, "blend", "alpha", ValueError),
    (FusionOptions, "smoothing", -0.5, ValueError),
    (FusionOptions, "label", "no", TypeError),
    (FusionOptions, "label_options", "AI", TypeError),
    (FusionOptions, "max_faces", 7, ValueError),
    (FusionOptions, "color_format", "yuv", ValueError),
    (FusionOptions, "intra_op_threads", 0, ValueError),
    (PortraitOptions, "blur", 2.0, ValueError),
    (PortraitOptions, "background", "green", TypeError),
    (PortraitOptions, "cutout", "yes", TypeError),
    (PortraitOptions, "running_mode", "video", ValueError),
    (PortraitOptions, "temporal_smoothing", 0.99, ValueError),
    (PortraitOptions, "color_format", "yuv", ValueError),
    (PortraitOptions, "intra_op_threads", 0, ValueError),
]


def test_every_field_has_a_validation_case():
    covered = {(cls, name) for cls, name, _, _ in BAD}
    for _, options in TASKS.values():
        for field in dataclasses.fields(options):
            assert (options, field.name) in covered, f"{options.__name__}.{field.name}"


@pytest.mark.parametrize("cls, name, value, error", BAD,
                         ids=[f"{c.__name__}.{n}" for c, n, _, _ in BAD])
def test_every_field_is_validated_at_construction(cls, name, value, error):
    with pytest.raises(error, match=name):
        cls(**{name: value})


@pytest.mark.parametrize("task", sorted(TASKS))
def test_options_are_frozen_and_compare_by_value(task):
    _, options = TASKS[task]
    first = options()
    assert first == options()
    field = dataclasses.fields(options)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(first, field, getattr(first, field))


@pytest.mark.parametrize("task", sorted(TASKS))
def test_create_from_options_keeps_the_options(task):
    pipeline, options_type = TASKS[task]
    options = options_type(color_format="bgr", **REQUIRED.get(options_type, {}))
    with pipeline.create_from_options(options) as made:
        assert made.options is options
    with pytest.raises(TypeError, match=options_type.__name__):
        pipeline.create_from_options("bgr")


def test_shorthand_constructors_build_the_same_options():
    with Anonymizer("blur", padding=0.5) as worker:
        assert worker.options == AnonymizerOptions(method="blur", padding=0.5)
    with FaceVerifier(0.5, face_index=1) as verifier:
        assert verifier.options == FaceVerifierOptions(threshold=0.5, face_index=1)
    effects = BeautyOptions(smoothing=0.5)
    with Beautifier(effects, running_mode=RunningMode.VIDEO, max_faces=2) as beautifier:
        assert beautifier.options == BeautifierOptions(
            effects=effects, running_mode=RunningMode.VIDEO, max_faces=2)
    with Beautifier() as beautifier:
        assert beautifier.options.effects == facekit.beauty.PRESETS["natural"]


def test_options_and_keywords_together_are_refused():
    with pytest.raises(TypeError, match="not both"):
        Anonymizer(AnonymizerOptions(), padding=0.5)
    with pytest.raises(TypeError, match="unexpected keyword"):
        Anonymizer(paddding=0.5)


def test_numpy_values_are_stored_as_plain_ones():
    options = FaceVerifierOptions(threshold=np.float32(0.5), face_index=np.int64(0))
    assert type(options.threshold) is float and type(options.face_index) is int
    options = BeautifierOptions(max_faces=np.int32(3), color_format=np.str_("bgr"))
    assert type(options.max_faces) is int and type(options.color_format) is str


# ---- the detector's VIDEO mode ----------------------------------------------------------------

def _summary(result):
    return [(face.score, face.box, np.array(face.keypoints)) for face in result.faces]


def test_detector_video_mode_finds_what_image_mode_finds(photo):
    frames = [photo, np.ascontiguousarray(photo[:, ::-1]), photo[100:, 50:]]
    video = FaceDetectorOptions(running_mode=RunningMode.VIDEO, model="full_range")
    with FaceDetector(FaceDetectorOptions(model="full_range")) as still, \
            FaceDetector.create_from_options(video) as stream:
        for i, frame in enumerate(frames):
            with still.detect(frame) as expected, stream.detect_for_video(frame, 33 * i) as got:
                assert len(got.faces) == len(expected.faces) == 1
                for (s1, b1, k1), (s2, b2, k2) in zip(_summary(expected), _summary(got),
                                                      strict=True):
                    assert s1 == s2 and b1 == b2 and np.array_equal(k1, k2)


def test_detector_video_timestamps_must_increase(photo):
    video = FaceDetectorOptions(running_mode=RunningMode.VIDEO)
    with FaceDetector(video) as detector:
        detector.detect_for_video(photo, 10).close()
        for stale in (10, 9):
            with pytest.raises(ValueError, match="must increase"):
                detector.detect_for_video(photo, stale)
        with pytest.raises(TypeError, match="integer"):
            detector.detect_for_video(photo, 11.0)
        detector.detect_for_video(photo, np.int64(11)).close()


def test_detector_methods_match_the_running_mode(photo):
    with FaceDetector(FaceDetectorOptions(running_mode=RunningMode.VIDEO)) as video:
        with pytest.raises(ValueError, match="detect_for_video"):
            video.detect(photo)
    with FaceDetector() as still:
        with pytest.raises(ValueError, match="RunningMode.VIDEO"):
            still.detect_for_video(photo, 0)


def test_results_report_the_image_size(photo):
    with FaceDetector() as detector, detector.detect(photo[:500, :400]) as result:
        assert result.image_size == (400, 500)
    with pytest.raises(facekit.errors.ExpiredFrameError):
        result.image_size


def test_one_word_for_ending_a_scope(photo):
    # close() ends every scope: pipelines, results, arenas and frames alike.
    assert not hasattr(facekit.Frame, "end")
    with facekit.SecureArena() as arena:
        frame = arena.frame()
        tensor = frame.crop_normalize(photo, facekit.RotatedRect(400, 300, 200, 200), 8)
        frame.close()
        assert frame.expired and not np.any(tensor)


def test_the_anonymize_function_builds_the_same_options(photo):
    with Anonymizer.create_from_options(AnonymizerOptions(method="solid", color=(0, 255, 0))) \
            as worker:
        expected = worker.apply(photo)
    assert np.array_equal(facekit.anonymize(photo, "solid", color=(0, 255, 0)), expected)
    assert np.array_equal(facekit.anonymize(photo, AnonymizerOptions(method="solid",
                                                                     color=(0, 255, 0))),
                          expected)
    with pytest.raises(ValueError, match="padding"):
        facekit.anonymize(photo, "solid", padding=3)
