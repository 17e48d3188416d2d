"""The frame scope over the secure arena: lifetime, expiry, wiping and kernel protections."""

from __future__ import annotations

import gc
import os
import sys

import numpy as np
import pytest

import facekit
from facekit.audit.auditor import vm_flags
from facekit.errors import ClosedError, ExpiredFrameError, FrameInUseError

RECT = facekit.RotatedRect(455, 500, 400, 440, 0.2)


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
