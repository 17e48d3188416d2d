"""The frame scope over the secure arena: lifetime, expiry, wiping and kernel protections."""

from __future__ import annotations

import gc
import os
import sys

import numpy as np
import pytest
from support import shared_face

import facekit
from facekit import FaceDetector, FaceLandmarker, FaceLandmarkerOptions, RunningMode
from facekit.audit.auditor import vm_flags
from facekit.audit.memscan_child import video_frame
from facekit.errors import ClosedError, ExpiredFrameError, FrameInUseError

RECT = facekit.RotatedRect(455, 500, 400, 440, 0.2)
# Under qemu-user (tools/arm64_env.py sets FACEKIT_EMULATED) madvise succeeds without effect, as
# the native tests say too: kernel page flags are checked by the run on a real kernel.
on_a_real_kernel = pytest.mark.skipif(
    bool(os.environ.get("FACEKIT_EMULATED")),
    reason="qemu-user accepts madvise without applying it (FACEKIT_EMULATED)")


def test_views_hold_values_inside_the_scope_and_zeros_after(arena, photo):
    with arena.frame() as frame:
        crop = frame.crop_normalize(photo, RECT, 64)
        assert np.count_nonzero(np.asarray(crop)) > 0.9 * crop.size
        assert arena.status().used >= crop.nbytes
    # The arena was wiped at exit: the stale view now reads zeros, and nothing is in use.
    assert np.count_nonzero(np.asarray(crop)) == 0
    assert arena.status().used == 0


def test_accessors_raise_after_the_scope_ends(arena, photo):
    with arena.frame() as frame:
        assert not frame.expired
    assert frame.expired
    with pytest.raises(ExpiredFrameError, match="has expired: its frame ended"):
        frame.crop_normalize(photo, RECT, 32)
    with pytest.raises(ExpiredFrameError):
        with frame:
            pass


def test_an_exception_inside_the_scope_still_wipes(arena, photo):
    with pytest.raises(RuntimeError, match="app failed"):
        with arena.frame() as frame:
            crop = frame.crop_normalize(photo, RECT, 32)
            raise RuntimeError("app failed")
    assert np.count_nonzero(np.asarray(crop)) == 0
    assert frame.expired


def test_a_dropped_frame_is_wiped(arena, photo):
    frame = arena.frame()
    crop = frame.crop_normalize(photo, RECT, 32)
    assert np.count_nonzero(np.asarray(crop)) > 0
    del frame
    gc.collect()
    assert np.count_nonzero(np.asarray(crop)) == 0
    with arena.frame():  # and the arena is free again
        pass


def test_one_open_frame_per_arena(arena):
    with arena.frame():
        with pytest.raises(FrameInUseError):
            arena.frame()
    with arena.frame():  # the first one ended, so this is fine
        pass


def test_views_keep_the_arena_alive_and_read_zeros_after_close(photo):
    arena = facekit.SecureArena()
    frame = arena.frame()
    crop = frame.crop_normalize(photo, RECT, 48)
    arena.close()
    assert frame.expired
    with pytest.raises(ClosedError):
        arena.frame()
    del arena, frame
    gc.collect()
    # The mapping is still there (the view's base owns it): reading is safe and finds zeros.
    assert crop.shape == (1, 48, 48, 3)
    assert np.count_nonzero(np.asarray(crop)) == 0
    assert float(np.asarray(crop).sum()) == 0.0


def test_crops_from_several_calls_share_one_frame_and_all_wipe(arena, photo):
    with arena.frame() as frame:
        crops = [frame.crop_normalize(photo, RECT, size) for size in (16, 192, 300)]
        big = frame.crop_normalize(photo, RECT, 1024)  # 12 MB: grows the arena by a region
        assert arena.status().regions >= 2
        assert all(np.count_nonzero(np.asarray(c)) > 0 for c in crops + [big])
    assert all(np.count_nonzero(np.asarray(c)) == 0 for c in crops + [big])


def test_verify_wipe_mode_runs(photo):
    with facekit.SecureArena(verify_wipe=True) as arena:
        with arena.frame() as frame:
            crop = frame.crop_normalize(photo, RECT, 64)
        assert arena.status().verify_wipe
        assert np.count_nonzero(np.asarray(crop)) == 0


