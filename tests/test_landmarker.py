"""FaceLandmarker: 468/478 points on real photos, video tracking, and a clear API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import shared_face, shared_video
from support_oracle import require_oracle, run_oracle

import facekit
from facekit import FaceLandmarker, FaceLandmarkerOptions, RunningMode
from facekit.errors import BiometricExportError, ExpiredFrameError

FACE = (340, 120, 640, 440)  # the face in the committed portrait (x0, y0, x1, y1)


@pytest.fixture(scope="module", params=["attention", "iris"])
def landmarker(request):
    """Both 478-point paths: the attention mesh (default) and mesh + iris networks."""
    with FaceLandmarker(FaceLandmarkerOptions(iris=True, refine=request.param)) as landmarker:
        yield landmarker


def copy_out(view) -> np.ndarray:
    """Tests may copy the landmarks of public photos out to check them."""
    return np.array(view, subok=False)


def test_478_points_lie_on_the_face(landmarker, photo):
    with landmarker.detect(photo) as result:
        assert len(result.faces) == 1
        face = result.faces[0]
        assert face.presence > 0.9
        points = copy_out(face.landmarks)
    assert points.shape == (478, 3)
    x0, y0, x1, y1 = FACE
    assert (points[:, 0] > x0 - 20).all() and (points[:, 0] < x1 + 20).all()
    assert (points[:, 1] > y0 - 60).all() and (points[:, 1] < y1 + 20).all()
    # Mesh anatomy: nose tip (1) below the eyes' outer corners (33, 263), chin (152) lowest.
    assert points[1, 1] > max(points[33, 1], points[263, 1])
    assert points[152, 1] > points[1, 1]
    assert points[33, 0] < points[263, 0]
    # Iris centres sit between their eye's corners (468: subject's right, 473: left).
    for centre, (a, b) in ((468, (33, 133)), (473, (362, 263))):
        lo, hi = sorted((points[a, 0], points[b, 0]))
        assert lo < points[centre, 0] < hi
        assert abs(points[centre, 1] - (points[a, 1] + points[b, 1]) / 2) < 15


def test_the_attention_mesh_is_the_default_478_point_path():
    assert FaceLandmarkerOptions().refine == "attention"
    with pytest.raises(ValueError, match="refine must be 'attention' or 'iris'"):
        FaceLandmarkerOptions(iris=True, refine="attn")


def test_the_paths_differ_as_documented(photo):
    """refine="iris" keeps the mesh network's 468 points exactly and adds the irises;
    the attention mesh refines lips and eyes itself, so its 468 points are its own (close to
    the mesh network's: the same face, within 3% of the inter-ocular distance on average)."""
    points = {}
    for refine in ("attention", "iris"):
        options = FaceLandmarkerOptions(iris=True, refine=refine)
        with FaceLandmarker(options) as marker, marker.detect(photo) as result:
            points[refine] = copy_out(result.faces[0].landmarks)
    with FaceLandmarker() as marker, marker.detect(photo) as result:
        mesh = copy_out(result.faces[0].landmarks)
    assert np.array_equal(points["iris"][:468], mesh)
    assert not np.array_equal(points["attention"][:468], mesh)
    inter_ocular = np.linalg.norm(mesh[33, :2] - mesh[263, :2])
    gap = np.linalg.norm(points["attention"][:468, :2] - mesh[:, :2], axis=1).mean()
    assert gap / inter_ocular < 0.03


def test_without_iris_there_are_468(photo):
    with FaceLandmarker() as landmarker, landmarker.detect(photo) as result:
        assert result.faces[0].landmarks.shape == (468, 3)


def test_landmarks_are_ephemeral(landmarker, photo, tmp_path):
    with landmarker.detect(photo) as result:
        face = result.faces[0]
        landmarks = face.landmarks
        with pytest.raises(BiometricExportError):
            np.save(tmp_path / "l.npy", landmarks)
        assert "shape=(478, 3)" in repr(landmarks)
    assert np.count_nonzero(np.asarray(landmarks)) == 0
    with pytest.raises(ExpiredFrameError):
        face.landmarks


def test_two_people_both_faces():
    image = facekit.load_image(shared_face("two_people.jpg"))
    with FaceLandmarker(FaceLandmarkerOptions(max_faces=2)) as landmarker:
        with landmarker.detect(image) as result:
            assert len(result.faces) == 2


@pytest.mark.parametrize("iris", [False, True], ids=["468", "478-attention"])
def test_video_mode_tracks_and_a_repeated_frame_gives_identical_landmarks(photo, iris):
    options = FaceLandmarkerOptions(running_mode=RunningMode.VIDEO, iris=iris)
    with FaceLandmarker(options) as landmarker:
        runs = []
        detector_runs = 0
        for i in range(12):
            with landmarker.detect_for_video(photo, timestamp_ms=33 * i) as result:
                detector_runs += result.detector_ran
                assert len(result.faces) == 1 and result.faces[0].track_id == 0
                runs.append(copy_out(result.faces[0].landmarks))
        assert detector_runs == 1
        # From the second frame on the ROI has settled: the same frame, the same landmarks.
        for later in runs[2:]:
            assert np.array_equal(later, runs[1])


def test_video_timestamps_must_increase(photo):
    options = FaceLandmarkerOptions(running_mode=RunningMode.VIDEO)
    with FaceLandmarker(options) as landmarker:
        landmarker.detect_for_video(photo, 100).close()
        with pytest.raises(ValueError, match="must increase"):
            landmarker.detect_for_video(photo, 100)
        with pytest.raises(ValueError, match="RunningMode.IMAGE"):
            landmarker.detect(photo)
    with FaceLandmarker() as landmarker, pytest.raises(ValueError, match="RunningMode.VIDEO"):
        landmarker.detect_for_video(photo, 0)


def test_video_clip_faces_on_every_frame_with_few_detector_runs():
    """On the real clip: a face on every frame where MediaPipe's face mesh (video mode) finds
    one, with the detector running on at most 20% of all frames."""
    av = pytest.importorskip("av", reason="PyAV decodes the clip (test extra)")
    clip = shared_video("short_hamilton_clip.mp4")
    require_oracle()
    reference = run_oracle({"task": "mesh_video", "video": clip, "refine_landmarks": False,
                            "max_frames": 10_000})["frames"]
    options = FaceLandmarkerOptions(running_mode=RunningMode.VIDEO)
    found, detector_runs = [], 0
    with FaceLandmarker(options) as landmarker, av.open(str(clip)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            with landmarker.detect_for_video(frame.to_ndarray(format="rgb24"), 33 * index) as r:
                found.append(bool(r.faces))
                detector_runs += r.detector_ran
    assert len(found) == len(reference) > 200
    missed = [i for i, (theirs, ours) in enumerate(zip(reference, found))
              if theirs["faces"] and not ours]
    print(f"{len(found)} frames; MediaPipe finds a face on {sum(bool(f['faces']) for f in reference)},"
          f" facekit on {sum(found)}; detector on {detector_runs} frames")
    assert missed == []
    assert detector_runs <= 0.2 * len(found)


def test_load_image_applies_exif_orientation(photo, tmp_path):
    from PIL import Image

    rotated = Image.fromarray(photo).rotate(90, expand=True)  # stored sideways...
    exif = Image.Exif()
    exif[0x0112] = 8  # ...with "rotate 90 CW to view" in its EXIF orientation
    path = tmp_path / "sideways.jpg"
    rotated.save(path, exif=exif, quality=95)
    upright = facekit.load_image(path)
    assert upright.shape == photo.shape


def test_load_image_refuses_corrupt_and_missing_files(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    with pytest.raises(ValueError, match="not a readable image"):
        facekit.load_image(broken)
    with pytest.raises(FileNotFoundError):
        facekit.load_image(tmp_path / "missing.jpg")


def test_options_are_validated():
    for bad in (dict(max_faces=0), dict(min_presence_confidence=2.0), dict(redetect_every=0),
                dict(running_mode="video")):
        with pytest.raises(ValueError):
            FaceLandmarkerOptions(**bad)


def test_demo_writes_an_annotated_png(tmp_path, capsys):
    from facekit import cli

    out = tmp_path / "demo.png"
    assert cli.main(["demo", "--out", str(out), "--repeats", "2"]) == 0
    line = capsys.readouterr().out
    assert "1 face(s)" in line and "478 landmarks" in line
    from PIL import Image

    annotated = np.asarray(Image.open(out))
    original = facekit.load_image(Path(facekit.__file__).parent / "data" / "sample.jpg")
    changed = np.any(annotated != original, axis=2)
    assert 500 < changed.sum() < 0.2 * changed.size  # dots drawn, image otherwise intact
