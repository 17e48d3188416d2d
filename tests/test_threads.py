"""Pipelines and threads.

One pipeline per thread is the documented model, and it must give every thread the result a
single thread gets. Sharing one pipeline between threads is misuse: each call must then either
give the right result or raise ConcurrentUseError, never a crash and never another thread's or
wiped values. The threaded runs happen in a child process, so that a crash fails the test
instead of killing pytest; the child computes a single-threaded reference first and compares
every threaded result with it, value for value.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading

import numpy as np
import pytest

import facekit
from facekit import FaceLandmarker, FaceLandmarkerOptions, RunningMode
from facekit.errors import ConcurrentUseError

# The child: python -c CHILD <pipeline> <shared|per-thread> <threads> <iterations>.
# Each thread makes `iterations` calls that run (a refused call is retried, up to 50 times as
# many attempts). Prints {"ok": n, "raised": n, "wrong": n, "failed": [...]}: calls with the
# reference's values, calls refused with ConcurrentUseError, calls with other values, and any
# other exception.
CHILD = r'''
import json, sys, threading
from pathlib import Path
import numpy as np
import facekit
from facekit import (Anonymizer, Beautifier, FaceDetector, FaceDetectorOptions, FaceLandmarker,
                     FaceLandmarkerOptions, FaceVerifier, Portrait)
from facekit.beauty import PRESETS
from facekit.errors import ConcurrentUseError

kind, sharing, threads, iterations = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
photo = facekit.load_image(Path(facekit.__file__).parent / "data" / "sample.jpg")
images = [photo, np.ascontiguousarray(photo[:, ::-1])]  # threads alternate between the two


def landmarks(pipeline, image):
    with pipeline.detect(image) as result:
        views = [face.landmarks for face in result.faces]  # read twice, as an app would
        first = [np.array(view) for view in views]
        threading.Event().wait(0.001)  # let another thread run while this result is open
        return first + [np.array(view) for view in views]


def boxes(pipeline, image):
    with pipeline.detect(image) as result:
        faces = [(face.box, face.score, face.keypoints) for face in result.faces]
        first = [(box, score, np.array(view)) for box, score, view in faces]
        threading.Event().wait(0.001)
        return first + [(box, score, np.array(view)) for box, score, view in faces]


def matte(pipeline, image):
    with pipeline.segment(image) as result:
        first = [np.array(result.matte), np.array(result.image)]
        threading.Event().wait(0.001)
        return first + [np.array(result.matte), np.array(result.image)]


KINDS = {
    "landmarker": (lambda: FaceLandmarker(FaceLandmarkerOptions(iris=True)), landmarks),
    "detector": (FaceDetector, boxes),
    "centerface": (lambda: FaceDetector(FaceDetectorOptions(model="centerface")), boxes),
    "beautifier": (lambda: Beautifier(PRESETS["studio"]), lambda p, image: p.apply(image)),
    "anonymizer": (Anonymizer, lambda p, image: p.apply(image)),
    "verifier": (FaceVerifier, lambda p, image: p.verify(image, images[0]).distance),
    "portrait": (lambda: Portrait(blur=0.5), matte),
}
make, call = KINDS[kind]


def same(a, b):
    if isinstance(a, (list, tuple)):
        return (isinstance(b, (list, tuple)) and len(a) == len(b)
                and all(same(x, y) for x, y in zip(a, b)))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b)
    return a == b


with make() as pipeline:
    expected = [call(pipeline, image) for image in images]
assert all(len(e) for e in expected if isinstance(e, list)), "the reference found no face"

counts = {"ok": 0, "raised": 0, "wrong": 0, "failed": []}
lock = threading.Lock()
shared = make() if sharing == "shared" else None
start = threading.Barrier(threads)


def work(index):
    pipeline = shared or make()
    image = images[index % 2]
    start.wait()
    done = attempts = 0
    while done < iterations and attempts < 50 * iterations:  # a refused call is retried
        attempts += 1
        try:
            outcome = "ok" if same(call(pipeline, image), expected[index % 2]) else "wrong"
        except ConcurrentUseError:
            outcome = "raised"
            threading.Event().wait(0.002)
        except Exception as exc:
            outcome = "failed"
            with lock:
                counts["failed"].append(repr(exc))
        done += outcome != "raised"
        with lock:
            if outcome != "failed":
                counts[outcome] += 1
    if shared is None:
        pipeline.close()


workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
if shared is not None:
    shared.close()
print(json.dumps(counts))
'''

# pipeline -> (threads, iterations per thread): enough overlapping calls to meet every race.
CASES = {
    "landmarker": (4, 40),
    "detector": (4, 60),
    "centerface": (3, 8),  # the largest network: fewer calls, still overlapping
    "beautifier": (3, 25),
    "anonymizer": (2, 10),
    "verifier": (2, 8),
    "portrait": (3, 20),
}


def run_child(kind: str, sharing: str) -> dict:
    threads, iterations = CASES[kind]
    child = subprocess.run(
        [sys.executable, "-c", CHILD, kind, sharing, str(threads), str(iterations)],
        capture_output=True, text=True, cwd=tempfile.gettempdir(), timeout=900)
    assert child.returncode == 0, (
        f"the child crashed or failed (exit {child.returncode}):\n{child.stderr[-3000:]}")
    counts = json.loads(child.stdout.strip().splitlines()[-1])
    counts["calls"] = threads * iterations  # calls that ran, each thread's share
    print(f"\n{kind}, {sharing}: {counts}")
    return counts


@pytest.mark.parametrize("kind", list(CASES))
def test_a_shared_pipeline_gives_right_values_or_refuses(kind):
    counts = run_child(kind, "shared")
    assert counts["failed"] == [], counts
    assert counts["wrong"] == 0, counts
    assert counts["ok"] > 0  # refusal is not all it does


@pytest.mark.parametrize("kind", list(CASES))
def test_one_pipeline_per_thread_all_right(kind):
    counts = run_child(kind, "per-thread")
    assert counts == {"ok": counts["calls"], "raised": 0, "wrong": 0, "failed": [],
                      "calls": counts["calls"]}


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    from pathlib import Path

    return facekit.load_image(Path(facekit.__file__).parent / "data" / "sample.jpg")


class _Paused:
    """Makes a landmarker's call stop where it takes in the image (before the frame's
    timestamp is recorded) until released, so that another thread's call meets it there."""

    def __init__(self, landmarker: FaceLandmarker):
        self.inside, self.release = threading.Event(), threading.Event()
        pixels = landmarker._pixels

        def paused(*args):
            self.inside.set()
            self.release.wait(30)
            return pixels(*args)

        landmarker._pixels = paused