def test_verify_wipe_mode_raises_when_a_byte_survives_the_wipe():
    # The negative control: with the audit switch that skips the zeroing, the verification
    # must see the values still there and refuse, rather than pass whatever happened.
    from facekit import _native

    native = _native.arena.Arena(1 << 16, False, True, True)  # verify_wipe, debug_skip_wipe
    native.expose(np.full((4, 4), 7, np.float32))
    with pytest.raises(RuntimeError, match="wipe verification failed"):
        native.wipe()
    clean = _native.arena.Arena(1 << 16, False, True, False)  # verify_wipe alone passes
    clean.expose(np.full((4, 4), 7, np.float32))
    clean.wipe()


def test_status_reports_the_kernel_protections(arena):
    status = arena.status()
    assert status.regions == 1 and status.capacity >= 1 << 20
    assert status.dontdump and status.wipeonfork  # Linux >= 4.14
    assert facekit.SecureArena(lock=False).status().locked is False


def _asan_runtime_loaded() -> bool:
    """Whether AddressSanitizer's runtime is in this process (its mlock locks nothing)."""
    with open("/proc/self/maps") as maps:
        return "libasan" in maps.read()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps")
@on_a_real_kernel
def test_smaps_shows_dontdump_wipeonfork_and_lock(arena):
    region = arena.regions()[0]
    flags = _vm_flags(region["start"])
    assert "dd" in flags and "wf" in flags
    if not _asan_runtime_loaded():  # native/tests/run_sanitizers.sh preloads it
        assert ("lo" in flags) == region["locked"]


