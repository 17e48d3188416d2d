"""tests/arch_compare.py's judgement, on made-up dumps: CI's x86_64-vs-aarch64 check must flag
each way two builds can disagree, and pass two that agree within its tolerances."""

from __future__ import annotations

import copy
import importlib.util

import numpy as np
import pytest
from support import REPO


def _tool():
    spec = importlib.util.spec_from_file_location("arch_compare", REPO / "tests" / "arch_compare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dump() -> dict:
    rng = np.random.default_rng(3)
    mesh = rng.uniform(100, 300, (478, 3))
    mesh[33, :2], mesh[263, :2] = (150, 200), (250, 200)  # inter-ocular distance 100 px
    box = [100.0, 120.0, 200.0, 220.0]
    return {"arch": "x", "verify": {"same": {"same_person": True, "distance": 0.41}},
            "photos": {"a.jpg": {"short_range": [box], "full_range": [box],
                                 "landmarks": [mesh.tolist()]}}}


def _shift_mesh(dump, pixels):
    mesh = np.asarray(dump["photos"]["a.jpg"]["landmarks"][0])
    mesh[:, 0] += pixels
    dump["photos"]["a.jpg"]["landmarks"][0] = mesh.tolist()


def test_agreeing_builds_pass():
    other = _dump()
    _shift_mesh(other, 0.3)  # 0.3% of the inter-ocular distance: inside 0.5%
    problems, worst = _tool().compare(_dump(), other)
    assert problems == [] and worst["landmarks"] == pytest.approx(0.003)


@pytest.mark.parametrize(("spoil", "named"), [
    (lambda d: _shift_mesh(d, 0.8), "mesh"),
    (lambda d: d["photos"]["a.jpg"]["short_range"].append([0, 0, 10, 10]), "faces vs"),
    (lambda d: d["photos"]["a.jpg"]["full_range"][0].__setitem__(0, 130.0), "box IoU"),
    (lambda d: d["verify"]["same"].update(same_person=False), "decisions"),
    (lambda d: d["verify"]["same"].update(distance=0.43), "distances differ"),
    (lambda d: d["photos"]["a.jpg"]["landmarks"].clear(), "meshes vs"),
], ids=["mesh-moved", "extra-face", "box-moved", "other-decision", "distance", "no-mesh"])
def test_each_disagreement_is_named(spoil, named):
    other = copy.deepcopy(_dump())
    spoil(other)
    problems, _ = _tool().compare(_dump(), other)
    assert any(named in p for p in problems), problems