def test_video_timestamps_stay_in_order_across_threads(photo):
    """A frame submitted by a second thread while the first thread's later frame is being
    processed must not be accepted out of order: it is refused, and afterwards the ordering
    check sees the later frame's timestamp."""
    options = FaceLandmarkerOptions(running_mode=RunningMode.VIDEO)
    with FaceLandmarker(options) as landmarker:
        accepted: list[int] = []
        due = landmarker._detector_due

        def recording():  # runs under the landmarker's lock, right after the timestamp is set
            accepted.append(landmarker._video.last_timestamp_ms)
            return due()

        landmarker._detector_due = recording
        paused = _Paused(landmarker)
        late = threading.Thread(target=lambda: landmarker.detect_for_video(photo, 1000).close())
        late.start()
        assert paused.inside.wait(30)
        early_error: list[BaseException] = []

        def early():
            try:
                landmarker.detect_for_video(photo, 500).close()
            except BaseException as exc:
                early_error.append(exc)

        second = threading.Thread(target=early)
        second.start()
        second.join(0.5)
        paused.release.set()
        late.join()
        second.join()
        assert accepted == [1000], f"frames accepted in this order: {accepted}"
        assert len(early_error) == 1 and isinstance(early_error[0], ConcurrentUseError)
        with pytest.raises(ValueError, match="must increase"):
            landmarker.detect_for_video(photo, 800)


def test_a_call_while_another_thread_holds_a_result_is_refused(photo):
    """The open result belongs to its thread: another thread's call would end it under the
    reader's feet, so it is refused with a message that says what to do; once the result
    ends, the other thread may call."""
    with FaceLandmarker() as landmarker:
        result = landmarker.detect(photo)
        errors: list[BaseException] = []

        def other():
            try:
                landmarker.detect(photo).close()
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert len(errors) == 1 and isinstance(errors[0], ConcurrentUseError)
        assert "one FaceLandmarker per thread" in str(errors[0])
        assert len(result.faces) == 1 and not result.expired  # untouched
        result.close()
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert len(errors) == 1  # no new error


def test_a_result_left_open_by_an_ended_thread_does_not_block(photo):
    with FaceLandmarker() as landmarker:
        thread = threading.Thread(target=lambda: landmarker.detect(photo))  # never closed
        thread.start()
        thread.join()
        with landmarker.detect(photo) as result:
            assert len(result.faces) == 1


@pytest.mark.parametrize("timestamp, error", [
    (float("nan"), TypeError), (None, TypeError), ("33", TypeError), (33.0, TypeError),
    (True, TypeError), (np.float32(1.0), TypeError)])
def test_video_timestamp_must_be_an_integer(photo, timestamp, error):
    options = FaceLandmarkerOptions(running_mode=RunningMode.VIDEO)
    with FaceLandmarker(options) as landmarker:
        landmarker.detect_for_video(photo, 100).close()
        with pytest.raises(error, match="timestamp_ms must be an integer"):
            landmarker.detect_for_video(photo, timestamp)
        # the ordering check is still on: an earlier frame is refused
        with pytest.raises(ValueError, match="must increase"):
            landmarker.detect_for_video(photo, 50)


def test_video_timestamp_accepts_numpy_integers(photo):
    options = FaceLandmarkerOptions(running_mode=RunningMode.VIDEO)
    with FaceLandmarker(options) as landmarker:
        landmarker.detect_for_video(photo, np.int64(0)).close()
        landmarker.detect_for_video(photo, np.uint32(33)).close()
        with pytest.raises(ValueError, match="must increase"):
            landmarker.detect_for_video(photo, 33)


def test_beautifier_video_timestamp_is_checked(photo):
    from facekit import Beautifier

    with Beautifier(running_mode=RunningMode.VIDEO) as beautifier:
        beautifier.apply(photo, timestamp_ms=0)
        with pytest.raises(TypeError, match="timestamp_ms must be an integer"):
            beautifier.apply(photo, timestamp_ms=float("nan"))
        with pytest.raises(ValueError, match="must increase"):
            beautifier.apply(photo, timestamp_ms=0)