def test_arena_refuses_a_bad_region_size():
    with pytest.raises(ValueError):
        facekit.SecureArena(region_bytes=0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@on_a_real_kernel
def test_a_child_forked_inside_an_open_frame_reads_zeros(arena, photo):
    with arena.frame() as frame:
        crop = frame.crop_normalize(photo, RECT, 64)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: MADV_WIPEONFORK gave it zeroed pages
            os.write(write, str(np.count_nonzero(np.asarray(crop))).encode())
            os._exit(0)
        os.close(write)
        child_nonzero = int(os.read(read, 64))
        os.waitpid(pid, 0)
        assert child_nonzero == 0
        assert np.count_nonzero(np.asarray(crop)) > 0  # the parent still has its frame


def _vm_flags(address: int) -> set[str]:
    flags = vm_flags(address)
    assert flags, "arena region not found in /proc/self/smaps"
    return set(flags)


# --- Views of an ended frame read zeros for ever, whatever the pipeline does next ---------------


@pytest.fixture(scope="module")
def other_person() -> np.ndarray:
    """A second photo, of someone else: what a stale view must never show."""
    return facekit.load_image(shared_face("biden.jpg"))


def _zero(view) -> bool:
    return not np.asarray(view).any()


def test_a_stale_crop_view_reads_zeros_after_the_next_frame(arena, photo, other_person):
    with arena.frame() as frame:
        old = frame.crop_normalize(photo, RECT, 64)
        old_row = old[0, 10]  # a view of the view
    with arena.frame() as frame:
        new = frame.crop_normalize(other_person, facekit.RotatedRect(320, 260, 300, 300), 64)
        assert not _zero(new)
        assert _zero(old) and _zero(old_row)  # not the new frame's values
    assert _zero(old) and _zero(new)


def test_a_stale_landmark_view_reads_zeros_after_the_next_call(photo, other_person):
    with FaceLandmarker() as landmarker:
        with landmarker.detect(photo) as result:
            old = result.faces[0].landmarks
            old_xy = old[:, :2]
        assert _zero(old)
        with landmarker.detect(other_person) as result:
            new = result.faces[0].landmarks
            assert not _zero(new) and not np.array_equal(np.asarray(new), np.asarray(old))
            assert _zero(old) and _zero(old_xy)
        # Without `with`: the next call ends the frame, and the view stays zero after it too.
        kept = landmarker.detect(photo)
        stale = kept.faces[0].landmarks
        again = landmarker.detect(other_person)
        assert not _zero(again.faces[0].landmarks)
        assert _zero(stale) and _zero(old) and _zero(old_xy)
        again.close()


def test_stale_detector_keypoints_read_zeros_after_the_next_call(photo, other_person):
    with FaceDetector() as detector:
        with detector.detect(photo) as result:
            old = result.faces[0].keypoints
        with detector.detect(other_person) as result:
            new = result.faces[0].keypoints
            assert not _zero(new) and _zero(old)
        assert _zero(old) and _zero(new)


def test_retired_memory_is_read_only(arena, photo):
    with arena.frame() as frame:
        crop = frame.crop_normalize(photo, RECT, 32)
        start = crop.__array_interface__["data"][0]
    with arena.frame() as frame:
        frame.crop_normalize(photo, RECT, 32)
        assert "wr" not in _vm_flags(start)  # the retired region: nothing can write there


@pytest.mark.parametrize("hold", ["previous result", "nothing"])
def test_arena_regions_stay_bounded_over_200_video_frames(photo, hold):
    options = FaceLandmarkerOptions(running_mode=RunningMode.VIDEO, iris=True)
    counts = []
    with FaceLandmarker(options) as landmarker:
        for i in range(200):
            with landmarker.detect_for_video(video_frame(photo, i % 40), 33 * i) as result:
                view = result.faces[0].landmarks
            if hold == "nothing":
                del result, view
            counts.append(landmarker._arena.status().regions)
    # The usual loop keeps the previous result until the next one is bound: two regions take
    # turns (one being written, one retired for the old views).
    assert max(counts) <= 2, counts


# --- A result dropped without `with`, or a failing call, leaves nothing in the arena -----------


def test_a_dropped_result_is_wiped_when_collected(photo):
    with FaceLandmarker() as landmarker:
        result = landmarker.detect(photo)
        view = result.faces[0].landmarks
        assert landmarker._arena.status().used > 0
        del result  # no `with`, no close(): reference counting alone ends the frame
        assert landmarker._arena.status().used == 0
        assert _zero(view)
        # A face kept on its own keeps its frame (it is part of the result) until dropped.
        face = landmarker.detect(photo).faces[0]
        assert not _zero(face.landmarks)
        del face
        gc.collect()
        assert landmarker._arena.status().used == 0


def test_a_dropped_detection_result_is_wiped_when_collected(photo):
    with FaceDetector() as detector:
        keypoints = detector.detect(photo).faces[0].keypoints  # result and face dropped at once
        assert detector._arena.status().used == 0 and _zero(keypoints)


class _StageFailed(RuntimeError):
    pass


def _fail_after(network, seen: list) -> None:
    """Make `network` run, keep its output views, then raise: values are in the arena."""
    run = network.run

    def failing(frame, tensor):
        seen.append(run(frame, tensor))
        raise _StageFailed("stage failed")

    network.run = failing


@pytest.mark.parametrize("refine", ["attention", "iris"])
@pytest.mark.parametrize("mode", [RunningMode.IMAGE, RunningMode.VIDEO])
def test_an_exception_inside_detect_wipes_the_frame(photo, mode, refine):
    options = FaceLandmarkerOptions(running_mode=mode, iris=True, refine=refine)
    with FaceLandmarker(options) as landmarker:
        seen: list = []
        # The last network of the path fails after running: the mesh, the feature map and the
        # region crops (or the eye crops) are in the arena by then.
        last = landmarker._iris if refine == "iris" else landmarker._attention.regions
        _fail_after(last, seen)
        with pytest.raises(_StageFailed):
            if mode is RunningMode.IMAGE:
                landmarker.detect(photo)
            else:
                landmarker.detect_for_video(photo, 0)
        assert seen and landmarker._arena.status().used == 0
        assert all(_zero(v) for v in seen[0].values())


def test_an_exception_inside_face_detection_wipes_the_frame(photo):
    with FaceDetector() as detector:
        seen: list = []
        _fail_after(detector._network.network, seen)
        with pytest.raises(_StageFailed):
            detector.detect(photo)
        assert seen and detector._arena.status().used == 0
        assert all(_zero(v) for v in seen[0].values())
