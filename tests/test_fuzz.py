"""Bounded fuzzing of the crop kernel, beauty options and engine, .cube parser, model blobs and
anonymizer cover (harness and the list of allowed outcomes: tests/fuzz_harness.py).

Each target runs its CI budget of cases (deterministic by seed; ``FACEKIT_FUZZ_EXECS=<n>`` runs n
cases per target, ``FACEKIT_FUZZ_SEED`` another seed) in journaling worker processes, so a
segfault or a hang is recorded with the case that caused it. A target fails while it has any
finding; the findings, their reproducers and saved inputs are written under pytest's tmp_path.
Run with ``-s`` to see the executions per target.
"""

from __future__ import annotations

import fuzz_harness as fuzz
import pytest


@pytest.mark.parametrize("target", list(fuzz.TARGETS))
def test_fuzz_target_has_no_findings(target, tmp_path):
    """Every case succeeds or raises an allowed error; no crash, hang, other exception type,
    broken oracle or refused valid input."""
    report = fuzz.run_campaign(target, fuzz.executions_for(target),
                               fuzz.seed_from_environment(), tmp_path)
    print("\n" + report.summary())
    assert report.executions == fuzz.executions_for(target)
    if report.findings:
        pytest.fail(f"{report.summary()}\n{report.describe_findings()}\n"
                    f"(cases saved under {tmp_path}/findings)", pytrace=False)


def test_harness_records_crashes_hangs_and_exceptions_with_their_case(tmp_path):
    """The self-test target segfaults on case 3, hangs on 5, raises KeyError on 7 and aborts on
    8: each is recorded with its index and input, and the remaining cases still run."""
    report = fuzz.run_campaign("selftest", 10, seed=1, workdir=tmp_path, case_timeout=3.0)
    found = {f["index"]: f for f in report.findings}
    assert sorted(found) == [3, 5, 7, 8]
    assert found[3]["kind"] == "crash" and "SIGSEGV" in found[3]["detail"]
    assert "run_selftest" in found[3]["detail"]  # the worker's faulthandler stack
    assert found[5]["kind"] == "hang"
    assert found[7]["kind"] == "exception" and found[7]["type"] == "KeyError"
    assert found[8]["kind"] == "crash" and "SIGABRT" in found[8]["detail"]
    assert all(found[i]["case"]["index"] == i for i in found)  # the journal's input
    assert all((tmp_path / "findings" / f"selftest-{i}.json").exists() for i in found)
    assert report.executions == 10 and report.outcomes["ok"] == 6
    assert report.workers == 4  # one restart after each crash or hang


@pytest.mark.parametrize("strengths, key", [
    ({"smoothing": "0.5"}, "smoothing"), ({"face_slim": None}, "face_slim"),
    ({"rosy": [0.5]}, "rosy"), ({"lut": 0.5j}, "lut"), ({"lipstick": 0.5}, "lipstick"),
    ({"blush": (0.5, (1.5, 2, 3))}, "blush"),
])
def test_native_beauty_names_a_strength_of_the_wrong_type(strengths, key, arena):
    """A fuzz finding: the engine's binding let pybind11's cast error out as a bare
    RuntimeError; a strength of the wrong type is a TypeError that names it."""
    import numpy as np

    from facekit import _native, beauty

    image = np.zeros((32, 32, 3), np.uint8)
    mesh = np.zeros((468, 3), np.float32)
    with arena.frame(), pytest.raises(TypeError, match=key):
        _native.beauty.apply(image, image.copy(), "rgb", mesh, beauty._regions(), strengths,
                             np.zeros((2, 2, 2, 3), np.uint8), arena._native)


@pytest.mark.parametrize("region, effect", [(1, "v_chin"), (3, "eye_distance"),
                                            (4, "face_slim"), (0, "smoothing")])
def test_native_beauty_refuses_an_empty_mesh_region(region, effect, arena):
    """A fuzz finding: an empty region (the lips with v_chin, an eye with eye_distance or
    face_slim) made the geometry read past the polygon's end, a segmentation fault."""
    import numpy as np

    from facekit import _native, beauty

    image = np.zeros((64, 64, 3), np.uint8)
    mesh = np.random.default_rng(region).uniform(8, 56, (468, 3)).astype(np.float32)
    regions = list(beauty._regions())
    regions[region] = ()
    with arena.frame(), pytest.raises(ValueError, match="at least 3 points"):
        _native.beauty.apply(image, image.copy(), "rgb", mesh, regions, {effect: 0.5},
                             None, arena._native)


def test_a_huge_step_on_a_one_pixel_side_is_refused_not_a_nan_crop(arena):
    """A fuzz finding: with out_width 1 the corner check never multiplies the x step, so a step
    of 1e300 passed, became inf in the float kernels and sampled NaN (inf * 0)."""
    import numpy as np

    from facekit import _native

    image = np.full((5, 7), 100, np.uint8)
    with arena.frame(), pytest.raises(ValueError, match="absurdly far"):
        _native.warp.crop_normalize(arena._native, image, "gray",
                                    [(1e300, 0.0, 1.0, 0.0, 1.0, 1.0)], 1, 4,
                                    (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), "clamp")
